// Fixed-width bit packing of small unsigned integers, used for posting blocks.
// pack() appends ceil(n*width/8) bytes; unpack() reads them back with unaligned 64-bit loads, so
// the buffer must have at least 8 readable bytes past the packed data (segment files pad).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace ragft::lexical {

// Bits needed to represent v (0 for v == 0).
inline std::uint32_t bit_width_of(std::uint32_t v) { return static_cast<std::uint32_t>(std::bit_width(v)); }

// Appends `n` values of `width` bits (0..32) each, LSB-first.
inline void pack(const std::uint32_t* values, std::size_t n, std::uint32_t width, std::string& out) {
  if (width == 0) return;
  std::uint64_t acc = 0;
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc |= static_cast<std::uint64_t>(values[i]) << bits;
    bits += width;
    while (bits >= 8) {
      out.push_back(static_cast<char>(acc & 0xFF));
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out.push_back(static_cast<char>(acc & 0xFF));
}

inline std::size_t packed_bytes(std::size_t n, std::uint32_t width) { return (n * width + 7) / 8; }

// Reads `n` values of `width` bits from `in` into `out`.
inline void unpack(const char* in, std::size_t n, std::uint32_t width, std::uint32_t* out) {
  if (width == 0) {
    for (std::size_t i = 0; i < n; ++i) out[i] = 0;
    return;
  }
  const std::uint64_t mask = (width == 32) ? 0xFFFFFFFFull : ((1ull << width) - 1);
  std::size_t bitpos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t w;
    std::memcpy(&w, in + (bitpos >> 3), 8);
    out[i] = static_cast<std::uint32_t>((w >> (bitpos & 7)) & mask);
    bitpos += width;
  }
}

}  // namespace ragft::lexical
