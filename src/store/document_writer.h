// Internal to the store module: the write path of Store::upsert / upsert_batch and the JSON
// helpers shared by store.cc. Not part of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "store/sqlite_util.h"
#include "store/store.h"

namespace ragft::store_internal {

// Simhashes within this many differing bits (and sharing a 16-bit band) are near-duplicates.
inline constexpr int kNearDuplicateMaxBits = 3;

std::int64_t now_unix_ms();

// j.dump(); invalid UTF-8 in a string -> kInvalidArgument naming `what`.
Result<std::string> dump_json(const nlohmann::json& j, std::string_view what);

// A stored JSON array of strings; anything else -> kCorrupt naming `what`.
Result<std::vector<std::string>> parse_string_array(const std::string& s, std::string_view what);

// Deletes a document's chunks and returns their ids as a JSON array, ascending (for the
// change log's removed_chunks).
Result<std::string> delete_chunks(StatementCache& stmts, DocId doc);

// Writes one document and its chunks inside an open transaction (see Store::upsert for the
// rules). Errors are returned without the operation context; the caller rolls back.
Result<UpsertResult> upsert_in_transaction(StatementCache& stmts, const NewDocument& doc,
                                           const std::vector<NewChunk>& chunks);

}  // namespace ragft::store_internal
