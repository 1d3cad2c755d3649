// The workspace's dense layer: an embedder (embed/embedder.h) and a FAISS vector index over the
// store's chunks, kept in step with the store's change log exactly as the lexical index is.
//
// Files under <workspace>/index/dense/:
//   state.json          the commit point, written atomically last: embedder config and model id,
//                       vector index config, applied change-log sequence, vectors file name
//   vectors-<seq>.vec   the VectorIndex (index/vector/vector_index.h) at that sequence
//   models/             trained embedders (SIF), one directory per config
//
// Each chunk is embedded as its document title, a newline, and the chunk text. Vectors are
// cached in the store by (model id, hash of that text), so an unchanged chunk is never embedded
// twice, and a rebuild (a damaged vectors file, switching back to an earlier model) costs only
// cache reads. A different embedder config or model id starts the index afresh.
//
// Not thread-safe: owned by one Workspace.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
};

// The text a chunk is embedded as.
std::string dense_text(std::string_view title, std::string_view chunk_text);

class DenseIndex {
 public:
  // Opens (or starts) the dense index in `dir` for `options`. A trainable embedder without a
  // model is trained on `context.training_texts`. Bad options -> kInvalidArgument.
  static Result<DenseIndex> open(const std::filesystem::path& dir, const DenseOptions& options,
                                 EmbedderContext context);
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
  // Writes the vectors and then state.json (atomic; durable when ok).
  Status save();

  // Top-k chunks by cosine similarity to the query's embedding, filtered inside the search.
  Result<std::vector<ScoredChunk>> search(std::string_view query, std::size_t k, const FilterSpec& filter);
  // The same for an already embedded query (dim floats).
  std::vector<ScoredChunk> search_vector(const float* query, std::size_t k, const FilterSpec& filter) const;

  Embedder& embedder() { return *embedder_; }
  const VectorIndex& vectors() const { return *vectors_; }
  // Embedding calls made and texts served from the cache since open (for reports and tests).
  std::size_t embedded() const { return embedded_; }
  std::size_t cache_hits() const { return cache_hits_; }
  // "embedder|vectors" as recorded in state.json.
  std::string config() const;

 private:
  DenseIndex() = default;
  struct Pending {
    ChunkId id = 0;
    ChunkAttrs attrs;
    std::string text;
  };
  std::filesystem::path dir_;
  DenseOptions options_;
  std::unique_ptr<Embedder> embedder_;
  std::unique_ptr<VectorIndex> vectors_;
  std::vector<Pending> pending_;
  std::vector<ChunkId> pending_removals_;
  Seq applied_seq_ = 0;
  std::size_t embedded_ = 0, cache_hits_ = 0;
};

}  // namespace ragft
