#include "decide/reranker.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "evaluate/metrics.h"

namespace ragft::decide {
namespace {

using Lists = std::vector<std::pair<std::string, std::vector<Candidate>>>;
using Judgments = std::vector<std::map<std::string, int>>;

std::string word(int i, int j) {
  static const char* syl[] = {"ba", "ke", "mi", "no", "ru", "sa", "te", "vi", "wo", "zu"};
  return std::string(syl[i / 10 % 10]) + syl[i % 10] + syl[j % 10] + "q";
}

// Query i asks about two topic words. BM25 is misleading: the top candidates repeat the query
// words in their text under unrelated titles; the one relevant document (whose title names the
// topic) sits at rank 11..18 with a low score.
void make_data(int queries, Lists& lists, Judgments& judgments) {
  for (int i = 0; i < queries; ++i) {
    std::string a = word(i, 1), b = word(i, 2);
    std::vector<Candidate> cands;
    int rel_pos = 10 + (i * 7) % 8;
    for (int r = 0; r < 20; ++r) {
      Candidate c;
      c.doc_id = "q" + std::to_string(i) + "d" + std::to_string(r);
      c.bm25 = 20.0 - r + 0.01 * ((i + r) % 3);
      if (r == rel_pos) {
        c.title = a + " " + b + " outcomes";
        c.text = "a cohort study of adults with " + a + " measured over five years";
      } else {
        c.title = "unrelated report " + std::to_string(r);
        c.text = a + " " + b + " " + a + " background " + b + " mentioned in passing " + std::to_string(r);
      }
      cands.push_back(c);
    }
    judgments.push_back({{cands[static_cast<std::size_t>(rel_pos)].doc_id, 1}});
    lists.emplace_back(a + " " + b + " effect", std::move(cands));
  }
}

double mean_ndcg(const std::vector<std::vector<RunEntry>>& runs, const Judgments& j) {
  double s = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    auto r = runs[i];
    sort_like_trec_eval(r);
    s += ndcg_at(r, j[i], 10);
  }
  return s / static_cast<double>(runs.size());
}

std::vector<RunEntry> input_order(const std::vector<Candidate>& c) {
  std::vector<RunEntry> r;
  for (const auto& x : c) r.push_back({x.doc_id, x.bm25});
  return r;
}

class RerankerLossTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RerankerLossTest, LearnsThatTitleMatchMattersAndBeatsTheInputOrder) {
  Lists train, test;
  Judgments jtrain, jtest;
  make_data(60, train, jtrain);
  Lists all;
  Judgments jall;
  make_data(80, all, jall);
  test.assign(all.begin() + 60, all.end());
  jtest.assign(jall.begin() + 60, jall.end());
  RerankerOptions o;
  o.loss = GetParam();
  auto rr = Reranker::train(train, jtrain, nullptr, o);
  ASSERT_TRUE(rr.ok()) << rr.error().to_string();
  std::vector<std::vector<RunEntry>> before, after;
  for (const auto& [q, c] : test) {
    before.push_back(input_order(c));
    after.push_back((*rr)->rerank(q, c));
  }
  double b = mean_ndcg(before, jtest), a = mean_ndcg(after, jtest);
  EXPECT_LT(b, 0.35);
  EXPECT_GT(a, 0.9) << "input order " << b;
  std::map<std::string, double> w;
  for (const auto& [name, v] : (*rr)->weights()) w[name] = v;
  ASSERT_TRUE(w.count("title_cover"));
  EXPECT_GT(w["title_cover"], 0.0);
  EXPECT_LT(w["bm25_norm"] + w["bm25_rrank"] + w["bm25_log"], w["title_cover"]);
}

INSTANTIATE_TEST_SUITE_P(Losses, RerankerLossTest, ::testing::Values("pairwise", "pointwise"));

TEST(RerankerTest, FeatureValuesByHand) {
  Lists lists;
  Judgments j;
  make_data(4, lists, j);
  auto rr = Reranker::train(lists, j, nullptr, RerankerOptions{});
  ASSERT_TRUE(rr.ok());
  std::vector<Candidate> c = {{"x", 8.0, "heart failure", "heart attacks and failure of the heart"},
                              {"y", 2.0, "liver", "nothing relevant here"}};
  auto f = (*rr)->features("heart failure", c);
  ASSERT_EQ(f.size(), 2u);
  ASSERT_EQ(f[0].size(), (*rr)->weights().size());
  EXPECT_DOUBLE_EQ(f[0][0], 1.0);           // bm25 / top
  EXPECT_DOUBLE_EQ(f[1][0], 0.25);
  EXPECT_DOUBLE_EQ(f[1][1], 0.5);           // 1 / rank
  EXPECT_NEAR(f[0][2], std::log(9.0), 1e-12);
  EXPECT_DOUBLE_EQ(f[0][3], 1.0);           // both query terms in the title
  EXPECT_DOUBLE_EQ(f[0][4], 1.0);           // and in the text
  EXPECT_DOUBLE_EQ(f[1][3], 0.0);
  EXPECT_DOUBLE_EQ(f[0][5], 1.0);           // idf-weighted coverage
  EXPECT_DOUBLE_EQ(f[0][6], 0.0);           // "heart failure" is not adjacent in the text
  EXPECT_NEAR(f[0][7], std::log1p(2.0 + 4.0), 1e-12);  // heart failure | heart attack failur heart
}

