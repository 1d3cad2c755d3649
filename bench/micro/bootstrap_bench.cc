// Bootstrap intervals as `ragft decide` computes them for every arm and pair of arms: 1000
// resamples of an eval set of 1000 items. Target: a few ms, so a report with 4 arms and 6
// comparisons spends well under a second on intervals.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "evaluate/bootstrap.h"

namespace {

std::vector<double> bernoulli(std::size_t n, double p, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<double> v(n);
  for (auto& x : v) x = (rng() % 1000) < p * 1000 ? 1.0 : 0.0;
  return v;
}

void BM_BootstrapMean(benchmark::State& state) {
  auto v = bernoulli(static_cast<std::size_t>(state.range(0)), 0.8, 1);
  for (auto _ : state) benchmark::DoNotOptimize(ragft::bootstrap_mean(v, 1000, 0.95, 1));
}
BENCHMARK(BM_BootstrapMean)->Arg(300)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_PairedDiff(benchmark::State& state) {
  auto a = bernoulli(static_cast<std::size_t>(state.range(0)), 0.8, 1);
  auto b = bernoulli(static_cast<std::size_t>(state.range(0)), 0.75, 2);
  for (auto _ : state) benchmark::DoNotOptimize(ragft::paired_bootstrap_diff(a, b, 1000, 0.95, 1));
}
BENCHMARK(BM_PairedDiff)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
