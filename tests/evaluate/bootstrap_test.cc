#include "evaluate/bootstrap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace ragft {
namespace {

// n values, the first round(p * n) equal to 1 and the rest 0.
std::vector<double> bernoulli(std::size_t n, double p) {
  std::vector<double> v(n, 0.0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(std::lround(p * static_cast<double>(n))); ++i) v[i] = 1;
  return v;
}

double mean_of(const std::vector<double>& v, const std::vector<std::size_t>& idx) {
  double s = 0;
  for (auto i : idx) s += v[i];
  return s / static_cast<double>(idx.size());
}

TEST(Bootstrap, EmptyIsZero) {
  Interval i = bootstrap_mean({}, 100, 0.95, 1);
  EXPECT_EQ(i.value, 0);
  EXPECT_EQ(i.low, 0);
  EXPECT_EQ(i.high, 0);
  int calls = 0;
  Interval s = bootstrap_statistic(0, [&](const std::vector<std::size_t>&) { return ++calls, 1.0; }, 100, 0.95, 1);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.high, 0);
}

TEST(Bootstrap, ConstantValuesGiveZeroWidth) {
  std::vector<double> v(137, 0.7);
  Interval i = bootstrap_mean(v, 500, 0.95, 42);
  EXPECT_EQ(i.low, i.value);
  EXPECT_EQ(i.high, i.value);
  EXPECT_NEAR(i.value, 0.7, 1e-12);
}

TEST(Bootstrap, SingleSampleAndSingleItem) {
  Interval i = bootstrap_mean({0.25}, 1, 0.95, 3);
  EXPECT_EQ(i.value, 0.25);
  EXPECT_EQ(i.low, 0.25);
  EXPECT_EQ(i.high, 0.25);
}

TEST(Bootstrap, BernoulliMatchesNormalApproximation) {
  // p = 0.8, n = 500: normal half-width 1.96 * sqrt(0.8 * 0.2 / 500) = 0.0351.
  auto v = bernoulli(500, 0.8);
  const double half = 1.96 * std::sqrt(0.8 * 0.2 / 500);
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    Interval i = bootstrap_mean(v, 2000, 0.95, seed);
    EXPECT_DOUBLE_EQ(i.value, 0.8);
    EXPECT_NEAR(i.value - i.low, half, 0.006) << "seed " << seed;
    EXPECT_NEAR(i.high - i.value, half, 0.006) << "seed " << seed;
  }
  // A 90% interval is narrower: 1.645 * sd.
  Interval i90 = bootstrap_mean(v, 2000, 0.90, 1);
  EXPECT_NEAR(i90.high - i90.low, 2 * 1.645 * std::sqrt(0.8 * 0.2 / 500), 0.01);
}

TEST(Bootstrap, DeterministicForASeed) {
  std::mt19937_64 rng(7);
  std::vector<double> v(300);
  for (auto& x : v) x = static_cast<double>(rng() % 1000) / 1000.0;
  Interval a = bootstrap_mean(v, 1000, 0.95, 99);
  Interval b = bootstrap_mean(v, 1000, 0.95, 99);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  Interval c = bootstrap_mean(v, 1000, 0.95, 100);
  EXPECT_TRUE(c.low != a.low || c.high != a.high);
}

TEST(Bootstrap, IntervalContainsValue) {
  // A skewed sample (mostly 0, a few large values).
  std::vector<double> v(50, 0.0);
  v[3] = 100;
  v[17] = 5;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Interval i = bootstrap_mean(v, 200, 0.95, seed);
    EXPECT_LE(i.low, i.value);
    EXPECT_GE(i.high, i.value);
    EXPECT_GE(i.low, 0);
  }
}

TEST(Bootstrap, StatisticAgreesWithMean) {
  auto v = bernoulli(200, 0.3);
  Interval m = bootstrap_mean(v, 500, 0.95, 5);
  Interval s = bootstrap_statistic(
      v.size(), [&](const std::vector<std::size_t>& idx) { return mean_of(v, idx); }, 500, 0.95, 5);
  EXPECT_NEAR(s.value, m.value, 1e-12);
  EXPECT_NEAR(s.low, m.low, 1e-12);
  EXPECT_NEAR(s.high, m.high, 1e-12);
}

TEST(PairedBootstrap, IdenticalArmsGiveExactlyZero) {
  auto v = bernoulli(400, 0.6);
  Interval d = paired_bootstrap_diff(v, v, 1000, 0.95, 11);
  EXPECT_EQ(d.value, 0);
  EXPECT_EQ(d.low, 0);
  EXPECT_EQ(d.high, 0);
  auto stat = [&](const std::vector<std::size_t>& idx) { return mean_of(v, idx); };
  Interval s = paired_bootstrap_statistic_diff(v.size(), stat, stat, 1000, 0.95, 11);
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.low, 0);
  EXPECT_EQ(s.high, 0);
}

TEST(PairedBootstrap, ClearlyBetterArmExcludesZero) {
  // a is right on 90% of 300 items, b on 75%; b's right items are a subset of a's.
  auto a = bernoulli(300, 0.90);
  auto b = bernoulli(300, 0.75);
  Interval d = paired_bootstrap_diff(a, b, 1000, 0.95, 3);
  EXPECT_NEAR(d.value, 0.15, 1e-12);
  EXPECT_GT(d.low, 0);
  EXPECT_LE(d.low, d.value);
  EXPECT_GE(d.high, d.value);
  // Reversed arms mirror the interval (same indices).
  Interval r = paired_bootstrap_diff(b, a, 1000, 0.95, 3);
  EXPECT_NEAR(r.value, -0.15, 1e-12);
  EXPECT_LT(r.high, 0);
  // The statistic form with the same seed draws the same indices: the same interval.
  auto sa = [&](const std::vector<std::size_t>& idx) { return mean_of(a, idx); };
  auto sb = [&](const std::vector<std::size_t>& idx) { return mean_of(b, idx); };
  Interval s = paired_bootstrap_statistic_diff(a.size(), sa, sb, 1000, 0.95, 3);
  EXPECT_NEAR(s.value, d.value, 1e-12);
  EXPECT_NEAR(s.low, d.low, 1e-9);
  EXPECT_NEAR(s.high, d.high, 1e-9);
}

TEST(PairedBootstrap, NonMeanStatistic) {
  // Micro F1-like ratio: sum(tp) / sum(tp + errors), recomputed per resample.
  std::vector<double> tp = {3, 1, 0, 2, 4, 1, 2, 0, 3, 1};
  std::vector<double> err = {0, 1, 2, 0, 1, 0, 1, 1, 0, 2};
  auto ratio = [&](const std::vector<std::size_t>& idx) {
    double t = 0, e = 0;
    for (auto i : idx) t += tp[i], e += err[i];
    return t + e > 0 ? t / (t + e) : 0.0;
  };
  Interval i = bootstrap_statistic(tp.size(), ratio, 500, 0.95, 8);
  EXPECT_DOUBLE_EQ(i.value, 17.0 / 25.0);
  EXPECT_LT(i.low, i.value);
  EXPECT_GT(i.high, i.value);
  EXPECT_GE(i.low, 0);
  EXPECT_LE(i.high, 1);
}

}  // namespace
}  // namespace ragft
