#include "embed/subword_text.h"

#include <utf8proc.h>

#include <array>
#include <cstring>

namespace ragft::subword {

namespace {

// The allowed range of the k-th continuation byte (k = 1..3) after lead byte c; lo > hi when the
// lead byte cannot start a sequence of that length.
struct Range {
  std::uint8_t lo, hi;
};

// Number of bytes a sequence starting with lead byte c has (0: not a lead byte).
std::size_t sequence_length(std::uint8_t c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

Range continuation(std::uint8_t lead, std::size_t k) {
  if (k == 1) {
    if (lead == 0xE0) return {0xA0, 0xBF};
    if (lead == 0xED) return {0x80, 0x9F};
    if (lead == 0xF0) return {0x90, 0xBF};
    if (lead == 0xF4) return {0x80, 0x8F};
  }
  return {0x80, 0xBF};
}

// Length of the longest prefix of s[i..] that is a prefix of a well-formed sequence; equals the
// sequence length when the sequence is complete. At least 1.
std::size_t well_formed_prefix(std::string_view s, std::size_t i, std::size_t& full) {
  auto lead = static_cast<std::uint8_t>(s[i]);
  full = sequence_length(lead);
  if (full <= 1) return 1;
  std::size_t n = 1;
  while (n < full && i + n < s.size()) {
    auto b = static_cast<std::uint8_t>(s[i + n]);
    Range r = continuation(lead, n);
    if (b < r.lo || b > r.hi) break;
    ++n;
  }
  return n;
}

std::array<std::string, 256> make_byte_level_chars() {
  std::array<std::string, 256> out;
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    append_utf8(out[static_cast<std::size_t>(b)], printable ? static_cast<char32_t>(b) : next++);
  }
  return out;
}

}  // namespace

std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  auto c = static_cast<std::uint8_t>(s[i]);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  std::size_t full = 0;
  std::size_t n = well_formed_prefix(s, i, full);
  if (full < 2 || n != full) {
    cp = 0xFFFD;
    return 1;
  }
  char32_t v = c & (0xFF >> (full + 1));
  for (std::size_t k = 1; k < full; ++k) v = (v << 6) | (static_cast<std::uint8_t>(s[i + k]) & 0x3F);
  cp = v;
  return full;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (static_cast<std::uint8_t>(bytes[i]) < 0x80) {
      out += bytes[i++];
      continue;
    }
    std::size_t full = 0;
    std::size_t n = well_formed_prefix(bytes, i, full);
    if (full >= 2 && n == full) {
      out.append(bytes.substr(i, n));
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += n;
  }
  return out;
}

bool is_white_space(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  }
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

std::string byte_piece(std::uint8_t b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s = "<0x";
  s += kHex[b >> 4];
  s += kHex[b & 0xF];
  s += '>';
  return s;
}

int parse_byte_piece(std::string_view piece, bool upper_only) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  auto hex = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (!upper_only && c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int hi = hex(piece[3]), lo = hex(piece[4]);
  if (hi < 0 || lo < 0) return -1;
  return hi * 16 + lo;
}

const std::string& byte_level_char(std::uint8_t b) {
  static const std::array<std::string, 256> kChars = make_byte_level_chars();
  return kChars[b];
}

int byte_level_byte(char32_t cp) {
  // kShifted[n]: the byte that maps to U+0100 + n.
  static const std::array<int, 68> kShifted = [] {
    std::array<int, 68> t{};
    std::size_t n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      if (!printable) t[n++] = b;
    }
    return t;
  }();
  if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF)) {
    return static_cast<int>(cp);
  }
  if (cp < 0x100 || cp >= 0x100 + kShifted.size()) return -1;
  return kShifted[cp - 0x100];
}

std::uint64_t hash_bytes(std::string_view s) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = 0xCBF29CE484222325ull ^ (s.size() * kMul);
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (i < s.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

void PairMap::reserve(std::size_t n) {
  std::size_t cap = 16;
  while (cap < n * 2) cap *= 2;
  if (cap <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  shift_ = 64;
  for (std::size_t c = cap; c > 1; c >>= 1) --shift_;
  size_ = 0;
  for (const Slot& s : old) {
    if (s.key != kEmpty)
      insert_or_assign(static_cast<std::int32_t>(s.key >> 32), static_cast<std::int32_t>(s.key), s.value);
  }
}

void PairMap::grow() { reserve(slots_.empty() ? 8 : slots_.size()); }

void PairMap::insert_or_assign(std::int32_t a, std::int32_t b, Value v) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  std::uint64_t key = pack(a, b);
  for (std::size_t i = slot_of(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) {
      s.value = v;
      return;
    }
    if (s.key == kEmpty) {
      s.key = key;
      s.value = v;
      ++size_;
      return;
    }
  }
}

void StringMap::rehash(std::size_t capacity) {
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (std::size_t e = 0; e < entries_.size(); ++e) {
    std::uint64_t h = hash_bytes(entries_[e].first);
    std::size_t i = h & mask_;
    while (slots_[i].entry >= 0) i = (i + 1) & mask_;
    slots_[i] = {h, static_cast<std::int32_t>(e)};
  }
}

bool StringMap::insert(std::string key, std::int32_t id) {
  if (find(key) >= 0) return false;  // ids are never negative
  entries_.emplace_back(std::move(key), id);
  if (entries_.size() * 2 > slots_.size()) {
    rehash(slots_.empty() ? 16 : slots_.size() * 2);
    return true;
  }
  std::uint64_t h = hash_bytes(entries_.back().first);
  std::size_t i = h & mask_;
  while (slots_[i].entry >= 0) i = (i + 1) & mask_;
  slots_[i] = {h, static_cast<std::int32_t>(entries_.size() - 1)};
  return true;
}

}  // namespace ragft::subword
