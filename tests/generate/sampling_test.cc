#include "generate/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace ragft {
namespace {

SamplingOptions sample(double temperature, int top_k = 0, double top_p = 1.0, double penalty = 1.0) {
  SamplingOptions o;
  o.temperature = temperature;
  o.top_k = top_k;
  o.top_p = top_p;
  o.repetition_penalty = penalty;
  return o;
}

void expect_probs(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << "token " << i;
}

TEST(SamplingTest, GreedyIsTheArgmaxWithTiesToTheLowestId) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  Sampler s(SamplingOptions{});
  EXPECT_EQ(s.sample(logits, {}), 1);
  expect_probs(sampling_distribution(logits, {}, SamplingOptions{}), {0, 1, 0, 0});
}

TEST(SamplingTest, TemperatureScalesLogits) {
  // {0, ln 4} / 2 = {0, ln 2}: probabilities 1/3 and 2/3.
  const std::vector<float> logits = {0.0f, static_cast<float>(std::log(4.0))};
  expect_probs(sampling_distribution(logits, {}, sample(2.0)), {1.0 / 3, 2.0 / 3});
  // At temperature 1 the softmax itself: 1/5, 4/5.
  expect_probs(sampling_distribution(logits, {}, sample(1.0)), {0.2, 0.8});
}

TEST(SamplingTest, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  // Seen: 0 (twice: penalised once) and 1. Penalty 2: 2.0 -> 1.0, -1.0 -> -2.0; 0.5, 3.0 unseen.
  const std::vector<float> logits = {2.0f, -1.0f, 0.5f, 3.0f};
  const std::vector<std::int32_t> seen = {0, 1, 0, 99};  // 99 is outside the vocabulary: ignored
  const std::vector<double> z = {std::exp(1.0), std::exp(-2.0), std::exp(0.5), std::exp(3.0)};
  const double total = z[0] + z[1] + z[2] + z[3];
  expect_probs(sampling_distribution(logits, seen, sample(1.0, 0, 1.0, 2.0)),
               {z[0] / total, z[1] / total, z[2] / total, z[3] / total});
  // It changes the greedy choice: {3.0, 2.0} with 0 seen -> {1.5, 2.0}.
  const std::vector<float> two = {3.0f, 2.0f};
  const std::vector<std::int32_t> seen0 = {0};
  Sampler greedy(sample(0, 0, 1.0, 2.0));
  EXPECT_EQ(greedy.sample(two, seen0), 1);
  Sampler plain(SamplingOptions{});
  EXPECT_EQ(plain.sample(two, seen0), 0);
}

TEST(SamplingTest, TopKKeepsTheKLargestAndTies) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 4.0f};
  const double e = std::exp(1.0);
  expect_probs(sampling_distribution(logits, {}, sample(1.0, 2)), {0, 0, 1 / (1 + e), e / (1 + e)});
  // Two tokens tie for the largest logit: top_k = 1 keeps both.
  const std::vector<float> tied = {1.0f, 2.0f, 2.0f, 0.0f};
  expect_probs(sampling_distribution(tied, {}, sample(1.0, 1)), {0, 0.5, 0.5, 0});
}

TEST(SamplingTest, TopPKeepsTheSmallestPrefixReachingP) {
  // Probabilities 0.15, 0.5, 0.05, 0.3 (ids out of order on purpose). Sorted: 0.5, 0.3, 0.15, 0.05;
  // probability before each: 0, 0.5, 0.8, 0.95.
  const std::vector<float> logits = {static_cast<float>(std::log(0.15)), static_cast<float>(std::log(0.5)),
                                     static_cast<float>(std::log(0.05)), static_cast<float>(std::log(0.3))};
  // top_p 0.75: 0.5 and 0.3 kept (0.8 before 0.15 is >= 0.75) -> 0.625, 0.375.
  expect_probs(sampling_distribution(logits, {}, sample(1.0, 0, 0.75)), {0, 0.625, 0, 0.375});
  // top_p 0.85: 0.15 kept too (0.8 < 0.85), 0.05 not (0.95).
  expect_probs(sampling_distribution(logits, {}, sample(1.0, 0, 0.85)), {0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95});
  // A tiny top_p keeps the most probable token only.
  expect_probs(sampling_distribution(logits, {}, sample(1.0, 0, 0.01)), {0, 1, 0, 0});
  // top_k then top_p: top_k 3 drops 0.05 first (renormalised 0.5/0.95 = 0.526 before 0.3), then
  // top_p 0.55 keeps 0.5 and 0.3 (0.526 < 0.55).
  expect_probs(sampling_distribution(logits, {}, sample(1.0, 3, 0.55)), {0, 0.625, 0, 0.375});
}

