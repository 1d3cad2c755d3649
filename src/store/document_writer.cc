#include "store/document_writer.h"

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>

namespace ragft::store_internal {

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// nlohmann::json::dump throws on invalid UTF-8; that is the caller's bad input.
Result<std::string> dump_json(const nlohmann::json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "{} cannot be stored as JSON: {}", what, e.what());
  }
}

Result<std::vector<std::string>> parse_string_array(const std::string& s, std::string_view what) {
  auto j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) {
    return make_error(ErrorCode::kCorrupt, "{} is not a JSON array of strings: {}", what, s);
  }
  std::vector<std::string> out;
  out.reserve(j.size());
  for (const auto& v : j) {
    if (!v.is_string()) {
      return make_error(ErrorCode::kCorrupt, "{} is not a JSON array of strings: {}", what, s);
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

namespace {

// The 16-bit band i of a simhash (i in 0..3).
std::int64_t band_of(std::uint64_t simhash, int i) {
  return static_cast<std::int64_t>((simhash >> (16 * i)) & 0xFFFF);
}

// The fields of a NewDocument in their stored (canonical) form.
struct CanonicalDoc {
  std::string metadata_json;  // re-serialised: keys sorted, no whitespace
  std::string acl_json;       // sorted, duplicates removed
  std::string page_starts_json;
};

Result<CanonicalDoc> canonicalize(const NewDocument& doc, const std::vector<NewChunk>& chunks) {
  if (doc.ext_id.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "document has an empty ext_id (source \"{}\"); every document needs an id",
                      doc.source);
  }
  if (doc.tenant.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "document \"{}\" has an empty tenant", doc.ext_id);
  }
  CanonicalDoc c;
  auto meta = nlohmann::json::parse(doc.metadata_json.empty() ? std::string("{}") : doc.metadata_json,
                                    nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "document \"{}\": metadata_json is not valid JSON: {}", doc.ext_id,
                      doc.metadata_json.substr(0, 200));
  }
  if (!meta.is_object()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "document \"{}\": metadata_json must be a JSON object, got {}", doc.ext_id,
                      doc.metadata_json.substr(0, 200));
  }
  RAGFT_TRY(c.metadata_json, dump_json(meta, fmt::format("metadata of document \"{}\"", doc.ext_id)));
  std::vector<std::string> acl = doc.acl;
  std::sort(acl.begin(), acl.end());
  acl.erase(std::unique(acl.begin(), acl.end()), acl.end());
  RAGFT_TRY(c.acl_json, dump_json(nlohmann::json(acl), fmt::format("acl of document \"{}\"", doc.ext_id)));
  RAGFT_TRY(c.page_starts_json, dump_json(nlohmann::json(doc.page_starts),
                                          fmt::format("page_starts of document \"{}\"", doc.ext_id)));
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const NewChunk& ch = chunks[i];
    if (ch.char_start < 0 || ch.char_end < ch.char_start) {
      return make_error(ErrorCode::kInvalidArgument,
                        "document \"{}\" chunk {}: bad char range [{}, {})", doc.ext_id, i,
                        ch.char_start, ch.char_end);
    }
  }
  return c;
}

// The lowest id of a chunk in `tenant` that shares a band with `simhash` and differs from it in
// at most kNearDuplicateMaxBits bits; nullopt if none. Sees chunks written earlier in the
// current transaction. (With <= 3 differing bits at least one of the 4 bands is identical, so
// the band lookup misses no near-duplicate.)
Result<std::optional<ChunkId>> find_near_duplicate(StatementCache& stmts, const std::string& tenant,
                                                   std::uint64_t simhash) {
  // Each band index covers (band, simhash, id): candidates are screened without touching rows.
  static constexpr const char* kBandSql[4] = {
      "SELECT id, simhash FROM chunks WHERE band0 = ?1",
      "SELECT id, simhash FROM chunks WHERE band1 = ?1",
      "SELECT id, simhash FROM chunks WHERE band2 = ?1",
      "SELECT id, simhash FROM chunks WHERE band3 = ?1",
  };
  std::vector<ChunkId> close;
  for (int i = 0; i < 4; ++i) {
    RAGFT_TRY(Query q, stmts.query(kBandSql[i]));
    q.bind_int(1, band_of(simhash, i));
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      auto other = static_cast<std::uint64_t>(q.col_int(1));
      if (std::popcount(other ^ simhash) <= kNearDuplicateMaxBits) {
        close.push_back(static_cast<ChunkId>(q.col_int(0)));
      }
    }
  }
  if (close.empty()) return std::optional<ChunkId>();
  std::sort(close.begin(), close.end());
  close.erase(std::unique(close.begin(), close.end()), close.end());
  for (ChunkId id : close) {  // lowest id first; keep the first one in the same tenant
    RAGFT_TRY(Query q, stmts.query(
                           "SELECT d.tenant = ?2 FROM chunks c CROSS JOIN documents d "
                           "ON d.id = c.doc_id WHERE c.id = ?1"));
    q.bind_int(1, id).bind_text(2, tenant);
    RAGFT_TRY(bool row, q.step());
    if (row && q.col_int(0) != 0) return std::optional<ChunkId>(id);
  }
  return std::optional<ChunkId>();
}

}  // namespace

