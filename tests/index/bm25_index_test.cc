// Unit tests of Bm25Index: options, hand-computed scores, persistence, deletions, merge,
// corruption and fault injection.
#include <gtest/gtest.h>

#include <fstream>

#include "index/lexical/bm25_index.h"
#include "index_test_util.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using testing_index::TempDir;

std::vector<QueryTerm> q(std::initializer_list<const char*> terms) {
  std::vector<QueryTerm> out;
  for (const char* t : terms) out.push_back({t, 1.0f});
  return out;
}

Bm25Index open_ok(const fs::path& dir, Env& env = Env::posix()) {
  auto r = Bm25Index::open(dir, {}, env);
  if (!r.ok()) ADD_FAILURE() << r.error().to_string();
  return std::move(r).value();
}

// Tiny collection used for hand-computed scores.
//   id 1: a b a      (len 3)
//   id 2: b c        (len 2)
//   id 3: c c c d    (len 4)
void add_tiny(Bm25Index& idx) {
  idx.add(1, {}, {"a", "b", "a"});
  idx.add(2, {}, {"b", "c"});
  idx.add(3, {}, {"c", "c", "c", "d"});
}

TEST(Bm25Options, ParseAndRoundTrip) {
  auto o = Bm25Options::parse("bm25:k1=1.2,b=0.75");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_FLOAT_EQ(o->k1, 1.2f);
  EXPECT_FLOAT_EQ(o->b, 0.75f);
  EXPECT_EQ(o->to_config(), "bm25:k1=1.2,b=0.75");
  auto back = Bm25Options::parse(o->to_config());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->k1, o->k1);
  EXPECT_EQ(back->b, o->b);
  EXPECT_EQ(Bm25Options{}.to_config(), "bm25:k1=1.2,b=0.5");
  auto only_b = Bm25Options::parse("bm25:b=0.5");
  ASSERT_TRUE(only_b.ok());
  EXPECT_FLOAT_EQ(only_b->k1, Bm25Options{}.k1);
  EXPECT_TRUE(Bm25Options::parse("bm25").ok());
}

TEST(Bm25Options, RejectsBadInput) {
  for (const char* bad : {"bm26:k1=1", "bm25:k2=1", "bm25:k1=abc", "bm25:k1", "bm25:b=1.5",
                          "bm25:k1=-1", "bm25;k1=1", "bm25:k1=1x"}) {
    auto r = Bm25Options::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(Bm25Index, HandComputedScores) {
  TempDir tmp;
  auto opened = Bm25Index::open(tmp.path(), *Bm25Options::parse("bm25:k1=0.9,b=0.4"));
  ASSERT_TRUE(opened.ok());
  Bm25Index idx = std::move(opened).value();
  add_tiny(idx);
  ASSERT_TRUE(idx.commit(1).ok());
  // N = 3, avgdl = (3 + 2 + 4) / 3 = 3, k1 = 0.9, b = 0.4.
  // "a": df 1 -> idf = ln(1 + (3 - 1 + 0.5) / (1 + 0.5)) = ln(2.6667) = 0.980829
  //   id 1: tf 2, dl 3: norm = 0.9 * (0.6 + 0.4 * 3/3) = 0.9
  //         score = 0.980829 * 2 * 1.9 / (2 + 0.9) = 1.285225
  auto r = idx.search(q({"a"}), 10);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, 1u);
  EXPECT_NEAR(r[0].score, 1.285225, 1e-5);
  EXPECT_NEAR(idx.idf("a"), 0.980829, 1e-5);
  // "c": df 2 -> idf = ln(1 + 1.5 / 2.5) = ln(1.6) = 0.470004
  //   id 3: tf 3, dl 4: norm = 0.9 * (0.6 + 0.4 * 4/3) = 1.02; 0.470004 * 5.7 / 4.02 = 0.666423
  //   id 2: tf 1, dl 2: norm = 0.9 * (0.6 + 0.4 * 2/3) = 0.78; 0.470004 * 1.9 / 1.78 = 0.501689
  r = idx.search(q({"c"}), 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].id, 3u);
  EXPECT_NEAR(r[0].score, 0.666423, 1e-5);
  EXPECT_EQ(r[1].id, 2u);
  EXPECT_NEAR(r[1].score, 0.501689, 1e-5);
  // "a b": "b" has df 2 like "c" -> idf 0.470004.
  //   id 1: 1.285225 + 0.470004 * 1.9 / (1 + 0.9) = 1.285225 + 0.470004 = 1.755228
  //   id 2: "b" tf 1, dl 2 -> 0.501689
  r = idx.search(q({"a", "b", "zzz"}), 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].id, 1u);
  EXPECT_NEAR(r[0].score, 1.755228, 1e-5);
  EXPECT_EQ(r[1].id, 2u);
  EXPECT_NEAR(r[1].score, 0.501689, 1e-5);
  // Duplicated query terms sum their weights: "c c" == weight 2 on "c".
  auto dup = idx.search(q({"c", "c"}), 10);
  auto w2 = idx.search({{"c", 2.0f}}, 10);
  ASSERT_EQ(dup.size(), 2u);
  EXPECT_EQ(dup, w2);
  EXPECT_NEAR(dup[0].score, 2 * 0.666423, 2e-5);
  // Unknown terms and k = 0 give nothing.
  EXPECT_TRUE(idx.search(q({"nope"}), 10).empty());
  EXPECT_TRUE(idx.search(q({"a"}), 0).empty());
  EXPECT_EQ(idx.search(q({"a", "b", "c", "d"}), 10),
            idx.search_exhaustive(q({"a", "b", "c", "d"}), 10));
}

