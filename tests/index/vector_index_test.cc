// Unit tests of VectorIndex: config strings, hand-computed flat search, HNSW recall against flat,
// filtering inside the search, removal and persistence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <unordered_set>

#include "index/vector/vector_index.h"
#include "index_test_util.h"

namespace ragft {
namespace {

using testing_index::TempDir;

VectorIndex make(const std::string& config) {
  auto o = VectorIndexOptions::parse(config);
  EXPECT_TRUE(o.ok()) << o.error().to_string();
  auto r = VectorIndex::create(*o);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return std::move(r).value();
}

std::vector<float> random_vectors(std::size_t n, int dim, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(n * static_cast<std::size_t>(dim));
  for (float& x : v) x = normal(rng);
  return v;
}

std::vector<ChunkId> ids_from(ChunkId first, std::size_t n) {
  std::vector<ChunkId> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = first + static_cast<ChunkId>(i) * 3;  // not dense
  return ids;
}

std::vector<ChunkId> ids_of(const std::vector<ScoredChunk>& hits) {
  std::vector<ChunkId> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

TEST(VectorIndexOptions, ConfigRoundTrip) {
  VectorIndexOptions flat;
  flat.dim = 384;
  EXPECT_EQ(flat.to_config(), "flat:dim=384,metric=cosine");
  VectorIndexOptions hnsw;
  hnsw.kind = "hnsw";
  hnsw.dim = 384;
  EXPECT_EQ(hnsw.to_config(), "hnsw:dim=384,metric=cosine,m=32,efc=80,efs=128");
  for (const char* c : {"flat:dim=384,metric=cosine", "flat:dim=3,metric=l2",
                        "hnsw:dim=64,metric=ip,m=16,efc=40,efs=128", "ivf:dim=8,metric=l2,nlist=4,nprobe=2",
                        "hnsw:dim=384,metric=cosine,m=32,efc=80,efs=64"}) {
    auto o = VectorIndexOptions::parse(c);
    ASSERT_TRUE(o.ok()) << c << ": " << o.error().to_string();
    EXPECT_EQ(o->to_config(), c);
  }
  auto partial = VectorIndexOptions::parse("hnsw:dim=8,m=12");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->hnsw_m, 12);
  EXPECT_EQ(partial->ef_search, 128);
  EXPECT_EQ(partial->metric, "cosine");
}

TEST(VectorIndexOptions, ParseErrors) {
  for (const char* c : {"", "pq:dim=8", "ivf:dim=8,nlist=0", "ivf:dim=8,m=16", "flat:dim=8,nprobe=2", "flat", "flat:metric=ip", "flat:dim=0", "flat:dim=-3",
                        "flat:dim=x", "flat:dim=8,metric=dot", "flat:dim=8,m=16",
                        "hnsw:dim=8,m=1", "hnsw:dim=8,efs=", "hnsw:dim=8,bogus=1",
                        "hnsw:dim=8,m", "flat:dim=8x"}) {
    auto o = VectorIndexOptions::parse(c);
    ASSERT_FALSE(o.ok()) << c;
    EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument) << c;
  }
  VectorIndexOptions bad;
  bad.dim = 0;
  auto r = VectorIndex::create(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(VectorIndex, FlatHandComputed) {
  // Inner product against q = (1, 0, 0):  id 10 -> 0.9, id 20 -> -1, id 30 -> 0.5, id 40 -> 2.
  auto index = make("flat:dim=3,metric=ip");
  const std::vector<float> v = {0.9f, 1, 0,  -1, 0, 0,  0.5f, 0.5f, 0.5f,  2, 0, 1};
  ASSERT_TRUE(index.add({10, 20, 30, 40}, v.data()).ok());
  EXPECT_EQ(index.size(), 4u);
  const float q[3] = {1, 0, 0};
  auto hits = index.search(q, 3);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0], (ScoredChunk{40, 2.0f}));
  EXPECT_EQ(hits[1].id, 10u);
  EXPECT_FLOAT_EQ(hits[1].score, 0.9f);
  EXPECT_EQ(hits[2], (ScoredChunk{30, 0.5f}));
  EXPECT_EQ(index.search(q, 10).size(), 4u);
  EXPECT_TRUE(index.search(q, 0).empty());

