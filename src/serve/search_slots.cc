#include "serve/search_slots.h"

#include "core/check.h"

namespace ragft::serve {

SearchSlots::SearchSlots(std::size_t slots) : slots_(slots), free_(slots) { RAGFT_CHECK(slots >= 1); }

void SearchSlots::acquire() {
  std::unique_lock lock(mu_);
  if (free_ > 0 && waiters_.empty()) {
    --free_;
    return;
  }
  Waiter w;
  waiters_.push_back(&w);
  w.cv.wait(lock, [&w] { return w.granted; });
}

void SearchSlots::release() {
  std::lock_guard lock(mu_);
  if (waiters_.empty()) {
    ++free_;
    return;
  }
  // Hand the slot straight to the longest waiting request (free_ stays as it is).
  Waiter* w = waiters_.front();
  waiters_.pop_front();
  w->granted = true;
  w->cv.notify_one();
}

std::size_t SearchSlots::held() const {
  std::lock_guard lock(mu_);
  return slots_ - free_;
}

std::size_t SearchSlots::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

}  // namespace ragft::serve
