#include "text/bpe.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

// Sennrich et al.'s example: low x5, lower x2, newest x6, widest x3.
std::vector<std::string> corpus() {
  std::vector<std::string> t;
  for (int i = 0; i < 5; ++i) t.push_back("low");
  for (int i = 0; i < 2; ++i) t.push_back("lower");
  for (int i = 0; i < 6; ++i) t.push_back("newest");
  for (int i = 0; i < 3; ++i) t.push_back("widest");
  return t;
}

TEST(BpeTest, LearnsTheMostFrequentPairsFirst) {
  // 11 base symbols (d e i l n o r</w> s t</w> w w</w>) + padding + unknown = 13 ids; a limit of
  // 17 leaves room for 4 merges. Pair counts: e+s 9 and s+t</w> 9 (tie: the smaller pair e+s
  // first), then es+t</w> 9, then l+o 7, then a three-way tie at 6 (n+e, e+w, w+est</w>) won by
  // the smallest, e+w.
  BpeTokenizer t = BpeTokenizer::train(corpus(), 17);
  ASSERT_EQ(t.merges(), 4u);
  EXPECT_EQ(t.size(), 17u);
  std::string s = t.serialize();
  auto m1 = s.find("m e s\n"), m2 = s.find("m es t</w>\n"), m3 = s.find("m l o\n"), m4 = s.find("m e w\n");
  ASSERT_NE(m1, std::string::npos) << s;
  ASSERT_NE(m2, std::string::npos) << s;
  ASSERT_NE(m3, std::string::npos) << s;
  ASSERT_NE(m4, std::string::npos) << s;
  EXPECT_LT(m1, m2);
  EXPECT_LT(m2, m3);
  EXPECT_LT(m3, m4);
  // An unseen word: l o w e s t</w> -> es -> est</w> -> lo; "e w" does not occur any more.
  EXPECT_EQ(t.word_pieces("lowest"), (std::vector<std::string>{"lo", "w", "est</w>"}));
  EXPECT_EQ(t.word_pieces("newest"), (std::vector<std::string>{"n", "ew", "est</w>"}));
}

TEST(BpeTest, VocabularyLimitAndPairsSeenOnce) {
  BpeTokenizer small = BpeTokenizer::train(corpus(), 14);
  EXPECT_LE(small.size(), 14u);
  BpeTokenizer big = BpeTokenizer::train(corpus(), 1000);
  // Training stops when no pair occurs twice: every word is then one symbol.
  for (const char* w : {"low", "lower", "newest", "widest"}) EXPECT_EQ(big.word_pieces(w).size(), 1u) << w;
  EXPECT_LT(big.size(), 1000u);
}

TEST(BpeTest, EncodesUnknownCodePointsAsUnk) {
  BpeTokenizer t = BpeTokenizer::train({"abc abd", "abc"}, 50);
  auto ids = t.encode("abc  zz ab\xc3\xa9");
  // "abc" is one symbol; "zz" has two unknown code points; "abé": ab + unknown é</w>.
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_GE(ids[0], 2);
  EXPECT_EQ(ids[1], BpeTokenizer::kUnk);
  EXPECT_EQ(ids[2], BpeTokenizer::kUnk);
  EXPECT_GE(ids[3], 2);
  EXPECT_EQ(ids[4], BpeTokenizer::kUnk);
  EXPECT_TRUE(t.encode("   ").empty());
}

TEST(BpeTest, SerializeRoundTripsAndRejectsDamage) {
  BpeTokenizer t = BpeTokenizer::train(corpus(), 30);
  auto back = BpeTokenizer::parse(t.serialize());
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->serialize(), t.serialize());
  for (const char* text : {"lowest newer", "wide news", "xyz low"}) EXPECT_EQ(back->encode(text), t.encode(text)) << text;

  for (std::string bad : {std::string(""), std::string("ragft-bpe 2\n"), std::string("ragft-bpe 1\nq x\n"),
                          std::string("ragft-bpe 1\nm a\n"), t.serialize().substr(0, t.serialize().size() - 1)}) {
    auto r = BpeTokenizer::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  }
}

}  // namespace
}  // namespace ragft