  // Cosine: q = (1, 1, 0) normalised; id 10 (0.9,1,0) is nearly parallel, id 40 (2,0,1) is not.
  auto cos = make("flat:dim=3,metric=cosine");
  ASSERT_TRUE(cos.add({10, 20, 30, 40}, v.data()).ok());
  const float q2[3] = {3, 3, 0};
  hits = cos.search(q2, 4);
  ASSERT_EQ(ids_of(hits), (std::vector<ChunkId>{10, 30, 40, 20}));
  EXPECT_NEAR(hits[0].score, (0.9 + 1) / std::sqrt(2.0) / std::sqrt(0.81 + 1), 1e-5);
  EXPECT_NEAR(hits[1].score, (0.5 + 0.5) / std::sqrt(2.0) / std::sqrt(0.75), 1e-5);
  EXPECT_NEAR(hits[2].score, 2 / std::sqrt(2.0) / std::sqrt(5.0), 1e-5);
  EXPECT_NEAR(hits[3].score, -1 / std::sqrt(2.0), 1e-5);

  // L2: score is minus the squared distance; nearest to (0.5,0.5,0.5) is id 30 itself.
  auto l2 = make("flat:dim=3,metric=l2");
  ASSERT_TRUE(l2.add({10, 20, 30, 40}, v.data()).ok());
  const float q3[3] = {0.5f, 0.5f, 0.5f};
  hits = l2.search(q3, 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 30u);
  EXPECT_NEAR(hits[0].score, 0.0, 1e-6);
  EXPECT_EQ(hits[1].id, 10u);  // 0.16 + 0.25 + 0.25 = 0.66 (id 40: 2.25 + 0.25 + 0.25)
  EXPECT_NEAR(hits[1].score, -0.66, 1e-5);
}

TEST(VectorIndex, TiesByAscendingId) {
  auto index = make("flat:dim=2,metric=ip");
  const std::vector<float> v = {1, 0, 1, 0, 1, 0};
  ASSERT_TRUE(index.add({7, 3, 5}, v.data()).ok());
  const float q[2] = {1, 0};
  EXPECT_EQ(ids_of(index.search(q, 3)), (std::vector<ChunkId>{3, 5, 7}));
}

TEST(VectorIndex, AddErrors) {
  auto index = make("flat:dim=2,metric=ip");
  const std::vector<float> v = {1, 0, 0, 1};
  ASSERT_TRUE(index.add({1, 2}, v.data()).ok());
  auto dup = index.add({3, 1}, v.data());
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kInvalidArgument);
  auto dup_in_batch = index.add({4, 4}, v.data());
  ASSERT_FALSE(dup_in_batch.ok());
  EXPECT_EQ(dup_in_batch.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(index.size(), 2u);  // nothing added by the failed calls
  auto null_vectors = index.add({5}, nullptr);
  EXPECT_EQ(null_vectors.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(index.add({}, nullptr).ok());
}

// Fraction of the exact top-k that the approximate top-k found, averaged over queries.
double recall(const std::vector<std::vector<ChunkId>>& exact,
              const std::vector<std::vector<ChunkId>>& approx) {
  double sum = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    std::unordered_set<ChunkId> truth(exact[i].begin(), exact[i].end());
    std::size_t found = 0;
    for (ChunkId id : approx[i]) found += truth.count(id);
    sum += exact[i].empty() ? 1.0 : static_cast<double>(found) / exact[i].size();
  }
  return sum / exact.size();
}

TEST(VectorIndex, IvfRecallAgainstFlatAndTraining) {
  constexpr int kDim = 32;
  constexpr std::size_t kN = 5000;
  const auto data = random_vectors(kN, kDim, 8);
  const auto ids = ids_from(1, kN);
  auto flat = make("flat:dim=32,metric=ip");
  ASSERT_TRUE(flat.add(ids, data.data()).ok());
  // The first add trains the lists and needs at least nlist vectors.
  auto small = make("ivf:dim=32,metric=ip,nlist=64,nprobe=64");
  auto few = small.add({1, 2, 3}, data.data());
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.error().message.find("nlist"), std::string::npos) << few.error().message;
  EXPECT_EQ(small.size(), 0u);
  // nprobe = nlist visits every list: exact.
  ASSERT_TRUE(small.add(ids, data.data()).ok());
  auto partial = make("ivf:dim=32,metric=ip,nlist=64,nprobe=16");
  ASSERT_TRUE(partial.add(ids, data.data()).ok());
  double recall_sum = 0;
  for (int q = 0; q < 50; ++q) {
    const auto query = random_vectors(1, kDim, 300 + q);
    const auto exact = flat.search(query.data(), 10);
    EXPECT_EQ(ids_of(small.search(query.data(), 10)), ids_of(exact)) << q;
    recall_sum += recall({ids_of(exact)}, {ids_of(partial.search(query.data(), 10))});
  }
  EXPECT_GE(recall_sum / 50, 0.5);  // a quarter of the lists on uniform random data
  // Added after training, the new vectors are found.
  const std::vector<float> v(kDim, 1.0f);
  ASSERT_TRUE(small.add({999999}, v.data()).ok());
  EXPECT_EQ(small.search(v.data(), 1)[0].id, 999999u);
}

