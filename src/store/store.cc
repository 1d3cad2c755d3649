#include "store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/log.h"
#include "store/document_writer.h"
#include "store/sqlite_util.h"

namespace ragft {

using store_internal::dump_json;
using store_internal::in_context;
using store_internal::now_unix_ms;
using store_internal::parse_string_array;
using store_internal::Query;
using store_internal::sqlite_error;
using store_internal::StatementCache;
using store_internal::Transaction;
using store_internal::upsert_in_transaction;

namespace {

// Runs a multi-statement SQL script.
Status exec_script(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return ok_status();
  Error e{store_internal::error_code_for_sqlite(rc), err != nullptr ? err : sqlite3_errstr(rc)};
  sqlite3_free(err);
  return e;
}

// "RAGF" in PRAGMA application_id; schema version in PRAGMA user_version.
constexpr std::int32_t kApplicationId = 0x52414746;
// 1: documents, chunks, changelog, principals. 2: + the embedding cache (kSchemaV2).
// 3: + API keys (kSchemaV3).
constexpr std::int32_t kSchemaVersion = 3;
constexpr int kBusyTimeoutMs = 10'000;

constexpr const char* kSchema = R"sql(
CREATE TABLE documents(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  ext_id TEXT NOT NULL,
  source TEXT NOT NULL,
  format TEXT NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  metadata_json TEXT NOT NULL,
  acl_json TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  version INTEGER NOT NULL,
  source_mtime_ns INTEGER NOT NULL,
  source_size INTEGER NOT NULL,
  page_starts_json TEXT NOT NULL,
  UNIQUE(tenant, ext_id));
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  char_start INTEGER NOT NULL,
  char_end INTEGER NOT NULL,
  page INTEGER NOT NULL,
  text TEXT NOT NULL,
  simhash INTEGER NOT NULL,
  band0 INTEGER, band1 INTEGER, band2 INTEGER, band3 INTEGER,
  near_duplicate_of INTEGER);
CREATE INDEX chunks_doc ON chunks(doc_id, ordinal);
CREATE INDEX chunks_band0 ON chunks(band0, simhash) WHERE band0 IS NOT NULL;
CREATE INDEX chunks_band1 ON chunks(band1, simhash) WHERE band1 IS NOT NULL;
CREATE INDEX chunks_band2 ON chunks(band2, simhash) WHERE band2 IS NOT NULL;
CREATE INDEX chunks_band3 ON chunks(band3, simhash) WHERE band3 IS NOT NULL;
CREATE TABLE changelog(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  op TEXT NOT NULL CHECK(op IN ('upsert', 'delete')),
  doc_id INTEGER NOT NULL,
  at_unix_ms INTEGER NOT NULL,
  removed_chunks TEXT NOT NULL DEFAULT '[]');
CREATE TABLE principals(
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  groups_json TEXT NOT NULL,
  PRIMARY KEY(tenant, name)) WITHOUT ROWID;
)sql";

// Added in version 2 (created by new stores, and by opening a version 1 store).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE embedding_models(
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL UNIQUE,
  dim INTEGER NOT NULL);
CREATE TABLE embeddings(
  model INTEGER NOT NULL REFERENCES embedding_models(id) ON DELETE CASCADE,
  text_hash TEXT NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY(model, text_hash)) WITHOUT ROWID;
)sql";

// Added in version 3: the server's API keys, as salted hashes (serve/api_keys.h). `lookup` is
// the key's public lookup prefix, never its secret part.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE api_keys(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  principal TEXT,
  admin INTEGER NOT NULL,
  lookup TEXT NOT NULL UNIQUE,
  salt TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  revoked_unix_ms INTEGER);
)sql";

// The scripts that take a store from version i + 1 to i + 2 (index 0: 1 -> 2).
constexpr const char* kUpgrades[] = {kSchemaV2, kSchemaV3};
static_assert(std::size(kUpgrades) == kSchemaVersion - 1);

constexpr const char* kDocumentColumns =
    "id, ext_id, tenant, source, format, title, text, metadata_json, content_hash, acl_json, "
    "version, source_mtime_ns, source_size, page_starts_json";
constexpr const char* kChunkColumns =
    "c.id, c.doc_id, c.ordinal, c.char_start, c.char_end, c.page, c.text, c.simhash, "
    "c.near_duplicate_of";

Result<std::vector<std::int64_t>> parse_int_array(const std::string& s, std::string_view what) {
  auto j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) {
    return make_error(ErrorCode::kCorrupt, "{} is not a JSON array of integers: {}", what, s);
  }
  std::vector<std::int64_t> out;
  out.reserve(j.size());
  for (const auto& v : j) {
    if (!v.is_number_integer()) {
      return make_error(ErrorCode::kCorrupt, "{} is not a JSON array of integers: {}", what, s);
    }
    out.push_back(v.get<std::int64_t>());
  }
  return out;
}

