#include "store/sqlite_util.h"

namespace ragft::store_internal {

ErrorCode error_code_for_sqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return ErrorCode::kResourceExhausted;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::kCorrupt;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
      return ErrorCode::kIo;
    default:
      return ErrorCode::kInternal;
  }
}

Error sqlite_error(sqlite3* db, int rc) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text = msg != nullptr ? msg : sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    text += " (another connection held the lock past the busy timeout; retry later)";
  }
  return Error{error_code_for_sqlite(rc), std::move(text)};
}

Error in_context(Error e, std::string_view context) {
  e.message = fmt::format("{}: {}", context, e.message);
  return e;
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(db, rc);
    sqlite3_finalize(s);
    return in_context(std::move(e), fmt::format("prepare \"{}\"", sql.substr(0, 60)));
  }
  return Statement(s);
}

Query::~Query() {
  if (s_ != nullptr) {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  if (busy_ != nullptr) *busy_ = false;
}

Query& Query::bind_text(int i, std::string_view v) {
  // A non-null pointer even for an empty view, so an empty string binds as '' and not NULL.
  const char* p = v.data() != nullptr ? v.data() : "";
  return check_bind(sqlite3_bind_text64(s_, i, p, v.size(), SQLITE_STATIC, SQLITE_UTF8));
}

Query& Query::bind_blob(int i, const void* data, std::size_t size) {
  static const char kEmpty = 0;  // a zero-length blob, not NULL
  return check_bind(sqlite3_bind_blob64(s_, i, data != nullptr ? data : &kEmpty, size, SQLITE_STATIC));
}

Result<bool> Query::step() {
  if (bind_rc_ != SQLITE_OK) return sqlite_error(db_, bind_rc_);
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, rc);
}

Status Query::run() {
  while (true) {
    RAGFT_TRY(bool row, step());
    if (!row) return ok_status();
  }
}

std::string Query::col_text(int c) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
  int n = sqlite3_column_bytes(s_, c);
  return p != nullptr ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}

std::string_view Query::col_blob(int c) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, c));
  int n = sqlite3_column_bytes(s_, c);
  return p != nullptr ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
}

Result<Query> StatementCache::query(std::string_view sql) {
  auto it = entries_.find(std::string(sql));
  if (it == entries_.end()) {
    RAGFT_TRY(Statement st, Statement::prepare(db_, sql));
    it = entries_.emplace(std::string(sql), Entry{std::move(st), false}).first;
  }
  Entry& e = it->second;
  if (e.busy) {  // re-entrant use: a private statement, finalized with the Query
    RAGFT_TRY(Statement st, Statement::prepare(db_, sql));
    sqlite3_stmt* raw = st.get();
    return Query(db_, raw, nullptr, std::move(st));
  }
  e.busy = true;
  return Query(db_, e.stmt.get(), &e.busy, Statement());
}

Status StatementCache::exec(std::string_view sql) {
  RAGFT_TRY(Query q, query(sql));
  return q.run();
}

Result<Transaction> Transaction::begin_immediate(StatementCache& stmts) {
  RAGFT_TRY_STATUS(stmts.exec("BEGIN IMMEDIATE"));
  return Transaction(stmts);
}

Transaction::~Transaction() {
  if (active_) rollback();
}

void Transaction::rollback() {
  active_ = false;
  // After some errors (SQLITE_FULL, IOERR, ...) SQLite has already rolled back on its own.
  if (sqlite3_get_autocommit(stmts_->db()) != 0) return;
  (void)stmts_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Status s = stmts_->exec("COMMIT");
  if (!s.ok()) {
    Error e = s.take_error();
    rollback();
    return in_context(std::move(e), "commit");
  }
  active_ = false;
  return ok_status();
}

}  // namespace ragft::store_internal
