// The workspace's dense index: follows the store's change log, caches embeddings by model id and
// text, re-embeds on a new embedder, filters by tenant and ACL inside the search, and the search
// modes (bm25, dense, hybrid) of the searcher.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "core/check.h"
#include "dense_test_util.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using namespace testing_dense;

WorkspaceOptions with_dense(const std::string& embedder = kEmbedder) {
  WorkspaceOptions o;
  o.dense = DenseOptions{embedder, "flat"};
  return o;
}

std::vector<std::string> ext_ids(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.ext_id);
  return out;
}

TEST(DenseWorkspace, FollowsTheChangeLog) {
  TempDir dir;
  auto ws = Workspace::open(dir.path, with_dense());
  ASSERT_TRUE(ws.ok()) << ws.error().to_string();
  EXPECT_EQ(ws->dense(), nullptr);  // no chunks yet: nothing to train the embedder on
  for (std::size_t i = 0; i < kTexts.size(); ++i) ASSERT_TRUE(put(ws->store(), "d" + std::to_string(i), kTexts[i]).ok());
  auto caught = ws->catch_up();
  ASSERT_TRUE(caught.ok()) << caught.error().to_string();
  ASSERT_NE(ws->dense(), nullptr);
  EXPECT_EQ(ws->dense()->vectors().size(), kTexts.size());
  EXPECT_EQ(caught->dense_embedded, kTexts.size());

  SearchRequest r;
  r.mode = SearchMode::kDense;
  r.k = 3;
  r.query = "title of d2\n" + kTexts[2];  // the exact text a chunk was embedded as
  auto hits = search(*ws, r);
  ASSERT_TRUE(hits.ok()) << hits.error().to_string();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].ext_id, "d2");
  EXPECT_NEAR((*hits)[0].score, 1.0, 1e-4);

  // Change d2, delete d3: the old chunk and d3 are gone, the new text is found.
  ASSERT_TRUE(put(ws->store(), "d2", "completely new words about sailing boats").ok());
  ASSERT_TRUE(ws->store().remove("default", "d3").ok());
  caught = ws->catch_up();
  ASSERT_TRUE(caught.ok()) << caught.error().to_string();
  EXPECT_EQ(caught->dense_embedded, 1u);
  EXPECT_EQ(ws->dense()->vectors().size(), kTexts.size() - 1);
  r.query = "title of d2\ncompletely new words about sailing boats";
  hits = search(*ws, r);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[0].ext_id, "d2");
  r.k = 100;
  hits = search(*ws, r);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), kTexts.size() - 1);
  for (const auto& h : *hits) EXPECT_NE(h.ext_id, "d3");

  // The state survives reopening (no re-embedding, same applied sequence). Nothing to apply:
  // the dense index stays on disk until it is first needed.
  auto again = Workspace::open(dir.path);  // no options: the recorded dense config is kept
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_TRUE(again->has_dense());
  EXPECT_EQ(again->dense(), nullptr);
  auto loaded = again->load_dense();
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  ASSERT_NE(*loaded, nullptr);
  EXPECT_EQ(again->dense(), *loaded);
  EXPECT_EQ(again->last_catch_up().dense_embedded, 0u);
  EXPECT_EQ(again->dense()->vectors().size(), kTexts.size() - 1);
  EXPECT_EQ(again->dense()->config(), ws->dense()->config());
}

