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
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/types.h"

struct sqlite3;

namespace ragft {

namespace store_internal {
class StatementCache;
}

// A document as ingest produces it, before it has an id.
struct NewDocument {
  std::string ext_id;        // user-visible id, unique within a tenant (path, BEIR _id, ...)
  std::string tenant = "default";
  std::string source;        // where it came from (absolute path, file#line, ...)
  std::string format;        // txt, md, html, pdf, jsonl, csv
  std::string title;
  std::string text;          // normalised UTF-8 text that chunk offsets refer to
  // A JSON object (of string values, for metadata filters). Stored re-serialised: keys sorted,
  // no whitespace; malformed or not an object -> kInvalidArgument from upsert.
  std::string metadata_json = "{}";
  std::vector<std::string> acl;      // groups admitted; empty = everyone in the tenant. Stored
                                     // sorted and deduplicated.
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
  std::uint64_t simhash = 0;    // near-duplicate sketch; 0 = too short to sketch
  // An earlier chunk this one nearly repeats. Left unset, upsert fills it with the lowest id of
  // a chunk of the same tenant sharing a 16-bit band with `simhash` and differing in <= 3 bits
  // (an earlier chunk of the same upsert included). Not a foreign key: it may outlive its target.
  std::optional<ChunkId> near_duplicate_of;
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
  // Chunk ids this change deleted (the document's previous chunks), ascending, so derived
  // indexes can drop them without remembering which chunks belonged to which document.
  std::vector<ChunkId> removed_chunks;
  std::int64_t at_unix_ms = 0;  // wall-clock time the entry was written (ms since the epoch)
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

// An API key of the server (serve/api_keys.h makes and checks them), as stored: never the key
// itself, only its public lookup prefix and a salted hash. The store treats lookup, salt and
// hash as opaque strings.
struct ApiKeyRecord {
  std::int64_t id = 0;     // assigned by add_api_key, ascending
  std::string name;        // a label for people ("" allowed)
  std::string tenant = "default";
  std::optional<std::string> principal;  // nullopt: the tenant's owner (every document)
  bool admin = false;
  std::string lookup;      // unique among all keys, revoked ones included
  std::string salt, hash;
  std::int64_t created_unix_ms = 0;            // set by add_api_key
  std::optional<std::int64_t> revoked_unix_ms; // set by revoke_api_key
};

struct StoreStats {
  std::int64_t documents = 0, chunks = 0, near_duplicate_chunks = 0;
  Seq last_seq = 0;
};

class Store {
 public:
  // Creates the file and schema if missing (or empty); the directory must exist (else kIo).
  // A file that is not a ragft store -> kCorrupt; a newer schema version -> kUnsupported.
  // Errors name the file. Uses up to 64 MiB of page cache per connection.
  static Result<Store> open(const std::filesystem::path& path);
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // One transaction: inserts or replaces the document (matched by tenant + ext_id) and all its
  // chunks, and appends a change-log entry. Unchanged content_hash (and same acl, title,
  // metadata) -> kUnchanged, nothing written. Durable when it returns ok.
  // Replaced chunks are deleted; new chunks get fresh ids. On error nothing is written.
  // A chunk id past UINT32_MAX -> kResourceExhausted.
  Result<UpsertResult> upsert(const NewDocument& doc, const std::vector<NewChunk>& chunks);
  // Batch form: all in one transaction (much faster), all-or-nothing. Results in input order;
  // the same ext_id twice is applied twice, in order.
  Result<std::vector<UpsertResult>> upsert_batch(
      const std::vector<std::pair<NewDocument, std::vector<NewChunk>>>& docs);
  // Updates only source_mtime_ns/size of an unchanged document (no change-log entry).
  // Unknown id -> kNotFound.
  Status touch(DocId id, std::int64_t mtime_ns, std::int64_t size);
  struct Touch {
    DocId id = 0;
    std::int64_t mtime_ns = 0, size = 0;
  };
  // Many touches in one transaction (one fsync instead of one per document). Unknown ids are
  // skipped; returns how many documents were updated.
  Result<std::size_t> touch_batch(const std::vector<Touch>& touches);
  // Deletes a document and its chunks, logs kDelete. Returns false if it did not exist.
  Result<bool> remove(const std::string& tenant, const std::string& ext_id);
  // Batch form of remove() for (tenant, ext_id) pairs: one transaction, all-or-nothing. Per
  // pair in input order: whether it existed (the same pair twice: true, then false).
  Result<std::vector<bool>> remove_batch(const std::vector<std::pair<std::string, std::string>>& docs);

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
  // A chunk with what a search hit shows of its document.
  struct ChunkWithDocument {
    ChunkRecord chunk;
    std::string ext_id, title, source;  // of the document chunk.doc_id
  };
  // The chunks `ids` with their documents' ext_id, title and source, aligned with `ids`
  // (nullopt: no such chunk), read by one statement in one read transaction: what a search
  // joins its hits with, without a statement (and a transaction) per chunk and per document.
  Result<std::vector<std::optional<ChunkWithDocument>>> get_chunks_with_documents(const std::vector<ChunkId>& ids);
  // Current chunks of a document with their access info (for index catch-up).
  Result<std::vector<ChunkAccess>> chunk_access_of(DocId doc);
  // All current chunks, ascending id, streamed to `fn` (text included); for rebuilds. One read
  // snapshot for the whole walk. `fn` may read the store but must not write to it; an error
  // from `fn` stops the walk and is returned as is.
  Status for_each_chunk(const std::function<Status(const ChunkRecord&, const ChunkAccess&)>& fn);

