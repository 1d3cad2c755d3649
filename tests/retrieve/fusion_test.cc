#include "retrieve/fusion.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

std::vector<ScoredChunk> list(std::initializer_list<std::pair<ChunkId, float>> items) {
  std::vector<ScoredChunk> v;
  for (auto [id, s] : items) v.push_back({id, s});
  return v;
}

TEST(Fusion, RrfMatchesHandComputedScores) {
  // bm25: 1, 2, 3   dense: 3, 1, 4   (k = 60)
  // 1: 1/61 + 1/62 = 0.032522; 3: 1/63 + 1/61 = 0.032266; 2: 1/62 = 0.016129; 4: 1/63 = 0.015873
  auto r = fuse({list({{1, 9}, {2, 5}, {3, 1}}), list({{3, 0.9f}, {1, 0.8f}, {4, 0.1f}})}, FusionOptions{});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].id, 1u);
  EXPECT_EQ((*r)[1].id, 3u);
  EXPECT_EQ((*r)[2].id, 2u);
  EXPECT_EQ((*r)[3].id, 4u);
  EXPECT_NEAR((*r)[0].score, 1.0 / 61 + 1.0 / 62, 1e-7);
  EXPECT_NEAR((*r)[1].score, 1.0 / 63 + 1.0 / 61, 1e-7);
  EXPECT_NEAR((*r)[3].score, 1.0 / 63, 1e-7);
}

TEST(Fusion, WeightedNormalisesEachListThenMixes) {
  // bm25 scores 10, 6, 2 -> 1, 0.5, 0; dense 0.9, 0.5 -> 1, 0.  w = 0.7 | 0.3
  // 1: 0.7*1 + 0.3*0 = 0.7; 2: 0.7*0.5 = 0.35; 3: 0.7*0 + 0.3*1 = 0.3; 9: 0
  FusionOptions o;
  o.method = Fusion::kWeighted;
  o.weights = {0.7, 0.3};
  auto r = fuse({list({{1, 10}, {2, 6}, {3, 2}}), list({{3, 0.9f}, {1, 0.5f}})}, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].id, 1u);
  EXPECT_NEAR((*r)[0].score, 0.7, 1e-6);
  EXPECT_EQ((*r)[1].id, 2u);
  EXPECT_NEAR((*r)[1].score, 0.35, 1e-6);
  EXPECT_EQ((*r)[2].id, 3u);
  EXPECT_NEAR((*r)[2].score, 0.3, 1e-6);
}

TEST(Fusion, TiesGoToTheLowerIdAndKCuts) {
  // Equal-score single-element lists: each chunk gets the same fused score.
  auto r = fuse({list({{7, 1}}), list({{5, 1}})}, FusionOptions{}, 1);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, 5u);
}

TEST(Fusion, ConstantListAndDuplicatesAndEmptyInput) {
  FusionOptions o;
  o.method = Fusion::kWeighted;
  auto r = fuse({list({{1, 3}, {2, 3}, {1, 3}})}, o);  // all equal: each gets 1 (duplicate once)
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_NEAR((*r)[0].score, 1.0, 1e-6);
  EXPECT_NEAR((*r)[1].score, 1.0, 1e-6);
  auto empty = fuse({}, FusionOptions{});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  o.weights = {1, 1};
  EXPECT_FALSE(fuse({list({{1, 1}})}, o).ok());  // one list, two weights
}

TEST(Fusion, ConfigRoundTripsAndRejectsBadValues) {
  for (const char* c : {"rrf:k=60", "rrf:k=10", "weighted:w=0.7|0.3", "weighted"}) {
    auto o = FusionOptions::parse(c);
    ASSERT_TRUE(o.ok()) << c << ": " << o.error().to_string();
    EXPECT_EQ(o->to_config(), c);
  }
  for (const char* c : {"rrf:k=0", "rrf:k=x", "rrf:w=1", "weighted:w=-1|2", "weighted:w=0|0", "max:k=1", "weighted:w="}) {
    EXPECT_FALSE(FusionOptions::parse(c).ok()) << c;
  }
}

}  // namespace
}  // namespace ragft