TEST(DenseWorkspace, TrainedEmbedderAgesWithTheCorpusAndRetrains) {
  TempDir dir;
  auto ws = Workspace::open(dir.path, with_dense("ict:dim=8,epochs=1,mincount=1"));
  ASSERT_TRUE(ws.ok()) << ws.error().to_string();
  for (std::size_t i = 0; i < kTexts.size(); ++i) ASSERT_TRUE(put(ws->store(), "d" + std::to_string(i), kTexts[i]).ok());
  ASSERT_TRUE(ws->catch_up().ok());
  auto age = ws->dense_model_age();
  ASSERT_TRUE(age.ok()) << age.error().to_string();
  ASSERT_TRUE(age->trained_on.has_value());
  EXPECT_EQ(*age->trained_on, kTexts.size());
  EXPECT_FALSE(age->stale);
  auto loaded = ws->load_dense();
  ASSERT_TRUE(loaded.ok() && *loaded);
  const std::string old_id = (*loaded)->embedder().model_id();

  // 1000 more documents: the model learnt from a corpus less than half this size.
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(put(ws->store(), "n" + std::to_string(i), "new topic words number " + std::to_string(i) + " glacier fjord").ok());
  }
  auto caught = ws->catch_up();
  ASSERT_TRUE(caught.ok()) << caught.error().to_string();
  age = ws->dense_model_age();
  ASSERT_TRUE(age.ok());
  EXPECT_EQ(*age->trained_on, kTexts.size());  // not retrained on its own
  EXPECT_EQ(age->chunks_now, kTexts.size() + 1000);
  EXPECT_TRUE(age->stale);

  ASSERT_TRUE(ws->retrain_dense_embedder().ok());
  age = ws->dense_model_age();
  ASSERT_TRUE(age.ok());
  EXPECT_EQ(*age->trained_on, kTexts.size() + 1000);
  EXPECT_FALSE(age->stale);
  ASSERT_NE(ws->dense(), nullptr);
  EXPECT_NE(ws->dense()->embedder().model_id(), old_id);
  EXPECT_EQ(ws->dense()->vectors().size(), kTexts.size() + 1000);  // every chunk re-embedded
  SearchRequest r;
  r.mode = SearchMode::kDense;
  r.query = "glacier fjord";
  auto hits = search(*ws, r);
  ASSERT_TRUE(hits.ok()) << hits.error().to_string();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].ext_id.rfind("n", 0), 0u);  // "glacier" is in the new model's vocabulary

  // A reopened workspace sees the same model.
  auto again = Workspace::open(dir.path);
  ASSERT_TRUE(again.ok());
  auto loaded_again = again->load_dense();
  ASSERT_TRUE(loaded_again.ok() && *loaded_again);
  EXPECT_EQ((*loaded_again)->embedder().model_id(), ws->dense()->embedder().model_id());
  EXPECT_EQ((*loaded_again)->vectors().size(), kTexts.size() + 1000);

  // Not a trainable embedder: nothing to retrain.
  TempDir plain;
  auto none = Workspace::open(plain.path);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->retrain_dense_embedder().error().code, ErrorCode::kInvalidArgument);
}

TEST(DenseWorkspace, UnchangedChunksAreNeverEmbeddedTwice) {
  TempDir dir;
  {
    auto ws = Workspace::open(dir.path, with_dense());
    ASSERT_TRUE(ws.ok());
    for (std::size_t i = 0; i < kTexts.size(); ++i) ASSERT_TRUE(put(ws->store(), "d" + std::to_string(i), kTexts[i]).ok());
    ASSERT_TRUE(ws->catch_up().ok());
  }
  // Losing the vector files rebuilds the index from the embedding cache alone.
  fs::remove_all(dir.path / "index" / "dense" / "state.json");
  {
    auto ws = Workspace::open(dir.path, with_dense());
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    EXPECT_EQ(ws->last_catch_up().dense_embedded, 0u);
    EXPECT_EQ(ws->last_catch_up().dense_cache_hits, kTexts.size());
    ASSERT_NE(ws->dense(), nullptr);
    EXPECT_EQ(ws->dense()->vectors().size(), kTexts.size());
  }
  // Another embedder (different model id): every chunk is embedded again.
  const std::string other = "sif:dim=8,epochs=2,mincount=1,bucket=2000,threads=1";
  {
    auto ws = Workspace::open(dir.path, with_dense(other));
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    EXPECT_EQ(ws->last_catch_up().dense_embedded, kTexts.size());
    EXPECT_EQ(ws->dense()->vectors().options().dim, 8);
  }
  // Back to the first: its vectors are still cached.
  {
    auto ws = Workspace::open(dir.path, with_dense());
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    EXPECT_EQ(ws->last_catch_up().dense_embedded, 0u);
    EXPECT_EQ(ws->last_catch_up().dense_cache_hits, kTexts.size());
  }
}

