// Helper threads for the decoder's small parallel loops (one matrix-vector product per call,
// ~50-200 µs each, ~50 per generated token). Torch-free.
//
// Why not libtorch's at::parallel_for (OpenMP): an OpenMP region ends at a barrier that every
// thread of the team must reach, so when another process holds one of the cores each region
// waits for a scheduler time slice; on the project's shared 2-core machines decoding with two
// OpenMP threads ran ~5x slower than with one. Here the calling thread takes chunks itself and
// returns as soon as every chunk is done: a helper that is not running (or wakes late) simply
// takes no chunk, so the worst case is the single-threaded speed.
//
// Helpers spin for a short while (~50 µs) after each run, then sleep on a futex
// (std::atomic::wait); a run wakes sleeping helpers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ragft {

class ChunkPool {
 public:
  // `threads` - 1 helper threads (threads < 1 counts as 1).
  explicit ChunkPool(int threads);
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  int threads() const { return static_cast<int>(helpers_.size()) + 1; }

  // Calls fn(begin, end) for the chunks [k * chunk, min(n, (k + 1) * chunk)) of [0, n), each
  // exactly once, on the calling thread and the helpers; returns when all are done. Thread-safe:
  // while another caller's run is in progress, a caller runs its chunks alone (no waiting).
  // fn must not throw.
  void run(std::int64_t n, std::int64_t chunk, const std::function<void(std::int64_t, std::int64_t)>& fn);

  // The process-wide pool with `threads` threads, created (or re-created with a new size) on
  // demand. The reference stays valid until the next call with another size.
  static ChunkPool& shared(int threads);

 private:
  void helper_loop();
  // Takes and runs chunks of generation `gen` until none is left.
  void work(std::uint32_t gen);

  std::vector<std::thread> helpers_;
  std::mutex run_mu_;  // one run at a time uses the helpers
  // The current job: valid while a chunk of generation gen_ is claimed and not done.
  const std::function<void(std::int64_t, std::int64_t)>* fn_ = nullptr;
  std::int64_t n_ = 0, chunk_ = 1, chunks_ = 0;
  // (generation << 32) | next chunk to claim: a helper claims a chunk only of the generation it
  // woke for, so a late helper never runs a chunk of a newer job.
  std::atomic<std::uint64_t> claim_{0};
  std::atomic<std::int64_t> done_{0};
  std::atomic<std::uint32_t> gen_{0};  // helpers wait on it
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace ragft