Result<std::string> delete_chunks(StatementCache& stmts, DocId doc) {
  std::string out = "[";
  {
    RAGFT_TRY(Query q, stmts.query("SELECT id FROM chunks WHERE doc_id = ?1 ORDER BY id"));
    q.bind_int(1, doc);
    while (true) {
      RAGFT_TRY(bool row, q.step());
      if (!row) break;
      if (out.size() > 1) out += ',';
      out += std::to_string(q.col_int(0));
    }
  }
  out += ']';
  RAGFT_TRY(Query del, stmts.query("DELETE FROM chunks WHERE doc_id = ?1"));
  del.bind_int(1, doc);
  RAGFT_TRY_STATUS(del.run());
  return out;
}

Result<UpsertResult> upsert_in_transaction(StatementCache& stmts, const NewDocument& doc,
                                           const std::vector<NewChunk>& chunks) {
  RAGFT_TRY(CanonicalDoc canon, canonicalize(doc, chunks));
  UpsertResult result;
  std::string removed_chunks = "[]";
  std::optional<DocId> existing;
  {
    RAGFT_TRY(Query q, stmts.query(
                           "SELECT id, content_hash, title, acl_json, metadata_json FROM documents "
                           "WHERE tenant = ?1 AND ext_id = ?2"));
    q.bind_text(1, doc.tenant).bind_text(2, doc.ext_id);
    RAGFT_TRY(bool row, q.step());
    if (row) {
      existing = q.col_int(0);
      if (q.col_text(1) == doc.content_hash && q.col_text(2) == doc.title &&
          q.col_text(3) == canon.acl_json && q.col_text(4) == canon.metadata_json) {
        return UpsertResult{*existing, UpsertOutcome::kUnchanged, 0};
      }
    }
  }
  sqlite3* db = stmts.db();
  if (existing) {
    result.id = *existing;
    result.outcome = UpsertOutcome::kChanged;
    RAGFT_TRY(Query q, stmts.query(
                           "UPDATE documents SET source = ?2, format = ?3, title = ?4, text = ?5, "
                           "metadata_json = ?6, acl_json = ?7, content_hash = ?8, "
                           "version = version + 1, source_mtime_ns = ?9, source_size = ?10, "
                           "page_starts_json = ?11 WHERE id = ?1"));
    q.bind_int(1, result.id).bind_text(2, doc.source).bind_text(3, doc.format);
    q.bind_text(4, doc.title).bind_text(5, doc.text).bind_text(6, canon.metadata_json);
    q.bind_text(7, canon.acl_json).bind_text(8, doc.content_hash);
    q.bind_int(9, doc.source_mtime_ns).bind_int(10, doc.source_size);
    q.bind_text(11, canon.page_starts_json);
    RAGFT_TRY_STATUS(q.run());
    RAGFT_TRY(removed_chunks, delete_chunks(stmts, result.id));
  } else {
    result.outcome = UpsertOutcome::kAdded;
    RAGFT_TRY(Query q, stmts.query(
                           "INSERT INTO documents(tenant, ext_id, source, format, title, text, "
                           "metadata_json, acl_json, content_hash, version, source_mtime_ns, "
                           "source_size, page_starts_json) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?11, ?12)"));
    q.bind_text(1, doc.tenant).bind_text(2, doc.ext_id).bind_text(3, doc.source);
    q.bind_text(4, doc.format).bind_text(5, doc.title).bind_text(6, doc.text);
    q.bind_text(7, canon.metadata_json).bind_text(8, canon.acl_json);
    q.bind_text(9, doc.content_hash).bind_int(10, doc.source_mtime_ns);
    q.bind_int(11, doc.source_size).bind_text(12, canon.page_starts_json);
    RAGFT_TRY_STATUS(q.run());
    result.id = sqlite3_last_insert_rowid(db);
  }

  for (const NewChunk& ch : chunks) {
    std::optional<std::int64_t> near_dup;
    if (ch.near_duplicate_of) {
      near_dup = *ch.near_duplicate_of;
    } else if (ch.simhash != 0) {
      RAGFT_TRY(auto found, find_near_duplicate(stmts, doc.tenant, ch.simhash));
      if (found) near_dup = *found;
    }
    RAGFT_TRY(Query q, stmts.query(
                           "INSERT INTO chunks(doc_id, ordinal, char_start, char_end, page, text, "
                           "simhash, band0, band1, band2, band3, near_duplicate_of) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
    q.bind_int(1, result.id).bind_int(2, ch.ordinal).bind_int(3, ch.char_start);
    q.bind_int(4, ch.char_end).bind_int(5, ch.page).bind_text(6, ch.text);
    q.bind_int(7, static_cast<std::int64_t>(ch.simhash));
    for (int i = 0; i < 4; ++i) {
      if (ch.simhash == 0) {
        q.bind_null(8 + i);  // too short to sketch: never a near-duplicate candidate
      } else {
        q.bind_int(8 + i, band_of(ch.simhash, i));
      }
    }
    q.bind_opt_int(12, near_dup);
    RAGFT_TRY_STATUS(q.run());
    std::int64_t id = sqlite3_last_insert_rowid(db);
    if (id > static_cast<std::int64_t>(std::numeric_limits<ChunkId>::max())) {
      return make_error(ErrorCode::kResourceExhausted,
                        "chunk id {} does not fit in 32 bits; the store has used up its chunk "
                        "ids (rebuild into a fresh store)",
                        id);
    }
  }

  RAGFT_TRY(Query q, stmts.query(
                         "INSERT INTO changelog(op, doc_id, at_unix_ms, removed_chunks) VALUES('upsert', ?1, ?2, ?3)"));
  q.bind_int(1, result.id).bind_int(2, now_unix_ms()).bind_text(3, removed_chunks);
  RAGFT_TRY_STATUS(q.run());
  result.seq = sqlite3_last_insert_rowid(db);
  return result;
}

}  // namespace ragft::store_internal
