// UTF-8 helpers. Offsets shown to users ("char" offsets) count Unicode code points;
// internal offsets are byte offsets into UTF-8 text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ragft {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view s);
// Replaces each byte that does not start a valid sequence with U+FFFD (one per byte).
std::string sanitize_utf8(std::string_view s);
// Number of code points in s[0, byte_offset). byte_offset must lie on a code-point boundary.
std::size_t char_offset(std::string_view s, std::size_t byte_offset);
// Byte offset of the code point numbered `char_offset` (s.size() when past the end).
std::size_t byte_offset(std::string_view s, std::size_t char_offset);

// Converts many ascending byte offsets to char offsets in one pass.
class CharOffsetCursor {
 public:
  explicit CharOffsetCursor(std::string_view s) : s_(s) {}
  // `byte` must not decrease between calls.
  std::size_t to_char(std::size_t byte);

 private:
  std::string_view s_;
  std::size_t byte_ = 0;
  std::size_t chars_ = 0;
};

}  // namespace ragft
