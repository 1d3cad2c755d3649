// The pre-tokenisation regexes that byte-level BPE checkpoints ship, matched by hand (std::regex
// has no \p{L}). Each matcher reproduces, for every input, the matches a backtracking engine
// (Oniguruma, as Hugging Face tokenizers uses) finds with find_iter, including the backtracking
// of `\s+(?!\S)` and `\s*[\r\n]+`:
//   kGpt2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//            (GPT-2, RoBERTa, SmolLM; the ByteLevel pre-tokenizer's built-in regex)
//   kCl100k  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//            ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+      (Llama 3, cl100k_base)
//   kQwen2   as kCl100k with \p{N} instead of \p{N}{1,3}                       (Qwen2, Qwen2.5)
// \s is the White_Space property, \p{L} / \p{N} the general categories (utf8proc's Unicode
// tables); (?i:...) folds ASCII case only. Internal to ragft_embed; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace ragft::subword {

enum class SplitPattern { kGpt2, kCl100k, kQwen2 };

// The known pattern that `regex` spells exactly (as written in tokenizer.json, after JSON
// unescaping), or nullopt.
std::optional<SplitPattern> find_split_pattern(std::string_view regex);
const char* split_pattern_name(SplitPattern p);

// Byte ranges [begin, end) of the successive non-overlapping matches in `text` (valid UTF-8),
// leftmost first.
std::vector<std::pair<std::size_t, std::size_t>> split_matches(SplitPattern p, std::string_view text);

}  // namespace ragft::subword
