// Result<T>: the value of an operation that can fail in an expected way, or an Error.
// Bugs are not errors: they go to RAGFT_CHECK (check.h).
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace ragft {

// The short list of failure kinds. Only the server maps them to HTTP statuses.
enum class ErrorCode {
  kInvalidArgument,    // the caller's input is wrong (bad flag, malformed file, unknown field)
  kNotFound,           // a named thing does not exist
  kCorrupt,            // stored data fails a check (magic, version, checksum, truncation)
  kIo,                 // the operating system refused (open, read, write, fsync, rename)
  kUnsupported,        // valid input we do not handle (format, option)
  kResourceExhausted,  // a limit was hit (size, memory, count)
  kCancelled,
  kInternal,
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // says what was wrong, where, and what to do

  std::string to_string() const { return fmt::format("{}: {}", error_code_name(code), message); }
};

template <typename... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Error{code, fmt::format(f, std::forward<Args>(args)...)};
}

// Holds either a T or an Error. Access to the wrong alternative is a bug (CHECKed).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error&& take_error() { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace ragft

// Propagates an error: `RAGFT_TRY(auto x, f());` or `RAGFT_TRY_STATUS(g());`.
#define RAGFT_CONCAT_INNER(a, b) a##b
#define RAGFT_CONCAT(a, b) RAGFT_CONCAT_INNER(a, b)
#define RAGFT_TRY_IMPL(tmp, decl, expr)   \
  auto tmp = (expr);                      \
  if (!tmp.ok()) return tmp.take_error(); \
  decl = std::move(tmp).value()
#define RAGFT_TRY(decl, expr) RAGFT_TRY_IMPL(RAGFT_CONCAT(ragft_try_, __LINE__), decl, expr)
#define RAGFT_TRY_STATUS(expr)                          \
  do {                                                  \
    auto ragft_status_ = (expr);                        \
    if (!ragft_status_.ok()) return ragft_status_.take_error(); \
  } while (0)