// Reads a document row selected with kDocumentColumns.
Result<DocumentRecord> read_document(const Query& q) {
  DocumentRecord d;
  d.id = q.col_int(0);
  d.ext_id = q.col_text(1);
  d.tenant = q.col_text(2);
  d.source = q.col_text(3);
  d.format = q.col_text(4);
  d.title = q.col_text(5);
  d.text = q.col_text(6);
  d.metadata_json = q.col_text(7);
  d.content_hash = q.col_text(8);
  RAGFT_TRY(d.acl, parse_string_array(q.col_text(9), fmt::format("acl_json of document {}", d.id)));
  d.version = q.col_int(10);
  d.source_mtime_ns = q.col_int(11);
  d.source_size = q.col_int(12);
  RAGFT_TRY(d.page_starts, parse_int_array(q.col_text(13),
                                           fmt::format("page_starts_json of document {}", d.id)));
  return d;
}

// Reads a chunk row selected with kChunkColumns, starting at column `first`.
ChunkRecord read_chunk(const Query& q, int first = 0) {
  ChunkRecord c;
  c.id = static_cast<ChunkId>(q.col_int(first + 0));
  c.doc_id = q.col_int(first + 1);
  c.ordinal = static_cast<int>(q.col_int(first + 2));
  c.char_start = q.col_int(first + 3);
  c.char_end = q.col_int(first + 4);
  c.page = static_cast<int>(q.col_int(first + 5));
  c.text = q.col_text(first + 6);
  c.simhash = static_cast<std::uint64_t>(q.col_int(first + 7));
  if (auto nd = q.col_opt_int(first + 8)) c.near_duplicate_of = static_cast<ChunkId>(*nd);
  return c;
}

std::string upsert_context(const NewDocument& doc) {
  if (doc.tenant == "default") return fmt::format("upsert \"{}\"", doc.ext_id);
  return fmt::format("upsert \"{}\" (tenant \"{}\")", doc.ext_id, doc.tenant);
}

}  // namespace

Store::Store() = default;

Store::Store(Store&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)), stmts_(std::move(o.stmts_)) {}

Store& Store::operator=(Store&& o) noexcept {
  if (this != &o) {
    stmts_.reset();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
    path_ = std::move(o.path_);
    stmts_ = std::move(o.stmts_);
  }
  return *this;
}