TEST(RerankerTest, DeterministicForASeed) {
  Lists lists;
  Judgments j;
  make_data(30, lists, j);
  auto a = Reranker::train(lists, j, nullptr, RerankerOptions{});
  auto b = Reranker::train(lists, j, nullptr, RerankerOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->weights(), (*b)->weights());
}

TEST(RerankerTest, RerankKeepsEveryCandidateAndTheTailBelowTheDepth) {
  Lists lists;
  Judgments j;
  make_data(30, lists, j);
  RerankerOptions o;
  o.depth = 12;
  auto rr = Reranker::train(lists, j, nullptr, o);
  ASSERT_TRUE(rr.ok());
  const auto& c = lists[0].second;
  auto out = (*rr)->rerank(lists[0].first, c);
  ASSERT_EQ(out.size(), c.size());
  for (std::size_t i = 1; i < out.size(); ++i) EXPECT_GT(out[i - 1].score, out[i].score);
  for (std::size_t i = 12; i < c.size(); ++i) EXPECT_EQ(out[i].doc_id, c[i].doc_id);  // tail in input order
  EXPECT_TRUE((*rr)->rerank("anything", {}).empty());
}

TEST(RerankerTest, ConfigRoundTrips) {
  RerankerOptions o;
  o.depth = 30;
  o.loss = "pointwise";
  o.l2 = 0.02;
  o.epochs = 5;
  o.lr = 0.05;
  o.seed = 9;
  auto p = RerankerOptions::parse(o.to_config());
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(*p, o);
  EXPECT_EQ(p->to_config(), o.to_config());
  auto d = RerankerOptions::parse(RerankerOptions{}.to_config());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, RerankerOptions{});
  for (const char* bad : {"rerank:depth=0", "rerank:loss=listwise", "rerank:colour=1", "rerank:lr=x", "bm25:k1=1",
                          "rerank:l2=-1", "rerank:depth"}) {
    auto r = RerankerOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(RerankerTest, BadTrainingInputIsAnInvalidArgument) {
  Lists lists;
  Judgments j;
  make_data(3, lists, j);
  Judgments fewer(j.begin(), j.begin() + 2);
  auto mismatch = Reranker::train(lists, fewer, nullptr, RerankerOptions{});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, ErrorCode::kInvalidArgument);
  Judgments none(3);  // no relevant candidate anywhere: nothing to learn pairwise
  auto unusable = Reranker::train(lists, none, nullptr, RerankerOptions{});
  ASSERT_FALSE(unusable.ok());
  EXPECT_EQ(unusable.error().code, ErrorCode::kInvalidArgument);
}

// A small closed-book model over every candidate document of `lists` (pseudo-queries only).
Result<std::unique_ptr<ClosedBookModel>> closed_book_over(const Lists& lists, int epochs) {
  std::vector<CorpusDoc> docs;
  for (const auto& [q, cands] : lists)
    for (const auto& c : cands) docs.push_back({c.doc_id, c.title, c.text});
  ClosedBookOptions co;
  co.threads = 1;
  co.dim = 16;
  co.epochs = epochs;
  return ClosedBookModel::train(docs, {}, co);
}

