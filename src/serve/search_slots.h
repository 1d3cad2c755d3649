// How many searches run at once. A keep-alive connection holds a request thread (server.h), so a
// server for 64 connections has 64 threads; were all of them to search at once on a machine of a
// few cores, each search would be time-sliced with the others (latency grows with the number
// searching, p99 with it) and would lease a Workspace of its own (each with its SQLite connection
// and analyzer cache, so a larger working set). Searches instead take one of a few slots, and
// wait for one in arrival order (first come, first served: a slot freed goes to the longest
// waiting request, never to a newcomer), so the CPU runs a few searches to completion at a time.
//
// Tickets, not a lock: a request takes the next ticket, and ticket t may run once t < (slots
// released so far) + slots; otherwise its thread sleeps on the ticket's own gate (a futex word),
// which the release that admits t opens. A handoff is one atomic increment and one wake, with no
// lock that all the waiting threads contend for.
//
// Thread-safe. At most kMaxWaiters threads may wait at once (ServeOptions::threads is at most
// 1024).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ragft::serve {

class SearchSlots {
 public:
  // slots >= 1.
  explicit SearchSlots(std::size_t slots);
  SearchSlots(const SearchSlots&) = delete;
  SearchSlots& operator=(const SearchSlots&) = delete;

  // Holds a slot from construction to destruction; waits for one, in arrival order.
  class Hold {
   public:
    explicit Hold(SearchSlots& slots) : slots_(&slots) { slots_->acquire(); }
    ~Hold() { slots_->release(); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    SearchSlots* slots_;
  };

  std::size_t slots() const { return slots_; }
  // Slots held now, and requests waiting for one now (a snapshot, for tests and metrics).
  std::size_t held() const;
  std::size_t waiting() const;

 private:
  void acquire();
  void release();

  static constexpr std::size_t kMaxWaiters = 4096;
  const std::size_t slots_;
  std::atomic<std::uint64_t> next_{0};      // tickets handed out
  std::atomic<std::uint64_t> released_{0};  // slots given back
  // gates_[t % kMaxWaiters] holds (the low 32 bits of) one past the latest ticket admitted there:
  // ticket t runs once its gate has reached t + 1.
  std::unique_ptr<std::atomic<std::uint32_t>[]> gates_;
};

}  // namespace ragft::serve
