#include "decide/closed_book.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;

// Distinct made-up words: word(i, j) is the j-th topic word of document i.
std::string word(int i, int j) {
  static const char* syl[] = {"ba", "ke", "mi", "no", "ru", "sa", "te", "vi", "wo", "zu"};
  return std::string(syl[i / 10 % 10]) + syl[i % 10] + syl[j % 10] + "x";
}

const char* kFiller[] = {"the study", "results show", "patients with", "we measured", "in a cohort of", "significant"};

// 30 documents; document i talks about its own four topic words in four sentences.
std::vector<CorpusDoc> corpus() {
  std::vector<CorpusDoc> docs;
  for (int i = 0; i < 30; ++i) {
    CorpusDoc d;
    d.id = "doc" + std::to_string(i);
    d.title = word(i, 0) + " and " + word(i, 1) + " in adults";
    for (int s = 0; s < 4; ++s) {
      d.text += std::string(kFiller[(i + s) % 6]) + " " + word(i, s) + " " + kFiller[(i + s + 1) % 6] + " " +
                word(i, (s + 2) % 4) + ". ";
    }
    docs.push_back(d);
  }
  return docs;
}

// A paraphrase of document i: its topic words in another order, other filler.
std::string paraphrase(int i) { return "does " + word(i, 3) + " change " + word(i, 2) + " levels"; }

ClosedBookOptions small_options() {
  ClosedBookOptions o;
  o.threads = 1;
  o.epochs = 40;
  o.dim = 16;
  return o;
}

std::vector<TrainQuery> training_queries() {
  std::vector<TrainQuery> q;
  for (int i = 0; i < 30; i += 2) q.push_back({paraphrase(i), {"doc" + std::to_string(i)}});
  return q;
}

TEST(ClosedBookTest, TrainingQueriesRankTheirDocumentFirst) {
  auto m = ClosedBookModel::train(corpus(), training_queries(), small_options());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ((*m)->labels(), 30u);
  for (int i = 0; i < 30; i += 2) {
    auto top = (*m)->rank(paraphrase(i), 1);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(top[0].doc_id, "doc" + std::to_string(i)) << paraphrase(i);
  }
}

TEST(ClosedBookTest, UnseenQueriesFindDocsFromPseudoQueries) {
  // Odd documents have no training query: only their own text taught the model about them.
  auto m = ClosedBookModel::train(corpus(), training_queries(), small_options());
  ASSERT_TRUE(m.ok());
  int hits = 0;
  for (int i = 1; i < 30; i += 2) hits += (*m)->rank(paraphrase(i), 1).at(0).doc_id == "doc" + std::to_string(i);
  EXPECT_GE(hits, 12) << "of 15";
}

TEST(ClosedBookTest, RankAndScoreAreConsistent) {
  auto m = ClosedBookModel::train(corpus(), training_queries(), small_options());
  ASSERT_TRUE(m.ok());
  auto top = (*m)->rank(paraphrase(4), 5);
  ASSERT_EQ(top.size(), 5u);
  double sum = 0;
  for (std::size_t i = 0; i < top.size(); ++i) {
    sum += top[i].score;
    if (i > 0) {
      EXPECT_GE(top[i - 1].score, top[i].score);
    }
  }
  EXPECT_LE(sum, 1.0 + 1e-5);  // hierarchical softmax: a distribution over the labels
  auto s = (*m)->score(paraphrase(4), {top[0].doc_id, "no-such-doc", top[1].doc_id});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[0], top[0].score, 1e-5);
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_NEAR(s[2], top[1].score, 1e-5);
  EXPECT_TRUE((*m)->rank("zzzz qqqq", 3).empty());  // no known word
  EXPECT_EQ((*m)->score("zzzz qqqq", {"doc1"}), std::vector<float>{0.0f});
  EXPECT_TRUE((*m)->rank(paraphrase(4), 0).empty());
  EXPECT_EQ((*m)->rank(paraphrase(4), 1000).size() <= 30u, true);
}

TEST(ClosedBookTest, DeterministicForASeedWithOneThread) {
  auto a = ClosedBookModel::train(corpus(), training_queries(), small_options());
  auto b = ClosedBookModel::train(corpus(), training_queries(), small_options());
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 30; i += 3) {
    auto ra = (*a)->rank(paraphrase(i), 5), rb = (*b)->rank(paraphrase(i), 5);
    ASSERT_EQ(ra.size(), rb.size());
    for (std::size_t k = 0; k < ra.size(); ++k) {
      EXPECT_EQ(ra[k].doc_id, rb[k].doc_id);
      EXPECT_EQ(ra[k].score, rb[k].score);
    }
  }
}

TEST(ClosedBookTest, OtherLossesTrain) {
  for (const char* loss : {"ova", "ns", "softmax"}) {
    ClosedBookOptions o = small_options();
    o.loss = loss;
    auto m = ClosedBookModel::train(corpus(), training_queries(), o);
    ASSERT_TRUE(m.ok()) << loss << ": " << m.error().to_string();
    EXPECT_EQ((*m)->rank(paraphrase(0), 1).at(0).doc_id, "doc0") << loss;
  }
}

