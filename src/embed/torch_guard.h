// The module edge for libtorch: runs a function and turns any exception it throws (c10::Error
// derives from std::exception, as do std::bad_alloc and JSON errors) into an Error, so no
// exception crosses a public API. Torch-free: usable from headers that must not include torch.
#pragma once

#include <exception>
#include <new>
#include <string_view>
#include <type_traits>

#include "core/result.h"

namespace ragft {

// `what` names the operation for the message ("encoder forward", "tagger training").
// F returns Result<T> or Status.
template <typename F>
auto torch_guard(std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kResourceExhausted, "{}: out of memory", what);
  } catch (const std::exception& e) {
    std::string_view msg = e.what();
    // c10 messages end with a C++ backtrace after the first line break: keep the first line.
    if (auto nl = msg.find('\n'); nl != std::string_view::npos) msg = msg.substr(0, nl);
    return make_error(ErrorCode::kInternal, "{}: {}", what, msg);
  }
}

// Sets libtorch's intra-op threads from the core count (libtorch starts with one), once per
// process; RAGFT_THREADS overrides. Does nothing in a build without torch. Thread-safe.
void init_torch_threads();
// Threads init_torch_threads() chose (0 before it ran or without torch).
int torch_threads();

}  // namespace ragft
