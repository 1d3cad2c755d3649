// The workspace's dense layer: an embedder (embed/embedder.h) and a FAISS vector index over the
// store's chunks, kept in step with the store's change log exactly as the lexical index is.
//
// Files under <workspace>/index/dense/ (docs/formats/dense-index.md):
//   state.json          the commit point, written atomically last: embedder config and model id,
//                       vector index config, applied change-log sequence, the base file, the
//                       delta log's generation and its committed length in bytes
//   base-<gen>.vec      the VectorIndex (index/vector/vector_index.h) as of the last compaction
//   delta-<gen>.log     the batches committed since (retrieve/dense_log.h): append-only, one
//                       record per commit, replayed over the base on open
//   models/             trained embedders (SIF, ICT), one directory per config
//
// save() appends the commits made since the last save to the delta log (fsync), then rewrites
// state.json with the new committed length: adding a document costs its own vectors, not a
// rewrite of the index. A crash between the two leaves a tail past the committed length, which
// open() never reads and the next append cuts off, so a committed batch is never lost or applied
// twice. When the log would outgrow max(compact_min_bytes, compact_ratio x the base file), or on
// compact(), save writes a new base file (the next generation) holding everything, commits it
// with an empty log, and deletes the old generation's files.
//
// Older workspaces (state.json with "applied_seq" and "file": a single vectors-<seq>.vec) open as
// a base with an empty log; their next save starts a log. A state.json in the new layout lacks
// "applied_seq", so an older ragft rebuilds from the embedding cache instead of misreading it.
//
// Each chunk is embedded as its document title, a newline, and the chunk text. Vectors are
// cached in the store by (model id, hash of that text), so an unchanged chunk is never embedded
// twice, and a rebuild (a damaged vectors or log file, switching back to an earlier model) costs
// only cache reads. A different embedder config or model id starts the index afresh.
//
// Not thread-safe: owned by one Workspace.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "embed/embedder.h"
#include "index/vector/vector_index.h"
#include "store/store.h"
#include "train/embedders.h"

namespace ragft {

struct DenseOptions {
  std::string embedder = "ict";  // embedder config (train/embedders.h)
  // "flat" (exact, the default) or "hnsw[:m=32,efc=80,efs=128]"; dim and metric (cosine) come
  // from the embedder.
  std::string vectors = "flat";
  // Texts embedded per call (and per cache transaction).
  std::size_t batch = 256;
  // save() compacts (writes a new base file) when the delta log would grow past both
  // compact_ratio x the base file's size and compact_min_bytes. compact_ratio 0 with
  // compact_min_bytes 0 compacts on every save (the layout before the log). Not recorded in
  // dense.json: they change the files, never the results.
  double compact_ratio = 0.25;
  std::uint64_t compact_min_bytes = 1 << 20;
};

// state.json, parsed (defined in dense.cc).
struct DenseState;

// The text a chunk is embedded as.
std::string dense_text(std::string_view title, std::string_view chunk_text);

class DenseIndex {
 public:
  // Opens (or starts) the dense index in `dir` for `options`. A trainable embedder without a
  // model is trained on `context.training_texts`. Bad options -> kInvalidArgument.
  // Missing, damaged or mismatched files are not errors: the index starts afresh (at sequence
  // 0) and is rebuilt by the caller's catch-up, from the embedding cache. `env` must outlive the
  // index.
  static Result<DenseIndex> open(const std::filesystem::path& dir, const DenseOptions& options,
                                 EmbedderContext context, Env& env = Env::posix());
  // The change-log sequence state.json in `dir` records for `options`, read without loading the
  // embedder or the vectors (one small file): nullopt when there is no state, it is damaged, or
  // it was written for another embedder or vectors config. The model id is not checked (that
  // needs the model): open() does, and starts afresh when it differs. Bad options ->
  // kInvalidArgument; an unreadable file -> kIo.
  static Result<std::optional<Seq>> recorded_seq(const std::filesystem::path& dir, const DenseOptions& options,
                                                 Env& env = Env::posix());
  DenseIndex(DenseIndex&&) noexcept;
  DenseIndex& operator=(DenseIndex&&) noexcept;
  ~DenseIndex();

