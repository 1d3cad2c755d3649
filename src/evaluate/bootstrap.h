// Bootstrap confidence intervals for evaluation metrics: the interval of a mean of per-item
// scores, of a paired difference between two systems scored on the same items, and of any
// statistic recomputed on a resample of item indices (entity F1, nDCG over queries, ...).
//
// Percentile bootstrap (Efron): draw `samples` resamples of the n items with replacement,
// recompute the statistic on each, and take the nearest-rank (1 - level) / 2 and
// (1 + level) / 2 quantiles of the resampled values. The interval is widened, if needed, to
// contain the point estimate, so value is always in [low, high].
//
// Deterministic for a seed on every platform: indices come from std::mt19937_64 mapped to
// [0, n) by Lemire's multiply-shift with rejection (no std::*_distribution, whose output
// differs between standard libraries). Functions with the same seed and n draw the same
// resample indices, so bootstrap_mean(v) and bootstrap_statistic(mean of v) agree (up to
// rounding).
// Thread-safe (no shared state). Cost: samples * n index draws (1000 x 1000 takes ~ a few ms).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace ragft {

struct Interval {
  double value = 0, low = 0, high = 0;
};

// Mean of `values` with a percentile bootstrap interval at `level` (e.g. 0.95). Empty ->
// {0, 0, 0}. samples >= 1 and 0 < level < 1 (CHECKed: bugs, not user input).
Interval bootstrap_mean(const std::vector<double>& values, int samples, double level, std::uint64_t seed);

// The mean of a[i] - b[i] and its interval; both arms are resampled with the same indices.
// a.size() == b.size() (CHECKed). Identical vectors give exactly {0, 0, 0}.
Interval paired_bootstrap_diff(const std::vector<double>& a, const std::vector<double>& b, int samples,
                               double level, std::uint64_t seed);

// A statistic over n items given as indices: stat(indices) recomputes it on a resample (indices
// may repeat); value = stat({0, 1, ..., n-1}). n == 0 -> {0, 0, 0} without calling stat.
using IndexStatistic = std::function<double(const std::vector<std::size_t>&)>;
Interval bootstrap_statistic(std::size_t n, const IndexStatistic& stat, int samples, double level,
                             std::uint64_t seed);

// stat_a - stat_b on the same resamples (paired): value = stat_a(all) - stat_b(all).
Interval paired_bootstrap_statistic_diff(std::size_t n, const IndexStatistic& stat_a, const IndexStatistic& stat_b,
                                         int samples, double level, std::uint64_t seed);

}  // namespace ragft
