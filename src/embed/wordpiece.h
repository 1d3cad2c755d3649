// BERT's tokenizer: BasicTokenizer + WordPiece, as in Hugging Face's BertTokenizer (and the
// "WordPiece" model of tokenizers' tokenizer.json). Torch-free.
//
// Basic tokenisation of UTF-8 text (invalid bytes become U+FFFD first):
//   1. clean: drop U+0000, U+FFFD and control characters (category C*, except \t \n \r);
//      whitespace (\t \n \r, space, category Zs) becomes a space;
//   2. CJK ideographs (the CJK Unified/Compatibility blocks) become tokens of their own;
//   3. split on whitespace; each word is lowercased (`lowercase`) and accents stripped
//      (`strip_accents`: NFD, then drop the combining marks, category Mn);
//   4. punctuation (ASCII 33-47, 58-64, 91-96, 123-126, or category P*) is split off, one
//      character per token.
// WordPiece: each basic token is matched greedily, longest prefix first, against the vocabulary;
// pieces after the first carry `prefix` ("##"). A token with more than `max_chars_per_word`
// code points, or one that cannot be covered, becomes the unknown token (the whole word).
//
// Not handled: special tokens written in the input text ("[CLS]" is split as punctuation and
// letters, as BertTokenizer does for text without its added-token trie); token type ids of pairs.
//
// Immutable after construction; all methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "embed/encoder_tokenizer.h"

namespace ragft {

struct WordPieceOptions {
  bool lowercase = true;
  // Unset: follows `lowercase` (BERT's default).
  std::optional<bool> strip_accents;
  bool split_cjk = true;
  bool clean_text = true;
  std::string prefix = "##";
  std::size_t max_chars_per_word = 100;
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
};

class WordPieceTokenizer final : public EncoderTokenizer {
 public:
  // `vocab[i]` has id i; a token listed twice maps to its last id (as Hugging Face's loader).
  // An unknown, [CLS] or [SEP] token missing from the vocabulary -> kInvalidArgument.
  static Result<WordPieceTokenizer> create(std::vector<std::string> vocab, WordPieceOptions options = {});
  // vocab.txt: one token per line (id = 0-based line number; trailing '\r' removed).
  // Missing -> kNotFound; empty or malformed -> kCorrupt.
  static Result<WordPieceTokenizer> from_vocab_txt(const std::filesystem::path& path, WordPieceOptions options = {});
  // Hugging Face tokenizer.json with model.type "WordPiece" (else kUnsupported): model.vocab,
  // model.unk_token, model.continuing_subword_prefix, model.max_input_chars_per_word, and the
  // normalizer (BertNormalizer: lowercase, strip_accents, handle_chinese_chars, clean_text; a
  // Sequence of Lowercase/NFD/StripAccents is also read). Malformed -> kCorrupt.
  static Result<WordPieceTokenizer> from_tokenizer_json(const std::filesystem::path& path);
  // A checkpoint directory: tokenizer.json if present, else vocab.txt; with vocab.txt,
  // tokenizer_config.json's do_lower_case / strip_accents / tokenize_chinese_chars (and special
  // token strings) are read when present (default: lowercase). Neither file -> kNotFound.
  static Result<WordPieceTokenizer> from_dir(const std::filesystem::path& dir);

  // Steps 1-4 above.
  std::vector<std::string> basic_tokens(std::string_view text) const;
  // Word pieces of `text` as strings (the unknown token for uncoverable words).
  std::vector<std::string> tokenize(std::string_view text) const;
  // [CLS] pieces... [SEP], truncated so that the result has at most max_len ids (max_len >= 2;
  // smaller values are treated as 2).
  std::vector<std::int32_t> encode(std::string_view text, std::size_t max_len) const override;

  // -1 when absent.
  std::int32_t id(std::string_view token) const;
  const std::string& token(std::int32_t id) const { return vocab_[static_cast<std::size_t>(id)]; }
  std::size_t size() const override { return vocab_.size(); }
  std::int32_t unk_id() const { return unk_; }
  std::int32_t cls_id() const { return cls_; }
  std::int32_t sep_id() const { return sep_; }
  // The padding id: the pad token's id, or 0 when the vocabulary lacks it.
  std::int32_t pad_id() const override { return pad_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  WordPieceTokenizer() = default;
  // Appends the ids of `word`'s pieces (or unk) to `out`.
  void wordpiece(std::string_view word, std::vector<std::int32_t>& out) const;

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, std::int32_t> ids_;
  WordPieceOptions options_;
  bool strip_accents_ = true;
  std::int32_t unk_ = -1, cls_ = -1, sep_ = -1, pad_ = 0;
};

}  // namespace ragft
