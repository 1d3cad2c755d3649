// The system of record: documents, versions, chunks, ACLs, principals and a change log in one
// SQLite database (WAL mode, synchronous=FULL for commits that are acknowledged to a user).
// Everything else (index files) is derived from it and can be rebuilt.
//
// A Store is one connection: not thread-safe; open one per thread. Several processes may open
// the same file (SQLite locking; writers wait up to busy_timeout).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"

struct sqlite3;

namespace ragft {

// A document as ingest produces it, before it has an id.
struct NewDocument {
  std::string ext_id;        // user-visible id, unique within a tenant (path, BEIR _id, ...)
  std::string tenant = "default";
  std::string source;        // where it came from (absolute path, file#line, ...)
  std::string format;        // txt, md, html, pdf, jsonl, csv
  std::string title;
  std::string text;          // normalised UTF-8 text that chunk offsets refer to
  std::string metadata_json = "{}";  // a JSON object of string values
  std::vector<std::string> acl;      // groups admitted; empty = everyone in the tenant
  std::string content_hash;  // of the source bytes (or of the record), for change detection
  std::int64_t source_mtime_ns = 0;  // for fast "unchanged" checks on files
  std::int64_t source_size = 0;
  // Char (code point) offsets where each PDF page starts; empty for other formats.
  std::vector<std::int64_t> page_starts;
};

struct NewChunk {
  int ordinal = 0;
  std::int64_t char_start = 0;  // code-point offsets into NewDocument::text, [start, end)
  std::int64_t char_end = 0;
  int page = 0;                 // 1-based PDF page of char_start; 0 when not paged
  std::string text;             // exactly text[char_start, char_end)
  std::uint64_t simhash = 0;    // near-duplicate sketch
  std::optional<ChunkId> near_duplicate_of;  // an earlier chunk this one nearly repeats
};

struct DocumentRecord {
  DocId id = 0;
  std::string ext_id, tenant, source, format, title, text, metadata_json, content_hash;
  std::vector<std::string> acl;
  std::int64_t version = 0;  // 1 on first insert, +1 on every changed upsert
  std::int64_t source_mtime_ns = 0, source_size = 0;
  std::vector<std::int64_t> page_starts;
};

struct ChunkRecord {
  ChunkId id = 0;
  DocId doc_id = 0;
  int ordinal = 0;
  std::int64_t char_start = 0, char_end = 0;
  int page = 0;
  std::string text;
  std::uint64_t simhash = 0;
  std::optional<ChunkId> near_duplicate_of;
};

enum class ChangeOp { kUpsert, kDelete };

struct Change {
  Seq seq = 0;
  ChangeOp op = ChangeOp::kUpsert;
  DocId doc_id = 0;
};

enum class UpsertOutcome { kAdded, kChanged, kUnchanged };

struct UpsertResult {
  DocId id = 0;
  UpsertOutcome outcome = UpsertOutcome::kAdded;
  Seq seq = 0;  // change-log sequence written (0 when unchanged)
};

// What the index needs to know about a chunk to filter it: its tenant and ACL.
struct ChunkAccess {
  ChunkId id = 0;
  DocId doc_id = 0;
  std::string tenant;
  std::vector<std::string> acl;
};

struct Principal {
  std::string name;
  std::string tenant = "default";
  std::vector<std::string> groups;
};

struct StoreStats {
  std::int64_t documents = 0, chunks = 0, near_duplicate_chunks = 0;
  Seq last_seq = 0;
};

class Store {
 public:
  // Creates the file and schema if missing. A file that is not a ragft store -> kCorrupt.
  static Result<Store> open(const std::filesystem::path& path);
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // One transaction: inserts or replaces the document (matched by tenant + ext_id) and all its
  // chunks, and appends a change-log entry. Unchanged content_hash (and same acl, title,
  // metadata) -> kUnchanged, nothing written. Durable when it returns ok.
  // Replaced chunks are deleted; new chunks get fresh ids.
  Result<UpsertResult> upsert(const NewDocument& doc, const std::vector<NewChunk>& chunks);
  // Batch form: all in one transaction (much faster), all-or-nothing.
  Result<std::vector<UpsertResult>> upsert_batch(
      const std::vector<std::pair<NewDocument, std::vector<NewChunk>>>& docs);
  // Updates only source_mtime_ns/size of an unchanged document (no change-log entry).
  Status touch(DocId id, std::int64_t mtime_ns, std::int64_t size);
  // Deletes a document and its chunks, logs kDelete. Returns false if it did not exist.
  Result<bool> remove(const std::string& tenant, const std::string& ext_id);

  Result<std::optional<DocumentRecord>> find(const std::string& tenant, const std::string& ext_id);
  Result<std::optional<DocumentRecord>> get(DocId id);
  // Lightweight listing for sync: ext_id -> (id, content_hash, mtime, size, source) of a tenant,
  // restricted to documents whose source starts with `source_prefix` (empty = all).
  struct SourceState {
    DocId id = 0;
    std::string ext_id, source, content_hash;
    std::int64_t mtime_ns = 0, size = 0;
  };
  Result<std::vector<SourceState>> list_sources(const std::string& tenant,
                                                const std::string& source_prefix = "");

  Result<std::vector<ChunkRecord>> chunks_of(DocId doc);
  Result<std::optional<ChunkRecord>> get_chunk(ChunkId id);
  // Current chunks of a document with their access info (for index catch-up).
  Result<std::vector<ChunkAccess>> chunk_access_of(DocId doc);
  // All current chunks, ascending id, streamed to `fn` (text included); for rebuilds.
  Status for_each_chunk(const std::function<Status(const ChunkRecord&, const ChunkAccess&)>& fn);

  // Change-log entries with seq > after, ascending, at most `limit`.
  Result<std::vector<Change>> changes_since(Seq after, std::size_t limit = 1 << 20);
  Result<Seq> last_seq();

  // Chunk ids of documents whose metadata[key] == value (for metadata filters).
  Result<std::vector<ChunkId>> chunks_with_metadata(const std::string& key, const std::string& value);

  Status put_principal(const Principal& p);
  Result<std::optional<Principal>> get_principal(const std::string& tenant, const std::string& name);

  Result<StoreStats> stats();
  const std::filesystem::path& path() const { return path_; }

 private:
  Store() = default;
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

}  // namespace ragft