TEST(VectorIndex, HnswRecallAgainstFlat) {
  constexpr int kDim = 64;
  constexpr std::size_t kN = 5000, kQueries = 100, kK = 10;
  const auto data = random_vectors(kN, kDim, 42);
  const auto queries = random_vectors(kQueries, kDim, 7);
  const auto ids = ids_from(1, kN);
  auto flat = make("flat:dim=64,metric=cosine");
  auto hnsw = make("hnsw:dim=64,metric=cosine,m=32,efc=80,efs=128");
  ASSERT_TRUE(flat.add(ids, data.data()).ok());
  ASSERT_TRUE(hnsw.add(ids, data.data()).ok());
  std::vector<std::vector<ChunkId>> exact, approx;
  for (std::size_t q = 0; q < kQueries; ++q) {
    const float* qv = queries.data() + q * kDim;
    exact.push_back(ids_of(flat.search(qv, kK)));
    approx.push_back(ids_of(hnsw.search(qv, kK)));
    ASSERT_EQ(approx.back().size(), kK);
  }
  EXPECT_GE(recall(exact, approx), 0.95);
}

TEST(VectorIndex, FilterIsAppliedInsideSearch) {
  constexpr int kDim = 16;
  constexpr std::size_t kN = 2000, kK = 10;
  const auto data = random_vectors(kN, kDim, 3);
  const auto ids = ids_from(100, kN);
  auto flat = make("flat:dim=16,metric=ip");
  auto hnsw = make("hnsw:dim=16,metric=ip,m=16,efc=80,efs=128");
  ASSERT_TRUE(flat.add(ids, data.data()).ok());
  ASSERT_TRUE(hnsw.add(ids, data.data()).ok());
  std::mt19937 rng(11);
  double hnsw_recall_sum = 0;
  constexpr int kTrials = 30;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::unordered_set<ChunkId> allowed_set;
    std::bernoulli_distribution pick(trial % 3 == 0 ? 0.01 : 0.1);
    for (ChunkId id : ids) {
      if (pick(rng)) allowed_set.insert(id);
    }
    const auto allowed = [&](ChunkId id) { return allowed_set.count(id) > 0; };
    const auto query = random_vectors(1, kDim, 1000 + trial);

    // Oracle: unfiltered exact search over everything, then filter, then top-k.
    auto all = flat.search(query.data(), kN);
    ASSERT_EQ(all.size(), kN);
    std::vector<ScoredChunk> expected;
    for (const auto& h : all) {
      if (allowed(h.id) && expected.size() < kK) expected.push_back(h);
    }
    auto got = flat.search(query.data(), kK, allowed);
    EXPECT_EQ(got, expected) << "trial " << trial;
    EXPECT_EQ(got.size(), std::min(kK, allowed_set.size()));

    auto approx = hnsw.search(query.data(), kK, allowed);
    for (const auto& h : approx) EXPECT_TRUE(allowed(h.id)) << h.id;
    hnsw_recall_sum += recall({ids_of(expected)}, {ids_of(approx)});
  }
  EXPECT_GE(hnsw_recall_sum / kTrials, 0.9);

  // A filter that admits nothing returns nothing; one that admits one id returns it.
  const auto query = random_vectors(1, kDim, 5);
  EXPECT_TRUE(flat.search(query.data(), kK, [](ChunkId) { return false; }).empty());
  EXPECT_TRUE(hnsw.search(query.data(), kK, [](ChunkId) { return false; }).empty());
  const ChunkId only = ids[1234];
  EXPECT_EQ(ids_of(flat.search(query.data(), kK, [&](ChunkId id) { return id == only; })),
            std::vector<ChunkId>{only});
}

