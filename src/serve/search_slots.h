// How many searches run at once. A keep-alive connection holds a request thread (server.h), so a
// server for 64 connections has 64 threads; were all of them to search at once on a machine of a
// few cores, each search would be time-sliced with the others (latency grows with the number
// searching, p99 with it) and would lease a Workspace of its own (each with its SQLite connection
// and analyzer cache, so a larger working set). Searches instead take one of a few slots, and
// wait for one in arrival order (first come, first served: a slot freed goes to the longest
// waiting request, never to a newcomer), so the CPU runs a few searches to completion at a time.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

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

  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
  };
  const std::size_t slots_;
  mutable std::mutex mu_;
  std::size_t free_;
  std::deque<Waiter*> waiters_;  // arrival order; each lives on its waiting thread's stack
};

}  // namespace ragft::serve