TEST(RerankerTest, UsesTheClosedBookModelAsAFeature) {
  // A closed-book model that knows the relevant documents by their titles.
  Lists lists;
  Judgments j;
  make_data(20, lists, j);
  auto cb = closed_book_over(lists, 10);
  ASSERT_TRUE(cb.ok()) << cb.error().to_string();
  auto rr = Reranker::train(lists, j, cb->get(), RerankerOptions{});
  ASSERT_TRUE(rr.ok()) << rr.error().to_string();
  auto w = (*rr)->weights();
  ASSERT_EQ(w.size(), 9u);
  EXPECT_EQ(w.back().first, "cb_logp");
  auto f = (*rr)->features(lists[0].first, lists[0].second);
  for (const auto& row : f) {
    EXPECT_LE(row.back(), 0.0);
    EXPECT_GE(row.back(), std::log(1e-5) - 1e-9);
  }

  // Given (e.g. out-of-fold) closed-book scores: the relevant candidate gets 0.9, the rest 0.
  std::vector<std::vector<float>> given;
  for (std::size_t l = 0; l < lists.size(); ++l) {
    std::vector<float> s;
    for (const auto& c : lists[l].second) s.push_back(j[l].count(c.doc_id) ? 0.9f : 0.0f);
    given.push_back(s);
  }
  auto with_scores = Reranker::train(lists, j, cb->get(), RerankerOptions{}, &given);
  ASSERT_TRUE(with_scores.ok()) << with_scores.error().to_string();
  EXPECT_GT((*with_scores)->weights().back().second, 0.0);
  auto top = (*with_scores)->rerank(lists[3].first, lists[3].second, given[3]);
  EXPECT_EQ(j[3].count(top.at(0).doc_id), 1u);
  given.pop_back();
  auto mismatch = Reranker::train(lists, j, cb->get(), RerankerOptions{}, &given);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, ErrorCode::kInvalidArgument);
  auto no_model = Reranker::train(lists, j, nullptr, RerankerOptions{}, &given);
  ASSERT_FALSE(no_model.ok());
  EXPECT_EQ(no_model.error().code, ErrorCode::kInvalidArgument);
}

std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_rr_XXXXXX").string();
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

void expect_same_ranking(const std::vector<RunEntry>& a, const std::vector<RunEntry>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].doc_id, b[i].doc_id) << "rank " << i;
    EXPECT_DOUBLE_EQ(a[i].score, b[i].score) << "rank " << i;
  }
}

TEST(RerankerTest, SavedAndLoadedRerankerScoresExactlyTheSame) {
  Lists lists;
  Judgments j;
  make_data(30, lists, j);
  auto rr = Reranker::train(lists, j, nullptr, RerankerOptions{});
  ASSERT_TRUE(rr.ok()) << rr.error().to_string();
  auto dir = temp_dir();
  ASSERT_TRUE((*rr)->save(dir).ok());
  auto back = Reranker::load(dir, nullptr);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_FALSE((*back)->uses_closed_book());
  EXPECT_EQ((*back)->options(), (*rr)->options());
  EXPECT_EQ((*back)->weights(), (*rr)->weights());
  for (int q : {0, 7, 29}) expect_same_ranking((*back)->rerank(lists[q].first, lists[q].second),
                                               (*rr)->rerank(lists[q].first, lists[q].second));
  std::filesystem::remove_all(dir);
}

TEST(RerankerTest, LoadingWithTheClosedBookFeatureNeedsItsModel) {
  Lists lists;
  Judgments j;
  make_data(20, lists, j);
  auto cb = closed_book_over(lists, 5);
  ASSERT_TRUE(cb.ok()) << cb.error().to_string();
  auto rr = Reranker::train(lists, j, cb->get(), RerankerOptions{});
  ASSERT_TRUE(rr.ok()) << rr.error().to_string();
  auto dir = temp_dir();
  ASSERT_TRUE((*rr)->save(dir).ok());
  auto without = Reranker::load(dir, nullptr);
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.error().code, ErrorCode::kInvalidArgument);
  auto with = Reranker::load(dir, cb->get());
  ASSERT_TRUE(with.ok()) << with.error().to_string();
  EXPECT_TRUE((*with)->uses_closed_book());
  expect_same_ranking((*with)->rerank(lists[4].first, lists[4].second), (*rr)->rerank(lists[4].first, lists[4].second));
  std::filesystem::remove_all(dir);
}

TEST(RerankerTest, DamagedOrMissingFilesAreClearErrors) {
  auto dir = temp_dir();
  auto missing = Reranker::load(dir, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  Lists lists;
  Judgments j;
  make_data(10, lists, j);
  auto rr = Reranker::train(lists, j, nullptr, RerankerOptions{});
  ASSERT_TRUE(rr.ok());
  ASSERT_TRUE((*rr)->save(dir).ok());
  const auto file = dir / "reranker.json";
  std::string text;
  {
    std::ifstream in(file);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& t) { std::ofstream(file, std::ios::trunc) << t; };
  write(text.substr(0, text.size() / 2));  // truncated
  auto torn = Reranker::load(dir, nullptr);
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.error().code, ErrorCode::kCorrupt);
  std::string renamed = text;
  renamed.replace(renamed.find("bigram_match"), 12, "bigram_masch");  // a feature this build lacks
  write(renamed);
  auto unknown = Reranker::load(dir, nullptr);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(unknown.error().message.find("features"), std::string::npos) << unknown.error().message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragft::decide
