// The server's write path: document upserts and deletes (documents_api.h) and keeping the
// readers' index current.
//
// Request threads hand their writes to write() and wait. One writer thread takes every request
// waiting at that moment as a group and:
//   1. commits each request's writes to the store (one SQLite transaction for the whole group,
//      WAL with synchronous=FULL: durable when it returns; a group whose transaction fails is
//      retried request by request, so one bad request fails alone, all-or-nothing);
//   2. brings the workspace's indexes up to date with the store (Workspace::catch_up on the
//      writer's own workspace: the lexical index gains one segment per group, merged tiered; the
//      dense index, when configured, embeds the new chunks);
//   3. publishes a snapshot of the lexical index to the WorkspacePool, which every reader
//      workspace adopts at its next lease;
// and only then answers the group's requests. So a write that was answered is durable, and
// every search that starts after the answer sees it.
//
// Readers never wait for the writer: a search runs on the snapshot its workspace holds (shared,
// immutable segments) and reads the store through its own SQLite connection (WAL readers never
// block on the writer). A search on a snapshot older than a delete skips the chunks the store no
// longer has.
//
// The writer also polls the store every poll_ms for changes made by other processes (`ragft
// index` while the server runs) and publishes them the same way.
//
// Thread-safe. The destructor (or stop()) finishes the writes queued, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "ingest/sync.h"
#include "serve/workspace_pool.h"

namespace ragft::serve {

struct IngestOptions {
  std::size_t max_group_docs = 8192;                   // documents per store transaction
  std::size_t max_group_bytes = std::size_t{64} << 20;  // or this much text
  int poll_ms = 1000;  // checks for other processes' changes at least this often
};

// One write of a request: an upsert of a prepared document, or a delete of (tenant, ext_id).
struct DocumentWrite {
  enum class Kind { kUpsert, kDelete };
  Kind kind = Kind::kUpsert;
  PreparedDocument upsert;  // kUpsert
  std::string tenant;       // kDelete
  std::string ext_id;       // kDelete
};

struct WriteOutcome {
  std::string ext_id;
  // "created", "updated", "unchanged" (upserts); "deleted", "not_found" (deletes)
  std::string status;
  std::size_t chunks = 0;  // the document's chunks (upserts)
};

struct WriteResult {
  std::vector<WriteOutcome> outcomes;  // in the request's order
  Seq seq = 0;                         // the store's change-log sequence after the group
  // False when the store commit succeeded but updating the index failed (logged): the writes
  // are durable, and the writer retries the index at its next group or poll.
  bool indexed = true;
};

class Ingestor {
 public:
  // Opens the writer's workspace (a catch-up, as the pool's), publishes its index to `pool` and
  // starts the writer thread.
  static Result<std::unique_ptr<Ingestor>> start(std::shared_ptr<WorkspacePool> pool, IngestOptions options = {});
  ~Ingestor();
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  // Blocks until the writes are committed and visible (above). One request is all-or-nothing:
  // an error leaves the store without any of its writes. After stop() -> kCancelled.
  Result<WriteResult> write(std::vector<DocumentWrite> writes);
  // Finishes the queued writes and joins the writer thread. Idempotent.
  void stop();

  // Groups committed so far (for tests: several concurrent requests may share one).
  std::size_t groups() const;

 private:
  struct Request {
    std::vector<DocumentWrite> writes;
    std::size_t bytes = 0;
    std::promise<Result<WriteResult>> done;
  };
  Ingestor(std::shared_ptr<WorkspacePool> pool, IngestOptions options, Workspace ws);
  void run();
  // Commits the requests to the store; per request its outcomes, or its error.
  std::vector<Result<std::vector<WriteOutcome>>> commit(std::vector<Request*>& group);
  // Catches the writer's workspace up and publishes its index; false on failure (logged).
  bool refresh();

  std::shared_ptr<WorkspacePool> pool_;
  const IngestOptions options_;
  std::unique_ptr<Workspace> ws_;  // the writer thread's

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Request>> queue_;
  bool stopping_ = false;
  std::size_t groups_ = 0;
  std::thread thread_;
};

}  // namespace ragft::serve
