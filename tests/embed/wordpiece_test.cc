#include "embed/wordpiece.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace ragft {
namespace {

namespace fs = std::filesystem;
using Tokens = std::vector<std::string>;

fs::path make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "ragft_wp_XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) std::abort();
  return tmpl;
}

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// The vocabulary of Hugging Face's own BertTokenizer tests, plus a few.
const Tokens kVocab = {"[UNK]", "[CLS]", "[SEP]", "want",   "##want", "##ed",  "wa",     "un",    "runn",
                       "##ing", ",",     "low",   "lowest", "[PAD]",  "##aff", "##able", "hello", "!"};

WordPieceTokenizer make(WordPieceOptions o = {}) {
  auto t = WordPieceTokenizer::create(kVocab, std::move(o));
  if (!t.ok()) std::abort();
  return std::move(t).value();
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  auto t = make();
  EXPECT_EQ(t.tokenize("unaffable"), (Tokens{"un", "##aff", "##able"}));
  EXPECT_EQ(t.tokenize("unwanted running"), (Tokens{"un", "##want", "##ed", "runn", "##ing"}));
  EXPECT_EQ(t.tokenize("unwantedX running"), (Tokens{"[UNK]", "runn", "##ing"}));
  EXPECT_EQ(t.tokenize("lowest"), (Tokens{"lowest"}));
  EXPECT_EQ(t.tokenize(""), Tokens{});
  EXPECT_EQ(t.tokenize("  \n "), Tokens{});
}

TEST(WordPiece, LowercasesAndStripsAccentsByDefault) {
  auto t = make();
  EXPECT_EQ(t.tokenize("UNwant\u00E9d,running"), (Tokens{"un", "##want", "##ed", ",", "runn", "##ing"}));
  EXPECT_EQ(t.basic_tokens(" \tHeLLo!how  \n Are yoU?  "), (Tokens{"hello", "!", "how", "are", "you", "?"}));
  EXPECT_EQ(t.basic_tokens(" \tH\u00E4LLo!how  \n Are yoU?  "), (Tokens{"hallo", "!", "how", "are", "you", "?"}));
  // Decomposed input (a + combining diaeresis) gives the same.
  EXPECT_EQ(t.basic_tokens("Ha\u0308llo"), (Tokens{"hallo"}));
}

TEST(WordPiece, AccentOptions) {
  WordPieceOptions keep;
  keep.strip_accents = false;
  EXPECT_EQ(make(keep).basic_tokens(" \tH\u00E4LLo!how"), (Tokens{"h\u00E4llo", "!", "how"}));
  WordPieceOptions cased;
  cased.lowercase = false;
  EXPECT_EQ(make(cased).basic_tokens(" \tHeLLo!how  \n Are yoU?  "), (Tokens{"HeLLo", "!", "how", "Are", "yoU", "?"}));
  EXPECT_EQ(make(cased).basic_tokens("H\u00E4LLo"), (Tokens{"H\u00E4LLo"}));
  cased.strip_accents = true;
  EXPECT_EQ(make(cased).basic_tokens("H\u00E4LLo"), (Tokens{"HaLLo"}));
}

TEST(WordPiece, PunctuationSplitsOneCharEach) {
  auto t = make();
  EXPECT_EQ(t.basic_tokens("hi,,there...\u00BFok\u2014yes$"),
            (Tokens{"hi", ",", ",", "there", ".", ".", ".", "\u00BF", "ok", "\u2014", "yes", "$"}));
}

TEST(WordPiece, CjkCharactersAreSeparateTokens) {
  auto t = make();
  EXPECT_EQ(t.basic_tokens("ah\u535A\u63A8zz"), (Tokens{"ah", "\u535A", "\u63A8", "zz"}));
  WordPieceOptions o;
  o.split_cjk = false;
  EXPECT_EQ(make(o).basic_tokens("ah\u535A\u63A8zz"), (Tokens{"ah\u535A\u63A8zz"}));
}

TEST(WordPiece, CleansControlCharactersAndInvalidUtf8) {
  auto t = make();
  EXPECT_EQ(t.basic_tokens("he\x01llo\xe2\x80\x8bworld\tx"), (Tokens{"helloworld", "x"}));
  EXPECT_EQ(t.basic_tokens("a\xff"
                           "b"),
            (Tokens{"ab"}));  // U+FFFD dropped
  EXPECT_EQ(t.basic_tokens(std::string("a\0b", 3)), (Tokens{"ab"}));
  EXPECT_EQ(t.basic_tokens("a\u3000b\u00A0c"), (Tokens{"a", "b", "c"}));  // Zs separators
}

TEST(WordPiece, LongWordsAreUnknown) {
  auto t = WordPieceTokenizer::create({"[UNK]", "[CLS]", "[SEP]", "a", "##a"});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->tokenize(std::string(100, 'a')).size(), 100u);
  EXPECT_EQ(t->tokenize(std::string(101, 'a')), (Tokens{"[UNK]"}));
}

TEST(WordPiece, EncodeAddsSpecialTokensAndTruncates) {
  auto t = make();
  std::int32_t cls = t.id("[CLS]"), sep = t.id("[SEP]"), hello = t.id("hello"), un = t.id("un");
  EXPECT_EQ(cls, 1);
  EXPECT_EQ(sep, 2);
  EXPECT_EQ(t.pad_id(), 13);
  EXPECT_EQ(t.encode("hello", 16), (std::vector<std::int32_t>{cls, hello, sep}));
  EXPECT_EQ(t.encode("", 16), (std::vector<std::int32_t>{cls, sep}));
  EXPECT_EQ(t.encode("hello unaffable hello", 4), (std::vector<std::int32_t>{cls, hello, un, sep}));
  EXPECT_EQ(t.encode("hello unaffable hello", 5).size(), 5u);
  EXPECT_EQ(t.encode("hello unaffable hello", 100).size(), 7u);
  EXPECT_EQ(t.encode("hello", 0), (std::vector<std::int32_t>{cls, sep}));
  EXPECT_EQ(t.id("nope"), -1);
}