Store::~Store() {
  stmts_.reset();  // finalize statements before closing
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Error Store::fail(Error e, std::string_view operation) const {
  e.message = fmt::format("{}: {} (store {})", operation, e.message, path_.string());
  return e;
}

Result<Store> Store::open(const std::filesystem::path& path) {
  Store store;
  store.path_ = path;
  const std::string p = path.string();
  auto open_error = [&](Error e) {
    return store.fail(std::move(e), "open");
  };
  int rc = sqlite3_open_v2(p.c_str(), &store.db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(store.db_, rc);
    if (store.db_ == nullptr) e.code = ErrorCode::kResourceExhausted;  // could not even allocate
    e.message += "; check that the directory exists and is writable";
    return open_error(std::move(e));
  }
  sqlite3_extended_result_codes(store.db_, 1);
  sqlite3_busy_timeout(store.db_, kBusyTimeoutMs);
  store.stmts_ = std::make_unique<StatementCache>(store.db_);
  StatementCache& stmts = *store.stmts_;

  auto read_int = [&](const char* sql) -> Result<std::int64_t> {
    RAGFT_TRY(Query q, stmts.query(sql));
    RAGFT_TRY(bool row, q.step());
    return row ? q.col_int(0) : 0;
  };
  auto not_a_store = [&](Error e) {
    if (e.code == ErrorCode::kCorrupt) {
      e.message += "; this file is not a ragft store (pass the store's path, or a new file name)";
    }
    return open_error(std::move(e));
  };
  // The first read parses the header: random bytes fail here with SQLITE_NOTADB.
  auto app_id = read_int("PRAGMA application_id");
  if (!app_id.ok()) return not_a_store(app_id.take_error());
  auto tables = read_int("SELECT count(*) FROM sqlite_master");
  if (!tables.ok()) return not_a_store(tables.take_error());
  if (*app_id != kApplicationId && !(*app_id == 0 && *tables == 0)) {
    return open_error(make_error(ErrorCode::kCorrupt,
                                 "not a ragft store (application_id {:#x}, {} schema objects); "
                                 "pass the store's path, or a new file name",
                                 *app_id, *tables));
  }

  // WAL is persistent in the file; setting it again is a no-op.
  {
    auto q = stmts.query("PRAGMA journal_mode=WAL");
    if (!q.ok()) return open_error(q.take_error());
    auto row = q->step();
    if (!row.ok()) return open_error(row.take_error());
    std::string mode = *row ? q->col_text(0) : "";
    if (mode != "wal") {
      log::warn("store={} event=no_wal journal_mode={}", p, mode);
    }
  }
  for (const char* pragma : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                             "PRAGMA cache_size=-65536"}) {
    Status s = stmts.exec(pragma);
    if (!s.ok()) return open_error(s.take_error());
  }

  if (*app_id == 0) {
    // A new store. Another process may be creating it at the same time: re-check under the lock.
    auto txn = Transaction::begin_immediate(stmts);
    if (!txn.ok()) return open_error(txn.take_error());
    auto app_id2 = read_int("PRAGMA application_id");
    if (!app_id2.ok()) return open_error(app_id2.take_error());
    if (*app_id2 == 0) {
      for (const char* sql : {kSchema, kSchemaV2, kSchemaV3}) {
        Status s = exec_script(store.db_, sql);
        if (!s.ok()) return open_error(in_context(s.take_error(), "create schema"));
      }
      for (std::string pragma : {fmt::format("PRAGMA application_id={}", kApplicationId),
                                 fmt::format("PRAGMA user_version={}", kSchemaVersion)}) {
        rc = sqlite3_exec(store.db_, pragma.c_str(), nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) return open_error(sqlite_error(store.db_, rc));
      }
      Status s = txn->commit();
      if (!s.ok()) return open_error(s.take_error());
      log::debug("store={} event=created schema_version={}", p, kSchemaVersion);
    }
  }

  auto version = read_int("PRAGMA user_version");
  if (!version.ok()) return open_error(version.take_error());
  while (*version >= 1 && *version < kSchemaVersion) {
    // Upgrade in place, one version at a time: each step only adds tables. Another process may
    // be upgrading too: re-read the version under the write lock.
    const std::int64_t from = *version;
    auto txn = Transaction::begin_immediate(stmts);
    if (!txn.ok()) return open_error(txn.take_error());
    version = read_int("PRAGMA user_version");
    if (!version.ok()) return open_error(version.take_error());
    if (*version != from) continue;  // upgraded meanwhile; the transaction rolls back
    Status s = exec_script(store.db_, kUpgrades[from - 1]);
    if (s.ok()) s = exec_script(store.db_, fmt::format("PRAGMA user_version={}", from + 1).c_str());
    if (s.ok()) s = txn->commit();
    if (!s.ok()) return open_error(in_context(s.take_error(), fmt::format("upgrade schema {} -> {}", from, from + 1)));
    log::info("store={} event=schema_upgraded from={} to={}", p, from, from + 1);
    version = from + 1;
  }
  if (*version > kSchemaVersion) {
    return open_error(make_error(ErrorCode::kUnsupported,
                                 "store schema version {} is newer than this ragft supports ({}); "
                                 "upgrade ragft",
                                 *version, kSchemaVersion));
  }
  if (*version != kSchemaVersion) {
    return open_error(make_error(ErrorCode::kCorrupt,
                                 "store schema version {} is not a known version (expected {})",
                                 *version, kSchemaVersion));
  }
  return store;
}

Result<UpsertResult> Store::upsert(const NewDocument& doc, const std::vector<NewChunk>& chunks) {
  const std::string ctx = upsert_context(doc);
  auto txn = Transaction::begin_immediate(*stmts_);
  if (!txn.ok()) return fail(txn.take_error(), ctx);
  auto r = upsert_in_transaction(*stmts_, doc, chunks);
  if (!r.ok()) return fail(r.take_error(), ctx);
  if (r->outcome == UpsertOutcome::kUnchanged) return r;  // nothing written; txn rolls back
  Status s = txn->commit();
  if (!s.ok()) return fail(s.take_error(), ctx);
  return r;
}

Result<std::vector<UpsertResult>> Store::upsert_batch(
    const std::vector<std::pair<NewDocument, std::vector<NewChunk>>>& docs) {
  std::vector<UpsertResult> out;
  out.reserve(docs.size());
  auto txn = Transaction::begin_immediate(*stmts_);
  if (!txn.ok()) return fail(txn.take_error(), fmt::format("upsert batch of {}", docs.size()));
  bool wrote = false;
  for (const auto& [doc, chunks] : docs) {
    auto r = upsert_in_transaction(*stmts_, doc, chunks);
    if (!r.ok()) {
      return fail(r.take_error(), fmt::format("{} (batch of {}; nothing was written)",
                                              upsert_context(doc), docs.size()));
    }
    wrote = wrote || r->outcome != UpsertOutcome::kUnchanged;
    out.push_back(*r);
  }
  if (wrote) {
    Status s = txn->commit();
    if (!s.ok()) return fail(s.take_error(), fmt::format("upsert batch of {}", docs.size()));
  }
  return out;
}

Status Store::touch(DocId id, std::int64_t mtime_ns, std::int64_t size) {
  const std::string ctx = fmt::format("touch document {}", id);
  auto q = stmts_->query("UPDATE documents SET source_mtime_ns = ?2, source_size = ?3 WHERE id = ?1");
  if (!q.ok()) return fail(q.take_error(), ctx);
  q->bind_int(1, id).bind_int(2, mtime_ns).bind_int(3, size);
  Status s = q->run();
  if (!s.ok()) return fail(s.take_error(), ctx);
  if (sqlite3_changes(db_) == 0) {
    return fail(make_error(ErrorCode::kNotFound, "no such document"), ctx);
  }
  return ok_status();
}

