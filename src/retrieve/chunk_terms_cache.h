// The analysed words of chunk texts, kept between searches so highlighting a hit does not
// analyse its text again (search() in searcher.h).
//
// Highlighting marks every word of a hit whose analysed term (folded, stemmed: text/analyzer.h)
// is one of the query's terms, which needs the chunk's text analysed word by word. On a server
// that is most of a search's work (SciFact, 10 hits of ~250 words: about half of the CPU time of
// a request), and the same chunks come back for many queries. This cache keeps, per chunk, its
// distinct terms and where each word is (byte and code-point offsets), so a later search only
// compares the query's few terms with the chunk's distinct terms and walks the word list.
//
// Entries are keyed by chunk id and checked against the chunk's text (its length and a 64-bit
// hash), so a text that is not the one analysed is never served from the cache (chunk ids are
// not reused by a store; a workspace rebuilt in place would still be caught). A cache belongs
// to one analyzer configuration: share it only between workspaces of the same directory (serve's
// WorkspacePool does). Thread-safe: lookups and inserts from many threads (sharded mutexes); an
// entry handed out stays valid while held, even after eviction.
//
// Memory is bounded by `max_bytes` (the entries' approximate size); when a shard would pass its
// share, its oldest entries are evicted first (insertion order).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/types.h"
#include "text/analyzer.h"

namespace ragft {

// One chunk text's analysed words.
struct ChunkTerms {
  struct Word {
    std::uint32_t byte_start = 0, byte_end = 0;  // in the chunk text
    std::uint32_t char_start = 0, char_end = 0;  // code points, in the chunk text
    std::uint32_t term = 0;                      // index into `terms`
  };
  std::vector<std::string> terms;  // distinct analysed terms, in order of first appearance
  // (chunk_term_hash(term), index into `terms`) for every term, sorted: find_term()'s index.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_hash;
  std::vector<Word> words;         // every analysed word (stopwords dropped), in text order
  std::uint64_t text_hash = 0;
  std::size_t text_bytes = 0;

  // Analyses `text` with `analyzer` (the same words, in the same order, as
  // Analyzer::for_each_token).
  static ChunkTerms analyse(Analyzer& analyzer, std::string_view text);
  std::size_t memory_bytes() const;
  // The index of `term` in `terms` (h = chunk_term_hash(term)), or -1.
  std::int64_t find_term(std::string_view term, std::uint64_t h) const;
};

class ChunkTermsCache {
 public:
  explicit ChunkTermsCache(std::size_t max_bytes);

  // The cached analysis of chunk `id` when its text is `text`; null when absent or analysed
  // from another text.
  std::shared_ptr<const ChunkTerms> find(ChunkId id, std::string_view text) const;
  // Stores (replacing any older entry of `id`), then evicts to stay within the budget. An entry
  // larger than a shard's share is not kept.
  void insert(ChunkId id, std::shared_ptr<const ChunkTerms> terms);

  struct Stats {
    std::uint64_t hits = 0, misses = 0;
    std::size_t entries = 0, bytes = 0;
  };
  Stats stats() const;
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<ChunkId, std::shared_ptr<const ChunkTerms>> entries;
    std::deque<ChunkId> order;  // insertion order, for eviction (may name replaced entries)
    std::size_t bytes = 0;
  };
  Shard& shard(ChunkId id) const { return shards_[static_cast<std::size_t>(id) % kShards]; }

  std::size_t max_bytes_;
  mutable std::unique_ptr<Shard[]> shards_;
  mutable std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

// Hashes chunk text for ChunkTerms::text_hash, and a term for ChunkTerms::find_term.
std::uint64_t chunk_text_hash(std::string_view text);
std::uint64_t chunk_term_hash(std::string_view term);

}  // namespace ragft
