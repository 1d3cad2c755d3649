#include "evaluate/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/check.h"

namespace ragft {
namespace {

__extension__ typedef unsigned __int128 Uint128;  // GCC and Clang on 64-bit targets

// Uniform integers in [0, n) from a 64-bit engine: Lemire's multiply-shift with rejection
// (unbiased, portable; "Fast Random Integer Generation in an Interval", 2019).
class IndexDrawer {
 public:
  IndexDrawer(std::uint64_t seed, std::uint64_t n) : rng_(seed), n_(n), threshold_((0 - n) % n) {}

  std::uint64_t operator()() {
    while (true) {
      auto m = static_cast<Uint128>(rng_()) * n_;
      if (static_cast<std::uint64_t>(m) >= threshold_) return static_cast<std::uint64_t>(m >> 64);
    }
  }

 private:
  std::mt19937_64 rng_;
  std::uint64_t n_;
  std::uint64_t threshold_;  // 2^64 mod n: low words below it are rejected
};

void check_args(int samples, double level) {
  RAGFT_CHECK(samples >= 1);
  RAGFT_CHECK(level > 0 && level < 1);
}

// Nearest-rank quantile of sorted values (q in [0, 1]); the small slack keeps 0.025 * 1000
// at rank 25 despite rounding.
double nearest_rank(const std::vector<double>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()) - 1e-9));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

Interval percentile_interval(double value, std::vector<double>& resampled, double level) {
  std::sort(resampled.begin(), resampled.end());
  double alpha = 1 - level;
  Interval out{value, nearest_rank(resampled, alpha / 2), nearest_rank(resampled, 1 - alpha / 2)};
  out.low = std::min(out.low, value);
  out.high = std::max(out.high, value);
  return out;
}

// Evaluates `stat` on 0..n-1 and on `samples` resamples drawn as in bootstrap_mean.
template <typename Stat>
Interval resample_statistic(std::size_t n, const Stat& stat, int samples, double level, std::uint64_t seed) {
  check_args(samples, level);
  if (n == 0) return {};
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  const double value = stat(idx);
  IndexDrawer draw(seed, n);
  std::vector<double> resampled(static_cast<std::size_t>(samples));
  for (double& r : resampled) {
    for (auto& i : idx) i = static_cast<std::size_t>(draw());
    r = stat(idx);
  }
  return percentile_interval(value, resampled, level);
}

}  // namespace

Interval bootstrap_mean(const std::vector<double>& values, int samples, double level, std::uint64_t seed) {
  check_args(samples, level);
  const std::size_t n = values.size();
  if (n == 0) return {};
  const double inv_n = 1.0 / static_cast<double>(n);
  double sum = 0;
  for (double v : values) sum += v;
  IndexDrawer draw(seed, n);
  std::vector<double> means(static_cast<std::size_t>(samples));
  for (double& mean : means) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += values[draw()];
    mean = s * inv_n;
  }
  return percentile_interval(sum * inv_n, means, level);
}

Interval paired_bootstrap_diff(const std::vector<double>& a, const std::vector<double>& b, int samples,
                               double level, std::uint64_t seed) {
  RAGFT_CHECK(a.size() == b.size());
  std::vector<double> diff(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) diff[i] = a[i] - b[i];
  return bootstrap_mean(diff, samples, level, seed);
}

Interval bootstrap_statistic(std::size_t n, const IndexStatistic& stat, int samples, double level,
                             std::uint64_t seed) {
  RAGFT_CHECK(stat != nullptr);
  return resample_statistic(n, stat, samples, level, seed);
}

Interval paired_bootstrap_statistic_diff(std::size_t n, const IndexStatistic& stat_a, const IndexStatistic& stat_b,
                                         int samples, double level, std::uint64_t seed) {
  RAGFT_CHECK(stat_a != nullptr && stat_b != nullptr);
  return resample_statistic(
      n, [&](const std::vector<std::size_t>& idx) { return stat_a(idx) - stat_b(idx); }, samples, level, seed);
}

}  // namespace ragft