Result<std::size_t> Store::touch_batch(const std::vector<Touch>& touches) {
  if (touches.empty()) return std::size_t{0};
  auto body = [&]() -> Result<std::size_t> {
    RAGFT_TRY(Transaction txn, Transaction::begin_immediate(*stmts_));
    std::size_t updated = 0;
    for (const Touch& t : touches) {
      RAGFT_TRY(Query q, stmts_->query("UPDATE documents SET source_mtime_ns = ?2, source_size = ?3 WHERE id = ?1"));
      q.bind_int(1, t.id).bind_int(2, t.mtime_ns).bind_int(3, t.size);
      RAGFT_TRY_STATUS(q.run());
      updated += static_cast<std::size_t>(sqlite3_changes(db_));
    }
    RAGFT_TRY_STATUS(txn.commit());
    return updated;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("touch {} documents", touches.size()));
  return r;
}

namespace {

// Deletes (tenant, ext_id) and logs it inside an open transaction; false when there is none.
Result<bool> remove_in_transaction(StatementCache& stmts, const std::string& tenant, const std::string& ext_id) {
  DocId id = 0;
  {
    RAGFT_TRY(Query q, stmts.query("SELECT id FROM documents WHERE tenant = ?1 AND ext_id = ?2"));
    q.bind_text(1, tenant).bind_text(2, ext_id);
    RAGFT_TRY(bool row, q.step());
    if (!row) return false;
    id = q.col_int(0);
  }
  RAGFT_TRY(std::string removed, store_internal::delete_chunks(stmts, id));
  {
    RAGFT_TRY(Query q, stmts.query("DELETE FROM documents WHERE id = ?1"));
    q.bind_int(1, id);
    RAGFT_TRY_STATUS(q.run());
  }
  {
    RAGFT_TRY(Query q, stmts.query(
                           "INSERT INTO changelog(op, doc_id, at_unix_ms, removed_chunks) VALUES('delete', ?1, ?2, ?3)"));
    q.bind_int(1, id).bind_int(2, now_unix_ms()).bind_text(3, removed);
    RAGFT_TRY_STATUS(q.run());
  }
  return true;
}

}  // namespace

Result<bool> Store::remove(const std::string& tenant, const std::string& ext_id) {
  const std::string ctx = fmt::format("remove \"{}\" (tenant \"{}\")", ext_id, tenant);
  auto body = [&]() -> Result<bool> {
    RAGFT_TRY(Transaction txn, Transaction::begin_immediate(*stmts_));
    RAGFT_TRY(bool removed, remove_in_transaction(*stmts_, tenant, ext_id));
    if (removed) RAGFT_TRY_STATUS(txn.commit());
    return removed;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), ctx);
  return r;
}

Result<std::vector<bool>> Store::remove_batch(const std::vector<std::pair<std::string, std::string>>& docs) {
  auto body = [&]() -> Result<std::vector<bool>> {
    RAGFT_TRY(Transaction txn, Transaction::begin_immediate(*stmts_));
    std::vector<bool> out;
    out.reserve(docs.size());
    bool any = false;
    for (const auto& [tenant, ext_id] : docs) {
      RAGFT_TRY(bool removed, remove_in_transaction(*stmts_, tenant, ext_id));
      out.push_back(removed);
      any = any || removed;
    }
    if (any) RAGFT_TRY_STATUS(txn.commit());
    return out;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("remove batch of {} (nothing was removed)", docs.size()));
  return r;
}

Result<std::optional<DocumentRecord>> Store::find(const std::string& tenant,
                                                  const std::string& ext_id) {
  auto body = [&]() -> Result<std::optional<DocumentRecord>> {
    static const std::string sql =
        fmt::format("SELECT {} FROM documents WHERE tenant = ?1 AND ext_id = ?2", kDocumentColumns);
    RAGFT_TRY(Query q, stmts_->query(sql));
    q.bind_text(1, tenant).bind_text(2, ext_id);
    RAGFT_TRY(bool row, q.step());
    if (!row) return std::optional<DocumentRecord>();
    RAGFT_TRY(DocumentRecord d, read_document(q));
    return std::optional<DocumentRecord>(std::move(d));
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("find \"{}\"", ext_id));
  return r;
}

Result<std::optional<DocumentRecord>> Store::get(DocId id) {
  auto body = [&]() -> Result<std::optional<DocumentRecord>> {
    static const std::string sql =
        fmt::format("SELECT {} FROM documents WHERE id = ?1", kDocumentColumns);
    RAGFT_TRY(Query q, stmts_->query(sql));
    q.bind_int(1, id);
    RAGFT_TRY(bool row, q.step());
    if (!row) return std::optional<DocumentRecord>();
    RAGFT_TRY(DocumentRecord d, read_document(q));
    return std::optional<DocumentRecord>(std::move(d));
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("get document {}", id));
  return r;
}

