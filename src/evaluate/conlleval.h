// Entity-level (chunk) metrics for sequence labelling, computed as the CoNLL shared-task script
// conlleval.pl (version 2004-01-26, hyphens allowed in types) does. For O/B-/I- tags (BIO and
// IOB1) the chunk rules and the counting loop are conlleval.pl's exactly (cross-checked on the
// W-NUT'17 test set with random tag noise: identical counts overall and per type). E-/S- tags
// follow the IOBES extension of the Python port conlleval.py (conlleval.pl has no S, and does
// not end a chunk at E followed by B):
//  - a tag is "O" or PREFIX-TYPE where PREFIX is B, I, E or S and TYPE is everything after the
//    first '-' (so "B-creative-work" has type "creative-work"); a tag without '-' has an empty
//    type ("O").
//  - a chunk starts at a token when its prefix is B or S, or (prev, cur) prefixes are (O, I),
//    (O, E), (E, I), (E, E), (S, I) or (S, E), or when the token is not O and its type differs
//    from the previous token's type. So an I-X after O, or after a tag of another type, starts a
//    chunk (it is read as B-X).
//  - a chunk ends before a token when the previous prefix is E or S, or (prev, cur) prefixes are
//    (B, B), (B, S), (B, O), (I, B), (I, S), (I, O), or when the previous token is not O and
//    the types differ.
//  - sentence boundaries act as an O token: chunks never span sentences.
//  - a guessed chunk is correct when a gold chunk starts and ends at the same tokens with the
//    same type. precision = correct / guessed, recall = correct / gold,
//    F1 = 2PR / (P + R); each is 0 when its denominator is 0. Fractions (0..1), not percent.
//  - token accuracy = tokens whose guessed tag equals the gold tag / tokens.
// Functions are pure; the accumulator is not thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace ragft {

// A chunk over token positions [start, end).
struct Chunk {
  std::size_t start = 0;
  std::size_t end = 0;
  std::string type;
  friend bool operator==(const Chunk&, const Chunk&) = default;
};

// Chunks of one sentence's tags under conlleval's rules, in order.
std::vector<Chunk> extract_chunks(const std::vector<std::string>& tags);

// The same chunks re-emitted as BIO tags (B-X first token, I-X the rest, O elsewhere): turns
// IOB1, IOBES and repaired BIO (I-X after O) into canonical BIO.
std::vector<std::string> to_bio(const std::vector<std::string>& tags);

struct ChunkCounts {
  std::size_t correct = 0;  // guessed chunks matching a gold chunk exactly
  std::size_t guessed = 0;  // chunks in the predictions
  std::size_t gold = 0;     // chunks in the reference
  double precision() const;
  double recall() const;
  double f1() const;
};

struct ConllevalResult {
  ChunkCounts overall;
  std::map<std::string, ChunkCounts> per_type;  // every type seen in gold or guesses
  std::size_t tokens = 0;
  std::size_t correct_tags = 0;
  std::size_t sentences = 0;
  double accuracy() const;  // 0 when there are no tokens
  // {"precision","recall","f1","accuracy","tokens","sentences","gold","guessed","correct",
  //  "per_type":{TYPE:{"precision","recall","f1","gold","guessed","correct"}}}
  nlohmann::json to_json() const;
};

class ConllevalAccumulator {
 public:
  // Adds one sentence. Gold and guessed must have the same length (kInvalidArgument otherwise).
  Status add(const std::vector<std::string>& gold, const std::vector<std::string>& guessed);
  const ConllevalResult& result() const { return result_; }

 private:
  ConllevalResult result_;
};

}  // namespace ragft