TEST(Bm25Index, OptionsChangeScores) {
  TempDir tmp;
  {
    auto idx = open_ok(tmp.path());
    add_tiny(idx);
    ASSERT_TRUE(idx.commit(1).ok());
  }
  // b = 0: no length normalisation. "c" id 2: 0.470004 * 1 * 2.2 / (1 + 1.2) = 0.470004
  auto idx = Bm25Index::open(tmp.path(), *Bm25Options::parse("bm25:k1=1.2,b=0"));
  ASSERT_TRUE(idx.ok());
  auto r = idx->search(q({"c"}), 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].id, 2u);
  EXPECT_NEAR(r[1].score, 0.470004, 1e-5);
  EXPECT_EQ(idx->options().k1, 1.2f);
}

TEST(Bm25Index, EmptyIndex) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "new" / "sub";
  auto idx = open_ok(dir);
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_TRUE(idx.search(q({"a"}), 10).empty());
  EXPECT_EQ(idx.applied_seq(), 0);
  EXPECT_EQ(idx.stats().live_chunks, 0u);
  EXPECT_EQ(idx.idf("a"), 0.0f);
  ASSERT_TRUE(idx.commit(5).ok());
  auto again = open_ok(dir);
  EXPECT_EQ(again.applied_seq(), 5);
}

TEST(Bm25Index, TiesBreakByAscendingId) {
  TempDir tmp;
  auto idx = open_ok(tmp.path());
  for (ChunkId id : {40u, 7u, 19u, 3u, 25u}) idx.add(id, {}, {"same", "text"});
  idx.add(100, {}, {"other"});
  ASSERT_TRUE(idx.commit(1).ok());
  auto r = idx.search(q({"same"}), 3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, 3u);
  EXPECT_EQ(r[1].id, 7u);
  EXPECT_EQ(r[2].id, 19u);
  EXPECT_EQ(r[0].score, r[2].score);
  EXPECT_EQ(r, idx.search_exhaustive(q({"same"}), 3));
}

TEST(Bm25Index, CommitReopenRoundTrip) {
  TempDir tmp;
  std::vector<ScoredChunk> before;
  IndexStats st_before;
  {
    auto idx = open_ok(tmp.path());
    add_tiny(idx);
    ASSERT_TRUE(idx.commit(7).ok());
    idx.add(10, {"t2", {"g"}}, {"a", "c", "e"});
    EXPECT_FALSE(idx.contains(10));  // buffered: not visible yet
    ASSERT_TRUE(idx.commit(8).ok());
    EXPECT_TRUE(idx.contains(10));
    before = idx.search(q({"a", "c", "e"}), 10);
    st_before = idx.stats();
  }
  auto idx = open_ok(tmp.path());
  EXPECT_EQ(idx.applied_seq(), 8);
  EXPECT_EQ(idx.search(q({"a", "c", "e"}), 10), before);
  EXPECT_EQ(before.size(), 4u);
  const IndexStats st = idx.stats();
  EXPECT_EQ(st.live_chunks, 4u);
  EXPECT_EQ(st.segments, 2u);
  EXPECT_EQ(st.terms, 4u + 3u);
  EXPECT_EQ(st.bytes_on_disk, st_before.bytes_on_disk);
  std::uint64_t on_disk = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) on_disk += fs::file_size(e.path());
  EXPECT_EQ(st.bytes_on_disk, on_disk);
  EXPECT_EQ(idx.live_ids(), (std::vector<ChunkId>{1, 2, 3, 10}));
  // The tenant of chunk 10 survives the reopen (class table in the MANIFEST).
  FilterSpec f;
  f.tenant = "t2";
  auto r = idx.search(q({"a"}), 10, f);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, 10u);
}