Result<std::vector<Store::SourceState>> Store::list_sources(const std::string& tenant,
                                                            const std::string& source_prefix) {
  auto body = [&]() -> Result<std::vector<SourceState>> {
    // substr() instead of LIKE: no wildcard escaping, exact byte prefix.
    RAGFT_TRY(Query q, stmts_->query(
                           "SELECT id, ext_id, source, content_hash, source_mtime_ns, source_size "
                           "FROM documents WHERE tenant = ?1 AND "
                           "substr(source, 1, length(CAST(?2 AS BLOB))) = ?2 ORDER BY ext_id"));
    q.bind_text(1, tenant).bind_text(2, source_prefix);
    std::vector<SourceState> out;
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      SourceState s;
      s.id = q.col_int(0);
      s.ext_id = q.col_text(1);
      s.source = q.col_text(2);
      s.content_hash = q.col_text(3);
      s.mtime_ns = q.col_int(4);
      s.size = q.col_int(5);
      out.push_back(std::move(s));
    }
    return out;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("list sources of tenant \"{}\"", tenant));
  return r;
}

Result<std::vector<ChunkRecord>> Store::chunks_of(DocId doc) {
  auto body = [&]() -> Result<std::vector<ChunkRecord>> {
    static const std::string sql = fmt::format(
        "SELECT {} FROM chunks c WHERE c.doc_id = ?1 ORDER BY c.ordinal, c.id", kChunkColumns);
    RAGFT_TRY(Query q, stmts_->query(sql));
    q.bind_int(1, doc);
    std::vector<ChunkRecord> out;
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      out.push_back(read_chunk(q));
    }
    return out;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("chunks of document {}", doc));
  return r;
}

Result<std::optional<ChunkRecord>> Store::get_chunk(ChunkId id) {
  auto body = [&]() -> Result<std::optional<ChunkRecord>> {
    static const std::string sql =
        fmt::format("SELECT {} FROM chunks c WHERE c.id = ?1", kChunkColumns);
    RAGFT_TRY(Query q, stmts_->query(sql));
    q.bind_int(1, id);
    RAGFT_TRY(bool row, q.step());
    if (!row) return std::optional<ChunkRecord>();
    return std::optional<ChunkRecord>(read_chunk(q));
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("get chunk {}", id));
  return r;
}

Result<std::vector<std::optional<Store::ChunkWithDocument>>> Store::get_chunks_with_documents(
    const std::vector<ChunkId>& ids) {
  auto body = [&]() -> Result<std::vector<std::optional<ChunkWithDocument>>> {
    std::vector<std::optional<ChunkWithDocument>> out(ids.size());
    if (ids.empty()) return out;
    // The ids as one JSON array bound to json_each (any count, one prepared statement); CROSS
    // JOIN keeps json_each the outer loop, so each id is one rowid lookup per table.
    static const std::string sql = fmt::format(
        "SELECT j.key, {}, d.ext_id, d.title, d.source FROM json_each(?1) AS j "
        "CROSS JOIN chunks c ON c.id = j.value CROSS JOIN documents d ON d.id = c.doc_id",
        kChunkColumns);
    std::string list = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) list += ',';
      fmt::format_to(std::back_inserter(list), "{}", ids[i]);
    }
    list += ']';
    RAGFT_TRY(Query q, stmts_->query(sql));
    q.bind_text(1, list);
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      const std::int64_t i = q.col_int(0);  // the position in `ids`
      if (i < 0 || static_cast<std::size_t>(i) >= ids.size()) {
        return make_error(ErrorCode::kInternal, "json_each returned position {} of {} ids", i, ids.size());
      }
      ChunkWithDocument& c = out[static_cast<std::size_t>(i)].emplace();
      c.chunk = read_chunk(q, 1);
      c.ext_id = q.col_text(10);
      c.title = q.col_text(11);
      c.source = q.col_text(12);
    }
    return out;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("get {} chunks with their documents", ids.size()));
  return r;
}

Result<std::vector<ChunkAccess>> Store::chunk_access_of(DocId doc) {
  auto body = [&]() -> Result<std::vector<ChunkAccess>> {
    RAGFT_TRY(Query q, stmts_->query(
                           "SELECT c.id, d.tenant, d.acl_json FROM documents d "
                           "JOIN chunks c ON c.doc_id = d.id WHERE d.id = ?1 ORDER BY c.id"));
    q.bind_int(1, doc);
    std::vector<ChunkAccess> out;
    std::vector<std::string> acl;
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      if (out.empty()) {
        RAGFT_TRY(acl, parse_string_array(q.col_text(2), fmt::format("acl_json of document {}", doc)));
      }
      out.push_back(ChunkAccess{static_cast<ChunkId>(q.col_int(0)), doc, q.col_text(1), acl});
    }
    return out;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("chunk access of document {}", doc));
  return r;
}

