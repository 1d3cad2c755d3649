#include "serve/workspace_pool.h"

#include <system_error>

namespace ragft::serve {

Result<std::unique_ptr<WorkspacePool>> WorkspacePool::open(const std::filesystem::path& dir, WorkspaceOptions options) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / "store.db", ec)) {
    return make_error(ErrorCode::kNotFound, "{} holds no ragft workspace (no store.db); index documents first with "
                      "`ragft --data {} index PATH`", dir.string(), dir.string());
  }
  // The progress callback draws on a terminal: not from a server.
  options.on_catch_up_progress = nullptr;
  std::unique_ptr<WorkspacePool> pool(new WorkspacePool(dir, std::move(options)));
  RAGFT_TRY(Lease first, pool->acquire());
  return pool;
}

WorkspacePool::Lease::~Lease() {
  if (ws_) pool_->give_back(std::move(ws_));
}

void WorkspacePool::publish(std::shared_ptr<const Bm25Index> snapshot) {
  std::lock_guard lock(mu_);
  published_ = std::move(snapshot);
}

Result<WorkspacePool::Lease> WorkspacePool::acquire() {
  std::unique_ptr<Workspace> ws;
  std::shared_ptr<const Bm25Index> published;
  {
    std::lock_guard lock(mu_);
    published = published_;
    if (!idle_.empty()) {
      ws = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (ws) {
    if (published && &ws->index() != published.get() && ws->index().applied_seq() <= published->applied_seq()) {
      ws->adopt_index(std::move(published));
      if (ws->dense() != nullptr) ws->drop_dense();
    }
    return Lease(this, std::move(ws));
  }
  // Opened outside the lock: catch-up may take a while, and Workspace::open takes the
  // workspace's index lock itself.
  RAGFT_TRY(Workspace opened, Workspace::open(dir_, options_));
  {
    std::lock_guard lock(mu_);
    ++opened_;
  }
  return Lease(this, std::make_unique<Workspace>(std::move(opened)));
}

void WorkspacePool::give_back(std::unique_ptr<Workspace> ws) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(ws));
}

std::size_t WorkspacePool::opened() const {
  std::lock_guard lock(mu_);
  return opened_;
}

}  // namespace ragft::serve

namespace ragft::serve {

Result<std::shared_ptr<Embedder>> open_workspace_embedder(const std::filesystem::path& dir, WorkspaceOptions options) {
  options.on_catch_up_progress = nullptr;
  RAGFT_TRY(Workspace opened, Workspace::open(dir, options));
  auto ws = std::make_shared<Workspace>(std::move(opened));
  if (!ws->has_dense()) {
    return make_error(ErrorCode::kNotFound,
                      "the workspace {} has no dense index, so no embedder: give --embedder, or configure one with "
                      "`ragft index --embedder CONFIG`",
                      dir.string());
  }
  RAGFT_TRY(DenseIndex * dense, ws->load_dense());
  if (dense == nullptr) {
    return make_error(ErrorCode::kNotFound, "the dense index of {} holds no chunks yet, so its embedder is not trained",
                      dir.string());
  }
  // Aliasing: the embedder lives inside the workspace, which the pointer keeps alive.
  return std::shared_ptr<Embedder>(ws, &dense->embedder());
}

}  // namespace ragft::serve
