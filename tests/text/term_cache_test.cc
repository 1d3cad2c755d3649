#include "text/term_cache.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ragft::text_internal {
namespace {

// prefix + decimal i (built with append: GCC 12 warns falsely on "literal" + std::string).
std::string key_of(const char* prefix, int i) {
  std::string key(prefix);
  key.append(std::to_string(i));
  return key;
}

TEST(TermCacheTest, InsertFindAndGrow) {
  TermCache cache;
  constexpr int kN = 50000;  // several doublings past the initial 1024 slots
  for (int i = 0; i < kN; ++i) {
    std::string key = key_of("word", i);
    std::string value = i % 7 == 0 ? std::string() : key_of("stem", i);
    std::string_view stored = cache.insert(key, value, term_hash(key));
    ASSERT_EQ(stored, value);
  }
  EXPECT_EQ(cache.size(), static_cast<std::size_t>(kN));
  for (int i = 0; i < kN; ++i) {
    std::string key = key_of("word", i);
    std::string_view value;
    ASSERT_TRUE(cache.find(key, term_hash(key), value)) << key;
    EXPECT_EQ(value, i % 7 == 0 ? std::string() : key_of("stem", i));
  }
  std::string_view value;
  EXPECT_FALSE(cache.find("word", term_hash("word"), value));
  EXPECT_FALSE(cache.find("word50000", term_hash("word50000"), value));
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find("word1", term_hash("word1"), value));
  cache.insert("word1", "again", term_hash("word1"));
  ASSERT_TRUE(cache.find("word1", term_hash("word1"), value));
  EXPECT_EQ(value, "again");
}

TEST(TermCacheTest, EqualHashesAreResolvedByKey) {
  TermCache cache;
  // Force every key onto one hash: lookups must compare the bytes.
  cache.insert("alpha", "a", 42);
  cache.insert("beta", "b", 42);
  cache.insert("alphb", "c", 42);
  std::string_view v;
  ASSERT_TRUE(cache.find("beta", 42, v));
  EXPECT_EQ(v, "b");
  ASSERT_TRUE(cache.find("alphb", 42, v));
  EXPECT_EQ(v, "c");
  EXPECT_FALSE(cache.find("gamma", 42, v));
  // Keys of every length up to 20 that differ in one byte only, wherever it is, all on one hash
  // (inline and arena slots): each finds its own value.
  TermCache same;
  std::vector<std::pair<std::string, std::string>> keys;
  for (std::size_t len = 1; len <= 20; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      std::string k(len, 'a');
      k[at] = 'b';
      keys.emplace_back(k, std::to_string(len) + ":" + std::to_string(at));
    }
    keys.emplace_back(std::string(len, 'a'), std::to_string(len));
  }
  for (const auto& [k, value] : keys) same.insert(k, value, 7);
  for (const auto& [k, value] : keys) {
    ASSERT_TRUE(same.find(k, 7, v)) << k;
    EXPECT_EQ(v, value) << k;
  }
  EXPECT_FALSE(same.find(std::string(21, 'a'), 7, v));
  EXPECT_FALSE(same.find("ac", 7, v));
}

TEST(TermCacheTest, HashIsNonZeroAndSpreads) {
  std::unordered_set<std::uint64_t> low_bits;
  for (int i = 0; i < 4096; ++i) {
    std::uint64_t h = term_hash(key_of("w", i));
    ASSERT_NE(h, 0u);
    low_bits.insert(h & 0xFFF);
  }
  // 4096 keys into 4096 buckets: a random function fills about 63% of them.
  EXPECT_GT(low_bits.size(), 2400u);
  // Short strings are hashed from a few overlapping loads: every byte must count. All strings of
  // up to 4 bytes over 8 letters, and of 5 to 7 bytes over 4, hash apart.
  std::set<std::uint64_t> hashes;
  std::size_t strings = 0;
  const std::string letters = "abcdefgh";
  for (std::size_t len = 1; len <= 7; ++len) {
    const std::size_t base = len <= 4 ? 8 : 4;
    std::size_t count = 1;
    for (std::size_t i = 0; i < len; ++i) count *= base;
    for (std::size_t code = 0; code < count; ++code) {
      std::string s(len, 'a');
      for (std::size_t i = 0, c = code; i < len; ++i, c /= base) s[i] = letters[c % base];
      hashes.insert(term_hash(s));
      ++strings;
    }
  }
  EXPECT_EQ(hashes.size(), strings);
  EXPECT_NE(term_hash(""), 0u);
  EXPECT_NE(term_hash("abcdefgh"), term_hash("abcdefgi"));
}

}  // namespace
}  // namespace ragft::text_internal
