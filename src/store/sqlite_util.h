// Thin RAII helpers over the sqlite3 C API, private to the store module: an owned prepared
// statement, one execution of it (bind / step / read columns, reset on destruction), a cache of
// prepared statements per connection, and a BEGIN IMMEDIATE transaction guard.
//
// Not thread-safe, like the connection they belong to.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/result.h"

namespace ragft::store_internal {

// The ErrorCode for an SQLite result code: FULL/NOMEM/TOOBIG -> kResourceExhausted,
// CORRUPT/NOTADB -> kCorrupt, IOERR/CANTOPEN/READONLY/PERM/BUSY/LOCKED/PROTOCOL -> kIo,
// anything else (CONSTRAINT, MISUSE, ...) -> kInternal.
ErrorCode error_code_for_sqlite(int rc);

// An Error carrying SQLite's own message for the last failure on `db` (read it before doing
// anything else on the connection), e.g. "UNIQUE constraint failed: documents.tenant".
Error sqlite_error(sqlite3* db, int rc);

// Prefixes an error message with the operation it belongs to: "upsert \"doc-7\": <message>".
Error in_context(Error e, std::string_view context);

// Owns one prepared statement (finalized on destruction).
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* s) : s_(s) {}
  Statement(Statement&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Statement& operator=(Statement&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(s_);
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(s_); }

  static Result<Statement> prepare(sqlite3* db, std::string_view sql);
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// One execution of a prepared statement. On destruction the statement is reset and its bindings
// cleared, so it holds no read snapshot afterwards. Text is bound without copying
// (SQLITE_STATIC): the bound bytes must stay alive until the Query is destroyed.
// A failed bind is remembered and reported by the next step().
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* s, bool* busy_flag, Statement owned)
      : db_(db), s_(s), busy_(busy_flag), owned_(std::move(owned)) {}
  Query(Query&& o) noexcept
      : db_(o.db_), s_(std::exchange(o.s_, nullptr)), busy_(std::exchange(o.busy_, nullptr)),
        owned_(std::move(o.owned_)), bind_rc_(o.bind_rc_) {}
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  // Parameters are 1-based, as in SQLite.
  Query& bind_int(int i, std::int64_t v) { return check_bind(sqlite3_bind_int64(s_, i, v)); }
  Query& bind_text(int i, std::string_view v);
  Query& bind_blob(int i, const void* data, std::size_t size);
  Query& bind_null(int i) { return check_bind(sqlite3_bind_null(s_, i)); }
  Query& bind_opt_int(int i, std::optional<std::int64_t> v) {
    return v ? bind_int(i, *v) : bind_null(i);
  }

  // True when a row is available, false when the statement is done.
  Result<bool> step();
  // Steps to completion, ignoring any rows (INSERT / UPDATE / DELETE / PRAGMA).
  Status run();

  // Columns of the current row, 0-based.
  std::int64_t col_int(int c) const { return sqlite3_column_int64(s_, c); }
  bool col_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string col_text(int c) const;
  // The column's bytes (valid until the next step or the Query's end).
  std::string_view col_blob(int c) const;
  std::optional<std::int64_t> col_opt_int(int c) const {
    if (col_null(c)) return std::nullopt;
    return col_int(c);
  }

 private:
  Query& check_bind(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  sqlite3* db_;
  sqlite3_stmt* s_;
  bool* busy_;       // the cache entry's in-use flag, cleared on destruction; may be null
  Statement owned_;  // set when the cached statement was busy (re-entrant use)
  int bind_rc_ = SQLITE_OK;
};

// Prepared statements of one connection, prepared on first use and kept until the cache dies
// (which must happen before the connection is closed).
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // A Query on the cached statement for `sql`. If that statement is already in use (a callback
  // re-entering the store), a private statement is prepared for this Query instead.
  Result<Query> query(std::string_view sql);
  // Runs one statement that returns no rows.
  Status exec(std::string_view sql);

  sqlite3* db() const { return db_; }

 private:
  struct Entry {
    Statement stmt;
    bool busy = false;
  };
  sqlite3* db_;
  std::unordered_map<std::string, Entry> entries_;  // node-based: Entry addresses are stable
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> begin_immediate(StatementCache& stmts);
  Transaction(Transaction&& o) noexcept : stmts_(o.stmts_), active_(std::exchange(o.active_, false)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Durable when it returns ok (with synchronous=FULL). On failure the transaction is rolled back.
  Status commit();

 private:
  explicit Transaction(StatementCache& stmts) : stmts_(&stmts), active_(true) {}
  void rollback();

  StatementCache* stmts_;
  bool active_;
};

}  // namespace ragft::store_internal