  Seq applied_seq() const { return applied_seq_; }
  bool contains(ChunkId id) const;
  // Buffers a chunk; embedded and indexed by commit().
  void add(ChunkId id, const ChunkAttrs& attrs, std::string text);
  // Removes a committed or buffered chunk; unknown ids are ignored.
  Status remove(ChunkId id);
  // Embeds the buffered chunks (through the store's cache) and adds them; in memory until
  // save(). Records `seq` as applied.
  Status commit(Seq seq, Store& store);
  // Makes the commits so far durable: appends them to the delta log, or compacts (above), then
  // writes state.json (atomic; durable when ok). On error the files on disk still hold the last
  // saved state.
  Status save();
  // Writes a new base file holding every committed vector and commits it with an empty log,
  // even when the log is below the thresholds (a no-op when the log is empty already).
  Status compact();
  // Another process may have saved since this index last read or wrote state.json. True when
  // the index matches state.json on disk: it did already, or the log records appended since
  // were replayed. False when it cannot follow (another process compacted or rebuilt, or this
  // index has unsaved commits): the caller must reopen it. Replay errors also give false.
  Result<bool> follow_disk();

  // Top-k chunks by cosine similarity to the query's embedding, filtered inside the search.
  Result<std::vector<ScoredChunk>> search(std::string_view query, std::size_t k, const FilterSpec& filter);
  // The same for an already embedded query (dim floats).
  std::vector<ScoredChunk> search_vector(const float* query, std::size_t k, const FilterSpec& filter) const;

  Embedder& embedder() { return *embedder_; }
  const VectorIndex& vectors() const { return *vectors_; }
  // Embedding calls made and texts served from the cache since open (for reports and tests).
  std::size_t embedded() const { return embedded_; }
  std::size_t cache_hits() const { return cache_hits_; }
  // Log records replayed (by open and follow_disk) and base files written, since open.
  std::size_t replayed() const { return replayed_; }
  std::size_t compactions() const { return compactions_; }
  // Committed bytes of the delta log (0: everything is in the base file).
  std::uint64_t log_bytes() const { return log_bytes_; }
  // "embedder|vectors" as recorded in state.json.
  std::string config() const;

 private:
  DenseIndex() = default;
  struct Pending {
    ChunkId id = 0;
    ChunkAttrs attrs;
    std::string text;
  };
  // Adopts a parsed state.json: loads its base file and replays its log. Errors mean the files
  // cannot be used (the caller starts afresh).
  Status load_state(const DenseState& state);
  Status replay(std::string_view log, std::uint64_t from, std::uint64_t to, Seq expect_last);
  Status write_state(std::uint64_t generation, const std::string& base, std::uint64_t log_bytes);
  Status write_base();
  std::string log_file() const;
  bool log_too_big(std::uint64_t bytes) const;

  std::filesystem::path dir_;
  Env* env_ = nullptr;
  DenseOptions options_;
  std::unique_ptr<Embedder> embedder_;
  std::unique_ptr<VectorIndex> vectors_;
  std::vector<Pending> pending_;
  std::vector<ChunkId> pending_removals_;
  Seq applied_seq_ = 0;
  std::size_t embedded_ = 0, cache_hits_ = 0, replayed_ = 0, compactions_ = 0;
  // The files state.json names: base_file_ is empty until the first save.
  std::uint64_t generation_ = 0;
  std::string base_file_;
  std::uint64_t base_bytes_ = 0;
  std::uint64_t log_bytes_ = 0;
  std::string unsaved_;       // log records of the commits since the last save
  bool must_compact_ = true;  // unsaved_ was dropped (too large, or no base yet): save compacts
  std::string state_text_;    // state.json as this index last read or wrote it
};

}  // namespace ragft
