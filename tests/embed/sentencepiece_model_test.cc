#include "embed/sentencepiece_model.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/utf8.h"
#include "embed/tokenizer_test_data.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using namespace testdata;
using Ids = std::vector<std::int32_t>;
using Pieces = std::vector<std::string>;

fs::path make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "ragft_sp_XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) std::abort();
  return tmpl;
}

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

SentencePieceModel load(const SpSpec& spec, SentencePieceOptions o = {}) {
  auto m = SentencePieceModel::from_bytes(sp_model_bytes(spec), o);
  if (!m.ok()) {
    ADD_FAILURE() << m.error().to_string();
    std::abort();
  }
  return std::move(m).value();
}

ErrorCode load_error(const std::string& bytes) {
  auto m = SentencePieceModel::from_bytes(bytes);
  EXPECT_FALSE(m.ok());
  return m.ok() ? ErrorCode::kInternal : m.error().code;
}

// encode(text, false) ids, and the decoded ids (nullptr when they hold the unknown piece,
// which SentencePiece decodes as " ⁇ " and this class as "<unk>" or nothing).
struct SpGolden {
  const char* text;
  Ids ids;
  const char* decoded;
};

// Expected values computed by libsentencepiece 0.1.97 (Debian's; SentencePieceProcessor::
// LoadFromSerializedProto, Encode, Decode) in a program outside this repository, on the model
// files that tokenizer_test_data.h writes.
const SpGolden kLlama2Golden[] = {
    {"Hello world", {268, 273}, "Hello world"},
    {" hello  world   ", {288, 288, 262, 264, 292, 288, 273, 282, 288}, " hello  world   "},
    {"I'm don't 'S it's WE'LL they've",
     {288, 76, 42,  319, 288, 299, 292, 294, 42, 290, 288, 42, 86,  288, 293,
      290, 42, 295, 288, 90,  72,  42,  79,  79, 263, 320, 42, 121, 289},
     "I'm don't 'S it's WE'LL they've"},
    {"12345 1234567 3.14",
     {288, 52, 53, 54, 55, 56, 288, 52, 53, 54, 55, 56, 57, 58, 288, 54, 316, 52, 55},
     "12345 1234567 3.14"},
    {"Grüße, 世界! 🎉🙂",
     {278, 279, 315, 281, 317, 288, 243, 162, 145, 140, 243, 162, 156, 133},
     "Grüße, 世界! 🎉🙂"},
    {"tab\there\n\nnew  lines\r\n end\n",
     {261, 291, 307, 12, 262, 297, 289, 13, 13, 294, 289, 301, 282, 298, 274, 289, 295, 16, 13, 288, 289, 294, 299, 13},
     "tab\there\n\nnew  lines\r\n end\n"},
    {"<s>hello</s>", {288, 63, 295, 65, 262, 264, 292, 63, 50, 295, 65}, "<s>hello</s>"},
    {"a <mask> b  <mask>",
     {286, 288, 63, 319, 291, 295, 306, 65, 288, 307, 282, 63, 319, 291, 295, 306, 65},
     "a <mask> b  <mask>"},
    {"newtok newtoks xnewtok newtok.",
     {288, 294, 289, 301, 290, 292, 306, 288, 294, 289, 301, 290, 292, 306, 295, 288,
      309, 294, 289, 301, 290, 292, 306, 288, 294, 289, 301, 290, 292, 306, 316},
     "newtok newtoks xnewtok newtok."},
    {"<|begin_of_text|>hello<|eot_id|> world",
     {288, 63,  127, 307, 289, 321, 274, 98,  292, 308, 98,  290, 289, 309, 290, 127,
      65,  262, 264, 292, 63,  127, 289, 292, 290, 98,  293, 299, 127, 65,  273},
     "<|begin_of_text|>hello<|eot_id|> world"},
    {"<|im_start|>user\nhi<|im_end|>\n",
     {288, 63, 127, 293, 319, 98,  295, 290, 291, 297, 290, 127, 65,  304, 295,
      283, 13, 296, 293, 63,  127, 293, 319, 98,  289, 294, 299, 127, 65,  13},
     "<|im_start|>user\nhi<|im_end|>\n"},
    {"Ce\u0301sar café", {288, 70, 289, 207, 132, 295, 291, 297, 288, 305, 291, 308, 198, 172}, "Ce\u0301sar café"},
    {"", {}, ""},
    {"x\u00a0y\u3000z", {288, 309, 197, 163, 320, 230, 131, 131, 125}, "x\u00a0y\u3000z"},
    {"ＨＥＬＬＯ world!! 12",
     {288, 242, 191, 171, 242, 191, 168, 242, 191, 175, 242, 191, 175, 242, 191, 178, 273, 317, 317, 288, 52, 53},
     "ＨＥＬＬＯ world!! 12"},
    {"Привет мир",
     {288, 211, 162, 212, 131, 211, 187, 211, 181, 211, 184, 212, 133, 288, 211, 191, 211, 187, 212, 131},
     "Привет мир"},
    {"emoji 👩\u200d👩\u200d👧 family",
     {288, 289, 319, 292, 109, 293, 288, 243, 162, 148, 172, 229, 131, 144, 243, 162,
      148, 172, 229, 131, 144, 243, 162, 148, 170, 288, 308, 291, 319, 293, 298, 320},
     "emoji 👩\u200d👩\u200d👧 family"},
    {"hello world\n\n\n   ", {288, 262, 264, 292, 273, 13, 13, 13, 282, 288}, "hello world\n\n\n   "},
    {"xyz hello Hello", {288, 309, 320, 125, 288, 262, 264, 292, 268}, "xyz hello Hello"},
    {"Aİb", {288, 68, 199, 179, 307}, "Aİb"},
    {"l'été été", {288, 298, 42, 198, 172, 290, 198, 172, 288, 198, 172, 290, 198, 172}, "l'été été"},
    {"  \n  \n", {282, 288, 13, 282, 13}, "  \n  \n"},
    {"a<sep>b <sep>", {286, 259, 307, 288, 259}, "a<sep>b <sep>"},
    {"ＨＥＬＬＯ ﬁsh Á ① A\u0301",
     {288, 242, 191, 171, 242, 191, 168, 242, 191, 175, 242, 191, 175, 242, 191, 178, 288,
      242, 175, 132, 295, 296, 288, 198, 132, 288, 229, 148, 163, 288, 68,  207, 132},
     "ＨＥＬＬＯ ﬁsh Á ① A\u0301"},
    {"\tfish\t\tis   new\u3000york ",
     {288, 12, 308, 293, 295, 296, 12, 12, 293, 295, 282, 288, 294, 289, 301, 230, 131, 131, 320, 270, 306, 288},
     "\tfish\t\tis   new\u3000york "},
    {"the new york fish", {263, 288, 294, 289, 301, 288, 320, 270, 306, 288, 308, 293, 295, 296}, "the new york fish"},
    {"  the  world ", {282, 263, 288, 273, 288}, "  the  world "},
};

