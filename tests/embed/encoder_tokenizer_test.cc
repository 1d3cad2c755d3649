// load_encoder_tokenizer picks WordPiece or subword tokenizers; subword truncation keeps the
// special tokens.
#include "embed/encoder_tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "apps/test_util.h"
#include "embed/subword_tokenizer.h"
#include "embed/tokenizer_test_data.h"
#include "embed/wordpiece.h"

namespace ragft {
namespace {

TEST(EncoderTokenizerTest, PicksTheTokenizerAndKeepsSpecialsWhenTruncating) {
  const auto root = testing::make_temp_dir("ragft_enc_tok_");
  // RoBERTa-like tokenizer.json: <s> pieces </s>.
  const auto spec = testdata::roberta_spec();
  testing::write_file(root / "rob" / "tokenizer.json", testdata::bpe_json(spec));
  testing::write_file(root / "rob" / "special_tokens_map.json", R"({"pad_token": "<pad>"})");
  auto rob = load_encoder_tokenizer(root / "rob", 0);
  ASSERT_TRUE(rob.ok()) << rob.error().to_string();
  const auto* sub = dynamic_cast<const SubwordEncoderTokenizer*>(rob->get());
  ASSERT_NE(sub, nullptr);
  const int bos = testdata::bpe_token_id(spec, "<s>"), eos = testdata::bpe_token_id(spec, "</s>");
  EXPECT_EQ((*rob)->pad_id(), testdata::bpe_token_id(spec, "<pad>"));
  const auto full = (*rob)->encode("hello world the lower", 100);
  ASSERT_GE(full.size(), 5u);
  EXPECT_EQ(full.front(), bos);
  EXPECT_EQ(full.back(), eos);
  EXPECT_EQ(full, sub->subword().encode("hello world the lower", true));
  const auto cut = (*rob)->encode("hello world the lower", 4);
  EXPECT_EQ(cut, (std::vector<std::int32_t>{full[0], full[1], full[2], eos}));
  EXPECT_EQ((*rob)->encode("hello world", 1).size(), 2u);  // below the specials' count: raised to it
  EXPECT_EQ((*rob)->encode("", 10), (std::vector<std::int32_t>{bos, eos}));
  // Without a pad token the caller's fallback (config.json's pad_token_id) is used.
  testing::write_file(root / "rob2" / "tokenizer.json", testdata::bpe_json(spec));
  auto rob2 = load_encoder_tokenizer(root / "rob2", 7);
  ASSERT_TRUE(rob2.ok());
  EXPECT_EQ((*rob2)->pad_id(), 7);

  // vocab.txt: WordPiece.
  testing::write_file(root / "bert" / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n");
  auto bert = load_encoder_tokenizer(root / "bert");
  ASSERT_TRUE(bert.ok()) << bert.error().to_string();
  EXPECT_NE(dynamic_cast<const WordPieceTokenizer*>(bert->get()), nullptr);
  EXPECT_EQ((*bert)->encode("hello world", 10), (std::vector<std::int32_t>{2, 4, 5, 3}));

  auto none = load_encoder_tokenizer(root / "empty");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  testing::write_file(root / "bad" / "tokenizer.json", "{not json");
  auto bad = load_encoder_tokenizer(root / "bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace ragft