TEST(DenseWorkspace, ModesAndErrors) {
  TempDir dir;
  {
    auto ws = Workspace::open(dir.path);
    ASSERT_TRUE(ws.ok());
    for (std::size_t i = 0; i < kTexts.size(); ++i) ASSERT_TRUE(put(ws->store(), "d" + std::to_string(i), kTexts[i]).ok());
    ASSERT_TRUE(ws->catch_up().ok());
    SearchRequest r;
    r.query = "apples";
    r.mode = SearchMode::kDense;
    auto no_dense = search(*ws, r);
    ASSERT_FALSE(no_dense.ok());
    EXPECT_EQ(no_dense.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(no_dense.error().message.find("--embedder"), std::string::npos) << no_dense.error().message;
  }
  auto ws = Workspace::open(dir.path, with_dense());
  ASSERT_TRUE(ws.ok()) << ws.error().to_string();
  ASSERT_NE(ws->dense(), nullptr);
  SearchRequest r;
  r.query = "apples orchard";
  r.k = 3;
  r.mode = SearchMode::kBm25;
  auto bm25 = search(*ws, r);
  ASSERT_TRUE(bm25.ok());
  EXPECT_EQ(ext_ids(*bm25), std::vector<std::string>{"d0"});
  r.mode = SearchMode::kHybrid;
  auto hybrid = search(*ws, r);
  ASSERT_TRUE(hybrid.ok()) << hybrid.error().to_string();
  EXPECT_EQ(hybrid->size(), 3u);  // dense fills the list BM25 cannot
  EXPECT_EQ((*hybrid)[0].ext_id, "d0");  // first in BM25 and (RRF) ahead of chunks in one list only
  // A query of stopwords only: BM25 refuses it, hybrid still ranks by the dense list.
  r.query = "the of and";
  r.mode = SearchMode::kBm25;
  EXPECT_FALSE(search(*ws, r).ok());
  r.mode = SearchMode::kHybrid;
  auto stop = search(*ws, r);
  ASSERT_TRUE(stop.ok()) << stop.error().to_string();
  EXPECT_EQ(stop->size(), 3u);

  EXPECT_EQ(*parse_search_mode("hybrid"), SearchMode::kHybrid);
  EXPECT_FALSE(parse_search_mode("semantic").ok());
  WorkspaceOptions bad;
  bad.dense = DenseOptions{"word2vec", "flat"};
  auto b = Workspace::open(dir.path, bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("unknown kind"), std::string::npos) << b.error().message;
  bad.dense = DenseOptions{kEmbedder, "flat:dim=3"};
  b = Workspace::open(dir.path, bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("dim comes from the embedder"), std::string::npos) << b.error().message;
}

// Random principals over random ACLs and tenants: no dense or hybrid result is a chunk the
// principal may not read, and every readable chunk is reachable with a large k.
TEST(DenseWorkspace, AclPropertyOverRandomPrincipals) {
  TempDir dir;
  auto ws = Workspace::open(dir.path, with_dense());
  ASSERT_TRUE(ws.ok());
  std::mt19937 rng(5);
  const std::vector<std::string> groups = {"eng", "ops", "legal", "hr"};
  struct Doc {
    std::string tenant;
    std::vector<std::string> acl;
  };
  std::map<std::string, Doc> docs;
  for (int i = 0; i < 40; ++i) {
    Doc d;
    d.tenant = rng() % 3 == 0 ? "other" : "default";
    for (const auto& g : groups) {
      if (rng() % 3 == 0) d.acl.push_back(g);
    }
    const std::string id = "doc" + std::to_string(i);
    ASSERT_TRUE(put(ws->store(), id, kTexts[static_cast<std::size_t>(i) % kTexts.size()] + " variant " + std::to_string(i),
                    d.acl, d.tenant)
                    .ok());
    docs[id] = d;
  }
  ASSERT_TRUE(ws->catch_up().ok());
  for (int p = 0; p < 12; ++p) {
    Principal principal;
    principal.name = "p" + std::to_string(p);
    principal.tenant = p % 4 == 0 ? "other" : "default";
    for (const auto& g : groups) {
      if (rng() % 2 == 0) principal.groups.push_back(g);
    }
    ASSERT_TRUE(ws->store().put_principal(principal).ok());
    std::set<std::string> readable;
    for (const auto& [id, d] : docs) {
      bool ok = d.tenant == principal.tenant;
      if (ok && !d.acl.empty()) {
        ok = std::any_of(d.acl.begin(), d.acl.end(), [&](const std::string& g) {
          return std::count(principal.groups.begin(), principal.groups.end(), g) > 0;
        });
      }
      if (ok) readable.insert(id);
    }
    for (SearchMode mode : {SearchMode::kDense, SearchMode::kHybrid}) {
      SearchRequest r;
      r.query = kTexts[static_cast<std::size_t>(p) % kTexts.size()];
      r.tenant = principal.tenant;
      r.principal = principal.name;
      r.mode = mode;
      r.k = 100;
      auto hits = search(*ws, r);
      ASSERT_TRUE(hits.ok()) << hits.error().to_string();
      std::set<std::string> got;
      for (const auto& h : *hits) {
        EXPECT_TRUE(readable.count(h.ext_id)) << principal.name << " got " << h.ext_id;
        got.insert(h.ext_id);
      }
      if (mode == SearchMode::kDense) {
        EXPECT_EQ(got, readable) << principal.name;
      }
    }
  }
}

}  // namespace
}  // namespace ragft