const SpGolden kUnigramGolden[] = {
    {"Hello world", {3, 0, 9, 16}, nullptr},
    {" hello  world   ", {5, 6, 16}, "hello world"},
    {"I'm don't 'S it's WE'LL they've",
     {3, 0, 3, 19, 13, 26, 0, 20, 3, 0, 3, 36, 20, 0, 35, 3, 0, 4, 30, 0, 11},
     nullptr},
    {"12345 1234567 3.14", {3, 0, 3, 0, 3, 0}, nullptr},
    {"Grüße, 世界! 🎉🙂", {3, 0, 18, 0, 11, 0, 3, 0, 3, 0}, nullptr},
    {"tab\there\n\nnew  lines\r\n end\n",
     {21, 24, 44, 0, 22, 18, 11, 0, 26, 28, 3, 12, 36, 26, 11, 35, 0, 3, 11, 26, 19, 0},
     nullptr},
    {"<s>hello</s>", {3, 0, 35, 0, 22, 6, 0, 35, 0}, nullptr},
    {"a <mask> b  <mask>", {23, 3, 0, 24, 35, 32, 0, 43, 3, 0, 24, 35, 32, 0}, nullptr},
    {"newtok newtoks xnewtok newtok.",
     {25, 20, 13, 32, 25, 20, 13, 32, 35, 3, 0, 26, 28, 20, 13, 32, 25, 20, 13, 32, 0},
     nullptr},
    {"<|begin_of_text|>hello<|eot_id|> world",
     {3, 0, 44, 11, 0, 36, 26, 0, 13, 39, 0, 20, 11, 0, 20, 0, 22, 6, 0, 11, 13, 20, 0, 36, 19, 0, 16},
     nullptr},
    {"<|im_start|>user\nhi<|im_end|>\n",
     {3, 0, 36, 0, 35, 20, 24, 18, 20, 0, 35, 11, 18, 0, 10, 36, 0, 36, 0, 11, 26, 19, 0},
     nullptr},
    {"Ce\u0301sar café", {3, 0, 11, 0, 35, 24, 18, 3, 38, 24, 39, 0}, nullptr},
    {"", {}, ""},
    {"x\u00a0y\u3000z", {3, 0, 30, 0}, nullptr},
    {"ＨＥＬＬＯ world!! 12", {3, 0, 16, 0, 3, 0}, nullptr},
    {"Привет мир", {3, 0, 3, 0}, nullptr},
    {"emoji 👩\u200d👩\u200d👧 family", {3, 11, 0, 13, 0, 36, 3, 0, 40, 24, 0, 36, 12, 30}, nullptr},
    {"hello world\n\n\n   ", {5, 6, 16, 0}, nullptr},
    {"xyz hello Hello", {3, 0, 30, 0, 5, 6, 3, 0, 9}, nullptr},
    {"Aİb", {3, 0, 44}, nullptr},
    {"l'été été", {3, 12, 0, 20, 0, 3, 0, 20, 0}, nullptr},
    {"  \n  \n", {3, 0, 3, 0}, nullptr},
    {"a<sep>b <sep>", {23, 45, 44, 3, 45}, "a<sep>b <sep>"},
    {"ＨＥＬＬＯ ﬁsh Á ① A\u0301", {3, 0, 3, 0, 35, 10, 3, 0, 3, 0, 3, 0}, nullptr},
    {"\tfish\t\tis   new\u3000york ", {3, 0, 39, 41, 0, 36, 35, 25, 0, 30, 34}, nullptr},
    {"the new york fish", {4, 25, 33, 42}, "the new york fish"},
    {"  the  world ", {4, 16}, "the world"},
};

