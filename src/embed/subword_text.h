// Text helpers shared by the subword tokenizers (bpe_tokenizer, sentencepiece_model): UTF-8
// decoding, lossy UTF-8 repair, the Unicode classes their splitting rules use, "<0xNN>" byte
// pieces and GPT-2's byte-to-character map. Internal to ragft_embed; all functions are pure and
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ragft::subword {

// Decodes the code point at s[i] (i < s.size()) into `cp` and returns its length in bytes. A byte
// that does not start a well-formed sequence gives cp = U+FFFD and length 1.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp);
void append_utf8(std::string& out, char32_t cp);
// `bytes` as valid UTF-8: each maximal ill-formed subpart becomes one U+FFFD (the rule of the
// Unicode standard, WHATWG's TextDecoder and Rust's String::from_utf8_lossy).
std::string utf8_lossy(std::string_view bytes);

// The White_Space property (Rust's char::is_whitespace and Oniguruma's \s).
bool is_white_space(char32_t cp);
// General category L* (\p{L}) and N* (\p{N}).
bool is_letter(char32_t cp);
bool is_number(char32_t cp);
// Category P*, or ASCII punctuation.
bool is_punctuation(char32_t cp);

// "<0xNN>" (two upper-case hex digits) for byte b.
std::string byte_piece(std::uint8_t b);
// The byte of a "<0xNN>" piece, or -1. `upper_only`: only "<0xAB>" (SentencePiece), else also
// "<0xab>" (Hugging Face's ByteFallback decoder).
int parse_byte_piece(std::string_view piece, bool upper_only);

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order. Returns the character (as UTF-8) for byte b.
const std::string& byte_level_char(std::uint8_t b);
// The inverse: the byte of a byte-level character, or -1.
int byte_level_byte(char32_t cp);

// Transparent string hashing, for unordered_map<std::string, T, StringHash, std::equal_to<>>
// looked up with string_view.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// 64-bit hash of a byte string (multiply-mix over 8-byte words).
std::uint64_t hash_bytes(std::string_view s);

// Open-addressing map from a pair of 32-bit ids to (rank, id): the merge table. Built once,
// then read-only.
class PairMap {
 public:
  struct Value {
    std::uint32_t rank;
    std::int32_t id;
  };
  void reserve(std::size_t n);
  void insert_or_assign(std::int32_t a, std::int32_t b, Value v);
  const Value* find(std::int32_t a, std::int32_t b) const {
    if (slots_.empty()) return nullptr;
    std::uint64_t key = pack(a, b);
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  struct Slot {
    std::uint64_t key = kEmpty;
    Value value{};
  };
  static std::uint64_t pack(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  std::size_t slot_of(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }
  void grow();
  std::vector<Slot> slots_;
  std::size_t mask_ = 0, size_ = 0;
  int shift_ = 64;
};

// Open-addressing map from strings to ids >= 0 (a vocabulary); looked up by string_view. Built
// once, then read-only. Inserting a key again keeps the first id (returns false).
class StringMap {
 public:
  bool insert(std::string key, std::int32_t id);
  // -1 when absent.
  std::int32_t find(std::string_view key) const {
    if (slots_.empty()) return -1;
    std::uint64_t h = hash_bytes(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.entry < 0) return -1;
      if (s.hash == h && entries_[static_cast<std::size_t>(s.entry)].first == key) {
        return entries_[static_cast<std::size_t>(s.entry)].second;
      }
    }
  }
  std::size_t size() const { return entries_.size(); }
  // Entries in insertion order.
  const std::vector<std::pair<std::string, std::int32_t>>& entries() const { return entries_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::int32_t entry = -1;
  };
  void rehash(std::size_t capacity);
  std::vector<std::pair<std::string, std::int32_t>> entries_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace ragft::subword
