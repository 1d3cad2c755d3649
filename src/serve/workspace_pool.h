// Workspaces for the request threads. A Workspace (retrieve/workspace.h) is not thread-safe, so
// each request that retrieves leases one for its duration: an idle one when there is one, else a
// newly opened one. The pool grows to the number of requests that retrieve at once (bounded by
// the server's threads) and never shrinks; every workspace stays open until the pool is
// destroyed.
//
// Each workspace is caught up with the store when it is opened (Workspace::open). After that the
// server's writer (ingestor.h) publishes a snapshot of the lexical index after each change, and
// every lease adopts the newest one (Workspace::adopt_index: a pointer swap, no file is read), so
// a search sees every write answered before it started. A workspace that adopts a newer snapshot
// forgets its loaded dense index, which its next dense search loads again as caught up on disk.
//
// Thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "core/result.h"
#include "retrieve/workspace.h"

namespace ragft::serve {

class WorkspacePool {
 public:
  // Opens the first workspace now, so a bad directory or config fails at start-up, not at the
  // first request. A directory without a store is not created: -> kNotFound naming it.
  static Result<std::unique_ptr<WorkspacePool>> open(const std::filesystem::path& dir, WorkspaceOptions options);

  // A leased workspace, returned to the pool when the lease is destroyed.
  class Lease {
   public:
    Lease(WorkspacePool* pool, std::unique_ptr<Workspace> ws) : pool_(pool), ws_(std::move(ws)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Workspace& operator*() const { return *ws_; }
    Workspace* operator->() const { return ws_.get(); }

   private:
    WorkspacePool* pool_;
    std::unique_ptr<Workspace> ws_;
  };
  Result<Lease> acquire();

  // The lexical index every lease adopts from now on (when newer than its own).
  void publish(std::shared_ptr<const Bm25Index> snapshot);

  const std::filesystem::path& dir() const { return dir_; }
  const WorkspaceOptions& options() const { return options_; }
  // Workspaces opened so far (leased or idle).
  std::size_t opened() const;

 private:
  WorkspacePool(std::filesystem::path dir, WorkspaceOptions options) : dir_(std::move(dir)), options_(std::move(options)) {}
  void give_back(std::unique_ptr<Workspace> ws);

  const std::filesystem::path dir_;
  const WorkspaceOptions options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Workspace>> idle_;
  std::size_t opened_ = 0;
  std::shared_ptr<const Bm25Index> published_;
};

}  // namespace ragft::serve

namespace ragft::serve {

// The embedder of the workspace's dense index (the one `ragft index --embedder` configured),
// loaded from its trained model: a workspace of its own is opened and kept alive by the returned
// pointer (so its vectors are in memory once more). No dense index -> kNotFound saying how to
// configure one.
Result<std::shared_ptr<Embedder>> open_workspace_embedder(const std::filesystem::path& dir, WorkspaceOptions options);

}  // namespace ragft::serve
