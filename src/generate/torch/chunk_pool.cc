#include "generate/torch/chunk_pool.h"

#include <algorithm>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ragft {

namespace {

// Pause iterations a helper spins before sleeping (~65 cycles each on recent x86: ~50 µs).
constexpr int kSpin = 2000;
constexpr std::uint64_t kMaxChunks = 0xffff;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

ChunkPool::ChunkPool(int threads) {
  for (int i = 1; i < threads; ++i) helpers_.emplace_back([this] { helper_loop(); });
}

ChunkPool::~ChunkPool() {
  stop_.store(true);
  gen_.fetch_add(1);
  gen_.notify_all();
  for (auto& t : helpers_) t.join();
}

void ChunkPool::helper_loop() {
  // The generation at construction, not gen_'s value when this thread first runs: a run (or the
  // destructor) may have bumped it already, and waiting for the next change would miss it.
  std::uint32_t seen = 0;
  for (;;) {
    std::uint32_t g;
    int spins = 0;
    while ((g = gen_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpin) {
        cpu_relax();
        continue;
      }
      sleepers_.fetch_add(1);
      gen_.wait(seen);  // returns once gen_ != seen (the futex re-checks the value first)
      sleepers_.fetch_sub(1);
      spins = 0;
    }
    if (stop_.load()) return;
    seen = g;
    work(g);
  }
}

void ChunkPool::work(std::uint32_t gen) {
  std::uint64_t v = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<std::uint32_t>(v >> 32) != gen) return;
    const std::uint64_t total = (v >> 16) & 0xffff, next = v & 0xffff;
    if (next >= total) return;
    if (!claim_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    // The chunk is ours: the job stays as it is until every chunk is done.
    const std::int64_t b = static_cast<std::int64_t>(next) * chunk_;
    (*fn_)(b, std::min(n_, b + chunk_));
    done_.fetch_add(1, std::memory_order_release);
    v = claim_.load(std::memory_order_acquire);
  }
}

void ChunkPool::run(std::int64_t n, std::int64_t chunk,
                    const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (n <= 0) return;
  chunk = std::max<std::int64_t>(1, chunk);
  if ((n + chunk - 1) / chunk > static_cast<std::int64_t>(kMaxChunks)) {
    chunk = (n + static_cast<std::int64_t>(kMaxChunks) - 1) / static_cast<std::int64_t>(kMaxChunks);
  }
  const std::int64_t chunks = (n + chunk - 1) / chunk;
  std::unique_lock<std::mutex> lock(run_mu_, std::try_to_lock);
  if (!lock.owns_lock() || helpers_.empty() || chunks == 1) {
    for (std::int64_t b = 0; b < n; b += chunk) fn(b, std::min(n, b + chunk));
    return;
  }
  fn_ = &fn;
  n_ = n;
  chunk_ = chunk;
  done_.store(0, std::memory_order_relaxed);
  const std::uint32_t gen = gen_.load(std::memory_order_relaxed) + 1;
  claim_.store((static_cast<std::uint64_t>(gen) << 32) | (static_cast<std::uint64_t>(chunks) << 16),
               std::memory_order_release);
  gen_.store(gen);
  if (sleepers_.load() > 0) gen_.notify_all();
  work(gen);
  while (done_.load(std::memory_order_acquire) < chunks) cpu_relax();
}

ChunkPool& ChunkPool::shared(int threads) {
  static std::mutex mu;
  static std::unique_ptr<ChunkPool> pool;
  std::lock_guard<std::mutex> lock(mu);
  threads = std::max(1, threads);
  if (!pool || pool->threads() != threads) {
    pool.reset();
    pool = std::make_unique<ChunkPool>(threads);
  }
  return *pool;
}

}  // namespace ragft
