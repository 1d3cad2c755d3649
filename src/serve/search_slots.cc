#include "serve/search_slots.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "core/check.h"

namespace ragft::serve {

namespace {

// The futex calls themselves: std::atomic::wait in libstdc++ 12 first spins and calls
// sched_yield, which with dozens of waiting request threads burnt a seventh of the server's CPU.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}

}  // namespace

SearchSlots::SearchSlots(std::size_t slots)
    : slots_(slots), gates_(std::make_unique<std::atomic<std::uint32_t>[]>(kMaxWaiters)) {
  RAGFT_CHECK(slots >= 1);
  for (std::size_t i = 0; i < kMaxWaiters; ++i) gates_[i].store(0, std::memory_order_relaxed);
}

void SearchSlots::acquire() {
  const std::uint64_t t = next_.fetch_add(1);
  if (t < released_.load() + slots_) return;
  std::atomic<std::uint32_t>& gate = gates_[t % kMaxWaiters];
  const auto want = static_cast<std::uint32_t>(t + 1);
  while (true) {
    const std::uint32_t seen = gate.load();
    // Reached (modulo 2^32): the gate only moves forward, kMaxWaiters tickets at a time.
    if (static_cast<std::int32_t>(seen - want) >= 0) return;
    futex_wait(gate, seen);  // returns at once when the gate moved since `seen`
  }
}

void SearchSlots::release() {
  // The r-th release admits ticket r + slots - 1 (the first `slots` tickets need none).
  const std::uint64_t r = released_.fetch_add(1) + 1;
  const std::uint64_t admitted = r + slots_ - 1;
  std::atomic<std::uint32_t>& gate = gates_[admitted % kMaxWaiters];
  gate.store(static_cast<std::uint32_t>(admitted + 1));
  // Only a ticket already handed out can be asleep on the gate; one handed out later sees this
  // release in released_ (every access here is sequentially consistent).
  if (next_.load() > admitted) futex_wake_all(gate);
}

std::size_t SearchSlots::held() const {
  const std::uint64_t released = released_.load();
  const std::uint64_t issued = next_.load();
  return static_cast<std::size_t>(std::min<std::uint64_t>(issued > released ? issued - released : 0, slots_));
}

std::size_t SearchSlots::waiting() const {
  const std::uint64_t released = released_.load();
  const std::uint64_t issued = next_.load();
  const std::uint64_t outstanding = issued > released ? issued - released : 0;
  return static_cast<std::size_t>(outstanding > slots_ ? outstanding - slots_ : 0);
}

}  // namespace ragft::serve
