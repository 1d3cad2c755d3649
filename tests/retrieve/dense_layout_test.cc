// The dense index's files (retrieve/dense.h): a base vectors file plus an append-only delta log,
// with state.json as the commit point. Crash safety (a torn log tail, appends whose state.json
// never landed, a failed append), replay against a from-scratch build, compaction, removals
// after reopening, the older single-file layout, following another process's saves, and lazy
// loading.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "dense_test_util.h"
#include "retrieve/dense_log.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using namespace testing_dense;

fs::path dense_dir(const fs::path& ws) { return ws / "index" / "dense"; }

WorkspaceOptions options(const std::string& vectors = "flat", double ratio = 0.25,
                         std::uint64_t min_bytes = 1 << 20) {
  DenseOptions d;
  d.embedder = kEmbedder;
  d.vectors = vectors;
  d.compact_ratio = ratio;
  d.compact_min_bytes = min_bytes;
  WorkspaceOptions o;
  o.dense = d;
  return o;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

nlohmann::json state_of(const fs::path& ws) { return nlohmann::json::parse(read_bytes(dense_dir(ws) / "state.json")); }

// Document i of a corpus with tenants and ACLs: most readable by everyone, some only by eng or
// ops, a few in another tenant.
void put_doc(Workspace& ws, int i, const std::string& suffix = "") {
  std::vector<std::string> acl;
  if (i % 3 == 1) acl = {"eng"};
  if (i % 5 == 2) acl = {"ops"};
  const std::string tenant = i % 7 == 6 ? "other" : "default";
  const std::string text =
      kTexts[static_cast<std::size_t>(i) % kTexts.size()] + " item " + std::to_string(i) + suffix;
  ASSERT_TRUE(put(ws.store(), "d" + std::to_string(i), text, acl, tenant).ok());
}

void add_principals(Workspace& ws) {
  ASSERT_TRUE(ws.store().put_principal(Principal{"alice", "default", {"eng"}}).ok());
  ASSERT_TRUE(ws.store().put_principal(Principal{"bob", "default", {"ops"}}).ok());
}

using Ranked = std::vector<std::pair<std::string, float>>;

Ranked dense_search(Workspace& ws, const std::string& query, std::optional<std::string> principal = std::nullopt,
                    std::size_t k = 5) {
  SearchRequest r;
  r.mode = SearchMode::kDense;
  r.query = query;
  r.k = k;
  r.principal = std::move(principal);
  auto hits = search(ws, r);
  EXPECT_TRUE(hits.ok()) << hits.error().to_string();
  Ranked out;
  if (hits.ok()) {
    for (const auto& h : *hits) out.emplace_back(h.ext_id, h.score);
  }
  return out;
}

// Dense results for every text as a query, as the owner and as two principals.
std::vector<Ranked> snapshot(Workspace& ws) {
  std::vector<Ranked> out;
  for (const auto& q : kTexts) {
    for (const auto& p : {std::optional<std::string>(), std::optional<std::string>("alice"),
                          std::optional<std::string>("bob")}) {
      out.push_back(dense_search(ws, q, p));
    }
  }
  return out;
}

std::set<std::string> all_ids(Workspace& ws) {
  std::set<std::string> ids;
  for (const auto& [id, score] : dense_search(ws, "anything at all", std::nullopt, 1000)) ids.insert(id);
  return ids;
}

// A workspace with `n` documents in its base file (the first catch-up compacts).
void build(const fs::path& dir, int n, const WorkspaceOptions& o = options()) {
  auto ws = Workspace::open(dir, o);
  ASSERT_TRUE(ws.ok()) << ws.error().to_string();
  add_principals(*ws);
  for (int i = 0; i < n; ++i) put_doc(*ws, i);
  auto caught = ws->catch_up();
  ASSERT_TRUE(caught.ok()) << caught.error().to_string();
  ASSERT_NE(ws->dense(), nullptr);
  EXPECT_EQ(ws->dense()->log_bytes(), 0u);  // the first save writes a base file
  EXPECT_EQ(ws->dense()->compactions(), 1u);
}

TEST(DenseLayout, CatchUpAppendsToTheLogAndLeavesTheBaseAlone) {
  TempDir dir;
  build(dir.path, 12);
  auto ws = Workspace::open(dir.path, options());
  ASSERT_TRUE(ws.ok());
  const std::string base = state_of(dir.path)["base"].get<std::string>();
  const std::string base_bytes = read_bytes(dense_dir(dir.path) / base);
  ASSERT_FALSE(base_bytes.empty());

  for (int i = 12; i < 14; ++i) put_doc(*ws, i);
  ASSERT_TRUE(ws->store().remove("default", "d0").ok());
  auto caught = ws->catch_up();
  ASSERT_TRUE(caught.ok()) << caught.error().to_string();
  DenseIndex* dense = ws->dense();
  ASSERT_NE(dense, nullptr);
  EXPECT_EQ(dense->compactions(), 0u);
  EXPECT_GT(dense->log_bytes(), 0u);
  EXPECT_EQ(read_bytes(dense_dir(dir.path) / base), base_bytes);  // not rewritten
  const nlohmann::json st = state_of(dir.path);
  EXPECT_EQ(st["format"], 2);
  EXPECT_EQ(st["base"], base);
  EXPECT_EQ(st["log_bytes"].get<std::uint64_t>(), dense->log_bytes());
  EXPECT_EQ(fs::file_size(dense_dir(dir.path) / "delta-1.log"), dense->log_bytes());
  const std::vector<Ranked> before = snapshot(*ws);
  const std::size_t size = dense->vectors().size();
  EXPECT_EQ(size, 13u);

  auto again = Workspace::open(dir.path);
  ASSERT_TRUE(again.ok());
  auto loaded = again->load_dense();
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  ASSERT_NE(*loaded, nullptr);
  EXPECT_EQ((*loaded)->replayed(), 1u);
  EXPECT_EQ((*loaded)->vectors().size(), size);
  EXPECT_EQ(snapshot(*again), before);
}

TEST(DenseLayout, ReplayEqualsAFromScratchBuild) {
  TempDir dir;
  build(dir.path, 10);
  {
    auto ws = Workspace::open(dir.path, options());
    ASSERT_TRUE(ws.ok());
    // Several commits: additions, a changed text, a changed ACL, deletions.
    for (int i = 10; i < 13; ++i) put_doc(*ws, i);
    ASSERT_TRUE(ws->catch_up().ok());
    put_doc(*ws, 3, " now about something else entirely");
    ASSERT_TRUE(ws->store().remove("default", "d4").ok());
    ASSERT_TRUE(ws->catch_up().ok());
    ASSERT_TRUE(put(ws->store(), "d5", kTexts[5] + " item 5", {"ops"}).ok());
    ASSERT_TRUE(ws->store().remove("default", "d11").ok());
    put_doc(*ws, 13);
    ASSERT_TRUE(ws->catch_up().ok());
    EXPECT_EQ(ws->dense()->compactions(), 0u);
  }
  auto replayed = Workspace::open(dir.path);
  ASSERT_TRUE(replayed.ok());
  const std::vector<Ranked> from_log = snapshot(*replayed);
  ASSERT_NE(replayed->dense(), nullptr);
  EXPECT_EQ(replayed->dense()->replayed(), 3u);
  const std::size_t size = replayed->dense()->vectors().size();
  EXPECT_EQ(size, 12u);

  // From scratch: without state.json every vector is added again, from the embedding cache.
  fs::remove(dense_dir(dir.path) / "state.json");
  auto scratch = Workspace::open(dir.path);
  ASSERT_TRUE(scratch.ok());
  ASSERT_NE(scratch->dense(), nullptr);
  EXPECT_EQ(scratch->last_catch_up().dense_embedded, 0u);
  EXPECT_EQ(scratch->last_catch_up().dense_cache_hits, size);
  EXPECT_EQ(scratch->dense()->vectors().size(), size);
  EXPECT_EQ(snapshot(*scratch), from_log);
}

TEST(DenseLayout, TornTailIsIgnoredAndCutOff) {
  TempDir dir;
  build(dir.path, 10);
  std::vector<Ranked> before;
  std::uint64_t committed = 0;
  {
    auto ws = Workspace::open(dir.path, options());
    ASSERT_TRUE(ws.ok());
    put_doc(*ws, 10);
    ASSERT_TRUE(ws->catch_up().ok());
    committed = ws->dense()->log_bytes();
    before = snapshot(*ws);
  }
  // A crash during the next append: half a record past the committed length.
  const fs::path log = dense_dir(dir.path) / "delta-1.log";
  const std::string committed_bytes = read_bytes(log);
  ASSERT_EQ(committed_bytes.size(), committed);
  write_bytes(log, committed_bytes + committed_bytes.substr(28, 41));

  auto ws = Workspace::open(dir.path);
  ASSERT_TRUE(ws.ok()) << ws.error().to_string();
  EXPECT_EQ(snapshot(*ws), before);
  EXPECT_EQ(ws->dense()->replayed(), 1u);
  EXPECT_EQ(ws->dense()->vectors().size(), 11u);
  // The next append cuts the tail off and continues from the committed length.
  put_doc(*ws, 11);
  ASSERT_TRUE(ws->catch_up().ok());
  EXPECT_EQ(fs::file_size(log), ws->dense()->log_bytes());
  EXPECT_EQ(read_bytes(log).substr(0, committed), committed_bytes);
  const std::vector<Ranked> after = snapshot(*ws);

  auto again = Workspace::open(dir.path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(snapshot(*again), after);
  EXPECT_EQ(again->dense()->replayed(), 2u);
  EXPECT_EQ(again->dense()->vectors().size(), 12u);
  EXPECT_EQ(all_ids(*again).count("d11"), 1u);
}

TEST(DenseLayout, DamageInsideTheCommittedLogRebuildsFromTheCache) {
  for (const bool truncate : {false, true}) {
    TempDir dir;
    build(dir.path, 10);
    std::vector<Ranked> before;
    {
      auto ws = Workspace::open(dir.path, options());
      ASSERT_TRUE(ws.ok());
      put_doc(*ws, 10);
      put_doc(*ws, 11);
      ASSERT_TRUE(ws->catch_up().ok());
      before = snapshot(*ws);
    }
    const fs::path log = dense_dir(dir.path) / "delta-1.log";
    std::string bytes = read_bytes(log);
    if (truncate) {
      bytes.resize(bytes.size() - 5);  // shorter than committed
    } else {
      bytes[bytes.size() - 3] ^= 0x40;  // a vector byte: the record's checksum fails
    }
    write_bytes(log, bytes);
    auto ws = Workspace::open(dir.path);
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    auto loaded = ws->load_dense();
    ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
    // Rebuilt: every vector read from the embedding cache, none embedded again.
    EXPECT_EQ(ws->last_catch_up().dense_embedded, 0u) << truncate;
    EXPECT_EQ(ws->last_catch_up().dense_cache_hits, 12u) << truncate;
    EXPECT_EQ(snapshot(*ws), before);
  }
}

TEST(DenseLayout, AppendsWithoutACommittedStateAreIgnored) {
  TempDir dir;
  build(dir.path, 10);
  std::string committed_state;
  {
    auto ws = Workspace::open(dir.path, options());
    ASSERT_TRUE(ws.ok());
    put_doc(*ws, 10);
    ASSERT_TRUE(ws->catch_up().ok());
    committed_state = read_bytes(dense_dir(dir.path) / "state.json");
    put_doc(*ws, 11);
    put_doc(*ws, 12);
    ASSERT_TRUE(ws->store().remove("default", "d1").ok());
    ASSERT_TRUE(ws->catch_up().ok());
    EXPECT_EQ(ws->dense()->vectors().size(), 12u);
  }
  // The crash came after the append but before state.json was replaced.
  const std::uint64_t log_size = fs::file_size(dense_dir(dir.path) / "delta-1.log");
  write_bytes(dense_dir(dir.path) / "state.json", committed_state);
  ASSERT_LT(nlohmann::json::parse(committed_state)["log_bytes"].get<std::uint64_t>(), log_size);

  auto ws = Workspace::open(dir.path);
  ASSERT_TRUE(ws.ok()) << ws.error().to_string();
  // The dense index was behind the store, so the open loaded it and applied the changes again:
  // the uncommitted records were neither replayed nor duplicated.
  ASSERT_NE(ws->dense(), nullptr);
  EXPECT_EQ(ws->dense()->replayed(), 1u);
  EXPECT_GT(ws->last_catch_up().dense_changes, 0u);
  EXPECT_EQ(ws->last_catch_up().dense_embedded, 0u);
  EXPECT_EQ(ws->last_catch_up().dense_cache_hits, 2u);
  EXPECT_EQ(ws->dense()->vectors().size(), 12u);
  const std::set<std::string> ids = all_ids(*ws);
  EXPECT_EQ(ids.count("d1"), 0u);
  EXPECT_EQ(ids.count("d12"), 1u);
  const std::vector<Ranked> after = snapshot(*ws);

  auto again = Workspace::open(dir.path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(snapshot(*again), after);
  EXPECT_EQ(again->dense()->replayed(), 2u);
  fs::remove(dense_dir(dir.path) / "state.json");
  auto scratch = Workspace::open(dir.path);
  ASSERT_TRUE(scratch.ok());
  EXPECT_EQ(snapshot(*scratch), after);
}

TEST(DenseLayout, FailedAppendLeavesTheLastSavedState) {
  TempDir dir;
  auto store = Store::open(dir.path / "store.db");
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  for (std::size_t i = 0; i < kTexts.size(); ++i) ASSERT_TRUE(put(*store, "d" + std::to_string(i), kTexts[i]).ok());
  std::vector<ChunkRecord> chunks;
  ASSERT_TRUE(store
                  ->for_each_chunk([&](const ChunkRecord& c, const ChunkAccess&) {
                    chunks.push_back(c);
                    return ok_status();
                  })
                  .ok());
  ASSERT_EQ(chunks.size(), 8u);
  EmbedderContext context;
  context.training_texts = []() -> Result<std::vector<std::string>> { return kTexts; };
  DenseOptions o;
  o.embedder = kEmbedder;
  const fs::path ddir = dir.path / "dense";
  auto add_range = [&](DenseIndex& d, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) d.add(chunks[i].id, ChunkAttrs{}, chunks[i].text);
  };
  {
    FaultEnv env(3);  // writes 1 and 2: the first save's base file and state.json
    auto d = DenseIndex::open(ddir, o, context, env);
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    add_range(*d, 0, 4);
    ASSERT_TRUE(d->commit(1, *store).ok());
    ASSERT_TRUE(d->save().ok());
    EXPECT_EQ(env.writes(), 2);
    add_range(*d, 4, 8);
    ASSERT_TRUE(d->commit(2, *store).ok());
    Status saved = d->save();
    ASSERT_FALSE(saved.ok());
    EXPECT_EQ(saved.error().code, ErrorCode::kIo);
  }
  EXPECT_GT(fs::file_size(ddir / "delta-1.log"), 0u);  // the torn append
  {
    auto d = DenseIndex::open(ddir, o, context);
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    EXPECT_EQ(d->applied_seq(), 1);
    EXPECT_EQ(d->vectors().size(), 4u);
    EXPECT_EQ(d->log_bytes(), 0u);
    add_range(*d, 4, 8);
    ASSERT_TRUE(d->commit(2, *store).ok());
    ASSERT_TRUE(d->save().ok());
    EXPECT_EQ(fs::file_size(ddir / "delta-1.log"), d->log_bytes());
  }
  auto d = DenseIndex::open(ddir, o, context);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->applied_seq(), 2);
  EXPECT_EQ(d->vectors().size(), 8u);
  EXPECT_EQ(d->replayed(), 1u);
  for (const ChunkRecord& c : chunks) EXPECT_TRUE(d->contains(c.id)) << c.id;
}

TEST(DenseLayout, CompactionPreservesResultsAndAcl) {
  TempDir dir;
  const WorkspaceOptions big_log = options("flat", 100.0, 0);  // never compacts by itself
  build(dir.path, 10, big_log);
  auto ws = Workspace::open(dir.path, big_log);
  ASSERT_TRUE(ws.ok());
  for (int i = 10; i < 20; ++i) {
    put_doc(*ws, i);
    if (i % 3 == 0) {
      ASSERT_TRUE(ws->store().remove("default", "d" + std::to_string(i - 9)).ok());
    }
    ASSERT_TRUE(ws->catch_up().ok());
  }
  DenseIndex* dense = ws->dense();
  ASSERT_NE(dense, nullptr);
  EXPECT_EQ(dense->compactions(), 0u);
  ASSERT_GT(dense->log_bytes(), 0u);
  const std::vector<Ranked> before = snapshot(*ws);
  // The principals see different lists (the ACLs are in play) and never a chunk they may not read.
  EXPECT_NE(before[1], before[2]);
  for (std::size_t q = 0; q < before.size(); q += 3) {
    for (const auto& [id, score] : before[q + 1]) {
      const int i = std::stoi(id.substr(1));
      EXPECT_FALSE(i % 5 == 2 || i % 7 == 6) << "alice got " << id;
    }
  }

  ASSERT_TRUE(ws->compact_dense().ok());
  EXPECT_EQ(dense->log_bytes(), 0u);
  EXPECT_EQ(dense->compactions(), 1u);
  EXPECT_EQ(state_of(dir.path)["generation"], 2);
  EXPECT_TRUE(fs::exists(dense_dir(dir.path) / "base-2.vec"));
  EXPECT_FALSE(fs::exists(dense_dir(dir.path) / "base-1.vec"));
  EXPECT_FALSE(fs::exists(dense_dir(dir.path) / "delta-1.log"));
  EXPECT_EQ(snapshot(*ws), before);
  auto again = Workspace::open(dir.path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(snapshot(*again), before);
  EXPECT_EQ(again->dense()->replayed(), 0u);
}

TEST(DenseLayout, LogIsCompactedPastAFractionOfTheBase) {
  TempDir dir;
  const WorkspaceOptions quarter = options("flat", 0.25, 0);
  build(dir.path, 16, quarter);
  auto ws = Workspace::open(dir.path, quarter);
  ASSERT_TRUE(ws.ok());
  std::size_t compactions = 0;
  for (int i = 16; i < 40; ++i) {
    put_doc(*ws, i);
    ASSERT_TRUE(ws->catch_up().ok());
    DenseIndex* dense = ws->dense();
    ASSERT_NE(dense, nullptr);
    const std::string base = state_of(dir.path)["base"].get<std::string>();
    EXPECT_LE(static_cast<double>(dense->log_bytes()),
              0.25 * static_cast<double>(fs::file_size(dense_dir(dir.path) / base)));
    compactions = dense->compactions();
  }
  EXPECT_GE(compactions, 2u);
  const std::vector<Ranked> before = snapshot(*ws);
  auto again = Workspace::open(dir.path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(snapshot(*again), before);
}

class DenseRemovals : public ::testing::TestWithParam<const char*> {};

TEST_P(DenseRemovals, RemovalsAfterReopenStayRemoved) {
  TempDir dir;
  build(dir.path, 12, options(GetParam()));
  {
    auto ws = Workspace::open(dir.path);
    ASSERT_TRUE(ws.ok());
    for (int i = 12; i < 15; ++i) put_doc(*ws, i);
    ASSERT_TRUE(ws->catch_up().ok());
  }
  std::set<std::string> expected;
  {
    // Reopened (base + log replayed), then a chunk from the base and one from the log removed.
    auto ws = Workspace::open(dir.path);
    ASSERT_TRUE(ws.ok());
    expected = all_ids(*ws);
    EXPECT_EQ(expected.size(), 13u);  // d6 and d13 are in the other tenant
    ASSERT_TRUE(ws->store().remove("default", "d0").ok());
    ASSERT_TRUE(ws->store().remove("default", "d12").ok());
    ASSERT_TRUE(ws->catch_up().ok());
    expected.erase("d0");
    expected.erase("d12");
    EXPECT_EQ(all_ids(*ws), expected);
  }
  auto ws = Workspace::open(dir.path);
  ASSERT_TRUE(ws.ok());
  EXPECT_EQ(all_ids(*ws), expected);
  EXPECT_EQ(ws->dense()->vectors().size(), 13u);
  EXPECT_EQ(ws->dense()->replayed(), 2u);
  const std::string kind = GetParam();
  EXPECT_EQ(ws->dense()->vectors().options().kind, kind.substr(0, kind.find(':')));
}

INSTANTIATE_TEST_SUITE_P(Kinds, DenseRemovals, ::testing::Values("flat", "hnsw:m=8", "ivf:nlist=4,nprobe=4"));

TEST(DenseLayout, OldSingleFileLayoutOpens) {
  TempDir dir;
  build(dir.path, 10);
  // Rewrite the files as the layout before the delta log had them.
  const nlohmann::json st = state_of(dir.path);
  const auto seq = st["seq"].get<std::uint64_t>();
  const std::string old_file = "vectors-" + std::to_string(seq) + ".vec";
  fs::rename(dense_dir(dir.path) / st["base"].get<std::string>(), dense_dir(dir.path) / old_file);
  nlohmann::json old = {{"embedder", st["embedder"]}, {"model_id", st["model_id"]}, {"vectors", st["vectors"]},
                        {"applied_seq", seq}, {"file", old_file}};
  write_bytes(dense_dir(dir.path) / "state.json", old.dump(1) + "\n");

  std::vector<Ranked> before;
  {
    auto ws = Workspace::open(dir.path);
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    EXPECT_EQ(ws->dense_loads(), 0u);  // current: not even loaded
    auto loaded = ws->load_dense();
    ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
    ASSERT_NE(*loaded, nullptr);
    EXPECT_EQ(ws->last_catch_up().dense_cache_hits, 0u);  // loaded, not rebuilt
    EXPECT_EQ((*loaded)->vectors().size(), 10u);
    before = snapshot(*ws);
    // The next save starts a log beside the old file.
    put_doc(*ws, 10);
    ASSERT_TRUE(ws->catch_up().ok());
    EXPECT_GT(ws->dense()->log_bytes(), 0u);
    const nlohmann::json now = state_of(dir.path);
    EXPECT_EQ(now["format"], 2);
    EXPECT_EQ(now["base"], old_file);
    EXPECT_FALSE(now.contains("applied_seq"));  // an older ragft rebuilds rather than misreads
    before = snapshot(*ws);
  }
  auto ws = Workspace::open(dir.path);
  ASSERT_TRUE(ws.ok());
  EXPECT_EQ(snapshot(*ws), before);
  EXPECT_EQ(ws->dense()->vectors().size(), 11u);
  ASSERT_TRUE(ws->compact_dense().ok());
  EXPECT_FALSE(fs::exists(dense_dir(dir.path) / old_file));
  EXPECT_EQ(snapshot(*ws), before);
}

TEST(DenseLayout, LazyOpenDoesNoDenseWorkForBm25) {
  TempDir dir;
  build(dir.path, 10);
  std::vector<Ranked> eager;
  {
    auto ws = Workspace::open(dir.path);
    ASSERT_TRUE(ws.ok());
    eager = snapshot(*ws);
  }
  for (int round = 0; round < 3; ++round) {
    auto ws = Workspace::open(dir.path);
    ASSERT_TRUE(ws.ok());
    SearchRequest r;
    r.query = "apples orchard";
    auto hits = search(*ws, r);
    ASSERT_TRUE(hits.ok()) << hits.error().to_string();
    EXPECT_FALSE(hits->empty());
    EXPECT_EQ(ws->dense_loads(), 0u);
    EXPECT_EQ(ws->dense(), nullptr);
    EXPECT_TRUE(ws->has_dense());
    EXPECT_EQ(ws->last_catch_up().dense_changes, 0u);
  }
  {
    // The first dense query loads it; results as an eager load gave.
    auto ws = Workspace::open(dir.path);
    ASSERT_TRUE(ws.ok());
    EXPECT_EQ(snapshot(*ws), eager);
    EXPECT_EQ(ws->dense_loads(), 1u);
    EXPECT_EQ(ws->last_catch_up().dense_embedded, 0u);
    SearchRequest r;
    r.query = "apples orchard";
    r.mode = SearchMode::kHybrid;
    auto hits = search(*ws, r);
    ASSERT_TRUE(hits.ok()) << hits.error().to_string();
    EXPECT_EQ(ws->dense_loads(), 1u);
    // A change the index has not applied yet...
    put_doc(*ws, 10);
  }
  // ...is dense work, so the next open loads and applies it.
  auto ws = Workspace::open(dir.path);
  ASSERT_TRUE(ws.ok());
  EXPECT_EQ(ws->dense_loads(), 1u);
  EXPECT_EQ(ws->last_catch_up().dense_changes, 1u);
  EXPECT_EQ(ws->last_catch_up().dense_embedded, 1u);
  EXPECT_EQ(all_ids(*ws).count("d10"), 1u);
}

TEST(DenseLayout, FollowsAnotherWritersSaves) {
  TempDir dir;
  build(dir.path, 10);
  auto reader = Workspace::open(dir.path);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(reader->load_dense().ok());
  EXPECT_EQ(reader->dense_loads(), 1u);

  auto writer = Workspace::open(dir.path);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(put(writer->store(), "new", "submarines dive beneath the arctic ice").ok());
  ASSERT_TRUE(writer->catch_up().ok());
  const std::string query = "title of new\nsubmarines dive beneath the arctic ice";

  // The reader replays the record the writer appended instead of loading everything again.
  ASSERT_TRUE(reader->catch_up().ok());
  EXPECT_EQ(reader->dense_loads(), 1u);
  EXPECT_EQ(reader->dense()->replayed(), 1u);
  EXPECT_EQ(reader->last_catch_up().dense_embedded, 0u);
  Ranked top = dense_search(*reader, query, std::nullopt, 1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].first, "new");

  // After the writer compacts, the reader drops its copy and loads the new base on next use.
  ASSERT_TRUE(writer->compact_dense().ok());
  ASSERT_TRUE(reader->catch_up().ok());
  EXPECT_EQ(reader->dense(), nullptr);
  EXPECT_EQ(dense_search(*reader, query, std::nullopt, 1), top);
  EXPECT_EQ(reader->dense_loads(), 2u);
  EXPECT_EQ(reader->dense()->vectors().size(), 11u);
}

TEST(DenseLog, RoundTripsAndRejectsDamage) {
  const int dim = 3;
  DenseLogRecord a;
  a.seq = 4;
  a.added = {7, 9};
  a.attrs = {ChunkAttrs{"default", {}}, ChunkAttrs{"t2", {"eng", "ops"}}};
  a.vectors = {1, 2, 3, 4, 5, 6};
  DenseLogRecord b;
  b.seq = 6;
  b.removed = {7};
  std::string log = dense_log_header(5, dim);
  append_dense_log_record(a, dim, log);
  const std::uint64_t after_a = log.size();
  append_dense_log_record(b, dim, log);

  std::vector<DenseLogRecord> got;
  auto collect = [&](DenseLogRecord& r) {
    got.push_back(r);
    return ok_status();
  };
  ASSERT_TRUE(read_dense_log(log + "torn", 0, log.size(), 5, dim, "x.log", collect).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].seq, 4);
  EXPECT_EQ(got[0].added, a.added);
  EXPECT_EQ(got[0].attrs[1].tenant, "t2");
  EXPECT_EQ(got[0].attrs[1].acl, a.attrs[1].acl);
  EXPECT_EQ(got[0].vectors, a.vectors);
  EXPECT_EQ(got[1].removed, b.removed);
  EXPECT_TRUE(got[1].added.empty());
  // From a record boundary: only the later record.
  got.clear();
  ASSERT_TRUE(read_dense_log(log, after_a, log.size(), 5, dim, "x.log", collect).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].seq, 6);
  // Only the committed prefix is read.
  got.clear();
  ASSERT_TRUE(read_dense_log(log, 0, after_a, 5, dim, "x.log", collect).ok());
  EXPECT_EQ(got.size(), 1u);

  auto code = [&](const std::string& data, std::uint64_t committed, std::uint64_t gen, int d) {
    Status s = read_dense_log(data, 0, committed, gen, d, "x.log", collect);
    return s.ok() ? std::optional<ErrorCode>() : std::optional<ErrorCode>(s.error().code);
  };
  EXPECT_EQ(code(log, log.size(), 6, dim), ErrorCode::kCorrupt);             // another generation
  EXPECT_EQ(code(log, log.size(), 5, 4), ErrorCode::kCorrupt);               // another dim
  EXPECT_EQ(code(log, log.size() + 1, 5, dim), ErrorCode::kCorrupt);         // shorter than committed
  EXPECT_EQ(code(log, log.size() - 1, 5, dim), ErrorCode::kCorrupt);         // a record cut by the length
  std::string flipped = log;
  flipped[after_a - 1] ^= 1;
  EXPECT_EQ(code(flipped, log.size(), 5, dim), ErrorCode::kCorrupt);         // checksum
  EXPECT_EQ(code("RGFTVEC2" + log.substr(8), log.size(), 5, dim), ErrorCode::kCorrupt);  // magic
  std::string backwards = dense_log_header(5, dim);
  append_dense_log_record(b, dim, backwards);
  append_dense_log_record(a, dim, backwards);
  EXPECT_EQ(code(backwards, backwards.size(), 5, dim), ErrorCode::kCorrupt);  // sequences must increase
  EXPECT_FALSE(code(log, 0, 5, dim).has_value());                             // nothing committed
}

}  // namespace
}  // namespace ragft
