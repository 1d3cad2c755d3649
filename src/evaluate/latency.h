// Latency summaries shared by every command and benchmark that reports p50/p95/p99.
#pragma once

#include <vector>

namespace ragft {

// Nearest-rank percentile: the smallest sample with at least q of the samples at or below it
// (q in [0, 1]; q = 0.5 is the median). 0 for no samples. Takes the samples by value (sorts a copy).
double percentile(std::vector<double> samples, double q);

}  // namespace ragft