TEST(Bm25Index, DeletionsPersistAndBufferedRemove) {
  TempDir tmp;
  {
    auto idx = open_ok(tmp.path());
    add_tiny(idx);
    ASSERT_TRUE(idx.commit(1).ok());
    idx.remove(1);
    idx.remove(999);  // unknown: ignored
    idx.add(4, {}, {"a"});
    idx.remove(4);  // buffered: dropped before it is written
    EXPECT_FALSE(idx.contains(1));
    ASSERT_TRUE(idx.commit(2).ok());
    EXPECT_EQ(idx.stats().deleted_chunks, 1u);
    EXPECT_EQ(idx.stats().segments, 1u);  // nothing live was buffered: no new segment
  }
  auto idx = open_ok(tmp.path());
  EXPECT_FALSE(idx.contains(1));
  EXPECT_FALSE(idx.contains(4));
  EXPECT_TRUE(idx.contains(2));
  EXPECT_EQ(idx.live_ids(), (std::vector<ChunkId>{2, 3}));
  EXPECT_TRUE(idx.search(q({"a"}), 10).empty());
  EXPECT_TRUE(idx.search_exhaustive(q({"a"}), 10).empty());
  // Statistics still count the deleted chunk until a merge (N = 3, df(a) = 1).
  EXPECT_NEAR(idx.idf("a"), 0.980829, 1e-5);
  auto st = idx.stats();
  EXPECT_EQ(st.live_chunks, 2u);
  EXPECT_EQ(st.deleted_chunks, 1u);
  // A second round of deletions replaces the deletion file.
  idx.remove(3);
  ASSERT_TRUE(idx.commit(3).ok());
  auto again = open_ok(tmp.path());
  EXPECT_EQ(again.live_ids(), (std::vector<ChunkId>{2}));
  int del_files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) del_files += e.path().extension() == ".del";
  EXPECT_EQ(del_files, 1);
  // A removed id may be added again.
  again.add(1, {}, {"a", "z"});
  ASSERT_TRUE(again.commit(4).ok());
  EXPECT_TRUE(again.contains(1));
  ASSERT_EQ(again.search(q({"z"}), 10).size(), 1u);
}

TEST(Bm25Index, MergeWithoutDeletionsKeepsResultsIdentical) {
  TempDir tmp;
  auto idx = open_ok(tmp.path());
  std::mt19937 rng(5);
  testing_index::Zipf zipf(300, 1.0);
  ChunkId id = 1;
  for (int seg = 0; seg < 5; ++seg) {
    for (int i = 0; i < 200; ++i) {
      std::vector<std::string> terms;
      for (int t = 0; t < 30; ++t) terms.push_back(testing_index::word(zipf(rng)));
      idx.add(id, {}, terms);
      id += 3;
    }
    ASSERT_TRUE(idx.commit(seg + 1).ok());
  }
  ASSERT_EQ(idx.stats().segments, 5u);
  std::vector<std::vector<QueryTerm>> queries;
  for (int i = 0; i < 30; ++i) {
    std::vector<QueryTerm> qq;
    for (int t = 0; t < 4; ++t) qq.push_back({testing_index::word(zipf(rng)), 1.0f});
    queries.push_back(qq);
  }
  std::vector<std::vector<ScoredChunk>> before;
  for (const auto& qq : queries) before.push_back(idx.search(qq, 10));
  ASSERT_TRUE(idx.merge(3).ok());  // tiered: 5 -> 3
  EXPECT_EQ(idx.stats().segments, 3u);
  for (std::size_t i = 0; i < queries.size(); ++i) EXPECT_EQ(idx.search(queries[i], 10), before[i]);
  ASSERT_TRUE(idx.merge(1).ok());
  EXPECT_EQ(idx.stats().segments, 1u);
  auto reopened = open_ok(tmp.path());
  EXPECT_EQ(reopened.stats().segments, 1u);
  EXPECT_EQ(reopened.applied_seq(), 5);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    EXPECT_EQ(reopened.search(queries[i], 10), before[i]);
  }
  int seg_files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) seg_files += e.path().extension() == ".seg";
  EXPECT_EQ(seg_files, 1);
  ASSERT_TRUE(reopened.merge(1).ok());  // nothing to do
}

