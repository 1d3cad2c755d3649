// A Hugging Face tokenizer.json whose model is BPE: the tokenizer of byte-level BPE checkpoints
// (GPT-2, RoBERTa, Llama 3, Qwen2, SmolLM) and of Llama 2 / Mistral conversions (Metaspace and
// byte fallback). Torch-free; behaves as the `tokenizers` library does for what it reads.
// (Named HfBpeTokenizer: text/bpe.h already has the BpeTokenizer the classifier trains.)
//
// Supported (anything else -> kUnsupported naming the field):
//   model       type "BPE": vocab, merges ("a b" strings or ["a", "b"] pairs; rank = position),
//               unk_token, fuse_unk, byte_fallback ("<0xNN>" tokens for characters outside the
//               vocabulary), continuing_subword_prefix, end_of_word_suffix, ignore_merges (a
//               pre-token that is itself in the vocabulary is one token); dropout must be null/0.
//   normalizer  NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Prepend, Replace (string pattern),
//               Strip, Sequence.
//   pre_tokenizer  ByteLevel (add_prefix_space, use_regex; GPT-2's byte-to-character map),
//               Split (a string pattern, or one of the regexes of split_pattern.h; behavior,
//               invert), Metaspace (replacement, prepend_scheme always/first/never, split),
//               Digits, Punctuation, WhitespaceSplit, Sequence.
//   added_tokens  matched in the text before normalisation (normalized: false) or in the
//               normalised text (normalized: true), leftmost-longest; single_word, lstrip and
//               rstrip as in tokenizers; never split further. Special ones are skipped by
//               decode(ids, true).
//   post_processor  TemplateProcessing (the single-sequence template), RobertaProcessing,
//               BertProcessing, ByteLevel (no ids), Sequence.
//   decoder     ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace (string pattern),
//               BPEDecoder, WordPiece, Sequence; none: tokens joined by spaces.
// Ill-formed UTF-8 input is repaired first (each bad byte -> U+FFFD), so a byte-level tokenizer
// round-trips any valid UTF-8 text exactly. decode() reads the bytes of byte-level tokens as
// UTF-8, replacing each ill-formed subpart (e.g. half an emoji) with one U+FFFD.
//
// Special ids: bos/eos/pad/unk from the TokenizerConfig when given, else BOS = the single id the
// post-processor puts before the text, EOS = the last id it puts after, unk = model.unk_token,
// pad = tokenizer.json's padding.pad_id; -1 when absent.
//
// Immutable after loading; copies share the tables; every method is thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/subword_tokenizer.h"

namespace ragft {

class HfBpeTokenizer final : public SubwordTokenizer {
 public:
  // Damaged JSON, or fields of the wrong type or inconsistent (a merge of tokens missing from
  // the vocabulary) -> kCorrupt; `where` names the source in messages.
  static Result<HfBpeTokenizer> from_json_text(std::string_view tokenizer_json, const TokenizerConfig& config = {},
                                               std::string_view where = "tokenizer.json");
  // A missing file -> kNotFound.
  static Result<HfBpeTokenizer> from_tokenizer_json(const std::filesystem::path& path,
                                                    const TokenizerConfig& config = {});
  // dir/tokenizer.json with TokenizerConfig::from_dir(dir).
  static Result<HfBpeTokenizer> from_dir(const std::filesystem::path& dir);

  std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens = true) const override;
  std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = false) const override;
  // The token strings of encode(text, false).
  std::vector<std::string> tokenize(std::string_view text) const;

  std::int32_t id(std::string_view token) const override;
  const std::string& token(std::int32_t id) const override;
  std::size_t size() const override;
  bool is_special(std::int32_t id) const override;
  std::int32_t bos_id() const override;
  std::int32_t eos_id() const override;
  std::int32_t pad_id() const override;
  std::int32_t unk_id() const override;
  const TokenizerConfig& config() const;

  struct Impl;

 private:
  explicit HfBpeTokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace ragft
