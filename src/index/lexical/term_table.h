// String interning for the segment builder: maps each distinct term to a dense id without a
// heap allocation per term (bytes live in one arena; open addressing over hashes).
// Not thread-safe. Internal to src/index/lexical.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"

namespace ragft::lexical {

class TermTable {
 public:
  TermTable() { slots_.assign(1024, kEmpty); }

  // Id of `term`, adding it if new. Ids are dense from 0 in insertion order.
  std::uint32_t intern(std::string_view term) {
    const std::uint64_t h = hash64(term);
    std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (true) {
      const std::uint32_t id = slots_[i];
      if (id == kEmpty) break;
      if (hashes_[id] == h && str(id) == term) return id;
      i = (i + 1) & mask;
    }
    const auto id = static_cast<std::uint32_t>(offs_.size() - 1);
    arena_.append(term);
    offs_.push_back(arena_.size());
    hashes_.push_back(h);
    slots_[i] = id;
    if ((offs_.size() - 1) * 2 > slots_.size()) grow();
    return id;
  }
  std::string_view str(std::uint32_t id) const {
    return std::string_view(arena_).substr(offs_[id], offs_[id + 1] - offs_[id]);
  }
  std::size_t size() const { return offs_.size() - 1; }
  void clear() {
    arena_.clear();
    offs_.assign(1, 0);
    hashes_.clear();
    slots_.assign(1024, kEmpty);
  }

 private:
  static constexpr std::uint32_t kEmpty = UINT32_MAX;
  void grow() {
    std::vector<std::uint32_t> s(slots_.size() * 2, kEmpty);
    const std::size_t mask = s.size() - 1;
    for (std::uint32_t id = 0; id < hashes_.size(); ++id) {
      std::size_t i = hashes_[id] & mask;
      while (s[i] != kEmpty) i = (i + 1) & mask;
      s[i] = id;
    }
    slots_.swap(s);
  }

  std::string arena_;
  std::vector<std::uint64_t> offs_{0};
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint32_t> slots_;
};

}  // namespace ragft::lexical