// Random tenants, ACLs and principals: no result is outside what the filter admits, and flat
// search equals "filter everything, then top-k" exactly.
TEST(VectorIndex, AclFilterPropertyOverRandomPrincipals) {
  constexpr int kDim = 8;
  constexpr std::size_t kN = 600, kK = 10;
  const std::vector<std::string> tenants = {"t1", "t2"};
  const std::vector<std::string> groups = {"g0", "g1", "g2", "g3", "g4"};
  std::mt19937 rng(17);
  const auto data = random_vectors(kN, kDim, 4);
  const auto ids = ids_from(1, kN);
  std::vector<ChunkAttrs> attrs(kN);
  for (auto& a : attrs) {
    a.tenant = tenants[rng() % tenants.size()];
    for (const auto& g : groups) {
      if (rng() % 4 == 0) a.acl.push_back(g);
    }
  }
  auto admits = [](const ChunkAttrs& a, const FilterSpec& f, ChunkId id) {
    if (f.tenant && a.tenant != *f.tenant) return false;
    if (f.groups && !a.acl.empty()) {
      bool any = false;
      for (const auto& g : a.acl) any = any || std::count(f.groups->begin(), f.groups->end(), g) > 0;
      if (!any) return false;
    }
    return !f.allowlist || std::count(f.allowlist->begin(), f.allowlist->end(), id) > 0;
  };
  for (const char* kind : {"flat", "hnsw"}) {
    auto index = make(std::string(kind) + ":dim=8,metric=cosine");
    ASSERT_TRUE(index.add(ids, data.data(), attrs).ok());
    TempDir dir;
    ASSERT_TRUE(index.save(dir.path() / "v").ok());
    auto loaded = VectorIndex::load(dir.path() / "v");
    ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
    for (int trial = 0; trial < 40; ++trial) {
      FilterSpec f;
      f.tenant = tenants[rng() % tenants.size()];
      if (trial % 4 != 0) {
        f.groups.emplace();
        for (const auto& g : groups) {
          if (rng() % 3 == 0) f.groups->push_back(g);
        }
      }
      if (trial % 5 == 0) {
        f.allowlist.emplace();
        for (ChunkId id : ids) {
          if (rng() % 4 == 0) f.allowlist->push_back(id);
        }
      }
      const auto query = random_vectors(1, kDim, 500 + trial);
      std::vector<ScoredChunk> expected;
      for (const auto& h : index.search(query.data(), kN)) {
        const std::size_t i = static_cast<std::size_t>(std::find(ids.begin(), ids.end(), h.id) - ids.begin());
        if (admits(attrs[i], f, h.id) && expected.size() < kK) expected.push_back(h);
      }
      for (const VectorIndex* v : {&index, &*loaded}) {
        auto got = v->search(query.data(), kK, f);
        for (const auto& h : got) {
          const std::size_t i = static_cast<std::size_t>(std::find(ids.begin(), ids.end(), h.id) - ids.begin());
          ASSERT_LT(i, kN);
          EXPECT_TRUE(admits(attrs[i], f, h.id)) << kind << " trial " << trial << " chunk " << h.id;
        }
        if (std::string(kind) == "flat") EXPECT_EQ(got, expected) << "trial " << trial;
      }
    }
  }
}

class VectorIndexKinds : public testing::TestWithParam<const char*> {
 protected:
  std::string config(int dim) const {
    const std::string kind = GetParam();
    return kind + ":dim=" + std::to_string(dim) + ",metric=cosine" +
           (kind == "hnsw" ? ",m=8" : kind == "ivf" ? ",nlist=8,nprobe=8" : "");
  }
};