const SpGolden kCharsMapGolden[] = {
    {"Hello world", {51, 9, 16}, "Hello world"},
    {" hello  world   ", {5, 6, 16}, "hello world"},
    {"Grüße, 世界! 🎉🙂", {3, 0, 18, 0, 11, 0, 3, 0, 3, 0}, nullptr},
    {"tab\there\n\nnew  lines\r\n end\n",
     {21, 24, 44, 5, 18, 11, 0, 26, 28, 3, 12, 36, 26, 11, 35, 0, 3, 11, 26, 19, 0},
     nullptr},
    {"", {}, ""},
    {"x\u00a0y\u3000z", {3, 0, 30, 3, 0}, nullptr},
    {"hello world\n\n\n   ", {5, 6, 16, 0}, nullptr},
    {"a<sep>b <sep>", {23, 45, 44, 3, 45}, "a<sep>b <sep>"},
    {"ＨＥＬＬＯ ﬁsh Á ① A\u0301", {51, 48, 52, 42, 55, 57, 55}, "HELLO fish Á 1 Á"},
    {"\tfish\t\tis   new\u3000york ", {42, 37, 25, 33}, "fish is new york"},
    {"the new york fish", {4, 25, 33, 42}, "the new york fish"},
    {"  the  world ", {4, 16}, "the world"},
};

