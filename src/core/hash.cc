#include "core/hash.h"

#include <cstring>

#include <fmt/format.h>

namespace ragft {

namespace {
constexpr std::uint64_t kMul1 = 0x9E3779B97F4A7C15ULL;
constexpr std::uint64_t kMul2 = 0xC2B2AE3D27D4EB4FULL;

inline std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}
}  // namespace

std::uint64_t hash64(std::string_view data, std::uint64_t seed) {
  std::uint64_t h = seed ^ (data.size() * kMul1);
  const char* p = data.data();
  std::size_t n = data.size();
  while (n >= 8) {
    std::uint64_t k;
    std::memcpy(&k, p, 8);
    h ^= rotl(k * kMul2, 31) * kMul1;
    h = rotl(h, 27) * 5 + 0x52DCE729;
    p += 8;
    n -= 8;
  }
  std::uint64_t tail = 0;
  if (n > 0) std::memcpy(&tail, p, n);  // p may be null for an empty view
  h ^= rotl(tail * kMul2, 31) * kMul1;
  return mix(h);
}

std::string content_hash(std::string_view data) {
  return fmt::format("{:016x}{:016x}", hash64(data, 0x1234567ULL), hash64(data, 0xABCDEF01ULL));
}

}  // namespace ragft
