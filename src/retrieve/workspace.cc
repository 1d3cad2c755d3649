#include "retrieve/workspace.h"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <unordered_set>

#include "core/env.h"
#include "core/log.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kChangeBatch = 4096;

// An exclusive advisory lock on `dir/index.lock`, held while the index is opened and brought up
// to date, so two processes never write (or rebuild) the index at once. The kernel drops it if
// the process dies.
class IndexLock {
 public:
  static Result<IndexLock> acquire(const fs::path& dir) {
    fs::path p = dir / "index.lock";
    int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(ErrorCode::kIo, "cannot open lock file {}", p.string());
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd);
        return make_error(ErrorCode::kIo, "cannot lock {}", p.string());
      }
    }
    return IndexLock(fd);
  }
  IndexLock(IndexLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  IndexLock(const IndexLock&) = delete;
  IndexLock& operator=(const IndexLock&) = delete;
  IndexLock& operator=(IndexLock&&) = delete;
  ~IndexLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }

 private:
  explicit IndexLock(int fd) : fd_(fd) {}
  int fd_;
};

// The analyzer config is part of the index's meaning: record it once, refuse a mismatch.
Status check_analyzer_config(const fs::path& dir, const AnalyzerOptions& options) {
  fs::path file = dir / "analyzer.conf";
  std::string want = options.to_config();
  auto have = Env::posix().read_file(file);
  if (!have.ok()) {
    if (have.error().code != ErrorCode::kNotFound) return have.take_error();
    return Env::posix().write_file_atomic(file, want + "\n");
  }
  std::string got = *have;
  while (!got.empty() && (got.back() == '\n' || got.back() == '\r')) got.pop_back();
  if (got != want) {
    return make_error(ErrorCode::kInvalidArgument,
                      "workspace {} was built with {} but {} was requested; use a new --data "
                      "directory or the original analyzer settings",
                      dir.string(), got, want);
  }
  return ok_status();
}
}  // namespace

Result<Workspace> Workspace::open(const fs::path& dir, const WorkspaceOptions& options) {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  // Held until open() returns: first-time set-up, index open/rebuild and catch-up.
  RAGFT_TRY(IndexLock lock, IndexLock::acquire(dir));
  RAGFT_TRY_STATUS(check_analyzer_config(dir, options.analyzer));
  Workspace ws;
  ws.dir_ = dir;
  ws.options_ = options;
  RAGFT_TRY(Store store, Store::open(dir / "store.db"));
  ws.store_ = std::make_unique<Store>(std::move(store));
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(options.analyzer));
  ws.analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));

  auto caught = ws.catch_up_locked();
  if (!caught.ok()) return caught.take_error();
  return ws;
}

Result<bool> Workspace::reload_index_locked() {
  fs::path index_dir = dir_ / "index" / "lexical";
  index_.reset();
  auto index = Bm25Index::open(index_dir, options_.bm25);
  bool rebuilt = false;
  if (!index.ok()) {
    if (index.error().code != ErrorCode::kCorrupt) return index.take_error();
    log::warn("event=index_rebuild reason=\"{}\"", index.error().message);
    std::error_code ec;
    fs::remove_all(index_dir, ec);
    if (ec) return make_error(ErrorCode::kIo, "remove {}: {}", index_dir.string(), ec.message());
    index = Bm25Index::open(index_dir, options_.bm25);
    if (!index.ok()) return index.take_error();
    rebuilt = true;
  }
  index_ = std::make_unique<Bm25Index>(std::move(index).value());
  return rebuilt;
}

void Workspace::chunk_terms(std::string_view title, std::string_view chunk_text,
                            std::vector<std::string>& out) {
  out.clear();
  analyzer_->terms(title, out);
  analyzer_->terms(chunk_text, out);
}

Result<CatchUpSummary> Workspace::catch_up() {
  RAGFT_TRY(IndexLock lock, IndexLock::acquire(dir_));
  return catch_up_locked();
}

Result<CatchUpSummary> Workspace::catch_up_locked() {
  auto t0 = std::chrono::steady_clock::now();
  CatchUpSummary summary;
  // Another process may have advanced (or merged) the index since this one was opened: always
  // start from what is on disk.
  RAGFT_TRY(summary.rebuilt, reload_index_locked());
  RAGFT_TRY(Seq last, store_->last_seq());
  Seq applied = index_->applied_seq();
  if (applied > last) {
    // The index claims changes the store does not have (a different or restored store):
    // it cannot be trusted, rebuild.
    log::warn("event=index_rebuild reason=\"index at seq {} but store at seq {}\"", applied, last);
    fs::path index_dir = dir_ / "index" / "lexical";
    index_.reset();
    std::error_code ec;
    fs::remove_all(index_dir, ec);
    if (ec) return make_error(ErrorCode::kIo, "remove {}: {}", index_dir.string(), ec.message());
    RAGFT_TRY(Bm25Index fresh, Bm25Index::open(index_dir, options_.bm25));
    index_ = std::make_unique<Bm25Index>(std::move(fresh));
    applied = 0;
    summary.rebuilt = true;
  }
  std::size_t total = static_cast<std::size_t>(last - applied);
  std::vector<std::string> terms;
  std::unordered_set<ChunkId> added;
  while (applied < last) {
    RAGFT_TRY(std::vector<Change> changes, store_->changes_since(applied, kChangeBatch));
    if (changes.empty()) break;
    // Removals first, then the current chunks of every touched document (in log order).
    std::vector<DocId> touched;
    std::unordered_set<DocId> seen;
    for (const Change& c : changes) {
      for (ChunkId id : c.removed_chunks) {
        if (index_->contains(id) || added.count(id)) {
          index_->remove(id);
          added.erase(id);
          ++summary.chunks_removed;
        }
      }
      if (c.op == ChangeOp::kUpsert && seen.insert(c.doc_id).second) touched.push_back(c.doc_id);
    }
    for (DocId doc_id : touched) {
      RAGFT_TRY(std::optional<DocumentRecord> doc, store_->get(doc_id));
      if (!doc) continue;  // deleted by a later change
      RAGFT_TRY(std::vector<ChunkRecord> chunks, store_->chunks_of(doc_id));
      ChunkAttrs attrs{doc->tenant, doc->acl};
      for (const ChunkRecord& chunk : chunks) {
        if (index_->contains(chunk.id) || added.count(chunk.id)) continue;
        chunk_terms(doc->title, chunk.text, terms);
        index_->add(chunk.id, attrs, terms);
        added.insert(chunk.id);
        ++summary.chunks_added;
      }
    }
    applied = changes.back().seq;
    summary.changes += changes.size();
    RAGFT_TRY_STATUS(index_->commit(applied));
    added.clear();
    if (options_.on_catch_up_progress) options_.on_catch_up_progress(summary.changes, total);
  }
  if (summary.changes > 0) RAGFT_TRY_STATUS(index_->merge(8));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  last_catch_up_ = summary;
  return summary;
}

}  // namespace ragft