const SpGolden kSuffixGolden[] = {
    {"Hello world", {266, 323, 301, 270, 326}, "Hello world "},
    {" hello  world   ", {288, 262, 264, 323, 271, 326, 282, 288}, "hello  world    "},
    {"Grüße, 世界! 🎉🙂",
     {312, 277, 279, 315, 281, 317, 288, 243, 162, 145, 140, 243, 162, 156, 133, 288},
     "Grüße, 世界! 🎉🙂 "},
    {"tab\there\n\nnew  lines\r\n end\n",
     {290, 291, 307, 12,  262, 297, 289, 13,  13,  294, 289, 301, 282,
      298, 274, 289, 295, 16,  13,  288, 289, 294, 299, 13,  288},
     "tab\there\n\nnew  lines\r\n end\n "},
    {"", {}, ""},
    {"hello world\n\n\n   ", {262, 264, 323, 301, 270, 272, 13, 13, 13, 287}, "hello world\n\n\n    "},
    {"a<sep>b <sep>", {291, 259, 307, 288, 259, 288}, "a<sep>b <sep> "},
    {"the new york fish",
     {290, 262, 288, 294, 289, 301, 288, 320, 270, 306, 288, 308, 293, 295, 296, 288},
     "the new york fish "},
    {"  the  world ", {288, 263, 288, 271, 326, 288}, " the  world  "},
};

const SpGolden kNoEscapeGolden[] = {
    {"Hello world", {0, 9, 47, 17, 31, 15}, nullptr},
    {" hello  world   ", {50, 47, 17, 31, 15}, "hello world"},
    {"Grüße, 世界! 🎉🙂", {0, 18, 0, 11, 0, 47, 0, 47, 0}, nullptr},
    {"tab\there\n\nnew  lines\r\n end\n",
     {20, 24, 44, 0, 22, 18, 11, 0, 26, 28, 47, 12, 36, 26, 11, 35, 0, 47, 11, 26, 19, 0},
     nullptr},
    {"", {}, ""},
    {"hello world\n\n\n   ", {50, 47, 17, 31, 15, 0}, nullptr},
    {"a<sep>b <sep>", {24, 45, 44, 47, 45}, "a<sep>b <sep>"},
    {"the new york fish", {20, 22, 47, 26, 28, 47, 30, 34, 47, 39, 41}, "the new york fish"},
    {"  the  world ", {20, 22, 47, 17, 31, 15}, "the world"},
};

const SpGolden kLlama2TrimGolden[] = {
    {"Hello world", {268, 273}, "Hello world"},
    {" hello  world   ", {288, 262, 264, 292, 273}, "hello world"},
    {"Grüße, 世界! 🎉🙂",
     {278, 279, 315, 281, 317, 288, 243, 162, 145, 140, 243, 162, 156, 133},
     "Grüße, 世界! 🎉🙂"},
    {"tab\there\n\nnew  lines\r\n end\n",
     {261, 291, 307, 12, 262, 297, 289, 13, 13, 294, 289, 301, 288, 298, 274, 289, 295, 16, 13, 288, 289, 294, 299, 13},
     "tab\there\n\nnew lines\r\n end\n"},
    {"", {}, ""},
    {"hello world\n\n\n   ", {288, 262, 264, 292, 273, 13, 13, 13}, "hello world\n\n\n"},
    {"a<sep>b <sep>", {286, 259, 307, 288, 259}, "a<sep>b <sep>"},
    {"the new york fish", {263, 288, 294, 289, 301, 288, 320, 270, 306, 288, 308, 293, 295, 296}, "the new york fish"},
    {"  the  world ", {263, 273}, "the world"},
};

void check_golden(const SpSpec& spec, const SpGolden* rows, std::size_t n) {
  SentencePieceOptions o;
  o.split_special = false;  // as SentencePiece itself: "<s>" in the text is plain text
  auto m = load(spec, o);
  for (std::size_t i = 0; i < n; ++i) {
    SCOPED_TRACE(rows[i].text);
    Ids ids = m.encode(rows[i].text, false);
    EXPECT_EQ(ids, rows[i].ids);
    if (rows[i].decoded) {
      EXPECT_EQ(m.decode(ids), rows[i].decoded);
    }
  }
}

