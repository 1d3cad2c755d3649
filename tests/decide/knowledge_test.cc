// The trained retriever of the fine-tuned + RAG arm as served by search/ask: saved and loaded
// unchanged, consistent with the evaluation path, and never past the principal's ACL.
#include "decide/knowledge.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>

namespace ragft::decide {
namespace {

std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_kn_XXXXXX").string();
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::string word(int i) {
  static const char* syl[] = {"ba", "ke", "mi", "no", "ru", "sa", "te", "vi", "wo", "zu"};
  return std::string(syl[i / 10 % 10]) + syl[i % 10] + "x";
}

constexpr int kDocs = 60;

// Document i is about word(i) and word(i + 1); every document also mentions a few others.
Status add_doc(Store& store, int i, std::vector<std::string> acl) {
  NewDocument d;
  d.ext_id = "d" + std::to_string(i);
  d.source = "mem:" + d.ext_id;
  d.format = "txt";
  d.title = word(i) + " " + word(i + 1) + " study";
  d.text = "we measured " + word(i) + " and " + word(i + 1) + " in " + word((i * 7) % kDocs) + " and " +
           word((i * 13) % kDocs) + " samples; " + word(i) + " rose.";
  d.acl = std::move(acl);
  d.content_hash = std::to_string(i);
  NewChunk c;
  c.char_end = static_cast<std::int64_t>(d.text.size());
  c.text = d.text;
  auto r = store.upsert(d, {c});
  if (!r.ok()) return r.error();
  return ok_status();
}

struct Fixture {
  std::filesystem::path dir = temp_dir();
  Corpus corpus;
  QuerySet train;
  ~Fixture() { std::filesystem::remove_all(dir); }
};

// Docs with ACLs from {g0, g1, g2} (or none), a retriever trained on queries about the first
// 40 documents.
void build(Fixture& f, RerankedRetriever& out) {
  auto ws = Workspace::open(f.dir / "ws");
  ASSERT_TRUE(ws.ok()) << ws.error().to_string();
  for (int i = 0; i < kDocs; ++i) {
    std::vector<std::string> acl;
    if (i % 3 == 1) acl = {"g" + std::to_string(i % 2)};
    if (i % 5 == 2) acl = {"g2"};
    ASSERT_TRUE(add_doc(ws->store(), i, acl).ok());
  }
  ASSERT_TRUE(ws->catch_up().ok());
  f.corpus.ws = std::make_unique<Workspace>(std::move(*ws));
  ASSERT_TRUE(load_maps(f.corpus, true).ok());
  for (int i = 0; i < 40; ++i) {
    f.train.queries.push_back({"q" + std::to_string(i), word(i) + " " + word(i + 1)});
    f.train.judged.push_back({{"d" + std::to_string(i), 1}});
  }
  ClosedBookOptions cbo;
  cbo.threads = 1;
  cbo.dim = 16;
  cbo.epochs = 5;
  RerankerOptions ro;
  ro.depth = 20;
  auto trained = RerankedRetriever::train(f.corpus, f.train, cbo, ro);
  ASSERT_TRUE(trained.ok()) << trained.error().to_string();
  out = std::move(*trained);
}

TEST(RerankedRetrieverTest, SavedRetrieverServesTheSameRankingAsEvaluation) {
  Fixture f;
  RerankedRetriever rr;
  ASSERT_NO_FATAL_FAILURE(build(f, rr));
  EXPECT_EQ(rr.train_query_count, 40u);
  EXPECT_EQ(rr.doc_count, static_cast<std::size_t>(kDocs));
  ASSERT_TRUE(rr.save(f.dir / "model").ok());
  auto loaded = RerankedRetriever::load(f.dir / "model");
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->bm25_config, rr.bm25_config);
  EXPECT_EQ(loaded->options, rr.options);
  for (int q : {3, 17, 45}) {
    const std::string query = word(q) + " " + word(q + 1);
    std::vector<RunEntry> evaluated = rr.rank(f.corpus, query);
    SearchRequest req;
    req.query = query;
    req.k = 5;
    RerankServeStats stats;
    auto served = loaded->search(*f.corpus.ws, req, &stats);
    ASSERT_TRUE(served.ok()) << served.error().to_string();
    ASSERT_EQ(served->size(), 5u);
    EXPECT_GT(stats.candidates, 5u);
    EXPECT_EQ(stats.unknown_to_model, 0u);
    for (std::size_t i = 0; i < served->size(); ++i) {
      EXPECT_EQ((*served)[i].ext_id, evaluated[i].doc_id) << "query " << q << " rank " << i;
      EXPECT_FLOAT_EQ((*served)[i].score, static_cast<float>(evaluated[i].score));
      EXPECT_EQ((*served)[i].rank, static_cast<int>(i + 1));
    }
  }
  // The trained query's own document comes first.
  SearchRequest req;
  req.query = word(5) + " " + word(6);
  req.k = 3;
  auto top = loaded->search(*f.corpus.ws, req);
  ASSERT_TRUE(top.ok());
  ASSERT_FALSE(top->empty());
  EXPECT_EQ(top->front().ext_id, "d5");
}

TEST(RerankedRetrieverTest, NoHitOutsideThePrincipalsAcl) {
  Fixture f;
  RerankedRetriever rr;
  ASSERT_NO_FATAL_FAILURE(build(f, rr));
  Store& store = f.corpus.ws->store();
  // Unfiltered, restricted documents do rank (so the check below can fail).
  std::size_t restricted = 0;
  for (int q = 0; q < kDocs; q += 7) {
    SearchRequest req;
    req.query = word(q) + " " + word(q + 1);
    auto hits = rr.search(*f.corpus.ws, req);
    ASSERT_TRUE(hits.ok());
    for (const SearchHit& h : *hits) restricted += !(*store.get(h.doc_id))->acl.empty();
  }
  EXPECT_GT(restricted, 0u);
  std::mt19937 rng(7);
  for (int p = 0; p < 12; ++p) {
    Principal pr;
    pr.name = "p" + std::to_string(p);
    for (const char* g : {"g0", "g1", "g2"}) {
      if (rng() % 2) pr.groups.push_back(g);
    }
    ASSERT_TRUE(store.put_principal(pr).ok());
    std::set<std::string> allowed(pr.groups.begin(), pr.groups.end());
    for (int q = 0; q < kDocs; q += 7) {
      SearchRequest req;
      req.query = word(q) + " " + word(q + 1);
      req.k = 10;
      req.principal = pr.name;
      auto hits = rr.search(*f.corpus.ws, req);
      ASSERT_TRUE(hits.ok()) << hits.error().to_string();
      for (const SearchHit& h : *hits) {
        auto rec = store.get(h.doc_id);
        ASSERT_TRUE(rec.ok() && rec->has_value());
        bool ok = (*rec)->acl.empty();
        for (const auto& g : (*rec)->acl) ok = ok || allowed.count(g);
        EXPECT_TRUE(ok) << "principal " << pr.name << " got " << h.ext_id;
      }
    }
  }
}

TEST(RerankedRetrieverTest, CountsDocumentsTheModelNeverSawAndRejectsOtherModes) {
  Fixture f;
  RerankedRetriever rr;
  ASSERT_NO_FATAL_FAILURE(build(f, rr));
  ASSERT_TRUE(add_doc(f.corpus.ws->store(), kDocs + 5, {}).ok());  // words no trained document has
  ASSERT_TRUE(f.corpus.ws->catch_up().ok());
  SearchRequest req;
  req.query = word(kDocs + 5) + " " + word(kDocs + 6);
  RerankServeStats stats;
  auto hits = rr.search(*f.corpus.ws, req, &stats);
  ASSERT_TRUE(hits.ok()) << hits.error().to_string();
  EXPECT_EQ(stats.unknown_to_model, 1u);
  req.mode = SearchMode::kHybrid;
  auto hybrid = rr.search(*f.corpus.ws, req);
  ASSERT_FALSE(hybrid.ok());
  EXPECT_EQ(hybrid.error().code, ErrorCode::kInvalidArgument);
  auto missing = RerankedRetriever::load(f.dir / "nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ragft::decide
