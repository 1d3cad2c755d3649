// Workspace: a data directory holding the store (store.db) and the derived lexical index
// (index/lexical/). Opening it brings the index up to date with the store's change log
// (catch-up), rebuilding the index from scratch when its files are missing or corrupt.
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
#include "store/store.h"
#include "text/analyzer.h"

namespace ragft {

struct WorkspaceOptions {
  Bm25Options bm25;
  AnalyzerOptions analyzer;
  // Called with (changes applied, changes total) during catch-up; may be empty.
  std::function<void(std::size_t, std::size_t)> on_catch_up_progress;
};

struct CatchUpSummary {
  std::size_t changes = 0;       // change-log entries applied
  std::size_t chunks_added = 0;
  std::size_t chunks_removed = 0;
  bool rebuilt = false;          // the index was missing or corrupt and was rebuilt
  double seconds = 0;
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
  const std::filesystem::path& dir() const { return dir_; }
  const CatchUpSummary& last_catch_up() const { return last_catch_up_; }

  // Terms the index holds for a chunk: the document title's terms followed by the chunk's.
  void chunk_terms(std::string_view title, std::string_view chunk_text, std::vector<std::string>& out);

 private:
  Workspace() = default;
  Result<CatchUpSummary> catch_up_locked();  // caller holds the index lock
  // (Re)opens the index from disk, rebuilding it when corrupt; true if it was rebuilt.
  Result<bool> reload_index_locked();
  std::filesystem::path dir_;
  WorkspaceOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Bm25Index> index_;
  std::unique_ptr<Analyzer> analyzer_;
  CatchUpSummary last_catch_up_;
};

}  // namespace ragft