  // Change-log entries with seq > after, ascending, at most `limit`.
  Result<std::vector<Change>> changes_since(Seq after, std::size_t limit = 1 << 20);
  Result<Seq> last_seq();

  // Chunk ids of documents whose metadata[key] == value (for metadata filters), ascending. The
  // key is matched literally (any characters); only string values match ("5" never matches 5).
  // All tenants: the caller filters access.
  Result<std::vector<ChunkId>> chunks_with_metadata(const std::string& key, const std::string& value);

  // Inserts or replaces (tenant, name). Groups are stored sorted and deduplicated.
  Status put_principal(const Principal& p);
  Result<std::optional<Principal>> get_principal(const std::string& tenant, const std::string& name);

  // API keys. add_api_key: empty tenant, lookup, salt or hash -> kInvalidArgument; a lookup
  // already stored -> kInvalidArgument. Returns the new id. list_api_keys: every key, revoked
  // ones included, ascending id. revoke_api_key: true when it revoked a key now; false for an
  // unknown id or one revoked already (nothing changes). Durable when they return ok.
  Result<std::int64_t> add_api_key(const ApiKeyRecord& key);
  Result<std::vector<ApiKeyRecord>> list_api_keys();
  Result<bool> revoke_api_key(std::int64_t id);

  // The embedding cache: vectors keyed by (model id, hash of the embedded text), so unchanged
  // chunks are never embedded twice and a different model id never reuses a vector.
  // Looks up `text_hashes`; found[i] says whether row i of `vectors` (resized to
  // text_hashes.size() * dim, unfound rows zero) was filled. A cached model with another
  // dimension -> kInvalidArgument.
  Status get_embeddings(const std::string& model, int dim, const std::vector<std::string>& text_hashes,
                        std::vector<float>& vectors, std::vector<bool>& found);
  // Inserts or replaces text_hashes.size() vectors (row-major, dim floats each) in one
  // transaction.
  Status put_embeddings(const std::string& model, int dim, const std::vector<std::string>& text_hashes,
                        const float* vectors);
  // Drops every cached vector of `model`; returns how many.
  Result<std::size_t> forget_embeddings(const std::string& model);

  Result<StoreStats> stats();
  const std::filesystem::path& path() const { return path_; }

 private:
  Store();
  // Prefixes `e` with the operation and names this store's file.
  Error fail(Error e, std::string_view operation) const;

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  // Prepared statements of db_; destroyed before db_ is closed.
  std::unique_ptr<store_internal::StatementCache> stmts_;
};

}  // namespace ragft
