// Workspace: a data directory holding the store (store.db), the derived lexical index
// (index/lexical/) and, when configured, a dense index (index/dense/, retrieve/dense.h). Opening
// it brings the indexes up to date with the store's change log (catch-up), rebuilding an index
// from scratch when its files are missing or corrupt.
//
// The dense index is loaded lazily: open() and catch_up() load it (embedder and vectors) only
// when it has change-log entries to apply, or its files record another config or sequence than
// the store's; otherwise it stays on disk until load_dense() (the searcher calls it for dense and
// hybrid queries). So BM25-only commands never read the vectors, and a dense query sees the same
// index an eager load would have given.
//
// Not thread-safe: one Workspace per thread (the store connection and analyzer are per object).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "index/lexical/bm25_index.h"
#include "retrieve/chunk_terms_cache.h"
#include "retrieve/dense.h"
#include "store/store.h"
#include "text/analyzer.h"

namespace ragft {

struct WorkspaceOptions {
  Bm25Options bm25;
  AnalyzerOptions analyzer;
  // Set: the workspace keeps a dense index with these options, recorded in dense.json
  // (another embedder than recorded re-embeds every chunk, through the embedding cache).
  // Unset: the dense index recorded in the workspace, if any, is kept as recorded.
  std::optional<DenseOptions> dense;
  // Called with (changes applied, changes total) during catch-up; may be empty.
  std::function<void(std::size_t, std::size_t)> on_catch_up_progress;
  // Set: search() keeps its hits' analysed words here for highlighting (chunk_terms_cache.h).
  // Share one cache only between workspaces of the same directory.
  std::shared_ptr<ChunkTermsCache> chunk_terms_cache;
};

struct CatchUpSummary {
  std::size_t changes = 0;       // change-log entries applied (lexical index)
  std::size_t chunks_added = 0;
  std::size_t chunks_removed = 0;
  bool rebuilt = false;          // the index was missing or corrupt and was rebuilt
  double seconds = 0;
  // Dense index (zero when there is none).
  std::size_t dense_changes = 0;
  std::size_t dense_embedded = 0;    // texts sent to the embedder
  std::size_t dense_cache_hits = 0;  // texts whose vector came from the embedding cache
  double dense_seconds = 0;
};

class Workspace {
 public:
  // Creates `dir` if needed. The analyzer config is recorded in the directory on first use;
  // opening with a different analyzer config -> kInvalidArgument (terms would not match).
  static Result<Workspace> open(const std::filesystem::path& dir, const WorkspaceOptions& options = {});
  // Where the workspace at `dir` keeps its dense index, and within it the models of its trainable
  // embedders (ict, sif: train/embedders.h), so a tool can load the model its vectors were made with.
  static std::filesystem::path dense_dir(const std::filesystem::path& dir) { return dir / "index" / "dense"; }
  static std::filesystem::path dense_model_dir(const std::filesystem::path& dir) { return dense_dir(dir) / "models"; }

  // Applies store changes newer than the index's applied sequence, then commits the index.
  // Holds an exclusive lock on the workspace's index (index.lock) meanwhile, as open() does, so
  // concurrent processes take turns.
  Result<CatchUpSummary> catch_up();

  Store& store() { return *store_; }
  // The lexical index searches use: the workspace's own, or the snapshot it adopted.
  const Bm25Index& index() const { return adopted_ ? *adopted_ : *index_; }
  // A read-only copy of the lexical index as it is now (Bm25Index::snapshot: shares the mapped
  // segments), for other workspaces of this directory in this process to adopt. O(segments +
  // chunks/64).
  std::shared_ptr<const Bm25Index> index_snapshot() const;
  // Searches `snapshot` (another workspace's index_snapshot() of the same directory) from now on
  // instead of this workspace's own lexical index, which is released: a server's reader
  // workspaces see what its writer committed without reading index files. catch_up() reads the
  // index from disk again (reusing the snapshot's segments) and drops the snapshot. The dense
  // index is not affected (reload it with drop_dense()).
  void adopt_index(std::shared_ptr<const Bm25Index> snapshot);
  // Forgets the loaded dense index; the next load_dense() loads it (as caught up on disk) again.
  void drop_dense() { dense_.reset(); }
  Analyzer& analyzer() { return *analyzer_; }
  ChunkTermsCache* chunk_terms_cache() const { return options_.chunk_terms_cache.get(); }
  // True when the workspace keeps a dense index (configured now or recorded in dense.json).
  bool has_dense() const { return dense_options_.has_value(); }
  // The dense index, loaded (under the index lock) and caught up with the store if it was not
  // yet; null when the workspace has none, or its store has no chunks yet. Load errors (a model
  // that fails to load, an unreadable file) are returned; damaged index files are rebuilt.
  Result<DenseIndex*> load_dense();
  // The dense index if it is loaded, else null (see load_dense()).
  DenseIndex* dense() { return dense_.get(); }
  // How many times this object loaded the dense index (for tests: 0 after BM25-only use).
  std::size_t dense_loads() const { return dense_loads_; }
  // Folds the dense index's delta log into a new base file (DenseIndex::compact), loading the
  // index first. A no-op without a dense index.
  Status compact_dense();

  // How the dense index's trainable embedder (ict, sif) compares with the corpus now:
  // trained_on is the number of chunks its model learnt from (nullopt: not a trainable embedder,
  // not trained yet, or a model older than this record); stale when the corpus has doubled since
  // and grown by 1000 chunks or more (train/embedders.h trained_model_is_stale).
  struct DenseModelAge {
    std::optional<std::size_t> trained_on;
    std::size_t chunks_now = 0;
    bool stale = false;
  };
  Result<DenseModelAge> dense_model_age();
  // Trains the dense index's embedder again on the chunks in the store now and re-embeds every
  // chunk with it (the model id changes). Not a trainable embedder -> kInvalidArgument.
  Status retrain_dense_embedder();
  const std::filesystem::path& dir() const { return dir_; }
  const CatchUpSummary& last_catch_up() const { return last_catch_up_; }

  // Terms the index holds for a chunk: the document title's terms followed by the chunk's.
  void chunk_terms(std::string_view title, std::string_view chunk_text, std::vector<std::string>& out);

 private:
  Workspace() = default;
  Result<CatchUpSummary> catch_up_locked();  // caller holds the index lock
  // (Re)opens the index from disk, rebuilding it when corrupt; true if it was rebuilt.
  Result<bool> reload_index_locked();
  // Sets dense_options_ from the options (recording them in dense.json) or from dense.json.
  Status read_dense_config_locked();
  // Opens the dense index for dense_options_ (training its embedder when needed).
  Status open_dense_locked();
  // Brings the dense index up to `last`; `load`: open it even when its files are current.
  Status catch_up_dense_locked(Seq last, CatchUpSummary& summary, bool load);
  std::filesystem::path dir_;
  WorkspaceOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Bm25Index> index_;              // null while a snapshot is adopted
  std::shared_ptr<const Bm25Index> adopted_;
  std::unique_ptr<Analyzer> analyzer_;
  std::optional<DenseOptions> dense_options_;  // configured dense index, if any
  std::unique_ptr<DenseIndex> dense_;          // loaded on demand (above)
  std::size_t dense_loads_ = 0;
  CatchUpSummary last_catch_up_;
};

}  // namespace ragft
