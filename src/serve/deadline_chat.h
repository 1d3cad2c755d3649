// A request's time limit on its chat model calls (ServeLimits::max_seconds).
//
// Wraps the server's ChatModel for one request: both complete() and stream() run the inner
// model's stream() and cancel it (ChatDeltaFn returning false) at the first delta after the
// deadline, so an upstream model stops generating and its connection is closed. A model that
// delivers its text only at the end (the local model streams after generating) is stopped at
// that point: its request still ends at the limit's first check after the deadline, not before.
// A call stopped so returns kCancelled, and timed_out() says it was the deadline (the server
// answers 504 "timeout").
//
// Thread-safe like the inner model; one DeadlineChat per request.
#pragma once

#include <atomic>
#include <chrono>

#include "generate/chat.h"

namespace ragft::serve {

class DeadlineChat final : public ChatModel {
 public:
  using Clock = std::chrono::steady_clock;
  DeadlineChat(const ChatModel& inner, Clock::time_point deadline) : inner_(inner), deadline_(deadline) {}

  std::string config() const override { return inner_.config(); }
  Result<ChatResponse> complete(const ChatRequest& request) const override;
  Result<ChatResponse> stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const override;

  // A call was stopped because the deadline had passed.
  bool timed_out() const { return timed_out_.load(); }

 private:
  bool in_time() const;
  const ChatModel& inner_;
  const Clock::time_point deadline_;
  mutable std::atomic<bool> timed_out_{false};
};

}  // namespace ragft::serve
