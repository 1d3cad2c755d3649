// Identifiers shared across modules.
#pragma once

#include <cstdint>

namespace ragft {

// Store row id of a document (SQLite rowid). Never reused.
using DocId = std::int64_t;
// Store row id of a chunk; the lexical index uses it directly as its document number.
// Never reused (AUTOINCREMENT), so a re-indexed document gets fresh chunk ids.
using ChunkId = std::uint32_t;
// Sequence number of the store's change log; 0 means "before the first change".
using Seq = std::int64_t;

}  // namespace ragft
