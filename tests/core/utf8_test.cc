#include "core/utf8.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace ragft {
namespace {

const std::string kRepl = "\xEF\xBF\xBD";  // U+FFFD
// "aé€😀b": 1-, 2-, 3- and 4-byte characters, then ASCII.
const std::string kMixed = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80" "b";

std::string repl(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += kRepl;
  return out;
}

TEST(Utf8Test, ValidText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii\n\t"));
  EXPECT_TRUE(is_valid_utf8(std::string_view("nul\0inside", 10)));
  EXPECT_TRUE(is_valid_utf8(kMixed));
  EXPECT_TRUE(is_valid_utf8("Stra\xC3\x9F" "e \xE6\x97\xA5\xE6\x9C\xAC \xD0\x9C\xD0\xBE\xD1\x81"));
}

TEST(Utf8Test, ValidBoundaryCodePoints) {
  EXPECT_TRUE(is_valid_utf8("\x7F"));              // U+007F
  EXPECT_TRUE(is_valid_utf8("\xC2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(is_valid_utf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(is_valid_utf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));      // U+E000, just above the surrogates
  EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the largest
}

TEST(Utf8Test, Overlongs) {
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));          // NUL in 2 bytes
  EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));          // U+007F in 2 bytes
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\x80"));      // NUL in 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\x80"));  // NUL in 4 bytes
  EXPECT_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
}

TEST(Utf8Test, Surrogates) {
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // U+D800
  EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));  // U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 pair for U+1F600
}

TEST(Utf8Test, BeyondMaxCodePoint) {
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xF8\x88\x80\x80\x80"));  // old 5-byte form
  EXPECT_FALSE(is_valid_utf8("\xFE"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(Utf8Test, TruncatedAndStrayBytes) {
  EXPECT_FALSE(is_valid_utf8("\xC3"));                 // 2-byte, 1 present
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));             // 3-byte, 2 present
  EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98"));         // 4-byte, 3 present
  EXPECT_FALSE(is_valid_utf8("ab\xE2\x82"));           // truncated at the end
  EXPECT_FALSE(is_valid_utf8("\xE2\x82z"));            // continuation replaced by ASCII
  EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98" "a"));
  EXPECT_FALSE(is_valid_utf8("\x80"));                 // lone continuation
  EXPECT_FALSE(is_valid_utf8("a\xBF" "b"));
  EXPECT_FALSE(is_valid_utf8("\xC3\xA9\xA9"));         // extra continuation
}

TEST(Utf8Test, SanitizeKeepsValidTextByteIdentical) {
  for (const std::string& s : {std::string(""), std::string("ascii only"), kMixed,
                               std::string("\xF4\x8F\xBF\xBF\xEF\xBF\xBD"),
                               std::string("nul\0x", 5)}) {
    EXPECT_EQ(sanitize_utf8(s), s);
  }
}

TEST(Utf8Test, SanitizeReplacesEachInvalidByte) {
  EXPECT_EQ(sanitize_utf8("\xFF"), kRepl);
  EXPECT_EQ(sanitize_utf8("a\x80" "b"), "a" + kRepl + "b");
  EXPECT_EQ(sanitize_utf8("\xC0\x80"), repl(2));
  EXPECT_EQ(sanitize_utf8("\xE0\x80\x80"), repl(3));
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), repl(3));
  EXPECT_EQ(sanitize_utf8("\xF4\x90\x80\x80"), repl(4));
  std::string x_trunc = "x";
  x_trunc += repl(2);
  EXPECT_EQ(sanitize_utf8("x\xE2\x82"), x_trunc);
  // A truncated sequence followed by valid text: only the bad bytes are replaced.
  EXPECT_EQ(sanitize_utf8("\xE2\x82" "z\xC3\xA9"), repl(2) + "z\xC3\xA9");
  EXPECT_EQ(sanitize_utf8("\xF0\x9F\x98" + kMixed), repl(3) + kMixed);
  EXPECT_EQ(sanitize_utf8(kMixed + "\xC3"), kMixed + kRepl);
}

TEST(Utf8Test, SanitizeOutputIsAlwaysValid) {
  // Every single byte value and every pair of high bytes.
  for (int a = 0; a < 256; ++a) {
    std::string one(1, static_cast<char>(a));
    EXPECT_TRUE(is_valid_utf8(sanitize_utf8(one))) << a;
    for (int b = 0x80; b < 256; b += 7) {
      std::string two = one + static_cast<char>(b) + "\xE2";
      EXPECT_TRUE(is_valid_utf8(sanitize_utf8(two))) << a << " " << b;
    }
  }
}

TEST(Utf8Test, CharAndByteOffsetsRoundTrip) {
  ASSERT_EQ(kMixed.size(), 11u);
  // Boundaries: a@0, é@1, €@3, 😀@6, b@10, end@11.
  const std::vector<std::size_t> bytes = {0, 1, 3, 6, 10, 11};
  for (std::size_t c = 0; c < bytes.size(); ++c) {
    EXPECT_EQ(char_offset(kMixed, bytes[c]), c) << "byte " << bytes[c];
    EXPECT_EQ(byte_offset(kMixed, c), bytes[c]) << "char " << c;
    EXPECT_EQ(char_offset(kMixed, byte_offset(kMixed, c)), c);
    EXPECT_EQ(byte_offset(kMixed, char_offset(kMixed, bytes[c])), bytes[c]);
  }
  // Past the end.
  EXPECT_EQ(byte_offset(kMixed, 6), kMixed.size());
  EXPECT_EQ(byte_offset(kMixed, 100), kMixed.size());
  EXPECT_EQ(char_offset(kMixed, 100), 5u);
  EXPECT_EQ(char_offset("", 0), 0u);
  EXPECT_EQ(byte_offset("", 0), 0u);
}

TEST(Utf8Test, CursorMatchesCharOffset) {
  const std::vector<std::size_t> bytes = {0, 1, 3, 6, 10, 11};
  CharOffsetCursor cursor(kMixed);
  for (std::size_t b : bytes) {
    EXPECT_EQ(cursor.to_char(b), char_offset(kMixed, b)) << "byte " << b;
    EXPECT_EQ(cursor.to_char(b), char_offset(kMixed, b)) << "repeat byte " << b;
  }
}

TEST(Utf8Test, CursorWithSkipsOverLongerText) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += kMixed + " ";
  std::vector<std::size_t> boundaries;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      boundaries.push_back(i);
    }
  }
  ASSERT_EQ(boundaries.size(), 50u * 6 + 1);
  CharOffsetCursor cursor(text);
  // Ascending, uneven strides, including jumps over several multi-byte characters.
  std::size_t step = 1;
  for (std::size_t k = 0; k < boundaries.size(); k += step, step = step % 5 + 1) {
    std::size_t b = boundaries[k];
    EXPECT_EQ(cursor.to_char(b), k) << "byte " << b;
    EXPECT_EQ(char_offset(text, b), k);
    EXPECT_EQ(byte_offset(text, k), b);
  }
  EXPECT_EQ(cursor.to_char(text.size() + 10), boundaries.size() - 1);
}

}  // namespace
}  // namespace ragft
