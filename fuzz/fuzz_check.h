// Shared by the libFuzzer targets: an invariant check that stops the fuzzer, and checks of
// the text contracts several modules share (UTF-8, spans over a text).
//
// A failed FUZZ_CHECK prints the condition and a note to stderr and traps, so libFuzzer saves
// the input as a crash (scripts/fuzz prints its path). Not for library code: there bugs are
// RAGFT_CHECK and bad input is a Result error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.h"

#define FUZZ_CHECK(cond, note)                                                                  \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "%s:%d: invariant failed: %s (%s)\n", __FILE__, __LINE__, #cond,     \
                   std::string(note).c_str());                                                  \
      __builtin_trap();                                                                         \
    }                                                                                           \
  } while (0)

namespace ragft::fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

inline bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// True when `offset` (<= text.size()) does not split a UTF-8 sequence of valid `text`.
inline bool on_code_point(std::string_view text, std::size_t offset) {
  return offset == text.size() || !is_continuation(text[offset]);
}

// Byte length of the whitespace character at text[i] by the text module's definition (ASCII
// whitespace, NEL, NBSP, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), or 0.
// Written independently of src/text/sentences.cc so the two can disagree.
inline std::size_t space_len(std::string_view text, std::size_t i) {
  if (is_ascii_space(text[i])) return 1;
  const std::string_view rest = text.substr(i);
  auto starts = [&](std::string_view p) { return rest.substr(0, p.size()) == p; };
  if (starts("\xC2\x85") || starts("\xC2\xA0")) return 2;
  if (starts("\xE1\x9A\x80") || starts("\xE2\x80\xA8") || starts("\xE2\x80\xA9") ||
      starts("\xE2\x80\xAF") || starts("\xE2\x81\x9F") || starts("\xE3\x80\x80")) {
    return 3;
  }
  if (rest.size() >= 3 && starts("\xE2\x80") && static_cast<unsigned char>(rest[2]) >= 0x80 &&
      static_cast<unsigned char>(rest[2]) <= 0x8A) {
    return 3;
  }
  return 0;
}

// A mask of the bytes of `text` that are not whitespace (space_len), i.e. the bytes a set of
// spans "covering every non-blank part" must cover.
inline std::vector<bool> content_mask(std::string_view text) {
  std::vector<bool> mask(text.size(), false);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t k = space_len(text, i);
    if (k > 0) {
      i += k;
    } else {
      mask[i++] = true;
    }
  }
  return mask;
}

}  // namespace ragft::fuzz
