// The stages of a Hugging Face tokenizer.json around its model: normalizer, pre-tokenizer,
// post-processor and decoder, parsed from JSON and applied to plain strings (no offsets). The
// semantics follow the `tokenizers` library; bpe_tokenizer.h lists what is supported. Internal
// to ragft_embed. Immutable after parsing; applying a stage is thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/split_pattern.h"

namespace ragft::subword {

struct HfNormalizer {
  enum class Kind { kNfc, kNfd, kNfkc, kNfkd, kLowercase, kPrepend, kReplace, kStrip, kStripAccents, kSequence };
  Kind kind = Kind::kSequence;
  std::string text;                  // Prepend: the prefix; Replace: the pattern
  std::string content;               // Replace: the replacement
  bool left = false, right = false;  // Strip
  std::vector<HfNormalizer> children;
};

// How a split's delimiters are kept (tokenizers' SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// A pre-token; `at_start`: it begins at offset 0 of the original text (Metaspace's "first").
struct Piece {
  std::string text;
  bool at_start = false;
};

struct HfPreTokenizer {
  enum class Kind { kByteLevel, kSplit, kMetaspace, kDigits, kPunctuation, kWhitespaceSplit, kSequence };
  Kind kind = Kind::kSequence;
  bool add_prefix_space = false;                      // ByteLevel
  bool use_regex = true;                              // ByteLevel
  std::optional<SplitPattern> pattern;                // Split with a known regex
  std::string literal;                                // Split with a string pattern
  SplitBehavior behavior = SplitBehavior::kIsolated;  // Split, Punctuation
  bool invert = false;                                // Split
  std::string replacement;                            // Metaspace (one character)
  char prepend = 'a';                                 // Metaspace prepend_scheme: 'a'lways, 'f'irst, 'n'ever
  bool split = true;                                  // Metaspace
  bool individual_digits = false;                     // Digits
  std::vector<HfPreTokenizer> children;
};

struct HfDecoder {
  enum class Kind { kByteLevel, kMetaspace, kByteFallback, kFuse, kStrip, kReplace, kBpeSuffix, kWordPiece, kSequence };
  Kind kind = Kind::kSequence;
  std::string text;                 // Metaspace: replacement; Strip: content; Replace: pattern; BPEDecoder: suffix;
                                    // WordPiece: prefix
  std::string content;              // Replace: the replacement
  bool prepend = true;              // Metaspace: prepend_scheme is not "never"
  bool cleanup = false;             // WordPiece
  std::size_t start = 0, stop = 0;  // Strip
  std::vector<HfDecoder> children;
};

// The ids a post-processor puts around a single sequence when special tokens are added.
struct HfPostProcessor {
  std::vector<std::int32_t> prefix, suffix;
};

// Parsers: `where` names the file and field in error messages. Unknown types or options ->
// kUnsupported; malformed values -> kCorrupt. A field of the wrong JSON type throws
// nlohmann::json::exception, which the caller turns into kCorrupt. null -> nullopt.
Result<std::optional<HfNormalizer>> parse_normalizer(const nlohmann::json& j, const std::string& where);
Result<std::optional<HfPreTokenizer>> parse_pre_tokenizer(const nlohmann::json& j, const std::string& where);
Result<std::optional<HfDecoder>> parse_decoder(const nlohmann::json& j, const std::string& where);
// null -> no ids.
Result<HfPostProcessor> parse_post_processor(const nlohmann::json& j, const std::string& where);

std::string normalize(const HfNormalizer& n, std::string s);
void pre_tokenize(const HfPreTokenizer& p, std::vector<Piece>& pieces);
// Rewrites the token strings (decode_chain); the decoded text is their concatenation.
void decode_chain(const HfDecoder& d, std::vector<std::string>& tokens);
// transformers' clean_up_tokenization: " ." -> ".", " n't" -> "n't", ...
std::string clean_up_tokenization(std::string s);

}  // namespace ragft::subword