TEST_P(VectorIndexKinds, RemoveNeverReturnsRemovedIds) {
  constexpr int kDim = 8;
  constexpr std::size_t kN = 500;
  const auto data = random_vectors(kN, kDim, 9);
  const auto ids = ids_from(1, kN);
  auto index = make(config(kDim));
  ASSERT_TRUE(index.add(ids, data.data()).ok());
  std::vector<ChunkId> removed;
  for (std::size_t i = 0; i < kN; i += 2) removed.push_back(ids[i]);
  removed.push_back(999999);  // unknown: ignored
  ASSERT_TRUE(index.remove(removed).ok());
  EXPECT_EQ(index.size(), kN / 2);
  EXPECT_FALSE(index.contains(ids[0]));
  EXPECT_TRUE(index.contains(ids[1]));
  const std::set<ChunkId> gone(removed.begin(), removed.end());
  for (std::size_t i = 0; i < 20; ++i) {
    // Querying with a removed vector itself must not return it.
    auto hits = index.search(data.data() + i * 2 * kDim, 20);
    EXPECT_EQ(hits.size(), 20u);
    for (const auto& h : hits) EXPECT_FALSE(gone.count(h.id)) << h.id;
  }
  // A removed id can be added again, with a new vector.
  const std::vector<float> v(kDim, 1.0f);
  ASSERT_TRUE(index.add({ids[0]}, v.data()).ok());
  auto hits = index.search(v.data(), 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, ids[0]);
  EXPECT_EQ(index.size(), kN / 2 + 1);
}

TEST_P(VectorIndexKinds, SaveLoadRoundTrip) {
  constexpr int kDim = 12;
  constexpr std::size_t kN = 800;
  const auto data = random_vectors(kN, kDim, 21);
  const auto ids = ids_from(5, kN);
  auto index = make(config(kDim));
  ASSERT_TRUE(index.add(ids, data.data()).ok());
  ASSERT_TRUE(index.remove({ids[0], ids[10], ids[20]}).ok());
  TempDir dir;
  const auto file = dir.path() / "vectors.faiss";
  ASSERT_TRUE(index.save(file).ok());
  auto loaded = VectorIndex::load(file);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->options().to_config(), index.options().to_config());
  EXPECT_EQ(loaded->size(), index.size());
  const auto queries = random_vectors(20, kDim, 22);
  const auto odd = [](ChunkId id) { return id % 2 == 1; };
  for (std::size_t q = 0; q < 20; ++q) {
    EXPECT_EQ(loaded->search(queries.data() + q * kDim, 10),
              index.search(queries.data() + q * kDim, 10));
    EXPECT_EQ(loaded->search(queries.data() + q * kDim, 10, odd),
              index.search(queries.data() + q * kDim, 10, odd));
  }
}

INSTANTIATE_TEST_SUITE_P(VectorKinds, VectorIndexKinds,
                         testing::Values("flat", "hnsw", "ivf"),
                         [](const auto& info) { return std::string(info.param); });

TEST(VectorIndex, LoadErrors) {
  TempDir dir;
  auto missing = VectorIndex::load(dir.path() / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  const auto garbage = dir.path() / "garbage";
  std::ofstream(garbage) << "not an index at all";
  auto bad = VectorIndex::load(garbage);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt);

  // A valid file truncated inside the FAISS payload.
  auto index = make("flat:dim=4,metric=ip");
  const auto data = random_vectors(50, 4, 1);
  ASSERT_TRUE(index.add(ids_from(1, 50), data.data()).ok());
  const auto good = dir.path() / "good";
  ASSERT_TRUE(index.save(good).ok());
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t cut : {bytes.size() / 2, bytes.size() - 3, std::size_t{12}}) {
    const auto truncated = dir.path() / "truncated";
    std::ofstream(truncated, std::ios::binary | std::ios::trunc) << bytes.substr(0, cut);
    auto r = VectorIndex::load(truncated);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << cut;
  }
}

}  // namespace
}  // namespace ragft
