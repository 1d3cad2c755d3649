// What an encoder (BERT, RoBERTa, ...) needs from its tokenizer: the ids of one text with the
// checkpoint's special tokens around them, truncated to a length, and the padding id. Torch-free.
//
//   WordPieceTokenizer (wordpiece.h): [CLS] pieces [SEP] (vocab.txt or a WordPiece tokenizer.json)
//   SubwordEncoderTokenizer (below): a byte-level BPE tokenizer.json or a SentencePiece
//     tokenizer.model (subword_tokenizer.h), e.g. RoBERTa's <s> pieces </s>
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

class SubwordTokenizer;

class EncoderTokenizer {
 public:
  virtual ~EncoderTokenizer() = default;
  // Special tokens and the text's pieces, at most max_len ids (the text's pieces are cut, the
  // special tokens kept; max_len below their count is raised to it).
  virtual std::vector<std::int32_t> encode(std::string_view text, std::size_t max_len) const = 0;
  virtual std::int32_t pad_id() const = 0;
  virtual std::size_t size() const = 0;
};

// A SubwordTokenizer as an encoder's: the special tokens are those encode(text, true) puts
// around the text's pieces (found by comparing with encode(text, false)). The padding id is the
// tokenizer's pad token, else `fallback_pad`.
class SubwordEncoderTokenizer final : public EncoderTokenizer {
 public:
  SubwordEncoderTokenizer(std::shared_ptr<const SubwordTokenizer> tokenizer, std::int32_t fallback_pad);
  std::vector<std::int32_t> encode(std::string_view text, std::size_t max_len) const override;
  std::int32_t pad_id() const override { return pad_; }
  std::size_t size() const override;
  const SubwordTokenizer& subword() const { return *tokenizer_; }

 private:
  std::shared_ptr<const SubwordTokenizer> tokenizer_;
  std::int32_t pad_ = 0;
};

// The tokenizer of an encoder checkpoint directory: a tokenizer.json with a WordPiece model, or
// vocab.txt (WordPieceTokenizer::from_dir); a tokenizer.json with a BPE model, or a
// tokenizer.model (load_subword_tokenizer). `fallback_pad` as above. None of these files ->
// kNotFound; damaged -> kCorrupt; an unsupported tokenizer -> kUnsupported.
Result<std::shared_ptr<const EncoderTokenizer>> load_encoder_tokenizer(const std::filesystem::path& dir,
                                                                      std::int32_t fallback_pad = 0);

}  // namespace ragft
