// Incremental sync: files and directories -> documents and chunks in the store.
//
// A file whose size and mtime match what the store recorded is skipped without being read;
// otherwise it is loaded, chunked and upserted, and the store's content hash decides between
// changed and unchanged. With `prune`, documents whose files disappeared (or records that
// disappeared from a re-read jsonl/csv file) are removed. Bad input is counted as failed with a
// warning naming the file and the reason; it never aborts the batch or half-writes a document.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "ingest/chunker.h"
#include "ingest/loader.h"
#include "store/store.h"

namespace ragft {

struct SyncProgress {
  std::size_t files_done = 0;
  std::size_t files_total = 0;
  std::uint64_t bytes_done = 0;
  double seconds = 0;
};

struct SyncOptions {
  std::string tenant = "default";
  std::vector<std::string> acl;      // for documents that carry no acl of their own
  std::vector<std::string> include;  // fnmatch globs on the relative path or file name; empty = all
  std::vector<std::string> exclude;
  bool prune = false;
  LoadOptions load;
  ChunkerOptions chunker;
  std::size_t batch_docs = 256;            // documents per store transaction
  std::uint64_t batch_bytes = 16ull << 20;  // or this much text, whichever first
  std::function<void(const SyncProgress&)> on_progress;                // may be empty
  std::function<void(const std::vector<std::string>&)> on_committed;  // ext_ids made durable
};

struct SyncSummary {
  std::size_t added = 0, changed = 0, unchanged = 0, removed = 0, failed = 0;
  std::size_t skipped = 0;  // files of unknown formats inside directories, or excluded
  std::size_t files = 0;    // files considered
  std::uint64_t bytes_read = 0;
  double seconds = 0;
  std::vector<std::string> failures;  // "path: reason", also logged as warnings
};

// A loaded document as the store takes it: `base` (ext_id, tenant, source, format, acl, ...) with
// the loaded title (unless `base` has one), text, metadata and ACL (the loaded one when it has one),
// chunks (code-point offsets, simhashes) and the content hash sync uses to tell changes (over title,
// text, metadata and ACL). Pages are converted to code-point offsets. No chunk (no text to index) ->
// kInvalidArgument.
struct PreparedDocument {
  NewDocument doc;
  std::vector<NewChunk> chunks;
};
Result<PreparedDocument> prepare_document(LoadedDocument loaded, NewDocument base, const ChunkerOptions& chunker);

// Paths that do not exist -> kNotFound before anything is written.
Result<SyncSummary> sync_paths(Store& store, const std::vector<std::filesystem::path>& paths,
                               const SyncOptions& options);

}  // namespace ragft
