// The interface the subword tokenizers of pretrained checkpoints share: HfBpeTokenizer
// (bpe_tokenizer.h, a Hugging Face tokenizer.json with a BPE model) and SentencePieceModel
// (sentencepiece_model.h, a SentencePiece tokenizer.model). Torch-free.
//
// Implementations are immutable after loading; every method is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

// The fields of a checkpoint's tokenizer_config.json (and special_tokens_map.json) that the
// tokenizers use. All optional.
struct TokenizerConfig {
  // Special token strings ("" when not given); they take precedence over what tokenizer.json or
  // tokenizer.model imply.
  std::string bos_token, eos_token, pad_token, unk_token;
  // When given, encode(text, true) adds (or does not add) BOS / EOS regardless of the
  // tokenizer.json post-processor (as transformers' LlamaTokenizerFast does).
  std::optional<bool> add_bos_token, add_eos_token;
  // transformers' clean_up_tokenization_spaces: decode() turns " ." into "." and so on.
  bool clean_up_tokenization_spaces = false;
  // The Jinja chat template, verbatim ("" when absent; of a list, the one named "default" or
  // else the first).
  std::string chat_template;

  // Parses tokenizer_config.json text; fields of the wrong type are ignored. Not a JSON object
  // -> kCorrupt naming `where`.
  static Result<TokenizerConfig> parse(std::string_view json_text, std::string_view where);
  // special_tokens_map.json (if present), then tokenizer_config.json (if present) from `dir`.
  static Result<TokenizerConfig> from_dir(const std::filesystem::path& dir);
};

class SubwordTokenizer {
 public:
  virtual ~SubwordTokenizer() = default;

  // The ids of `text` (any bytes: ill-formed UTF-8 is repaired first, each bad byte becoming
  // U+FFFD). With `add_special_tokens`, the checkpoint's special tokens are put around them (BOS
  // for Llama, <s> ... </s> for RoBERTa); special tokens written in the text become their ids.
  virtual std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens = true) const = 0;
  // The text of `ids` (always valid UTF-8). Ids out of range are skipped; special tokens are
  // skipped with `skip_special_tokens`, else written as their text.
  virtual std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = false) const = 0;

  // The id of a vocabulary entry (model or added token), -1 when absent.
  virtual std::int32_t id(std::string_view token) const = 0;
  // The vocabulary entry of `id`; "" when out of range.
  virtual const std::string& token(std::int32_t id) const = 0;
  // Ids are in [0, size()).
  virtual std::size_t size() const = 0;
  // Special (control) tokens: skipped by decode(ids, true).
  virtual bool is_special(std::int32_t id) const = 0;
  // -1 when the checkpoint has none.
  virtual std::int32_t bos_id() const = 0;
  virtual std::int32_t eos_id() const = 0;
  virtual std::int32_t pad_id() const = 0;
  virtual std::int32_t unk_id() const = 0;
};

// The tokenizer of a checkpoint directory: tokenizer.json (HfBpeTokenizer::from_dir); if that is
// unsupported (another model type such as WordPiece or Unigram, or an unknown component) and a
// tokenizer.model exists, that (SentencePieceModel::from_dir). tokenizer_config.json is read by
// either. Neither file -> kNotFound; other errors of tokenizer.json are returned as they are.
// (spiece.model / sentencepiece.bpe.model are not read: T5 and XLM-R checkpoints renumber their
// ids.)
Result<std::unique_ptr<SubwordTokenizer>> load_subword_tokenizer(const std::filesystem::path& dir);

}  // namespace ragft
