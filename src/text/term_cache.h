// Internal to the text module: the analyzer's cache from a folded word to its analysed form.
// An open-addressing hash table (linear probing, power-of-two capacity, load <= 1/2) of 32-byte
// slots. A short entry (key + value <= 16 bytes, most English words) lives inside its slot, so
// a hit costs one cache line; longer ones live in a byte arena. No allocation per lookup.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ragft::text_internal {

// Fast non-cryptographic hash of a short byte string (never 0: 0 marks an empty slot).
std::uint64_t term_hash(std::string_view s);

class TermCache {
 public:
  TermCache();

  // True and `value` set when `key` (hash h = term_hash(key)) is stored. The view is valid
  // until the next insert() or clear().
  bool find(std::string_view key, std::uint64_t h, std::string_view& value) const;
  // Stores key -> value (key must not be present) and returns a view of the stored value,
  // valid until the next insert() or clear(). Keys and values are at most 65535 bytes.
  std::string_view insert(std::string_view key, std::string_view value, std::uint64_t h);
  // Removes all entries (keeps the memory).
  void clear();
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kInlineBytes = 16;
  struct Slot {
    std::uint64_t hash = 0;  // 0: empty
    std::uint16_t key_len = 0;
    std::uint16_t value_len = 0;
    std::uint32_t offset = 0;  // when not inline: key at arena_[offset], then the value
    char data[kInlineBytes] = {};  // when key_len + value_len <= kInlineBytes: key, then value
    bool is_inline() const { return key_len + value_len <= kInlineBytes; }
  };
  static_assert(sizeof(Slot) == 32);
  const char* bytes(const Slot& s) const { return s.is_inline() ? s.data : arena_.data() + s.offset; }
  void grow();

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::vector<char> arena_;
};

}  // namespace ragft::text_internal