TEST(ClosedBookTest, ConfigRoundTrips) {
  ClosedBookOptions o;
  o.pseudo_queries_per_doc = 6;
  o.window = 25;
  o.full_doc = false;
  o.query_repeat = 3;
  o.loss = "ova";
  o.dim = 32;
  o.lr = 0.25;
  o.epochs = 7;
  o.word_ngrams = 2;
  o.bucket = 1000;
  o.threads = 1;
  o.seed = 42;
  o.analyzer = "analyzer:lang=none,stop=none,maxlen=64";
  auto p = ClosedBookOptions::parse(o.to_config());
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(*p, o);
  EXPECT_EQ(p->to_config(), o.to_config());
  auto d = ClosedBookOptions::parse(ClosedBookOptions{}.to_config());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, ClosedBookOptions{});
  auto partial = ClosedBookOptions::parse("closedbook:loss=ova,epochs=3");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->loss, "ova");
  EXPECT_EQ(partial->epochs, 3);
  EXPECT_EQ(partial->dim, ClosedBookOptions{}.dim);
  for (const char* bad : {"closedbook:colour=red", "closedbook:loss=hinge", "closedbook:dim=x", "closedbook:epochs=0",
                          "linear:dim=3", "closedbook:lr=fast", "closedbook:analyzer:lang=klingon"}) {
    auto r = ClosedBookOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(ClosedBookTest, BadTrainingInputIsAnInvalidArgument) {
  ClosedBookOptions o = small_options();
  auto empty = ClosedBookModel::train({}, {}, o);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  std::vector<CorpusDoc> twice = corpus();
  twice.push_back(twice.front());
  auto dup = ClosedBookModel::train(twice, {}, o);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kInvalidArgument);
  auto unknown = ClosedBookModel::train(corpus(), {{"a question", {"doc999"}}}, o);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message.find("doc999"), std::string::npos);
}

TEST(ClosedBookTest, PseudoQueriesSpreadOverTheText) {
  CorpusDoc d{"d", "A title", "One. Two two. Three three three. Four. Five. Six six."};
  ClosedBookOptions o;
  o.pseudo_queries_per_doc = 3;
  o.full_doc = false;
  auto pq = ClosedBookModel::pseudo_queries(d, o);
  EXPECT_EQ(pq, (std::vector<std::string>{"A title", "One.", "Six six."}));
  o.pseudo_queries_per_doc = 0;
  o.full_doc = true;
  pq = ClosedBookModel::pseudo_queries(d, o);
  ASSERT_EQ(pq.size(), 1u + 6u + 1u);
  EXPECT_EQ(pq.back(), "A title " + d.text);
  // A long sentence is cut into windows.
  CorpusDoc longd{"l", "", ""};
  for (int i = 0; i < 50; ++i) longd.text += fmt::format("w{} ", i);
  o.window = 20;
  o.full_doc = false;
  pq = ClosedBookModel::pseudo_queries(longd, o);
  ASSERT_EQ(pq.size(), 3u);  // 20 + 20 + 10 words
  EXPECT_EQ(pq[0].rfind("w0 ", 0), 0u);
  EXPECT_EQ(pq[2].rfind("w40 ", 0), 0u);
}

TEST(ClosedBookTest, CrossFitScoresComeFromModelsThatDidNotSeeTheQuery) {
  std::vector<TrainQuery> q = training_queries();
  std::vector<std::vector<std::string>> ids;
  for (const auto& t : q) ids.push_back({t.relevant_doc_ids[0], "doc1", "unknown"});
  auto s = ClosedBookModel::cross_fit_scores(corpus(), q, ids, small_options(), 3);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  ASSERT_EQ(s->size(), q.size());
  auto full = ClosedBookModel::train(corpus(), q, small_options());
  ASSERT_TRUE(full.ok());
  double in_sample = 0, out_of_fold = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    ASSERT_EQ((*s)[i].size(), 3u);
    EXPECT_EQ((*s)[i][2], 0.0f);
    out_of_fold += (*s)[i][0];
    in_sample += (*full)->score(q[i].text, ids[i])[0];
  }
  EXPECT_LT(out_of_fold, in_sample);  // the full model has seen every query
  auto again = ClosedBookModel::cross_fit_scores(corpus(), q, ids, small_options(), 3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *s);
  auto one = ClosedBookModel::cross_fit_scores(corpus(), q, ids, small_options(), 1);
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.error().code, ErrorCode::kInvalidArgument);
  ids.pop_back();
  auto short_ids = ClosedBookModel::cross_fit_scores(corpus(), q, ids, small_options(), 3);
  ASSERT_FALSE(short_ids.ok());
  EXPECT_EQ(short_ids.error().code, ErrorCode::kInvalidArgument);
}

TEST(ClosedBookTest, SaveAndLoadRoundTrip) {
  auto m = ClosedBookModel::train(corpus(), training_queries(), small_options());
  ASSERT_TRUE(m.ok());
  fs::path dir = fs::temp_directory_path() / ("ragft-closed-book-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE((*m)->save(dir).ok());
  auto l = ClosedBookModel::load(dir);
  ASSERT_TRUE(l.ok()) << l.error().to_string();
  EXPECT_EQ((*l)->labels(), 30u);
  EXPECT_EQ((*l)->options(), (*m)->options());
  auto ra = (*m)->rank(paraphrase(7), 3), rb = (*l)->rank(paraphrase(7), 3);
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t k = 0; k < ra.size(); ++k) {
    EXPECT_EQ(ra[k].doc_id, rb[k].doc_id);
    EXPECT_FLOAT_EQ(static_cast<float>(ra[k].score), static_cast<float>(rb[k].score));
  }
  fs::remove(dir / "model.bin");
  auto broken = ClosedBookModel::load(dir);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, ErrorCode::kCorrupt);
  fs::remove_all(dir);
  auto missing = ClosedBookModel::load(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ragft::decide