TEST(WordPiece, CreateChecksSpecialTokens) {
  auto dup = WordPieceTokenizer::create({"[UNK]", "[CLS]", "[SEP]", "a", "a"});
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->id("a"), 4);  // the last line wins, as in Hugging Face's load_vocab
  EXPECT_EQ(dup->size(), 5u);
  auto no_unk = WordPieceTokenizer::create({"[CLS]", "[SEP]", "a"});
  ASSERT_FALSE(no_unk.ok());
  EXPECT_EQ(no_unk.error().code, ErrorCode::kInvalidArgument);
}

TEST(WordPiece, VocabTxtWithTokenizerConfig) {
  fs::path dir = make_temp_dir();
  std::string txt;
  for (const auto& v : kVocab) txt += v + "\r\n";
  write(dir / "vocab.txt", txt);
  auto t = WordPieceTokenizer::from_dir(dir);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->size(), kVocab.size());
  EXPECT_EQ(t->id("##able"), 15);
  EXPECT_EQ(t->tokenize("UnAffable"), (Tokens{"un", "##aff", "##able"}));  // default: lowercase
  write(dir / "tokenizer_config.json", R"({"do_lower_case": false, "unk_token": {"content": "[UNK]"}})");
  auto cased = WordPieceTokenizer::from_dir(dir);
  ASSERT_TRUE(cased.ok()) << cased.error().to_string();
  EXPECT_EQ(cased->tokenize("UnAffable"), (Tokens{"[UNK]"}));
  EXPECT_EQ(cased->tokenize("unaffable"), (Tokens{"un", "##aff", "##able"}));
  fs::remove_all(dir);
}

TEST(WordPiece, TokenizerJson) {
  fs::path dir = make_temp_dir();
  nlohmann::json vocab = nlohmann::json::object();
  for (std::size_t i = 0; i < kVocab.size(); ++i) vocab[kVocab[i]] = i;
  nlohmann::json j = {{"version", "1.0"},
                      {"normalizer",
                       {{"type", "BertNormalizer"},
                        {"clean_text", true},
                        {"handle_chinese_chars", true},
                        {"strip_accents", nullptr},
                        {"lowercase", false}}},
                      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
                      {"post_processor", {{"type", "BertProcessing"}, {"cls", {"[CLS]", 1}}, {"sep", {"[SEP]", 2}}}},
                      {"model",
                       {{"type", "WordPiece"},
                        {"unk_token", "[UNK]"},
                        {"continuing_subword_prefix", "##"},
                        {"max_input_chars_per_word", 100},
                        {"vocab", vocab}}}};
  write(dir / "tokenizer.json", j.dump());
  write(dir / "vocab.txt", "this file is ignored when tokenizer.json exists\n");
  auto t = WordPieceTokenizer::from_dir(dir);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->size(), kVocab.size());
  EXPECT_EQ(t->tokenize("unaffable"), (Tokens{"un", "##aff", "##able"}));
  EXPECT_EQ(t->tokenize("Unaffable"), (Tokens{"[UNK]"}));  // lowercase false
  EXPECT_EQ(t->encode("hello", 8), (std::vector<std::int32_t>{1, 16, 2}));

  // A different continuing-subword prefix.
  nlohmann::json j2 = j;
  nlohmann::json v2 = {{"[UNK]", 0}, {"[CLS]", 1}, {"[SEP]", 2}, {"un", 3}, {"@@aff", 4}, {"@@able", 5}};
  j2["model"]["vocab"] = v2;
  j2["model"]["continuing_subword_prefix"] = "@@";
  write(dir / "tokenizer.json", j2.dump());
  auto t2 = WordPieceTokenizer::from_tokenizer_json(dir / "tokenizer.json");
  ASSERT_TRUE(t2.ok()) << t2.error().to_string();
  EXPECT_EQ(t2->tokenize("unaffable"), (Tokens{"un", "@@aff", "@@able"}));

  // Not WordPiece.
  nlohmann::json bpe = j;
  bpe["model"]["type"] = "BPE";
  write(dir / "tokenizer.json", bpe.dump());
  auto u = WordPieceTokenizer::from_tokenizer_json(dir / "tokenizer.json");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code, ErrorCode::kUnsupported);

  // Ids out of range.
  nlohmann::json bad = j;
  bad["model"]["vocab"]["hello"] = 999;
  write(dir / "tokenizer.json", bad.dump());
  auto c = WordPieceTokenizer::from_tokenizer_json(dir / "tokenizer.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kCorrupt);

  write(dir / "tokenizer.json", "{not json");
  auto c2 = WordPieceTokenizer::from_tokenizer_json(dir / "tokenizer.json");
  ASSERT_FALSE(c2.ok());
  EXPECT_EQ(c2.error().code, ErrorCode::kCorrupt);
  fs::remove_all(dir);
}

TEST(WordPiece, MissingOrBadFiles) {
  fs::path dir = make_temp_dir();
  auto none = WordPieceTokenizer::from_dir(dir);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  write(dir / "vocab.txt", "a\nb\n");  // no [UNK]
  auto bad = WordPieceTokenizer::from_dir(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt);
  write(dir / "vocab.txt", "");
  auto empty = WordPieceTokenizer::from_dir(dir);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kCorrupt);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ragft
