// Property tests over a random Zipfian corpus: BlockMax-WAND == exhaustive search, filters are
// never violated, and the exhaustive oracle matches an independent double-precision BM25.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "index/lexical/bm25_index.h"
#include "index/lexical/search_tuning.h"
#include "index_test_util.h"

namespace ragft {
namespace {

using testing_index::Doc;
using testing_index::TempDir;
using testing_index::word;
using testing_index::Zipf;

constexpr int kVocab = 4000;

// What the test knows about the index contents, independently of it.
struct Model {
  std::map<ChunkId, Doc> in_segments;  // committed, including deleted (they count in stats)
  std::set<ChunkId> live;
};

bool admits(const ChunkAttrs& a, const FilterSpec& f, ChunkId id) {
  if (f.tenant && a.tenant != *f.tenant) return false;
  if (f.groups && !a.acl.empty()) {
    bool hit = false;
    for (const auto& g : a.acl) hit |= std::find(f.groups->begin(), f.groups->end(), g) != f.groups->end();
    if (!hit) return false;
  }
  if (f.allowlist && std::find(f.allowlist->begin(), f.allowlist->end(), id) == f.allowlist->end()) {
    return false;
  }
  return true;
}

ChunkAttrs random_attrs(std::mt19937& rng) {
  ChunkAttrs a;
  a.tenant = testing_index::tag("t", rng() % 3);
  if (rng() % 10 >= 3) {
    const int n = 1 + static_cast<int>(rng() % 2);
    for (int i = 0; i < n; ++i) a.acl.push_back(testing_index::tag("g", rng() % 6));
  }
  return a;
}

// Builds ~3000 chunks over 6 commits (interleaved id ranges), with deletions of committed and
// buffered chunks and a block of identical chunks (score ties).
Model build_corpus(Bm25Index& idx, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Zipf zipf(kVocab, 1.05);
  Model m;
  std::vector<ChunkId> ids;
  for (ChunkId id = 1; ids.size() < 3000; id += 1 + rng() % 3) ids.push_back(id);
  std::shuffle(ids.begin(), ids.end(), rng);
  std::vector<Doc> pending;
  Seq seq = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    Doc d;
    d.id = ids[i];
    d.attrs = random_attrs(rng);
    if (i % 97 < 40 && i < 200) {
      d.terms = {"tie", "w1", "w2", "w30"};  // identical chunks
    } else {
      const int len = 5 + static_cast<int>(rng() % 150);
      for (int t = 0; t < len; ++t) d.terms.push_back(word(zipf(rng)));
      // Occasionally a long run of one term (large tf values, wide bit widths).
      if (rng() % 50 == 0) d.terms.insert(d.terms.end(), 300 + rng() % 700, word(rng() % 20));
    }
    idx.add(d.id, d.attrs, d.terms);
    pending.push_back(d);
    if (rng() % 40 == 0) {  // remove a buffered chunk
      idx.remove(pending.back().id);
      pending.pop_back();
    }
    if ((i + 1) % 500 == 0 || i + 1 == ids.size()) {
      // Delete ~8% of what is committed so far.
      std::vector<ChunkId> live(m.live.begin(), m.live.end());
      for (ChunkId id : live) {
        if (rng() % 100 < 8) {
          idx.remove(id);
          m.live.erase(id);
        }
      }
      EXPECT_TRUE(idx.commit(++seq).ok());
      for (auto& p : pending) {
        m.live.insert(p.id);
        m.in_segments[p.id] = std::move(p);
      }
      pending.clear();
    }
  }
  return m;
}

std::vector<QueryTerm> random_query(std::mt19937& rng, const Zipf& zipf) {
  std::vector<QueryTerm> q;
  const int n = 1 + static_cast<int>(rng() % 15);
  for (int i = 0; i < n; ++i) {
    std::string t;
    switch (rng() % 8) {
      case 0: t = word(rng() % kVocab); break;  // uniform: mostly rare terms
      case 1: t = testing_index::tag("unknown", rng() % 5); break;
      case 2: t = "tie"; break;
      default: t = word(zipf(rng));
    }
    const float w = (rng() % 4 == 0) ? 2.0f : (rng() % 7 == 0 ? 0.5f : 1.0f);
    q.push_back({t, w});
  }
  return q;
}

FilterSpec random_filter(std::mt19937& rng, const Model& m, int kind) {
  FilterSpec f;
  switch (kind) {
    case 0: break;
    case 1: f.tenant = testing_index::tag("t", rng() % 3); break;
    case 2:
      f.tenant = testing_index::tag("t", rng() % 3);
      f.groups = std::vector<std::string>{};
      for (int i = 0; i < static_cast<int>(rng() % 3); ++i) f.groups->push_back(testing_index::tag("g", rng() % 6));
      break;
    case 3: {
      f.allowlist = std::vector<ChunkId>{};
      for (const auto& [id, d] : m.in_segments) {
        if (rng() % 100 < 30) f.allowlist->push_back(id);
      }
      f.allowlist->push_back(999999);  // unknown ids are harmless
      std::shuffle(f.allowlist->begin(), f.allowlist->end(), rng);
      break;
    }
    default:
      f.groups = std::vector<std::string>{testing_index::tag("g", rng() % 6)};
      f.allowlist = std::vector<ChunkId>{};
      for (const auto& [id, d] : m.in_segments) {
        if (rng() % 100 < 60) f.allowlist->push_back(id);
      }
  }
  return f;
}

// Runs >= 200 random queries for each k and filter kind; returns the number checked.
int check_pruned_equals_exhaustive(const Bm25Index& idx, const Model& m, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Zipf zipf(kVocab, 1.05);
  int checked = 0, mismatches = 0;
  for (int i = 0; i < 220 && mismatches < 3; ++i) {
    const auto query = random_query(rng, zipf);
    const FilterSpec f = random_filter(rng, m, i % 5);
    for (std::size_t k : {1, 10, 100}) {
      const auto pruned = idx.search(query, k, f);
      const auto exact = idx.search_exhaustive(query, k, f);
      if (pruned != exact) {
        ++mismatches;
        ADD_FAILURE() << "query " << i << " k " << k << " filter kind " << i % 5 << ": pruned "
                      << pruned.size() << " results, exhaustive " << exact.size();
      }
      ++checked;
    }
  }
  return checked;
}

// Parameters: corpus seed, and the search strategy forced on every segment (the corpus
// segments are small enough that the default would score them term-at-a-time).
class Bm25PruningTest
    : public ::testing::TestWithParam<std::tuple<std::uint32_t, lexical::PrunedAlgorithm>> {
 protected:
  void SetUp() override {
    lexical::SearchTuning t;
    t.exhaustive_max_docs = 0;
    t.algorithm = std::get<1>(GetParam());
    lexical::set_search_tuning(t);
  }
  void TearDown() override { lexical::set_search_tuning({}); }
  static std::uint32_t seed() { return std::get<0>(GetParam()); }
};

TEST_P(Bm25PruningTest, PrunedEqualsExhaustive) {
  TempDir tmp;
  auto idx = std::move(Bm25Index::open(tmp.path()).value());
  const Model m = build_corpus(idx, seed());
  ASSERT_GE(idx.stats().segments, 6u);
  ASSERT_GT(idx.stats().deleted_chunks, 0u);
  EXPECT_EQ(check_pruned_equals_exhaustive(idx, m, seed() + 1), 660);
}

TEST_P(Bm25PruningTest, PrunedEqualsExhaustiveAfterMergeAndReopen) {
  TempDir tmp;
  Model m;
  {
    auto idx = std::move(Bm25Index::open(tmp.path()).value());
    m = build_corpus(idx, seed());
    ASSERT_TRUE(idx.merge(3).ok());
    EXPECT_EQ(idx.stats().segments, 3u);
    check_pruned_equals_exhaustive(idx, m, seed() + 2);
    const auto before = idx.search({{"w1", 1}, {"w7", 1}, {"w100", 2}}, 50);
    auto reopened = std::move(Bm25Index::open(tmp.path()).value());
    EXPECT_EQ(reopened.search({{"w1", 1}, {"w7", 1}, {"w100", 2}}, 50), before);
    ASSERT_TRUE(idx.merge(1).ok());
    EXPECT_EQ(idx.stats().deleted_chunks, 0u);
    EXPECT_EQ(idx.live_ids(), std::vector<ChunkId>(m.live.begin(), m.live.end()));
  }
  auto idx = std::move(Bm25Index::open(tmp.path()).value());
  EXPECT_EQ(idx.stats().segments, 1u);
  EXPECT_EQ(idx.stats().live_chunks, m.live.size());
  check_pruned_equals_exhaustive(idx, m, seed() + 3);
}

// Exhaustive-then-filter (in the test, with its own ACL model) equals filtered retrieval, and
// nothing returned violates the principal's tenant or groups.
TEST_P(Bm25PruningTest, FiltersNeverLeakAndMatchPostFiltering) {
  TempDir tmp;
  auto idx = std::move(Bm25Index::open(tmp.path()).value());
  const Model m = build_corpus(idx, seed());
  std::mt19937 rng(seed() + 7);
  Zipf zipf(kVocab, 1.05);
  for (int i = 0; i < 200; ++i) {
    const auto query = random_query(rng, zipf);
    const FilterSpec f = random_filter(rng, m, 1 + i % 4);
    const std::size_t k = (i % 3 == 0) ? 1 : (i % 3 == 1 ? 10 : 100);
    const auto got = idx.search(query, k, f);
    for (const auto& c : got) {
      ASSERT_TRUE(m.live.count(c.id)) << "deleted chunk " << c.id << " returned";
      ASSERT_TRUE(admits(m.in_segments.at(c.id).attrs, f, c.id)) << "filter leaked chunk " << c.id;
    }
    auto all = idx.search_exhaustive(query, m.in_segments.size());
    std::vector<ScoredChunk> expect;
    for (const auto& c : all) {
      if (expect.size() < k && admits(m.in_segments.at(c.id).attrs, f, c.id)) expect.push_back(c);
    }
    ASSERT_EQ(got, expect) << "query " << i;
  }
}

// The oracle against an independent double-precision BM25 over the test's own model.
TEST_P(Bm25PruningTest, ExhaustiveMatchesIndependentBm25) {
  TempDir tmp;
  auto idx = std::move(Bm25Index::open(tmp.path()).value());
  const Model m = build_corpus(idx, seed());
  double total_len = 0;
  std::map<std::string, double> df;
  std::map<ChunkId, std::map<std::string, int>> tf;
  for (const auto& [id, d] : m.in_segments) {
    total_len += static_cast<double>(d.terms.size());
    for (const auto& t : d.terms) {
      if (tf[id][t]++ == 0) df[t] += 1;
    }
  }
  const double n = static_cast<double>(m.in_segments.size());
  const double avgdl = total_len / n, k1 = Bm25Options{}.k1, b = Bm25Options{}.b;
  std::mt19937 rng(seed() + 11);
  Zipf zipf(kVocab, 1.05);
  for (int i = 0; i < 50; ++i) {
    const auto query = random_query(rng, zipf);
    std::map<std::string, double> qw;
    for (const auto& qt : query) qw[qt.term] += qt.weight;
    std::vector<std::pair<double, ChunkId>> expect;
    for (ChunkId id : m.live) {
      double s = 0;
      const double dl = static_cast<double>(m.in_segments.at(id).terms.size());
      for (const auto& [t, w] : qw) {
        auto it = tf[id].find(t);
        if (it == tf[id].end()) continue;
        const double idf = std::log(1 + (n - df[t] + 0.5) / (df[t] + 0.5));
        s += w * idf * it->second * (k1 + 1) / (it->second + k1 * (1 - b + b * dl / avgdl));
      }
      if (s > 0) expect.emplace_back(-s, id);
    }
    std::sort(expect.begin(), expect.end());
    const auto got = idx.search_exhaustive(query, 10);
    ASSERT_EQ(got.size(), std::min<std::size_t>(10, expect.size()));
    for (std::size_t r = 0; r < got.size(); ++r) {
      EXPECT_NEAR(got[r].score, -expect[r].first, 1e-4 * -expect[r].first) << "query " << i << " rank " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    SeedsAndAlgorithms, Bm25PruningTest,
    ::testing::Combine(::testing::Values(1u, 42u),
                       ::testing::Values(lexical::PrunedAlgorithm::kMaxScore,
                                         lexical::PrunedAlgorithm::kBlockMaxWand)));

// The default tuning (term-at-a-time for small segments) returns the same as the oracle too.
TEST(Bm25DefaultTuning, SearchEqualsExhaustive) {
  TempDir tmp;
  auto idx = std::move(Bm25Index::open(tmp.path()).value());
  const Model m = build_corpus(idx, 3);
  EXPECT_EQ(check_pruned_equals_exhaustive(idx, m, 4), 660);
}

}  // namespace
}  // namespace ragft
