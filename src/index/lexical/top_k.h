// Bounded top-k collector with the index's ordering: higher score first, ties by ascending
// ChunkId. Internal to src/index/lexical.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "core/types.h"

namespace ragft::lexical {

struct Candidate {
  float score;
  ChunkId id;
};

// True if a ranks strictly before b.
inline bool ranks_before(const Candidate& a, const Candidate& b) {
  return a.score > b.score || (a.score == b.score && a.id < b.id);
}

class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(std::min<std::size_t>(k, 4096)); }

  // False only when the heap is full and no document scoring at most `bound` could enter
  // (a tie with the current k-th may still enter through a smaller id, so ">=").
  bool may_enter(float bound) const { return heap_.size() < k_ || bound >= heap_.front().score; }

  void offer(float score, ChunkId id) {
    const Candidate c{score, id};
    if (heap_.size() < k_) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);  // front = worst kept
    } else if (ranks_before(c, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), ranks_before);
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    }
  }

  // The kept candidates, best first. Leaves the collector empty.
  std::vector<Candidate> take_sorted() {
    std::sort(heap_.begin(), heap_.end(), ranks_before);
    return std::move(heap_);
  }

 private:
  std::size_t k_;
  std::vector<Candidate> heap_;
};

}  // namespace ragft::lexical