TEST(Bm25Index, MergeDropsDeleted) {
  TempDir tmp;
  auto idx = open_ok(tmp.path());
  for (ChunkId id = 1; id <= 30; ++id) {
    idx.add(id, {}, {"x", testing_index::tag("y", id % 3)});
    if (id % 10 == 0) {
      ASSERT_TRUE(idx.commit(id).ok());
    }
  }
  for (ChunkId id = 2; id <= 30; id += 2) idx.remove(id);
  ASSERT_TRUE(idx.commit(31).ok());
  const auto live = idx.live_ids();
  ASSERT_EQ(live.size(), 15u);
  ASSERT_TRUE(idx.merge(1).ok());
  auto st = idx.stats();
  EXPECT_EQ(st.segments, 1u);
  EXPECT_EQ(st.deleted_chunks, 0u);
  EXPECT_EQ(st.live_chunks, 15u);
  EXPECT_EQ(idx.live_ids(), live);
  // N is now 15: idf of "x" (df 15) = ln(1 + 0.5 / 15.5).
  EXPECT_NEAR(idx.idf("x"), std::log(1 + 0.5 / 15.5), 1e-6);
  auto r = idx.search(q({"x", "y1"}), 100);
  EXPECT_EQ(r.size(), 15u);
  EXPECT_EQ(r, idx.search_exhaustive(q({"x", "y1"}), 100));
  for (const auto& c : r) EXPECT_EQ(c.id % 2, 1u);
  // Deleting everything and force-merging leaves an empty index.
  for (ChunkId id : live) idx.remove(id);
  ASSERT_TRUE(idx.commit(32).ok());
  ASSERT_TRUE(idx.merge(1).ok());
  EXPECT_EQ(idx.stats().segments, 0u);
  EXPECT_TRUE(idx.search(q({"x"}), 10).empty());
  auto reopened = open_ok(tmp.path());
  EXPECT_EQ(reopened.stats().live_chunks, 0u);
  EXPECT_EQ(reopened.applied_seq(), 32);
}

TEST(Bm25Index, SnapshotKeepsItsStateWhileTheIndexChanges) {
  TempDir tmp;
  auto idx = open_ok(tmp.path());
  for (ChunkId id = 1; id <= 20; ++id) idx.add(id, {}, {"x", testing_index::tag("y", id % 4)});
  ASSERT_TRUE(idx.commit(20).ok());
  idx.remove(3);
  ASSERT_TRUE(idx.commit(21).ok());
  const Bm25Index snap = idx.snapshot();
  const auto before = idx.search(q({"x", "y1"}), 50);
  EXPECT_EQ(snap.search(q({"x", "y1"}), 50), before);
  EXPECT_EQ(snap.live_ids(), idx.live_ids());
  EXPECT_EQ(snap.applied_seq(), 21);

  // The index deletes, adds, commits and merges every segment away (unlinking its files): the
  // snapshot still answers from the segments it shares, as it did.
  for (ChunkId id = 1; id <= 20; id += 2) idx.remove(id);
  for (ChunkId id = 21; id <= 40; ++id) idx.add(id, {}, {"x", "y1"});
  ASSERT_TRUE(idx.commit(22).ok());
  ASSERT_TRUE(idx.merge(1).ok());
  EXPECT_NE(idx.search(q({"x", "y1"}), 50), before);
  EXPECT_EQ(snap.search(q({"x", "y1"}), 50), before);
  EXPECT_EQ(snap.search_exhaustive(q({"x", "y1"}), 50), before);
  EXPECT_EQ(snap.applied_seq(), 21);
  EXPECT_FALSE(snap.contains(21));
  EXPECT_TRUE(idx.contains(21));
}