TEST(SentencePieceModel, MatchesReferenceBpeWithByteFallback) {
  check_golden(sp_llama2_spec(), kLlama2Golden, std::size(kLlama2Golden));
}
TEST(SentencePieceModel, MatchesReferenceUnigram) {
  check_golden(sp_unigram_spec(), kUnigramGolden, std::size(kUnigramGolden));
}
TEST(SentencePieceModel, MatchesReferencePrecompiledCharsMap) {
  check_golden(sp_unigram_charsmap_spec(), kCharsMapGolden, std::size(kCharsMapGolden));
}
TEST(SentencePieceModel, MatchesReferenceWhitespaceAsSuffix) {
  check_golden(sp_suffix_spec(), kSuffixGolden, std::size(kSuffixGolden));
}
TEST(SentencePieceModel, MatchesReferenceUnescapedWhitespace) {
  check_golden(sp_noescape_spec(), kNoEscapeGolden, std::size(kNoEscapeGolden));
}
TEST(SentencePieceModel, MatchesReferenceExtraWhitespaceRemoved) {
  check_golden(sp_llama2_trim_spec(), kLlama2TrimGolden, std::size(kLlama2TrimGolden));
}

TEST(SentencePieceModel, ReadsTheModelProto) {
  auto m = load(sp_llama2_spec());
  EXPECT_EQ(m.type(), SentencePieceModel::Type::kBpe);
  EXPECT_EQ(load(sp_unigram_spec()).type(), SentencePieceModel::Type::kUnigram);
  EXPECT_EQ(m.size(), sp_llama2_spec().pieces.size());
  EXPECT_EQ(m.unk_id(), 0);
  EXPECT_EQ(m.bos_id(), 1);
  EXPECT_EQ(m.eos_id(), 2);
  EXPECT_EQ(m.pad_id(), -1);
  EXPECT_EQ(m.token(3), "<0x00>");
  EXPECT_EQ(m.piece_type(3), SentencePieceModel::PieceType::kByte);
  EXPECT_EQ(m.piece_type(m.id("<sep>")), SentencePieceModel::PieceType::kUserDefined);
  EXPECT_EQ(m.piece_type(m.id("▁he")), SentencePieceModel::PieceType::kUnused);
  EXPECT_FLOAT_EQ(m.score(m.id("▁t")), -1.0f);
  EXPECT_TRUE(m.is_special(1));
  EXPECT_FALSE(m.is_special(m.id("▁t")));
  EXPECT_EQ(m.id("nope"), -1);
  EXPECT_EQ(m.token(-1), "");
  EXPECT_EQ(m.normalize(" Hello  world"), "▁▁Hello▁▁world");
  EXPECT_EQ(load(sp_unigram_spec()).normalize("  Hello \t world "), "▁Hello▁\t▁world");
  EXPECT_EQ(load(sp_unigram_charsmap_spec()).normalize("\uFF28i\tﬁ  A\u0301"), "▁Hi▁fi▁\u00C1");
}

TEST(SentencePieceModel, BpeMergesByScore) {
  auto m = load(sp_llama2_spec());
  // "he" (-2) before "ll" (-4); "He" "Hell" "Hello" "▁Hello" are reachable pair by pair.
  EXPECT_EQ(m.encode_pieces("Hello hello"), (Pieces{"▁Hello", "▁", "he", "ll", "o"}));
  // "▁he" is UNUSED: merged on the way, then split back.
  EXPECT_EQ(m.encode_pieces("he"), (Pieces{"▁", "he"}));
  // User-defined pieces are never merged nor split.
  EXPECT_EQ(m.encode_pieces("the<sep>the"), (Pieces{"▁the", "<sep>", "t", "he"}));
}

