#include "retrieve/workspace.h"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

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
struct ChangeWalk {
  std::size_t changes = 0, added = 0, removed = 0;
};

// Applies the change-log entries in (from, last] to an index, in batches: first the chunks each
// entry removed, then the current chunks of every document the batch touched that the index
// lacks; then sink.commit(seq of the batch's last entry). `Sink` has bool has(ChunkId),
// Status drop(ChunkId), put(doc, chunk, attrs) and Status commit(Seq).
template <class Sink>
Result<ChangeWalk> walk_changes(Store& store, Seq from, Seq last, Sink& sink,
                                const std::function<void(std::size_t)>& on_batch) {
  ChangeWalk walk;
  std::unordered_set<ChunkId> added;  // put in this batch, not yet committed
  Seq applied = from;
  while (applied < last) {
    RAGFT_TRY(std::vector<Change> changes, store.changes_since(applied, kChangeBatch));
    if (changes.empty()) break;
    std::vector<DocId> touched;
    std::unordered_set<DocId> seen;
    for (const Change& c : changes) {
      for (ChunkId id : c.removed_chunks) {
        if (sink.has(id) || added.count(id)) {
          RAGFT_TRY_STATUS(sink.drop(id));
          added.erase(id);
          ++walk.removed;
        }
      }
      if (c.op == ChangeOp::kUpsert && seen.insert(c.doc_id).second) touched.push_back(c.doc_id);
    }
    for (DocId doc_id : touched) {
      RAGFT_TRY(std::optional<DocumentRecord> doc, store.get(doc_id));
      if (!doc) continue;  // deleted by a later change
      RAGFT_TRY(std::vector<ChunkRecord> chunks, store.chunks_of(doc_id));
      ChunkAttrs attrs{doc->tenant, doc->acl};
      for (const ChunkRecord& chunk : chunks) {
        if (sink.has(chunk.id) || added.count(chunk.id)) continue;
        sink.put(*doc, chunk, attrs);
        added.insert(chunk.id);
        ++walk.added;
      }
    }
    applied = changes.back().seq;
    walk.changes += changes.size();
    RAGFT_TRY_STATUS(sink.commit(applied));
    added.clear();
    if (on_batch) on_batch(walk.changes);
  }
  return walk;
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

  RAGFT_TRY_STATUS(ws.read_dense_config_locked());
  auto caught = ws.catch_up_locked();
  if (!caught.ok()) return caught.take_error();
  return ws;
}

Result<bool> Workspace::reload_index_locked() {
  fs::path index_dir = dir_ / "index" / "lexical";
  // Reopening from what is mapped already skips verifying unchanged segment files again.
  const Bm25Index* previous = adopted_ ? adopted_.get() : index_.get();
  auto index = previous != nullptr && previous->options().to_config() == options_.bm25.to_config()
                   ? Bm25Index::reopen(*previous)
                   : Bm25Index::open(index_dir, options_.bm25);
  index_.reset();
  adopted_.reset();
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

std::shared_ptr<const Bm25Index> Workspace::index_snapshot() const {
  return std::make_shared<const Bm25Index>(index().snapshot());
}

void Workspace::adopt_index(std::shared_ptr<const Bm25Index> snapshot) {
  adopted_ = std::move(snapshot);
  index_.reset();
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
  struct LexicalSink {
    Workspace& ws;
    std::vector<std::string> terms;
    bool has(ChunkId id) const { return ws.index_->contains(id); }
    Status drop(ChunkId id) {
      ws.index_->remove(id);
      return ok_status();
    }
    void put(const DocumentRecord& doc, const ChunkRecord& chunk, const ChunkAttrs& attrs) {
      ws.chunk_terms(doc.title, chunk.text, terms);
      ws.index_->add(chunk.id, attrs, terms);
    }
    Status commit(Seq seq) { return ws.index_->commit(seq); }
  } lexical{*this, {}};
  const std::size_t total = static_cast<std::size_t>(last - applied);
  RAGFT_TRY(ChangeWalk walk, walk_changes(*store_, applied, last, lexical, [&](std::size_t done) {
    if (options_.on_catch_up_progress) options_.on_catch_up_progress(done, total);
  }));
  summary.changes = walk.changes;
  summary.chunks_added = walk.added;
  summary.chunks_removed = walk.removed;
  if (summary.changes > 0) RAGFT_TRY_STATUS(index_->merge(8));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RAGFT_TRY_STATUS(catch_up_dense_locked(last, summary, false));
  last_catch_up_ = summary;
  return summary;
}

Status Workspace::read_dense_config_locked() {
  const fs::path conf = dir_ / "dense.json";
  if (options_.dense) {
    nlohmann::json j = {{"embedder", options_.dense->embedder}, {"vectors", options_.dense->vectors}};
    auto have = Env::posix().read_file(conf);
    if (!have.ok() || nlohmann::json::parse(*have, nullptr, false) != j) {
      RAGFT_TRY_STATUS(Env::posix().write_file_atomic(conf, j.dump(1) + "\n"));
    }
    dense_options_ = options_.dense;
    return ok_status();
  }
  auto have = Env::posix().read_file(conf);
  if (!have.ok()) {
    if (have.error().code == ErrorCode::kNotFound) return ok_status();
    return have.take_error();
  }
  auto j = nlohmann::json::parse(*have, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("embedder") || !j["embedder"].is_string() ||
      !j.contains("vectors") || !j["vectors"].is_string()) {
    return make_error(ErrorCode::kCorrupt, "{} is damaged; configure the dense index again with "
                      "`ragft index --embedder CONFIG`", conf.string());
  }
  dense_options_ = DenseOptions{};
  dense_options_->embedder = j["embedder"].get<std::string>();
  dense_options_->vectors = j["vectors"].get<std::string>();
  return ok_status();
}

Status Workspace::open_dense_locked() {
  EmbedderContext context;
  context.model_dir = dense_model_dir(dir_);
  context.training_texts = [this]() -> Result<std::vector<std::string>> {
    std::vector<std::string> texts;
    std::unordered_map<DocId, std::string> titles;
    RAGFT_TRY_STATUS(store_->for_each_chunk([&](const ChunkRecord& c, const ChunkAccess&) -> Status {
      auto it = titles.find(c.doc_id);
      if (it == titles.end()) {
        RAGFT_TRY(std::optional<DocumentRecord> doc, store_->get(c.doc_id));
        it = titles.emplace(c.doc_id, doc ? doc->title : std::string()).first;
      }
      texts.push_back(dense_text(it->second, c.text));
      return ok_status();
    }));
    return texts;
  };
  RAGFT_TRY(DenseIndex dense, DenseIndex::open(dense_dir(dir_), *dense_options_, std::move(context)));
  dense_ = std::make_unique<DenseIndex>(std::move(dense));
  ++dense_loads_;
  return ok_status();
}

Status Workspace::catch_up_dense_locked(Seq last, CatchUpSummary& summary, bool load) {
  if (!dense_options_) return ok_status();
  auto t0 = std::chrono::steady_clock::now();
  if (dense_) {
    // Another process may have saved the dense index since this one loaded it: replay what it
    // appended, or reload when it compacted or rebuilt.
    RAGFT_TRY(bool current, dense_->follow_disk());
    if (!current) dense_.reset();
  }
  if (!dense_) {
    // Opened once the store has chunks: a trainable embedder learns from them.
    RAGFT_TRY(StoreStats stats, store_->stats());
    if (stats.chunks == 0) return ok_status();
    if (!load) {
      // Files already at `last` for this config: nothing to apply, so leave them on disk until
      // a dense query needs them (load_dense).
      RAGFT_TRY(std::optional<Seq> recorded, DenseIndex::recorded_seq(dense_dir(dir_), *dense_options_));
      if (recorded && *recorded == last) return ok_status();
    }
    RAGFT_TRY_STATUS(open_dense_locked());
  }
  Seq applied = dense_->applied_seq();
  if (applied > last) {
    log::warn("event=dense_rebuild reason=\"dense index at seq {} but store at seq {}\"", applied, last);
    RAGFT_TRY_STATUS(Env::posix().remove_file(dense_dir(dir_) / "state.json"));
    dense_.reset();
    RAGFT_TRY_STATUS(open_dense_locked());
    applied = dense_->applied_seq();
  }
  if (applied == last) return ok_status();
  const std::size_t embedded0 = dense_->embedded(), hits0 = dense_->cache_hits();
  struct DenseSink {
    DenseIndex& dense;
    Store& store;
    bool has(ChunkId id) const { return dense.contains(id); }
    Status drop(ChunkId id) { return dense.remove(id); }
    void put(const DocumentRecord& doc, const ChunkRecord& chunk, const ChunkAttrs& attrs) {
      dense.add(chunk.id, attrs, dense_text(doc.title, chunk.text));
    }
    Status commit(Seq seq) { return dense.commit(seq, store); }
  } sink{*dense_, *store_};
  auto walk = walk_changes(*store_, applied, last, sink, {});
  Status saved = walk.ok() ? dense_->save() : Status(walk.take_error());
  if (!saved.ok()) {
    // The index in memory may be ahead of its files: reload it from them next time.
    dense_.reset();
    return saved;
  }
  summary.dense_changes += walk->changes;
  summary.dense_embedded += dense_->embedded() - embedded0;
  summary.dense_cache_hits += dense_->cache_hits() - hits0;
  summary.dense_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ok_status();
}

Result<DenseIndex*> Workspace::load_dense() {
  if (dense_ || !dense_options_) return dense_.get();
  RAGFT_TRY(IndexLock lock, IndexLock::acquire(dir_));
  RAGFT_TRY(Seq last, store_->last_seq());
  // The dense work of this load counts as part of the last catch-up.
  RAGFT_TRY_STATUS(catch_up_dense_locked(last, last_catch_up_, true));
  return dense_.get();
}

Status Workspace::compact_dense() {
  if (!dense_options_) return ok_status();
  RAGFT_TRY(IndexLock lock, IndexLock::acquire(dir_));
  RAGFT_TRY(Seq last, store_->last_seq());
  RAGFT_TRY_STATUS(catch_up_dense_locked(last, last_catch_up_, true));
  if (!dense_) return ok_status();
  return dense_->compact();
}

Result<Workspace::DenseModelAge> Workspace::dense_model_age() {
  DenseModelAge age;
  if (!dense_options_) return age;
  RAGFT_TRY(StoreStats stats, store_->stats());
  age.chunks_now = stats.chunks;
  age.trained_on = trained_corpus_size(dense_options_->embedder, dense_model_dir(dir_));
  age.stale = age.trained_on && trained_model_is_stale(*age.trained_on, age.chunks_now);
  return age;
}

Status Workspace::retrain_dense_embedder() {
  if (!dense_options_) {
    return make_error(ErrorCode::kInvalidArgument, "workspace {} has no dense index to retrain (ragft index --embedder ict)",
                      dir_.string());
  }
  {
    RAGFT_TRY(IndexLock lock, IndexLock::acquire(dir_));
    RAGFT_TRY_STATUS(forget_trained_model(dense_options_->embedder, dense_model_dir(dir_)));
    dense_.reset();
  }
  RAGFT_TRY(DenseIndex * dense, load_dense());  // trains on the chunks now, then re-embeds them
  (void)dense;
  return ok_status();
}

}  // namespace ragft