TEST(Bm25Index, ReopenSeesAnotherObjectsCommitsAndMerges) {
  TempDir tmp;
  auto writer = open_ok(tmp.path());
  for (ChunkId id = 1; id <= 10; ++id) writer.add(id, {}, {"x", testing_index::tag("y", id % 2)});
  ASSERT_TRUE(writer.commit(10).ok());
  auto reader = open_ok(tmp.path());
  ASSERT_EQ(reader.live_ids().size(), 10u);

  writer.remove(2);
  for (ChunkId id = 11; id <= 15; ++id) writer.add(id, {}, {"x"});
  ASSERT_TRUE(writer.commit(15).ok());
  auto again = Bm25Index::reopen(reader);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->live_ids(), writer.live_ids());
  EXPECT_EQ(again->applied_seq(), 15);
  EXPECT_EQ(again->search(q({"x", "y1"}), 20), writer.search(q({"x", "y1"}), 20));
  EXPECT_EQ(reader.live_ids().size(), 10u);  // the previous object is left as it was

  ASSERT_TRUE(writer.merge(1).ok());
  auto merged = Bm25Index::reopen(*again);
  ASSERT_TRUE(merged.ok()) << merged.error().to_string();
  EXPECT_EQ(merged->stats().segments, 1u);
  EXPECT_EQ(merged->search(q({"x", "y1"}), 20), writer.search(q({"x", "y1"}), 20));
}

TEST(Bm25Index, ReopenAfterTheDirectoryWasRebuiltMapsTheNewFiles) {
  // A rebuilt index starts its file generations at 1 again: the same generation names other
  // content, which reopen() must not take from the old mapping.
  TempDir tmp;
  auto first = open_ok(tmp.path());
  for (ChunkId id = 1; id <= 5; ++id) first.add(id, {}, {"old"});
  ASSERT_TRUE(first.commit(5).ok());
  fs::remove_all(tmp.path());
  auto rebuilt = open_ok(tmp.path());
  for (ChunkId id = 1; id <= 5; ++id) rebuilt.add(id, {}, {"new"});
  ASSERT_TRUE(rebuilt.commit(7).ok());
  auto again = Bm25Index::reopen(first);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->search(q({"new"}), 10).size(), 5u);
  EXPECT_TRUE(again->search(q({"old"}), 10).empty());
}

// ---- corruption -------------------------------------------------------------------------------

fs::path make_index(const fs::path& dir) {
  auto idx = open_ok(dir);
  add_tiny(idx);
  EXPECT_TRUE(idx.commit(1).ok());
  idx.add(5, {}, {"a", "e"});
  idx.remove(2);
  EXPECT_TRUE(idx.commit(2).ok());
  return dir;
}

std::vector<fs::path> files_with_ext(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ext) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void flip_byte(const fs::path& p, std::size_t at) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

void expect_corrupt(const fs::path& dir, const std::string& name_part) {
  auto r = Bm25Index::open(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << r.error().to_string();
  EXPECT_NE(r.error().message.find(name_part), std::string::npos) << r.error().message;
}

TEST(Bm25IndexCorruption, TruncatedSegment) {
  TempDir tmp;
  make_index(tmp.path());
  auto segs = files_with_ext(tmp.path(), ".seg");
  ASSERT_EQ(segs.size(), 2u);
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, fs::file_size(segs[0]) - 1}) {
    TempDir copy;
    fs::copy(tmp.path(), copy.path(), fs::copy_options::recursive);
    const fs::path p = copy.path() / segs[0].filename();
    fs::resize_file(p, keep);
    expect_corrupt(copy.path(), segs[0].filename().string());
  }
}

TEST(Bm25IndexCorruption, FlippedBytesAnywhere) {
  TempDir tmp;
  make_index(tmp.path());
  std::vector<fs::path> all;
  for (const auto& e : fs::directory_iterator(tmp.path())) all.push_back(e.path().filename());
  for (const auto& name : all) {
    const auto size = fs::file_size(tmp.path() / name);
    for (std::size_t at : {std::size_t{0}, std::size_t{9}, size / 2, size - 1}) {
      TempDir copy;
      fs::copy(tmp.path(), copy.path(), fs::copy_options::recursive);
      flip_byte(copy.path() / name, at);
      expect_corrupt(copy.path(), name.string());
    }
  }
}

TEST(Bm25IndexCorruption, MissingReferencedFile) {
  TempDir tmp;
  make_index(tmp.path());
  for (const std::string ext : {".seg", ".del"}) {
    TempDir copy;
    fs::copy(tmp.path(), copy.path(), fs::copy_options::recursive);
    const auto files = files_with_ext(copy.path(), ext);
    ASSERT_FALSE(files.empty());
    fs::remove(files[0]);
    expect_corrupt(copy.path(), files[0].filename().string());
  }
}