TEST(SentencePieceModel, UnigramPicksTheBestSegmentation) {
  auto m = load(sp_unigram_spec());
  // "▁hello": ▁he + llo = -4.5 - 4.0 = -8.5 beats ▁hello (-9.0) and ▁h + ello (-9.2).
  EXPECT_EQ(m.encode_pieces("hello"), (Pieces{"▁he", "llo"}));
  // "▁world": ▁world (-8.5) beats ▁wor + ld (-9.0); the UNUSED "▁worl" (-1) is never used.
  EXPECT_EQ(m.encode_pieces("world"), (Pieces{"▁world"}));
  // User-defined pieces win.
  EXPECT_EQ(m.encode_pieces("a<sep>b"), (Pieces{"▁a", "<sep>", "b"}));
  // Unknown characters: one unknown piece per run (no byte fallback).
  EXPECT_EQ(m.encode("hello XYZ", false), (Ids{m.id("▁he"), m.id("llo"), m.id("▁"), m.unk_id()}));
}

TEST(SentencePieceModel, ByteFallbackAndInvalidInput) {
  auto m = load(sp_llama2_spec());
  EXPECT_EQ(m.encode_pieces("🎉"), (Pieces{"▁", "<0xF0>", "<0x9F>", "<0x8E>", "<0x89>"}));
  // An ill-formed byte becomes U+FFFD (EF BF BD), then its bytes.
  EXPECT_EQ(m.encode_pieces("a\xFF"), (Pieces{"▁a", "<0xEF>", "<0xBF>", "<0xBD>"}));
  EXPECT_EQ(m.decode(m.encode("a\xFF", true), true), "a\uFFFD");
  EXPECT_EQ(m.decode(m.encode("a\xFF", true), false), "<s> a\uFFFD");  // after "<s>", "▁" is a space
  // Byte pieces that do not form UTF-8: one U+FFFD per byte (as SentencePiece).
  EXPECT_EQ(m.decode(Ids{m.id("▁a"), m.id("<0xF0>"), m.id("<0x9F>"), m.id("▁a")}), "a\uFFFD\uFFFD a");
}

TEST(SentencePieceModel, SpecialPiecesInText) {
  auto m = load(sp_llama2_spec());
  // <s> and </s> written in the text are their ids; each stretch of text is encoded on its own.
  EXPECT_EQ(m.encode_pieces("<s>hi</s>"), (Pieces{"<s>", "▁", "h", "i", "</s>"}));
  EXPECT_EQ(m.encode("<s>[INST]", false).front(), m.bos_id());
  SentencePieceOptions plain;
  plain.split_special = false;
  EXPECT_EQ(load(sp_llama2_spec(), plain).encode_pieces("<s>"), (Pieces{"▁", "<0x3C>", "s", "<0x3E>"}));
}

TEST(SentencePieceModel, BosAndEosOptions) {
  auto m = load(sp_llama2_spec());
  Ids plain = m.encode("hello", false);
  Ids with = m.encode("hello", true);
  ASSERT_EQ(with.size(), plain.size() + 1);
  EXPECT_EQ(with.front(), 1);
  SentencePieceOptions o;
  o.add_bos = false;
  o.add_eos = true;
  Ids eos = load(sp_llama2_spec(), o).encode("hello", true);
  EXPECT_EQ(eos.back(), 2);
  EXPECT_EQ(Ids(eos.begin(), eos.end() - 1), plain);
}

TEST(SentencePieceModel, Decode) {
  auto m = load(sp_llama2_spec());
  Ids ids = m.encode(" hello  world", true);
  EXPECT_EQ(m.decode(ids, true), " hello  world");  // one leading "▁" (the dummy prefix) is dropped
  EXPECT_EQ(m.decode(ids, false), "<s>  hello  world");
  EXPECT_EQ(m.decode(Ids{m.id("▁world"), m.id("▁world")}), "world world");
  EXPECT_EQ(m.decode(Ids{m.unk_id(), m.id("▁world")}, false), "<unk> world");
  EXPECT_EQ(m.decode(Ids{m.unk_id(), m.id("▁world")}, true), "world");
  EXPECT_EQ(m.decode(Ids{-1, 99999, m.id("▁world")}), "world");
  // remove_extra_whitespaces: every leading "▁" of the text is dropped.
  auto u = load(sp_unigram_spec());
  EXPECT_EQ(u.decode(Ids{u.id("▁"), u.id("▁the"), u.id("▁")}), "the ");
}

