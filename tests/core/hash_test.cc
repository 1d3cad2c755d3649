#include "core/hash.h"

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace ragft {
namespace {

// PINNED REGRESSION VALUES. content_hash() values are stored on disk (document change
// detection), so hash64 is a stable on-disk format: these were computed once from the
// implementation and must never change. If this test fails, the hash changed and every
// stored content hash is invalidated; restore the old function instead of updating the pins.
TEST(HashTest, Hash64PinnedValues) {
  EXPECT_EQ(hash64(""), 0x0000000000000000ULL);
  EXPECT_EQ(hash64("a"), 0x7d5bccf4d6693046ULL);
  EXPECT_EQ(hash64("abc"), 0xb53761873f9c74ceULL);
  EXPECT_EQ(hash64("hello world"), 0x08130a95078c8b7dULL);
  EXPECT_EQ(hash64("The quick brown fox jumps over the lazy dog"), 0xad2c7229bfe4d2e2ULL);
  EXPECT_EQ(hash64("", 42), 0x810879608e4259ccULL);
  EXPECT_EQ(hash64("a", 42), 0x3bfbae2cc66f67dbULL);
  EXPECT_EQ(hash64("abc", 42), 0xa69415441706b02cULL);
  EXPECT_EQ(hash64("hello world", 42), 0xe276edc40f8a022aULL);
  EXPECT_EQ(hash64("The quick brown fox jumps over the lazy dog", 42), 0x9f874b519db948aeULL);
}

// PINNED REGRESSION VALUES (see above): content hashes are persisted.
TEST(HashTest, ContentHashPinnedValues) {
  EXPECT_EQ(content_hash(""), "cca57a32eed7e6c9d3979a9c65b7832d");
  EXPECT_EQ(content_hash("a"), "a40831193f181d15e8fe491e23b5a8c0");
  EXPECT_EQ(content_hash("abc"), "c7810c0a2f7b83687a75640041762b54");
  EXPECT_EQ(content_hash("hello world"), "df4f1192288c70be1a3dbcf33cfe2e6c");
  EXPECT_EQ(content_hash("The quick brown fox jumps over the lazy dog"),
            "58e9182abaa334eafdb8b3fff441f828");
}

TEST(HashTest, Deterministic) {
  std::string a = "some document text";
  std::string b = a;  // different buffer, same bytes
  EXPECT_EQ(hash64(a), hash64(b));
  EXPECT_EQ(hash64(a, 7), hash64(b, 7));
  EXPECT_EQ(content_hash(a), content_hash(b));
}

TEST(HashTest, SeedsSelectDifferentFunctions) {
  for (std::string_view s : {std::string_view(""), std::string_view("x"),
                             std::string_view("hello world"),
                             std::string_view("0123456789abcdef0123")}) {
    std::set<std::uint64_t> seen;
    for (std::uint64_t seed : {0ULL, 1ULL, 2ULL, 42ULL, 0x1234567ULL, 0xABCDEF01ULL, ~0ULL}) {
      seen.insert(hash64(s, seed));
    }
    EXPECT_EQ(seen.size(), 7u) << "input '" << s << "'";
  }
}

TEST(HashTest, OneByteChangeAtEveryPositionChangesHash) {
  const std::string base = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
  ASSERT_EQ(base.size(), 40u);
  const std::uint64_t h0 = hash64(base);
  std::set<std::uint64_t> seen = {h0};
  for (std::size_t i = 0; i < base.size(); ++i) {
    std::string changed = base;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_NE(hash64(changed), h0) << "position " << i;
    EXPECT_NE(hash64(changed, 99), hash64(base, 99)) << "position " << i;
    EXPECT_NE(content_hash(changed), content_hash(base)) << "position " << i;
    seen.insert(hash64(changed));
  }
  EXPECT_EQ(seen.size(), 41u);  // all 40 variants also differ from each other
}

TEST(HashTest, TailLengthsZeroToSeventeen) {
  const std::string text = "abcdefghijklmnopqrstuvwxyz";
  std::set<std::uint64_t> prefixes;
  for (std::size_t n = 0; n <= 17; ++n) {
    std::string_view prefix(text.data(), n);  // a view into a longer buffer
    std::string copy(prefix);                 // exactly n bytes
    // Only the n bytes of the view count, never the bytes after it.
    EXPECT_EQ(hash64(prefix), hash64(copy)) << "length " << n;
    EXPECT_EQ(hash64(prefix, 5), hash64(copy, 5)) << "length " << n;
    prefixes.insert(hash64(prefix));
    if (n > 0) {
      // Changing the last byte (inside the tail for n % 8 != 0) changes the hash.
      std::string last = copy;
      last.back() = 'Z';
      EXPECT_NE(hash64(last), hash64(copy)) << "length " << n;
    }
    // Trailing zero bytes are not the same as a shorter input.
    std::string padded = copy + std::string(1, '\0');
    EXPECT_NE(hash64(padded), hash64(copy)) << "length " << n;
  }
  EXPECT_EQ(prefixes.size(), 18u);
}

TEST(HashTest, AllZeroInputsOfDifferentLengthsDiffer) {
  std::set<std::uint64_t> seen;
  for (std::size_t n = 0; n <= 17; ++n) seen.insert(hash64(std::string(n, '\0')));
  EXPECT_EQ(seen.size(), 18u);
}

TEST(HashTest, NullEmptyViewEqualsEmptyString) {
  std::string_view null_view;  // data() == nullptr
  EXPECT_EQ(hash64(null_view), hash64(std::string()));
  EXPECT_EQ(content_hash(null_view), content_hash(""));
}

TEST(HashTest, ContentHashIs32LowercaseHex) {
  for (std::string_view s : {std::string_view(""), std::string_view("a"),
                             std::string_view("\xff\x00\x10", 3),
                             std::string_view("a much longer piece of text, over sixteen bytes")}) {
    std::string h = content_hash(s);
    ASSERT_EQ(h.size(), 32u);
    for (char c : h) {
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << "char '" << c << "' in " << h;
    }
  }
}

TEST(HashTest, ContentHashIsTwoSeededHash64) {
  // The contract: two independent hash64 seeds, 16 hex digits each.
  const std::string s = "contract check";
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx",
                static_cast<unsigned long long>(hash64(s, 0x1234567ULL)),
                static_cast<unsigned long long>(hash64(s, 0xABCDEF01ULL)));
  EXPECT_EQ(content_hash(s), std::string(buf));
  EXPECT_NE(content_hash(s).substr(0, 16), content_hash(s).substr(16));
}

}  // namespace
}  // namespace ragft
