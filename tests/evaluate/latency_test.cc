#include <gtest/gtest.h>

#include "evaluate/latency.h"

namespace ragft {
namespace {

TEST(Percentile, NearestRank) {
  // 10 samples 1..10 (unsorted): p50 -> rank ceil(5) = 5 -> 5; p95 -> rank ceil(9.5) = 10 -> 10;
  // p10 -> rank 1 -> 1; p0 -> clamped to rank 1.
  std::vector<double> v = {7, 3, 10, 1, 5, 2, 9, 4, 8, 6};
  EXPECT_EQ(percentile(v, 0.5), 5);
  EXPECT_EQ(percentile(v, 0.95), 10);
  EXPECT_EQ(percentile(v, 0.1), 1);
  EXPECT_EQ(percentile(v, 0.0), 1);
  EXPECT_EQ(percentile(v, 1.0), 10);
  EXPECT_EQ(percentile({}, 0.5), 0);
  EXPECT_EQ(percentile({4.5}, 0.99), 4.5);
}

}  // namespace
}  // namespace ragft