// Random text from many scripts, with emoji, combining marks, controls and odd whitespace.
std::string random_text(std::mt19937& rng) {
  static const std::vector<std::pair<char32_t, char32_t>> kRanges = {
      {0x20, 0x7E},   {0x09, 0x0D},   {0xA0, 0x17F},    {0x300, 0x36F},   {0x391, 0x3C9},   {0x410, 0x44F},
      {0x620, 0x64A}, {0x900, 0x97F}, {0x3040, 0x30FF}, {0x4E00, 0x4FFF}, {0xAC00, 0xAD00}, {0x1F300, 0x1F64F}};
  std::uniform_int_distribution<std::size_t> len(0, 40), pick(0, kRanges.size() - 1);
  std::string s;
  for (std::size_t n = len(rng); n > 0; --n) {
    auto [lo, hi] = kRanges[pick(rng)];
    s += utf8(std::uniform_int_distribution<char32_t>(lo, hi)(rng));
  }
  return s;
}

TEST(SentencePieceModel, ByteFallbackModelRoundTripsAnyText) {
  // Identity normalisation, extra spaces kept, byte fallback: decode(encode(x)) == x.
  auto m = load(sp_llama2_spec());
  std::mt19937 rng(3);
  for (int i = 0; i < 500; ++i) {
    std::string text = random_text(rng);
    SCOPED_TRACE(text);
    ASSERT_EQ(m.decode(m.encode(text, true), true), text);
  }
  const std::string multilingual =
      "The quick brown fox — Grüße aus Köln! Ελληνικά, русский, עברית, العربية, हिन्दी, 日本語, 中文, 한국어 "
      "🎉👩‍👩‍👧\n\tend";
  EXPECT_EQ(m.decode(m.encode(multilingual, true), true), multilingual);
}

TEST(SentencePieceModel, WordByWordBpeMatchesWholeTextBpe) {
  // BPE goes word by word when no piece has text before a "▁". One such piece (never reachable:
  // neither "Q▁" nor "▁Z" is a piece) makes the model segment the whole text at once instead;
  // the ids must be the same.
  SpSpec whole = sp_llama2_spec();
  whole.pieces.push_back({"Q▁Z", 10.0f, kNormal});
  auto by_word = load(sp_llama2_spec());
  auto at_once = load(whole);
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    std::string text = random_text(rng) + "  the hello world  " + random_text(rng);
    SCOPED_TRACE(text);
    ASSERT_EQ(by_word.encode(text, true), at_once.encode(text, true));
  }
}