Status Store::for_each_chunk(
    const std::function<Status(const ChunkRecord&, const ChunkAccess&)>& fn) {
  static const std::string sql = fmt::format(
      "SELECT {}, d.tenant, d.acl_json FROM chunks c CROSS JOIN documents d ON d.id = c.doc_id "
      "ORDER BY c.id",
      kChunkColumns);
  auto q = stmts_->query(sql);
  if (!q.ok()) return fail(q.take_error(), "for each chunk");
  ChunkAccess access;
  DocId acl_doc = -1;  // the document whose tenant/acl `access` holds
  while (true) {
    auto row = q->step();
    if (!row.ok()) return fail(row.take_error(), "for each chunk");
    if (!*row) break;
    ChunkRecord c = read_chunk(*q);
    if (c.doc_id != acl_doc) {
      access.tenant = q->col_text(9);
      auto acl = parse_string_array(q->col_text(10), fmt::format("acl_json of document {}", c.doc_id));
      if (!acl.ok()) return fail(acl.take_error(), "for each chunk");
      access.acl = std::move(*acl);
      access.doc_id = c.doc_id;
      acl_doc = c.doc_id;
    }
    access.id = c.id;
    RAGFT_TRY_STATUS(fn(c, access));
  }
  return ok_status();
}

Result<std::vector<Change>> Store::changes_since(Seq after, std::size_t limit) {
  auto body = [&]() -> Result<std::vector<Change>> {
    RAGFT_TRY(Query q, stmts_->query(
                           "SELECT seq, op, doc_id, removed_chunks, at_unix_ms FROM changelog WHERE seq > ?1 ORDER BY seq "
                           "LIMIT ?2"));
    auto lim = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
    q.bind_int(1, after).bind_int(2, lim);
    std::vector<Change> out;
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      std::string op = q.col_text(1);
      Change c{q.col_int(0), op == "delete" ? ChangeOp::kDelete : ChangeOp::kUpsert, q.col_int(2), {},
               q.col_int(4)};
      std::string removed = q.col_text(3);
      try {
        for (const auto& v : nlohmann::json::parse(removed)) c.removed_chunks.push_back(v.get<ChunkId>());
      } catch (const std::exception& e) {
        return make_error(ErrorCode::kCorrupt, "changelog seq {}: removed_chunks is not a JSON id list: {}",
                          c.seq, e.what());
      }
      out.push_back(std::move(c));
    }
    return out;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("changes since {}", after));
  return r;
}

Result<Seq> Store::last_seq() {
  auto body = [&]() -> Result<Seq> {
    RAGFT_TRY(Query q, stmts_->query("SELECT COALESCE(MAX(seq), 0) FROM changelog"));
    RAGFT_TRY(bool row, q.step());
    return row ? q.col_int(0) : 0;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), "last seq");
  return r;
}

Result<std::vector<ChunkId>> Store::chunks_with_metadata(const std::string& key,
                                                         const std::string& value) {
  auto body = [&]() -> Result<std::vector<ChunkId>> {
    // json_each matches the key literally (any characters, no JSON-path quoting) and only
    // string values (a number 5 does not match "5").
    RAGFT_TRY(Query q, stmts_->query(
                           "SELECT c.id FROM documents d, json_each(d.metadata_json) j "
                           "CROSS JOIN chunks c ON c.doc_id = d.id "
                           "WHERE j.key = ?1 AND j.type = 'text' AND j.atom = ?2 ORDER BY c.id"));
    q.bind_text(1, key).bind_text(2, value);
    std::vector<ChunkId> out;
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      out.push_back(static_cast<ChunkId>(q.col_int(0)));
    }
    return out;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("chunks with metadata \"{}\"", key));
  return r;
}

Status Store::put_principal(const Principal& p) {
  const std::string ctx = fmt::format("put principal \"{}\" (tenant \"{}\")", p.name, p.tenant);
  if (p.name.empty() || p.tenant.empty()) {
    return fail(make_error(ErrorCode::kInvalidArgument, "principal name and tenant must be non-empty"),
                ctx);
  }
  std::vector<std::string> groups = p.groups;
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  auto groups_json = dump_json(nlohmann::json(groups), "groups");
  if (!groups_json.ok()) return fail(groups_json.take_error(), ctx);
  auto q = stmts_->query(
      "INSERT INTO principals(tenant, name, groups_json) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(tenant, name) DO UPDATE SET groups_json = excluded.groups_json");
  if (!q.ok()) return fail(q.take_error(), ctx);
  q->bind_text(1, p.tenant).bind_text(2, p.name).bind_text(3, *groups_json);
  Status s = q->run();
  if (!s.ok()) return fail(s.take_error(), ctx);
  return ok_status();
}

