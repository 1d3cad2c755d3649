// A dense vector index over chunks: a FAISS wrapper (flat exact search, HNSW or IVF) keyed by
// ChunkId.
//
// Vectors are stored in a faiss::IndexIDMap2 over IndexFlat / IndexHNSWFlat / IndexIVFFlat. Each chunk carries
// its access attributes (tenant, ACL: index/access.h), as in the lexical index. The filter of
// search() (a FilterSpec, or any predicate) runs inside FAISS through an IDSelector (never as a
// post-filter), so a search returns up to k admitted chunks even when most vectors are filtered
// out. HNSW and IVF never delete in place: removed slots go to a tombstone set that the same
// selector rejects.
//
// Scores are similarities, higher is better: the inner product for "ip", the cosine for "cosine"
// (vectors L2-normalised on add and on search), and minus the squared L2 distance for "l2".
//
// File format (save/load), little-endian: "RGFTVEC2", u32 config length, config string, u64
// tombstone count, tombstoned internal slots (u64 each), u32 access class count, each class as
// (u32 length, tenant bytes, u32 group count, groups as (u32 length, bytes)), u64 count of
// (u64 chunk id, u32 class) pairs, then the FAISS index as written by faiss::write_index.
//
// Thread safety: search() and the const accessors may run concurrently with each other; add(),
// remove() and load need exclusive access. FAISS exceptions never escape: they become Errors.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "core/types.h"
#include "index/access.h"  // ScoredChunk

namespace ragft {

struct VectorIndexOptions {
  std::string kind = "flat";      // "flat" (exact), "hnsw" or "ivf" (approximate)
  int dim = 0;                    // vector dimension, > 0
  std::string metric = "cosine";  // "cosine", "ip" or "l2"
  int hnsw_m = 32;                // HNSW graph degree (hnsw only)
  int ef_construction = 80;       // HNSW build beam width (hnsw only)
  // HNSW search beam width, raised to k when k is larger. 128: recall@10 0.958 at p50 1.2 ms on
  // 1M x 384 (64: 0.910; bench/e2e/vectors.sh, docs/benchmarks.md).
  int ef_search = 128;
  // IVF: inverted lists (trained by k-means on the first add, which needs at least nlist
  // vectors) and how many of them a search visits.
  int nlist = 1024;
  int nprobe = 16;
  // Config string, round-trips: "flat:dim=384,metric=cosine" or
  // "hnsw:dim=384,metric=cosine,m=32,efc=80,efs=128" or "ivf:dim=384,metric=cosine,nlist=1024,nprobe=16".
  std::string to_config() const;
  // Unknown kind, key or metric, a malformed or out-of-range value, or a missing dim ->
  // kInvalidArgument. Keys m/efc/efs are rejected for "flat".
  static Result<VectorIndexOptions> parse(std::string_view config);
};

class VectorIndex {
 public:
  // An empty index. Invalid options -> kInvalidArgument.
  static Result<VectorIndex> create(const VectorIndexOptions& options);
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;
  ~VectorIndex();

  // Adds ids.size() vectors, row-major in `vectors` (ids.size() * dim floats). An id that is
  // live already or repeated in `ids` -> kInvalidArgument, and nothing is added. A removed id
  // may be added again (HNSW and IVF tombstone the old slot, not the id). Empty `ids` is a no-op.
  Status add(const std::vector<ChunkId>& ids, const float* vectors);
  // The same, with each chunk's access attributes (attrs.size() == ids.size(), else
  // kInvalidArgument); the form above gives every chunk ChunkAttrs{} (tenant "default", no ACL).
  Status add(const std::vector<ChunkId>& ids, const float* vectors, const std::vector<ChunkAttrs>& attrs);
  // Removes ids; unknown ids are ignored. Flat: the vectors are deleted; HNSW, IVF: tombstoned.
  Status remove(const std::vector<ChunkId>& ids);

  // Top-k live chunks admitted by `allowed` (empty function: all), similarity-descending, ties
  // by ascending ChunkId. `query` has dim floats. Exact for flat; HNSW is approximate and may
  // return fewer than k under a very selective filter. Never returns a rejected chunk.
  // Runs on the calling thread only (no OpenMP fan-out); add() uses OpenMP threads.
  std::vector<ScoredChunk> search(const float* query, std::size_t k,
                                  const std::function<bool(ChunkId)>& allowed = {}) const;
  // The same with the filter every index understands: tenant, the principal's groups against
  // each chunk's ACL, and an allowlist, with the lexical index's semantics.
  std::vector<ScoredChunk> search(const float* query, std::size_t k, const FilterSpec& filter) const;

  // Changes HNSW's search beam width (>= 1; ignored for flat). Needs exclusive access.
  void set_ef_search(int ef_search);

  // Live (not removed) vectors.
  std::size_t size() const;
  bool contains(ChunkId id) const;
  const VectorIndexOptions& options() const;

  // Writes the index atomically. Errors -> kIo (or kInternal from FAISS).
  Status save(const std::filesystem::path& file, Env& env = Env::posix()) const;
  // Missing file -> kNotFound; unreadable -> kIo; a damaged or foreign file -> kCorrupt.
  static Result<VectorIndex> load(const std::filesystem::path& file, Env& env = Env::posix());

 private:
  VectorIndex();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft
