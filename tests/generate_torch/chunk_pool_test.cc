#include "generate/torch/chunk_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ragft {
namespace {

// Every chunk runs exactly once, from one caller or several at a time, with 1-3 threads, and
// with helpers that went to sleep between runs.
TEST(ChunkPoolTest, RunsEveryChunkOnce) {
  for (int threads : {1, 2, 3}) {
    ChunkPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (std::int64_t n : {1, 7, 64, 1000}) {
      for (std::int64_t chunk : {1, 3, 64}) {
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
        pool.run(n, chunk, [&](std::int64_t b, std::int64_t e) {
          EXPECT_LE(e - b, chunk);
          EXPECT_EQ(b % chunk, 0);
          for (std::int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
        });
        for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " " << chunk << " " << i;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // helpers fall asleep
    std::atomic<std::int64_t> sum{0};
    pool.run(100, 1, [&](std::int64_t b, std::int64_t) { sum += b; });
    EXPECT_EQ(sum.load(), 4950);
  }
  // Pools destroyed at once, before their helpers may even have started.
  for (int i = 0; i < 50; ++i) {
    ChunkPool quick(3);
    if (i % 2) quick.run(10, 1, [](std::int64_t, std::int64_t) {});
  }
  ChunkPool pool(2);
  std::vector<std::thread> callers;
  std::atomic<int> bad{0};
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&, c] {
      for (int rep = 0; rep < 200; ++rep) {
        std::vector<int> hits(50 + c, 0);  // each caller's own chunks: no other thread touches them twice
        pool.run(static_cast<std::int64_t>(hits.size()), 4, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t i = b; i < e; ++i) ++hits[i];
        });
        for (int h : hits) bad += h != 1;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace ragft