Result<std::optional<Principal>> Store::get_principal(const std::string& tenant,
                                                      const std::string& name) {
  auto body = [&]() -> Result<std::optional<Principal>> {
    RAGFT_TRY(Query q, stmts_->query(
                           "SELECT groups_json FROM principals WHERE tenant = ?1 AND name = ?2"));
    q.bind_text(1, tenant).bind_text(2, name);
    RAGFT_TRY(bool row, q.step());
    if (!row) return std::optional<Principal>();
    Principal p;
    p.name = name;
    p.tenant = tenant;
    RAGFT_TRY(p.groups, parse_string_array(q.col_text(0), "groups_json"));
    return std::optional<Principal>(std::move(p));
  };
  auto r = body();
  if (!r.ok()) {
    return fail(r.take_error(), fmt::format("get principal \"{}\" (tenant \"{}\")", name, tenant));
  }
  return r;
}

Result<std::int64_t> Store::add_api_key(const ApiKeyRecord& key) {
  const std::string ctx = fmt::format("add API key \"{}\" (tenant \"{}\")", key.name, key.tenant);
  if (key.tenant.empty() || key.lookup.empty() || key.salt.empty() || key.hash.empty()) {
    return fail(make_error(ErrorCode::kInvalidArgument, "tenant, lookup, salt and hash must be non-empty"), ctx);
  }
  if (key.principal && key.principal->empty()) {
    return fail(make_error(ErrorCode::kInvalidArgument, "principal must be non-empty when given"), ctx);
  }
  auto body = [&]() -> Result<std::int64_t> {
    RAGFT_TRY(Query exists, stmts_->query("SELECT 1 FROM api_keys WHERE lookup = ?1"));
    exists.bind_text(1, key.lookup);
    RAGFT_TRY(bool taken, exists.step());
    if (taken) return make_error(ErrorCode::kInvalidArgument, "an API key with this lookup prefix exists already");
    RAGFT_TRY(Query q, stmts_->query(
                           "INSERT INTO api_keys(name, tenant, principal, admin, lookup, salt, hash, "
                           "created_unix_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    q.bind_text(1, key.name).bind_text(2, key.tenant).bind_int(4, key.admin ? 1 : 0);
    if (key.principal) {
      q.bind_text(3, *key.principal);
    } else {
      q.bind_null(3);
    }
    q.bind_text(5, key.lookup).bind_text(6, key.salt).bind_text(7, key.hash).bind_int(8, now_unix_ms());
    RAGFT_TRY_STATUS(q.run());
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), ctx);
  return r;
}

Result<std::vector<ApiKeyRecord>> Store::list_api_keys() {
  auto body = [&]() -> Result<std::vector<ApiKeyRecord>> {
    RAGFT_TRY(Query q, stmts_->query(
                           "SELECT id, name, tenant, principal, admin, lookup, salt, hash, created_unix_ms, "
                           "revoked_unix_ms FROM api_keys ORDER BY id"));
    std::vector<ApiKeyRecord> out;
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      ApiKeyRecord k;
      k.id = q.col_int(0);
      k.name = q.col_text(1);
      k.tenant = q.col_text(2);
      if (!q.col_null(3)) k.principal = q.col_text(3);
      k.admin = q.col_int(4) != 0;
      k.lookup = q.col_text(5);
      k.salt = q.col_text(6);
      k.hash = q.col_text(7);
      k.created_unix_ms = q.col_int(8);
      k.revoked_unix_ms = q.col_opt_int(9);
      out.push_back(std::move(k));
    }
    return out;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), "list API keys");
  return r;
}

Result<bool> Store::revoke_api_key(std::int64_t id) {
  auto body = [&]() -> Result<bool> {
    RAGFT_TRY(Query q, stmts_->query(
                           "UPDATE api_keys SET revoked_unix_ms = ?2 WHERE id = ?1 AND revoked_unix_ms IS NULL"));
    q.bind_int(1, id).bind_int(2, now_unix_ms());
    RAGFT_TRY_STATUS(q.run());
    return sqlite3_changes(db_) > 0;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("revoke API key {}", id));
  return r;
}

Result<StoreStats> Store::stats() {
  auto body = [&]() -> Result<StoreStats> {
    // One statement, so the four numbers come from one snapshot.
    RAGFT_TRY(Query q, stmts_->query(
                           "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks), "
                           "(SELECT count(*) FROM chunks WHERE near_duplicate_of IS NOT NULL), "
                           "(SELECT COALESCE(MAX(seq), 0) FROM changelog)"));
    RAGFT_TRY(bool row, q.step());
    StoreStats s;
    if (row) {
      s.documents = q.col_int(0);
      s.chunks = q.col_int(1);
      s.near_duplicate_chunks = q.col_int(2);
      s.last_seq = q.col_int(3);
    }
    return s;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), "stats");
  return r;
}

}  // namespace ragft

