#include "serve/deadline_chat.h"

namespace ragft::serve {

bool DeadlineChat::in_time() const {
  if (Clock::now() < deadline_) return true;
  timed_out_ = true;
  return false;
}

Result<ChatResponse> DeadlineChat::complete(const ChatRequest& request) const {
  return stream(request, [](std::string_view) { return true; });
}

Result<ChatResponse> DeadlineChat::stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const {
  if (!in_time()) return make_error(ErrorCode::kCancelled, "the request's time limit passed before the model was called");
  auto r = inner_.stream(request, [&](std::string_view delta) { return in_time() && on_delta(delta); });
  if (!r.ok() && timed_out()) {
    return make_error(ErrorCode::kCancelled, "the model was stopped at the request's time limit ({})",
                      r.error().message);
  }
  return r;
}

}  // namespace ragft::serve
