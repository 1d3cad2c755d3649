#include "text/term_cache.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"

namespace ragft::text_internal {

namespace {

constexpr std::size_t kInitialSlots = 1024;

std::uint64_t load64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint32_t load32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The n bytes at p (0 < n < 8) in one word, read with fixed-size loads only: a variable-length
// copy into a stack word compiled to byte stores followed by a wide load, which stalls on store
// forwarding (it was the analyzer's slowest instruction). Every byte lands in the value; the
// caller mixes n in as well.
std::uint64_t load_tail(const char* p, std::size_t n) {
  if (n >= 4) return load32(p) | (std::uint64_t{load32(p + n - 4)} << 32);
  const auto b = [p](std::size_t i) { return std::uint64_t{static_cast<std::uint8_t>(p[i])}; };
  return b(0) | (b(n / 2) << 8) | (b(n - 1) << 16);
}

// a[0, n) == b[0, n), inlined for the short keys of most words (fixed-size, overlapping loads).
bool equal_bytes(const char* a, const char* b, std::size_t n) {
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8) return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
  if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
  if (n == 0) return true;
  return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
}

std::uint64_t fmix64(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::uint64_t term_hash(std::string_view s) {
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0x100000001b3ULL);
  while (n >= 8) {
    h = (h ^ load64(p)) * 0x87c37b91114253d5ULL;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  if (n > 0) h = (h ^ load_tail(p, n)) * 0x4cf5ad432745937fULL;
  h = fmix64(h);
  return h == 0 ? 1 : h;
}

TermCache::TermCache() : slots_(kInitialSlots), mask_(kInitialSlots - 1) {}

bool TermCache::find(std::string_view key, std::uint64_t h, std::string_view& value) const {
  std::size_t i = h & mask_;
  while (true) {
    const Slot& s = slots_[i];
    if (s.hash == 0) return false;
    if (s.hash == h && s.key_len == key.size()) {
      const char* b = bytes(s);
      if (equal_bytes(b, key.data(), key.size())) {
        value = std::string_view(b + s.key_len, s.value_len);
        return true;
      }
    }
    i = (i + 1) & mask_;
  }
}

std::string_view TermCache::insert(std::string_view key, std::string_view value, std::uint64_t h) {
  RAGFT_CHECK(key.size() <= 0xFFFF && value.size() <= 0xFFFF);
  if ((size_ + 1) * 2 > slots_.size()) grow();  // load factor <= 1/2
  std::size_t i = h & mask_;
  while (slots_[i].hash != 0) i = (i + 1) & mask_;
  Slot& s = slots_[i];
  s.hash = h;
  s.key_len = static_cast<std::uint16_t>(key.size());
  s.value_len = static_cast<std::uint16_t>(value.size());
  char* dest;
  if (s.is_inline()) {
    dest = s.data;
  } else {
    RAGFT_CHECK(arena_.size() + key.size() + value.size() <= 0xFFFFFFFFu);
    s.offset = static_cast<std::uint32_t>(arena_.size());
    arena_.resize(arena_.size() + key.size() + value.size());
    dest = arena_.data() + s.offset;
  }
  if (!key.empty()) std::memcpy(dest, key.data(), key.size());
  if (!value.empty()) std::memcpy(dest + key.size(), value.data(), value.size());
  ++size_;
  return std::string_view(dest + key.size(), value.size());
}

void TermCache::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  arena_.clear();
  size_ = 0;
}

void TermCache::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    std::size_t i = s.hash & mask_;
    while (slots_[i].hash != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

}  // namespace ragft::text_internal
