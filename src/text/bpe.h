// Byte-pair-encoding subwords learnt from a training text (Sennrich et al. 2016), the subword
// vocabulary of the neural classifier trained from scratch.
//
// Words are whitespace tokens of normalize-d text (ASCII lowercased by the caller or not: the
// tokenizer takes text as given). A word is its UTF-8 code points with the end-of-word marker
// appended to the last one ("the" -> "t", "h", "e</w>"); training repeatedly merges the most
// frequent adjacent pair (ties: the lexicographically smaller pair) until `vocab_size` symbols
// exist or no pair occurs twice. Encoding applies the learnt merges in learnt order.
//
// Ids: 0 is reserved for padding, 1 for unknown symbols (code points never seen in training),
// then the base symbols (sorted) and the merges in order. Immutable after train()/parse();
// encode() is thread-safe.
//
// (Why not sentencepiece: Debian's libsentencepiece exports the protobuf-lite it bundles, and
// those symbols collide with the libprotobuf that libtorch loads: a process linking both
// crashes before main.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace ragft {

class BpeTokenizer {
 public:
  static constexpr std::int64_t kPad = 0;
  static constexpr std::int64_t kUnk = 1;

  static BpeTokenizer train(const std::vector<std::string>& texts, std::size_t vocab_size);
  // The format written by serialize(): "ragft-bpe 1\n", then one symbol per line (base symbols
  // first, marked "b <sym>", then merges "m <left> <right>"). Damaged text -> kCorrupt.
  static Result<BpeTokenizer> parse(std::string_view text);
  std::string serialize() const;

  std::vector<std::int64_t> encode(std::string_view text) const;
  // Symbols of one word, for tests ("unaffable" -> {"un", "aff", "able</w>"}).
  std::vector<std::string> word_pieces(std::string_view word) const;
  // Ids in use: padding, unknown and every symbol.
  std::size_t size() const { return symbols_.size() + 2; }
  std::size_t merges() const { return merges_.size(); }

 private:
  void index();
  std::vector<std::string> symbols_;                        // id - 2 -> symbol
  std::size_t base_count_ = 0;                              // symbols_[0, base_count_) are base symbols
  std::vector<std::pair<std::string, std::string>> merges_;  // in learnt order
  std::unordered_map<std::string, std::int64_t> ids_;
  std::unordered_map<std::string, std::size_t> rank_;  // "left\x1fright" -> merge order
};

}  // namespace ragft
