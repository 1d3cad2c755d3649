// Workspace catch-up (index follows the store's change log) and filtered search.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>

#include "core/check.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"

namespace ragft {
namespace {

std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_ws_XXXXXX").string();
  RAGFT_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

NewDocument make_doc(const std::string& id, const std::string& text, std::vector<std::string> acl = {},
                     const std::string& tenant = "default") {
  NewDocument d;
  d.ext_id = id;
  d.tenant = tenant;
  d.source = "mem:" + id;
  d.format = "txt";
  d.title = "";
  d.text = text;
  d.acl = std::move(acl);
  d.content_hash = std::to_string(std::hash<std::string>{}(text));
  return d;
}

std::vector<NewChunk> one_chunk(const std::string& text) {
  NewChunk c;
  c.char_start = 0;
  c.char_end = static_cast<std::int64_t>(text.size());  // ASCII in these tests
  c.text = text;
  return {c};
}

std::vector<ChunkId> store_chunk_ids(Store& store) {
  std::vector<ChunkId> ids;
  EXPECT_TRUE(store
                  .for_each_chunk([&](const ChunkRecord& c, const ChunkAccess&) {
                    ids.push_back(c.id);
                    return ok_status();
                  })
                  .ok());
  return ids;
}

TEST(WorkspaceTest, CatchUpFollowsAddsChangesAndRemovals) {
  auto dir = temp_dir();
  {
    auto ws = Workspace::open(dir);
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    ASSERT_TRUE(ws->store().upsert(make_doc("a", "red apples grow on trees"), one_chunk("red apples grow on trees")).ok());
    ASSERT_TRUE(ws->store().upsert(make_doc("b", "green pears are sweet"), one_chunk("green pears are sweet")).ok());
    auto c1 = ws->catch_up();
    ASSERT_TRUE(c1.ok());
    EXPECT_EQ(c1->chunks_added, 2u);
    EXPECT_EQ(ws->index().live_ids(), store_chunk_ids(ws->store()));
    // Change a, remove b: the old chunk of a and b's chunk leave the index.
    ASSERT_TRUE(ws->store().upsert(make_doc("a", "yellow bananas"), one_chunk("yellow bananas")).ok());
    ASSERT_TRUE(ws->store().remove("default", "b").ok());
    auto c2 = ws->catch_up();
    ASSERT_TRUE(c2.ok());
    EXPECT_EQ(c2->chunks_removed, 2u);
    EXPECT_EQ(c2->chunks_added, 1u);
    EXPECT_EQ(ws->index().live_ids(), store_chunk_ids(ws->store()));
    SearchRequest r;
    r.query = "apples";
    auto hits = search(*ws, r);
    ASSERT_TRUE(hits.ok());
    EXPECT_TRUE(hits->empty());
    r.query = "banana";  // stemmed match
    hits = search(*ws, r);
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ((*hits)[0].ext_id, "a");
  }
  // Changes made while no workspace is open are applied on the next open.
  {
    auto store = Store::open(dir / "store.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store->upsert(make_doc("c", "blue berries"), one_chunk("blue berries")).ok());
  }
  auto ws = Workspace::open(dir);
  ASSERT_TRUE(ws.ok());
  EXPECT_EQ(ws->last_catch_up().chunks_added, 1u);
  EXPECT_EQ(ws->index().live_ids(), store_chunk_ids(ws->store()));
  std::filesystem::remove_all(dir);
}

TEST(WorkspaceTest, CorruptIndexIsRebuilt) {
  auto dir = temp_dir();
  {
    auto ws = Workspace::open(dir);
    ASSERT_TRUE(ws.ok());
    ASSERT_TRUE(ws->store().upsert(make_doc("a", "red apples"), one_chunk("red apples")).ok());
    ASSERT_TRUE(ws->catch_up().ok());
  }
  // Damage every index file.
  for (auto& e : std::filesystem::directory_iterator(dir / "index" / "lexical")) {
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << "garbage";
  }
  auto ws = Workspace::open(dir);
  ASSERT_TRUE(ws.ok()) << ws.error().to_string();
  EXPECT_TRUE(ws->last_catch_up().rebuilt);
  EXPECT_EQ(ws->index().live_ids(), store_chunk_ids(ws->store()));
  std::filesystem::remove_all(dir);
}

TEST(WorkspaceTest, AnalyzerMismatchIsRefused) {
  auto dir = temp_dir();
  ASSERT_TRUE(Workspace::open(dir).ok());
  WorkspaceOptions o;
  o.analyzer.language = "none";
  auto ws = Workspace::open(dir, o);
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.error().code, ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

// Property: for random principals, no hit lies outside the principal's tenant and ACL, and every
// admitted matching document is found (k large enough to return all).
TEST(WorkspaceTest, AclPropertyOverRandomPrincipals) {
  auto dir = temp_dir();
  auto ws = Workspace::open(dir);
  ASSERT_TRUE(ws.ok());
  std::mt19937 rng(7);
  const std::vector<std::string> groups = {"g0", "g1", "g2", "g3", "g4"};
  const std::vector<std::string> tenants = {"default", "acme"};
  struct Doc {
    std::string tenant;
    std::set<std::string> acl;
  };
  std::map<std::string, Doc> docs;
  for (int i = 0; i < 200; ++i) {
    std::string id = "d" + std::to_string(i);
    Doc d;
    d.tenant = tenants[rng() % 2];
    int n = static_cast<int>(rng() % 3);  // 0 = public within the tenant
    for (int j = 0; j < n; ++j) d.acl.insert(groups[rng() % groups.size()]);
    std::string text = "shared topic word" + std::to_string(i % 5) + " filler";
    ASSERT_TRUE(ws->store()
                    .upsert(make_doc(id, text, {d.acl.begin(), d.acl.end()}, d.tenant), one_chunk(text))
                    .ok());
    docs[id] = d;
  }
  ASSERT_TRUE(ws->catch_up().ok());
  for (int p = 0; p < 40; ++p) {
    Principal pr;
    pr.name = "p" + std::to_string(p);
    pr.tenant = tenants[rng() % 2];
    for (const auto& g : groups) {
      if (rng() % 3 == 0) pr.groups.push_back(g);
    }
    ASSERT_TRUE(ws->store().put_principal(pr).ok());
    SearchRequest r;
    r.query = "shared topic";
    r.k = 1000;
    r.tenant = pr.tenant;
    r.principal = pr.name;
    auto hits = search(*ws, r);
    ASSERT_TRUE(hits.ok()) << hits.error().to_string();
    std::set<std::string> got;
    for (const auto& h : *hits) got.insert(h.ext_id);
    std::set<std::string> want;
    for (const auto& [id, d] : docs) {
      bool admitted = d.tenant == pr.tenant &&
                      (d.acl.empty() || std::any_of(pr.groups.begin(), pr.groups.end(),
                                                    [&](const std::string& g) { return d.acl.count(g) > 0; }));
      if (admitted) want.insert(id);
    }
    EXPECT_EQ(got, want) << "principal " << pr.name;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragft
