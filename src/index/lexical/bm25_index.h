// Our own inverted index over chunks, scored with BM25.
//
// Layout on disk (docs/formats/lexical-index.md): a directory holding immutable segment files,
// per-segment deletion files and a MANIFEST written atomically last. A segment has a sorted chunk
// id list, per-chunk lengths and filter attributes, a sorted term dictionary and compressed
// postings in blocks of 128 with per-block maxima for BlockMax-WAND.
//
// Statistics (N, average length, df) are summed over segments at open/commit, counting deleted
// chunks until a merge drops them (as Lucene does); exhaustive and pruned search use the same
// statistics, so they return the same top-k.
//
// Thread safety: search() and the const accessors may run concurrently with each other; add(),
// remove(), commit() and merge() need exclusive access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "core/types.h"
#include "index/access.h"

namespace ragft {

struct Bm25Options {
  // Defaults chosen by a grid search on SciFact *train* queries (k1 in 0.6..2.0, b in 0.3..0.8);
  // see docs/benchmarks.md.
  float k1 = 1.2f;
  float b = 0.5f;
  // Config string, round-trips: "bm25:k1=1.2,b=0.5".
  std::string to_config() const;
  static Result<Bm25Options> parse(std::string_view config);
};

struct QueryTerm {
  std::string term;     // an analysed term
  float weight = 1.0f;  // query term frequency (or a boost)
};


struct IndexStats {
  std::uint64_t live_chunks = 0;
  std::uint64_t deleted_chunks = 0;  // still in segments, awaiting merge
  std::uint64_t segments = 0;
  std::uint64_t terms = 0;           // distinct terms summed over segments
  std::uint64_t bytes_on_disk = 0;
  Seq applied_seq = 0;
};

class Bm25Index {
 public:
  // Opens `dir`, creating an empty index if it has no MANIFEST. A damaged index -> kCorrupt
  // (callers rebuild it from the store). `options` are used for scoring; k1/b are not stored.
  static Result<Bm25Index> open(const std::filesystem::path& dir, const Bm25Options& options = {},
                                Env& env = Env::posix());
  // Opens the index of `previous`'s directory again as it is on disk now (another index object,
  // or another process, may have committed or merged since), reusing the segments `previous`
  // has mapped instead of mapping and verifying their files again (segment files are immutable:
  // a generation names one content). Cost: the MANIFEST, deletion files and new segments.
  // `previous` is left as it was.
  static Result<Bm25Index> reopen(const Bm25Index& previous);
  // A read-only copy of this index's state for searching on other threads while this one keeps
  // changing: it shares the mapped segments and copies the deletion bitmaps and access classes
  // (O(segments + chunks/64)). Buffered chunks are not in it; deletions of committed chunks are
  // as soon as remove() marks them, so take snapshots after commit(). Later add/remove/commit/
  // merge of either object never change the other. Segment files a merge unlinks stay mapped
  // while a snapshot holds them.
  Bm25Index snapshot() const;
  Bm25Index(Bm25Index&&) noexcept;
  Bm25Index& operator=(Bm25Index&&) noexcept;
  ~Bm25Index();

  // Buffers a chunk in memory; visible to search() only after commit(). `terms` are analysed
  // terms in document order (length = terms.size()). Adding an id that is live is a bug.
  void add(ChunkId id, const ChunkAttrs& attrs, const std::vector<std::string>& terms);
  // Marks a chunk deleted (committed or still buffered). Unknown ids are ignored.
  void remove(ChunkId id);
  // Writes buffered chunks as a new segment, writes changed deletion files, then the MANIFEST
  // recording `applied_seq`. Durable when ok. On error the on-disk index is unchanged.
  Status commit(Seq applied_seq);
  // Merges segments (tiered: when more than `max_segments`, the smallest are merged) and drops
  // deleted chunks. Durable when ok.
  Status merge(std::size_t max_segments = 8);

  // Top-k live chunks admitted by `filter`, score-descending, ties by ascending ChunkId.
  // Small segments are scored term-at-a-time; large ones use dynamic pruning (MaxScore with
  // block maxima; BlockMax-WAND selectable via lexical::set_search_tuning). Same results as
  // search_exhaustive(), bit for bit. Query terms are deduplicated with weights summed; terms
  // with weight <= 0 or unknown to the index contribute nothing.
  std::vector<ScoredChunk> search(const std::vector<QueryTerm>& query, std::size_t k,
                                  const FilterSpec& filter = {}) const;
  // Same contract, scoring every matching chunk: the oracle for search().
  std::vector<ScoredChunk> search_exhaustive(const std::vector<QueryTerm>& query, std::size_t k,
                                             const FilterSpec& filter = {}) const;

  // True if `id` is live (committed and not deleted).
  bool contains(ChunkId id) const;
  // All live chunk ids, ascending.
  std::vector<ChunkId> live_ids() const;
  // BM25 idf of `term` with the index's statistics: ln(1 + (N - df + 0.5) / (df + 0.5)), N and
  // df counting deleted chunks until a merge (0 when the index is empty; an unknown term gets
  // the df = 0 value).
  float idf(const std::string& term) const;
  Seq applied_seq() const;
  IndexStats stats() const;
  const Bm25Options& options() const;

 private:
  Bm25Index();
  static Result<Bm25Index> open_reusing(const std::filesystem::path& dir, const Bm25Options& options, Env& env,
                                        const Bm25Index* previous);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft
