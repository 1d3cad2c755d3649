#include "serve/ingestor.h"

#include <chrono>
#include <utility>

#include "core/log.h"

namespace ragft::serve {

namespace {

const char* upsert_status(UpsertOutcome o) {
  switch (o) {
    case UpsertOutcome::kAdded: return "created";
    case UpsertOutcome::kChanged: return "updated";
    case UpsertOutcome::kUnchanged: return "unchanged";
  }
  return "unchanged";
}

DocumentWrite::Kind kind_of(const std::vector<DocumentWrite>& writes) { return writes.front().kind; }

using Batch = std::vector<std::pair<NewDocument, std::vector<NewChunk>>>;

}  // namespace

Ingestor::Ingestor(std::shared_ptr<WorkspacePool> pool, IngestOptions options, Workspace ws)
    : pool_(std::move(pool)), options_(options), ws_(std::make_unique<Workspace>(std::move(ws))) {}

Result<std::unique_ptr<Ingestor>> Ingestor::start(std::shared_ptr<WorkspacePool> pool, IngestOptions options) {
  if (!pool) return make_error(ErrorCode::kInvalidArgument, "ingestor: no workspace pool");
  if (options.max_group_docs < 1 || options.poll_ms < 1) {
    return make_error(ErrorCode::kInvalidArgument, "ingestor: max_group_docs and poll_ms must be >= 1");
  }
  RAGFT_TRY(Workspace ws, Workspace::open(pool->dir(), pool->options()));
  std::unique_ptr<Ingestor> ingestor(new Ingestor(std::move(pool), options, std::move(ws)));
  ingestor->pool_->publish(ingestor->ws_->index_snapshot());
  ingestor->thread_ = std::thread([p = ingestor.get()] { p->run(); });
  return ingestor;
}

Ingestor::~Ingestor() { stop(); }

void Ingestor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t Ingestor::groups() const {
  std::lock_guard lock(mu_);
  return groups_;
}

Result<WriteResult> Ingestor::write(std::vector<DocumentWrite> writes) {
  if (writes.empty()) return WriteResult{};
  std::size_t bytes = 0;  // the text of the upserts (a delete's is empty)
  for (const DocumentWrite& w : writes) {
    if (w.kind != writes.front().kind) {
      return make_error(ErrorCode::kInvalidArgument, "a write request holds either upserts or deletes, not both");
    }
    bytes += w.upsert.doc.text.size();
  }
  auto request = std::make_unique<Request>();
  request->bytes = bytes;
  request->writes = std::move(writes);
  std::future<Result<WriteResult>> done = request->done.get_future();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return make_error(ErrorCode::kCancelled, "the server is shutting down; the writes were not made");
    queue_.push_back(std::move(request));
  }
  cv_.notify_one();
  return done.get();
}

void Ingestor::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) return;
      lock.unlock();
      // Changes another process made (or an index update that failed before).
      auto last = ws_->store().last_seq();
      if (!last.ok()) {
        log::error("event=ingest_poll_failed error=\"{}\"", last.error().to_string());
      } else if (*last != ws_->index().applied_seq()) {
        refresh();
      }
      lock.lock();
      continue;
    }
    std::vector<std::unique_ptr<Request>> taken;
    std::size_t docs = 0, bytes = 0;
    while (!queue_.empty()) {
      const Request& next = *queue_.front();
      if (!taken.empty() && (docs + next.writes.size() > options_.max_group_docs ||
                             bytes + next.bytes > options_.max_group_bytes)) {
        break;
      }
      docs += next.writes.size();
      bytes += next.bytes;
      taken.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    ++groups_;
    lock.unlock();

    std::vector<Request*> group;
    for (auto& r : taken) group.push_back(r.get());
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Result<std::vector<WriteOutcome>>> committed = commit(group);
    const bool indexed = refresh();
    auto seq = ws_->store().last_seq();
    log::debug("event=ingest_group requests={} docs={} ms={:.2f} indexed={}", group.size(), docs,
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(), indexed);
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (!committed[i].ok()) {
        group[i]->done.set_value(committed[i].take_error());
        continue;
      }
      WriteResult result;
      result.outcomes = std::move(*committed[i]);
      result.seq = seq.ok() ? *seq : 0;
      result.indexed = indexed;
      group[i]->done.set_value(std::move(result));
    }
    lock.lock();
  }
}

std::vector<Result<std::vector<WriteOutcome>>> Ingestor::commit(std::vector<Request*>& group) {
  Store& store = ws_->store();
  std::vector<Result<std::vector<WriteOutcome>>> out(group.size(), std::vector<WriteOutcome>{});

  // Requests [begin, end) of one kind, in one transaction; out[i] for each.
  auto commit_upserts = [&](std::size_t begin, std::size_t end) -> Status {
    Batch batch;
    for (std::size_t i = begin; i < end; ++i) {
      for (DocumentWrite& w : group[i]->writes) batch.emplace_back(w.upsert.doc, w.upsert.chunks);
    }
    RAGFT_TRY(std::vector<UpsertResult> results, store.upsert_batch(batch));
    std::size_t at = 0;
    for (std::size_t i = begin; i < end; ++i) {
      std::vector<WriteOutcome> outcomes;
      for (const DocumentWrite& w : group[i]->writes) {
        outcomes.push_back({w.upsert.doc.ext_id, upsert_status(results[at++].outcome), w.upsert.chunks.size()});
      }
      out[i] = std::move(outcomes);
    }
    return ok_status();
  };
  auto commit_deletes = [&](std::size_t begin, std::size_t end) -> Status {
    std::vector<std::pair<std::string, std::string>> batch;
    for (std::size_t i = begin; i < end; ++i) {
      for (const DocumentWrite& w : group[i]->writes) batch.emplace_back(w.tenant, w.ext_id);
    }
    RAGFT_TRY(std::vector<bool> removed, store.remove_batch(batch));
    std::size_t at = 0;
    for (std::size_t i = begin; i < end; ++i) {
      std::vector<WriteOutcome> outcomes;
      for (const DocumentWrite& w : group[i]->writes) {
        outcomes.push_back({w.ext_id, removed[at++] ? "deleted" : "not_found", 0});
      }
      out[i] = std::move(outcomes);
    }
    return ok_status();
  };
  auto commit_run = [&](std::size_t begin, std::size_t end) {
    return kind_of(group[begin]->writes) == DocumentWrite::Kind::kUpsert ? commit_upserts(begin, end)
                                                                       : commit_deletes(begin, end);
  };

  std::size_t begin = 0;
  while (begin < group.size()) {
    std::size_t end = begin + 1;
    while (end < group.size() && kind_of(group[end]->writes) == kind_of(group[begin]->writes)) ++end;
    Status run = commit_run(begin, end);
    if (!run.ok()) {
      // The run's transaction wrote nothing: each request again on its own, so one bad request
      // fails alone.
      if (end - begin == 1) {
        out[begin] = run.take_error();
      } else {
        for (std::size_t i = begin; i < end; ++i) {
          Status alone = commit_run(i, i + 1);
          if (!alone.ok()) out[i] = alone.take_error();
        }
      }
    }
    begin = end;
  }
  return out;
}

bool Ingestor::refresh() {
  auto caught = ws_->catch_up();
  if (!caught.ok()) {
    log::error("event=ingest_index_failed error=\"{}\"", caught.error().to_string());
    return false;
  }
  pool_->publish(ws_->index_snapshot());
  return true;
}

}  // namespace ragft::serve