TEST(SentencePieceModel, ConcurrentEncodingGivesTheSameIds) {
  auto m = load(sp_unigram_charsmap_spec());
  std::mt19937 rng(11);
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(random_text(rng));
  std::vector<Ids> expected;
  for (const auto& s : texts) expected.push_back(m.encode(s, true));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 5; ++round) {
        for (std::size_t i = 0; i < texts.size(); ++i) mismatches[k] += m.encode(texts[i], true) != expected[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(SentencePieceModel, UnsupportedModelTypes) {
  for (int type : {3, 4, 9}) {  // WORD, CHAR, unknown
    SpSpec s = sp_unigram_spec();
    s.model_type = type;
    auto m = SentencePieceModel::from_bytes(sp_model_bytes(s));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, ErrorCode::kUnsupported);
  }
}

TEST(SentencePieceModel, DamagedFilesAreCorrupt) {
  std::string good = sp_model_bytes(sp_llama2_spec());
  EXPECT_EQ(load_error(good.substr(0, good.size() - 3)), ErrorCode::kCorrupt);  // truncated
  EXPECT_EQ(load_error(good.substr(0, 100)), ErrorCode::kCorrupt);
  EXPECT_EQ(load_error(""), ErrorCode::kCorrupt);                          // no pieces
  EXPECT_EQ(load_error("\x0A\xFF\xFF\xFF"), ErrorCode::kCorrupt);          // length past the end
  EXPECT_EQ(load_error(std::string("\x08\x01", 2)), ErrorCode::kCorrupt);  // field 1 as a varint
  EXPECT_EQ(load_error("{\"model\": {}}"), ErrorCode::kCorrupt);           // a tokenizer.json given by mistake
  auto edit = [](auto f) {
    SpSpec s = sp_llama2_spec();
    f(s);
    return load_error(sp_model_bytes(s));
  };
  EXPECT_EQ(edit([](SpSpec& s) { s.pieces[0].type = kNormal; }), ErrorCode::kCorrupt);  // no unknown piece
  EXPECT_EQ(edit([](SpSpec& s) { s.pieces.push_back({"<unk>", 0, kUnknown}); }), ErrorCode::kCorrupt);
  EXPECT_EQ(edit([](SpSpec& s) { s.pieces.push_back({"▁t", 0, kNormal}); }), ErrorCode::kCorrupt);  // twice
  EXPECT_EQ(edit([](SpSpec& s) { s.pieces.push_back({"", 0, kNormal}); }), ErrorCode::kCorrupt);
  EXPECT_EQ(edit([](SpSpec& s) { s.pieces.push_back({"x", 0, 7}); }), ErrorCode::kCorrupt);        // no such type
  EXPECT_EQ(edit([](SpSpec& s) { s.pieces.erase(s.pieces.begin() + 10); }), ErrorCode::kCorrupt);  // 255 bytes
  EXPECT_EQ(edit([](SpSpec& s) { s.byte_fallback = false; }), ErrorCode::kCorrupt);  // byte pieces without it
  EXPECT_EQ(edit([](SpSpec& s) {
              s.charsmap = std::string(
                  "\x10\0\0\0"
                  "abc",
                  7);
            }),
            ErrorCode::kCorrupt);
  auto missing = SentencePieceModel::from_file("/nonexistent/tokenizer.model");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(SentencePieceModel, DamagedBytesNeverCrash) {
  // Random byte flips and truncations of valid models: each load is either an error (corrupt or
  // unsupported) or a model whose output is valid UTF-8. (Run under ASan/UBSan too.)
  std::mt19937 rng(9);
  const std::string models[] = {sp_model_bytes(sp_llama2_spec()), sp_model_bytes(sp_unigram_charsmap_spec())};
  int loaded = 0, refused = 0;
  for (int i = 0; i < 400; ++i) {
    std::string bytes = models[i % 2];
    std::uniform_int_distribution<std::size_t> pos(0, bytes.size() - 1);
    for (int k = 0; k < 1 + i % 4; ++k) bytes[pos(rng)] = static_cast<char>(rng() & 0xFF);
    if (i % 5 == 0) bytes.resize(pos(rng));
    auto m = SentencePieceModel::from_bytes(bytes);
    if (!m.ok()) {
      ++refused;
      EXPECT_TRUE(m.error().code == ErrorCode::kCorrupt || m.error().code == ErrorCode::kUnsupported)
          << m.error().to_string();
      continue;
    }
    ++loaded;
    std::string out = m->decode(m->encode("Hello world, ﬁsh \uFF28 🎉 <s>", true));
    EXPECT_EQ(sanitize_utf8(out), out);
  }
  EXPECT_GT(loaded, 0);
  EXPECT_GT(refused, 0);
}

TEST(SentencePieceModel, FromDirReadsTokenizerConfig) {
  fs::path dir = make_temp_dir();
  write(dir / "tokenizer.model", sp_model_bytes(sp_llama2_spec()));
  auto plain = SentencePieceModel::from_dir(dir);
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  EXPECT_EQ(plain->encode("hi", true).front(), 1);
  write(dir / "tokenizer_config.json",
        R"({"add_bos_token": false, "add_eos_token": true, "pad_token": "</s>", "bos_token": {"content": "<s>"}})");
  auto m = SentencePieceModel::from_dir(dir);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  Ids ids = m->encode("hi", true);
  EXPECT_NE(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  EXPECT_EQ(m->pad_id(), 2);
  EXPECT_EQ(m->bos_id(), 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ragft