TEST(SamplingTest, TopPOverALargeVocabularyFindsTheCut) {
  // 10,000 distinct logits 0, -0.01, ..., -99.99 in a shuffled order: the top-0.9 set has ~230
  // tokens, more than the first partial sort of 64; the expected set comes from a full sort.
  const int n = 10000;
  std::vector<float> logits(n);
  for (int i = 0; i < n; ++i) logits[i] = static_cast<float>(-0.01 * ((i * 7919) % n));
  const double p = 0.9;
  std::vector<std::pair<double, int>> sorted;
  double total = 0;
  for (int i = 0; i < n; ++i) total += std::exp(static_cast<double>(logits[i]));
  for (int i = 0; i < n; ++i) sorted.push_back({std::exp(static_cast<double>(logits[i])) / total, i});
  std::sort(sorted.begin(), sorted.end(), [](auto a, auto b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<double> want(n, 0.0);
  double cum = 0, kept = 0;
  std::size_t k = 0;
  while (cum < p) {
    cum += sorted[k].first;
    kept += sorted[k].first;
    ++k;
  }
  for (std::size_t i = 0; i < k; ++i) want[sorted[i].second] = sorted[i].first / kept;
  ASSERT_GT(k, 64u);
  auto got = sampling_distribution(logits, {}, sample(1.0, 0, p));
  std::size_t nonzero = 0;
  for (int i = 0; i < n; ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-9) << i;
    nonzero += got[i] > 0;
  }
  EXPECT_EQ(nonzero, k);
}

TEST(SamplingTest, DrawsFollowTheDistributionAndTheSeed) {
  const std::vector<float> logits = {0.0f, static_cast<float>(std::log(4.0)), -100.0f};
  SamplingOptions o = sample(1.0);
  o.seed = 42;
  Sampler a(o), b(o);
  std::vector<std::int32_t> da, db;
  std::map<int, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    da.push_back(a.sample(logits, {}));
    db.push_back(b.sample(logits, {}));
    counts[da.back()]++;
  }
  EXPECT_EQ(da, db);  // same seed, same draws
  // 0.2 / 0.8 / ~0: a binomial with sd 0.0028 at 20,000 draws; 0.015 is > 5 sd.
  EXPECT_NEAR(counts[0] / static_cast<double>(draws), 0.2, 0.015);
  EXPECT_NEAR(counts[1] / static_cast<double>(draws), 0.8, 0.015);
  EXPECT_EQ(counts[2], 0);
  o.seed = 43;
  Sampler c(o);
  std::vector<std::int32_t> dc;
  for (int i = 0; i < draws; ++i) dc.push_back(c.sample(logits, {}));
  EXPECT_NE(da, dc);
}

TEST(SamplingTest, RemovedTokensAreNeverDrawn) {
  const std::vector<float> logits = {1.0f, 1.1f, 0.9f, 1.05f, 0.2f};
  SamplingOptions o = sample(1.5, 2);
  o.seed = 7;
  Sampler s(o);
  std::map<int, int> counts;
  for (int i = 0; i < 2000; ++i) counts[s.sample(logits, {})]++;
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_GT(counts[1], 0);
  EXPECT_GT(counts[3], 0);
}

TEST(SamplingTest, ConfigRoundTripsAndRejectsBadValues) {
  auto o = SamplingOptions::parse("sample:temperature=0.7,top_k=40,top_p=0.9,repetition_penalty=1.1,seed=123");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_DOUBLE_EQ(o->temperature, 0.7);
  EXPECT_EQ(o->top_k, 40);
  EXPECT_DOUBLE_EQ(o->top_p, 0.9);
  EXPECT_DOUBLE_EQ(o->repetition_penalty, 1.1);
  EXPECT_EQ(o->seed, 123u);
  auto back = SamplingOptions::parse(o->to_config());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->to_config(), o->to_config());
  auto g = SamplingOptions::parse("greedy");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->greedy());
  for (const char* bad : {"sample:top_p=0", "sample:top_p=1.5", "sample:temperature=-1", "sample:top_k=-2",
                          "sample:repetition_penalty=0", "sample:beam=4", "sample:top_k"}) {
    auto r = SamplingOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(StopCheckerTest, EosAndStopSequences) {
  StopChecker s({2, 7}, {{5, 6}, {}, {4, 5, 6}});
  std::vector<std::int32_t> gen, stop;
  for (std::int32_t t : {3, 4}) {
    gen.push_back(t);
    EXPECT_FALSE(s.check(gen, stop).has_value());
  }
  gen.push_back(5);
  EXPECT_FALSE(s.check(gen, stop).has_value());
  gen.push_back(6);
  auto r = s.check(gen, stop);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, FinishReason::kStopSequence);
  EXPECT_EQ(gen, std::vector<std::int32_t>{3});  // the longest match, 4 5 6, removed
  EXPECT_EQ(stop, (std::vector<std::int32_t>{4, 5, 6}));

  gen = {3, 7};
  r = s.check(gen, stop);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, FinishReason::kEos);
  EXPECT_EQ(gen, std::vector<std::int32_t>{3});
  EXPECT_EQ(stop, std::vector<std::int32_t>{7});

  StopChecker none({}, {});
  gen = {2, 7};
  EXPECT_FALSE(none.check(gen, stop).has_value());
  EXPECT_STREQ(finish_reason_name(FinishReason::kContextFull), "context_full");
}

}  // namespace
}  // namespace ragft