namespace ragft {

namespace {
// The id of `model` in embedding_models, creating it when `create`; nullopt when absent.
// A model recorded with another dimension -> kInvalidArgument.
Result<std::optional<std::int64_t>> embedding_model_id(StatementCache& stmts, const std::string& model, int dim,
                                                       bool create) {
  {
    RAGFT_TRY(Query q, stmts.query("SELECT id, dim FROM embedding_models WHERE model = ?1"));
    q.bind_text(1, model);
    RAGFT_TRY(bool row, q.step());
    if (row) {
      if (q.col_int(1) != dim) {
        return make_error(ErrorCode::kInvalidArgument, "embedding model {} is cached with dimension {}, not {}",
                          model, q.col_int(1), dim);
      }
      return std::optional<std::int64_t>(q.col_int(0));
    }
  }
  if (!create) return std::optional<std::int64_t>();
  RAGFT_TRY(Query q, stmts.query("INSERT INTO embedding_models(model, dim) VALUES (?1, ?2)"));
  q.bind_text(1, model).bind_int(2, dim);
  RAGFT_TRY_STATUS(q.run());
  return std::optional<std::int64_t>(sqlite3_last_insert_rowid(stmts.db()));
}
}  // namespace

Status Store::get_embeddings(const std::string& model, int dim, const std::vector<std::string>& text_hashes,
                             std::vector<float>& vectors, std::vector<bool>& found) {
  const std::size_t row_bytes = static_cast<std::size_t>(dim) * sizeof(float);
  vectors.assign(text_hashes.size() * static_cast<std::size_t>(dim), 0.0f);
  found.assign(text_hashes.size(), false);
  auto body = [&]() -> Status {
    RAGFT_TRY(std::optional<std::int64_t> id, embedding_model_id(*stmts_, model, dim, false));
    if (!id) return ok_status();
    for (std::size_t i = 0; i < text_hashes.size(); ++i) {
      RAGFT_TRY(Query q, stmts_->query("SELECT vector FROM embeddings WHERE model = ?1 AND text_hash = ?2"));
      q.bind_int(1, *id).bind_text(2, text_hashes[i]);
      RAGFT_TRY(bool row, q.step());
      if (!row) continue;
      std::string_view blob = q.col_blob(0);
      if (blob.size() != row_bytes) {
        return make_error(ErrorCode::kCorrupt, "cached embedding of {} has {} bytes, expected {}", text_hashes[i],
                          blob.size(), row_bytes);
      }
      std::memcpy(vectors.data() + i * static_cast<std::size_t>(dim), blob.data(), row_bytes);
      found[i] = true;
    }
    return ok_status();
  };
  Status s = body();
  if (!s.ok()) return fail(s.take_error(), fmt::format("read cached embeddings of {}", model));
  return s;
}

Status Store::put_embeddings(const std::string& model, int dim, const std::vector<std::string>& text_hashes,
                             const float* vectors) {
  if (text_hashes.empty()) return ok_status();
  const std::size_t row_bytes = static_cast<std::size_t>(dim) * sizeof(float);
  auto body = [&]() -> Status {
    RAGFT_TRY(Transaction txn, Transaction::begin_immediate(*stmts_));
    RAGFT_TRY(std::optional<std::int64_t> id, embedding_model_id(*stmts_, model, dim, true));
    for (std::size_t i = 0; i < text_hashes.size(); ++i) {
      RAGFT_TRY(Query q, stmts_->query("INSERT OR REPLACE INTO embeddings(model, text_hash, vector) VALUES (?1, ?2, ?3)"));
      q.bind_int(1, *id).bind_text(2, text_hashes[i]).bind_blob(3, vectors + i * static_cast<std::size_t>(dim), row_bytes);
      RAGFT_TRY_STATUS(q.run());
    }
    return txn.commit();
  };
  Status s = body();
  if (!s.ok()) return fail(s.take_error(), fmt::format("cache {} embeddings of {}", text_hashes.size(), model));
  return s;
}

Result<std::size_t> Store::forget_embeddings(const std::string& model) {
  auto body = [&]() -> Result<std::size_t> {
    RAGFT_TRY(Transaction txn, Transaction::begin_immediate(*stmts_));
    std::size_t n = 0;
    {
      RAGFT_TRY(Query q, stmts_->query("SELECT count(*) FROM embeddings WHERE model = (SELECT id FROM embedding_models WHERE model = ?1)"));
      q.bind_text(1, model);
      RAGFT_TRY(bool row, q.step());
      if (row) n = static_cast<std::size_t>(q.col_int(0));
    }
    {
      RAGFT_TRY(Query q, stmts_->query("DELETE FROM embeddings WHERE model = (SELECT id FROM embedding_models WHERE model = ?1)"));
      q.bind_text(1, model);
      RAGFT_TRY_STATUS(q.run());
    }
    {
      RAGFT_TRY(Query q, stmts_->query("DELETE FROM embedding_models WHERE model = ?1"));
      q.bind_text(1, model);
      RAGFT_TRY_STATUS(q.run());
    }
    RAGFT_TRY_STATUS(txn.commit());
    return n;
  };
  auto r = body();
  if (!r.ok()) return fail(r.take_error(), fmt::format("forget embeddings of {}", model));
  return r;
}

}  // namespace ragft
