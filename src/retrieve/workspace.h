// Workspace: a data directory holding the store (store.db), the derived lexical index
// (index/lexical/) and, when configured, a dense index (index/dense/, retrieve/dense.h). Opening
// it brings the indexes up to date with the store's change log (catch-up), rebuilding an index
// from scratch when its files are missing or corrupt.
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

  // Applies store changes newer than the index's applied sequence, then commits the index.
  // Holds an exclusive lock on the workspace's index (index.lock) meanwhile, as open() does, so
  // concurrent processes take turns.
  Result<CatchUpSummary> catch_up();

  Store& store() { return *store_; }
  Bm25Index& index() { return *index_; }
  Analyzer& analyzer() { return *analyzer_; }
  // The dense index, or null when the workspace has none.
  DenseIndex* dense() { return dense_.get(); }
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
  Status catch_up_dense_locked(Seq last, CatchUpSummary& summary);
  std::filesystem::path dir_;
  WorkspaceOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Bm25Index> index_;
  std::unique_ptr<Analyzer> analyzer_;
  std::optional<DenseOptions> dense_options_;  // configured dense index, if any
  std::unique_ptr<DenseIndex> dense_;          // opened once the store has chunks
  CatchUpSummary last_catch_up_;
};

}  // namespace ragft
