// A SentencePiece model file (tokenizer.model of Llama 2, Mistral, Gemma, ...), read without
// libsentencepiece (whose bundled protobuf collides with libtorch's): the file is a protobuf
// ModelProto, parsed here by a small wire-format reader. Torch-free.
//
// Read: pieces (piece, score, type NORMAL / UNKNOWN / CONTROL / USER_DEFINED / UNUSED / BYTE);
// trainer_spec.model_type (UNIGRAM or BPE; WORD and CHAR -> kUnsupported), byte_fallback,
// treat_whitespace_as_suffix, unk/bos/eos/pad piece strings; normalizer_spec
// (precompiled_charsmap, add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces) and
// denormalizer_spec. Encoding follows SentencePieceProcessor:
//   normalise: the charsmap rules (longest match; user-defined pieces are kept as written),
//     leading/trailing/repeated spaces dropped (remove_extra_whitespaces), "▁" (U+2581) for
//     each space (escape_whitespaces) and one "▁" in front (add_dummy_prefix; at the end with
//     treat_whitespace_as_suffix); ill-formed bytes become U+FFFD;
//   BPE: characters merged pairwise, the pair whose merged piece has the highest score first
//     (ties: leftmost), user-defined pieces never merged, UNUSED pieces split back;
//   Unigram: the Viterbi segmentation maximising the sum of piece scores (user-defined pieces
//     preferred, an unknown character scoring min - 10);
//   characters outside the vocabulary: their UTF-8 bytes as <0xNN> pieces with byte_fallback,
//     else the unknown id (one per run of unknown characters).
// Unlike SentencePiece (but as transformers' Llama tokenizers), control pieces and the unknown
// piece written in the text ("<s>", "</s>", "<unk>") become their ids (Options::split_special);
// each stretch of text between them is encoded on its own, as Meta's and Mistral's reference
// code encode a chat turn by turn (so "<s>[INST]" gives <s> and the pieces of "▁[INST]").
//
// decode: pieces' "▁" become spaces; the first piece's leading "▁" is dropped (all leading ones
// with remove_extra_whitespaces); runs of byte pieces are read as UTF-8 (each bad byte -> U+FFFD);
// control pieces and the unknown piece are written as their text, or skipped with
// skip_special_tokens.
//
// Immutable after loading; copies share the tables; every method is thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/subword_tokenizer.h"

namespace ragft {

struct SentencePieceOptions {
  bool add_bos = true;        // encode(text, true) starts with BOS (when the model has one)
  bool add_eos = false;       // ... and ends with EOS
  bool split_special = true;  // control / unknown pieces written in the text become their ids
};

class SentencePieceModel final : public SubwordTokenizer {
 public:
  enum class Type { kUnigram, kBpe };
  // The piece types of sentencepiece_model.proto (values as in the file).
  enum class PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

  using Options = SentencePieceOptions;

  // A serialized ModelProto. Truncated or malformed protobuf, empty or duplicate pieces, no
  // unknown piece, byte_fallback without the 256 byte pieces -> kCorrupt; `where` names the
  // source in messages.
  static Result<SentencePieceModel> from_bytes(std::string_view proto, const Options& options = {},
                                               std::string_view where = "tokenizer.model");
  // A missing file -> kNotFound.
  static Result<SentencePieceModel> from_file(const std::filesystem::path& path, const Options& options = {});
  // dir/tokenizer.model; TokenizerConfig::from_dir(dir) sets add_bos / add_eos when it has
  // add_bos_token / add_eos_token, and the bos/eos/pad tokens when they name pieces.
  static Result<SentencePieceModel> from_dir(const std::filesystem::path& dir);

  std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens = true) const override;
  std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = false) const override;
  // The pieces of encode(text, false).
  std::vector<std::string> encode_pieces(std::string_view text) const;
  // The normalised text the model segments ("Hello world" -> "▁Hello▁world" for Llama 2).
  std::string normalize(std::string_view text) const;

  std::int32_t id(std::string_view piece) const override;
  const std::string& token(std::int32_t id) const override;
  std::size_t size() const override;
  // Control and unknown pieces.
  bool is_special(std::int32_t id) const override;
  std::int32_t bos_id() const override;
  std::int32_t eos_id() const override;
  std::int32_t pad_id() const override;
  std::int32_t unk_id() const override;

  Type type() const;
  float score(std::int32_t id) const;
  PieceType piece_type(std::int32_t id) const;
  const Options& options() const;

  struct Impl;

 private:
  explicit SentencePieceModel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace ragft