TEST(Bm25IndexCorruption, StrayFilesAreRemovedAtOpen) {
  TempDir tmp;
  make_index(tmp.path());
  { std::ofstream(tmp.path() / "seg_999999.seg") << "junk"; }
  { std::ofstream(tmp.path() / "seg_000001_999999.del") << "junk"; }
  { std::ofstream(tmp.path() / "MANIFEST.tmp") << "junk"; }
  { std::ofstream(tmp.path() / "notes.txt") << "user file"; }
  auto idx = open_ok(tmp.path());
  EXPECT_FALSE(fs::exists(tmp.path() / "seg_999999.seg"));
  EXPECT_FALSE(fs::exists(tmp.path() / "seg_000001_999999.del"));
  EXPECT_FALSE(fs::exists(tmp.path() / "MANIFEST.tmp"));
  EXPECT_TRUE(fs::exists(tmp.path() / "notes.txt"));
  EXPECT_EQ(idx.live_ids(), (std::vector<ChunkId>{1, 3, 5}));
}

// ---- fault injection ------------------------------------------------------------------------

TEST(Bm25IndexFaults, FailedCommitLeavesPreviousStateReadable) {
  TempDir tmp;
  make_index(tmp.path());
  const auto query = q({"a", "c", "e", "f"});
  std::vector<ScoredChunk> old_results;
  {
    auto idx = open_ok(tmp.path());
    old_results = idx.search(query, 10);
  }
  ASSERT_FALSE(old_results.empty());
  // The commit below writes: a segment, a deletion file, the MANIFEST.
  for (int fail_at = 1; fail_at <= 3; ++fail_at) {
    FaultEnv fenv(fail_at);
    auto idx = open_ok(tmp.path(), fenv);
    idx.add(20, {}, {"f", "a"});
    idx.remove(3);
    auto st = idx.commit(3);
    ASSERT_FALSE(st.ok()) << "fail_at " << fail_at;
    EXPECT_EQ(st.error().code, ErrorCode::kIo);
    EXPECT_EQ(idx.applied_seq(), 2);
    auto reopened = open_ok(tmp.path());
    EXPECT_EQ(reopened.applied_seq(), 2) << "fail_at " << fail_at;
    EXPECT_EQ(reopened.search(query, 10), old_results);
    EXPECT_EQ(reopened.live_ids(), (std::vector<ChunkId>{1, 3, 5}));
  }
  // With no fault the same commit succeeds.
  FaultEnv fenv(0);
  auto idx = open_ok(tmp.path(), fenv);
  idx.add(20, {}, {"f", "a"});
  idx.remove(3);
  ASSERT_TRUE(idx.commit(3).ok());
  EXPECT_EQ(fenv.writes(), 3);
  auto reopened = open_ok(tmp.path());
  EXPECT_EQ(reopened.applied_seq(), 3);
  EXPECT_EQ(reopened.live_ids(), (std::vector<ChunkId>{1, 5, 20}));
}

TEST(Bm25IndexFaults, FailedManifestWriteLeavesNoSegmentBehind) {
  TempDir tmp;
  FaultEnv fenv(2);  // the segment write succeeds, the MANIFEST write fails
  auto idx = open_ok(tmp.path(), fenv);
  add_tiny(idx);
  auto st = idx.commit(1);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kIo);
  EXPECT_EQ(fenv.writes(), 2);
  EXPECT_TRUE(idx.search(q({"a"}), 10).empty());
  EXPECT_TRUE(files_with_ext(tmp.path(), ".seg").empty());
  EXPECT_FALSE(fs::exists(tmp.path() / "MANIFEST"));
  auto idx2 = open_ok(tmp.path());
  EXPECT_EQ(idx2.stats().live_chunks, 0u);
}

TEST(Bm25IndexFaults, FailedMergeLeavesPreviousStateReadable) {
  TempDir tmp;
  make_index(tmp.path());
  std::vector<ScoredChunk> old_results;
  {
    auto idx = open_ok(tmp.path());
    old_results = idx.search(q({"a", "c"}), 10);
  }
  for (int fail_at = 1; fail_at <= 2; ++fail_at) {
    FaultEnv fenv(fail_at);
    auto idx = open_ok(tmp.path(), fenv);
    ASSERT_FALSE(idx.merge(1).ok());
    EXPECT_EQ(idx.stats().segments, 2u);
    EXPECT_EQ(idx.search(q({"a", "c"}), 10), old_results);
    auto reopened = open_ok(tmp.path());
    EXPECT_EQ(reopened.stats().segments, 2u);
    EXPECT_EQ(reopened.search(q({"a", "c"}), 10), old_results);
  }
}

}  // namespace
}  // namespace ragft
