// The dense index's delta log (retrieve/dense.h): the batches committed since the base vectors
// file was written, appended one record per commit so that adding a document costs its own
// vectors, not a rewrite of the whole index. Format (docs/formats/dense-index.md), little-endian:
//
//   header  "RGFTDLG1", u64 generation (of the base file the log extends), u32 dim
//   record  u64 payload length, u64 hash64(payload), payload
//   payload i64 seq, u64 removed count, removed chunk ids (u64 each),
//           u64 added count, per added chunk: u64 id, u32 length + tenant bytes, u32 group count,
//           groups as (u32 length, bytes); then the added vectors, count x dim f32, row-major,
//           exactly as they were given to VectorIndex::add (not normalised)
//
// Replaying a record is VectorIndex::remove(removed) then VectorIndex::add(added), the calls the
// commit made, so a replayed index equals the one that was saved. How many bytes of the file are
// committed is recorded in state.json, not in the log: bytes past that are a torn or uncommitted
// tail and are never read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "index/access.h"

namespace ragft {

struct DenseLogRecord {
  Seq seq = 0;                   // the change-log sequence the commit applied
  std::vector<ChunkId> removed;  // removed first
  std::vector<ChunkId> added;    // then added, in one VectorIndex::add
  std::vector<ChunkAttrs> attrs;  // one per added chunk
  std::vector<float> vectors;    // added.size() x dim
};

// The header a log of `generation` with vectors of `dim` floats starts with.
std::string dense_log_header(std::uint64_t generation, int dim);
// Appends the encoded record to `out`. `r.vectors` must hold r.added.size() * dim floats.
void append_dense_log_record(const DenseLogRecord& r, int dim, std::string& out);

// Decodes the committed bytes [0, committed) of a log read from `file` (named in errors), and
// calls `fn` on each record from the first that starts at or after `from` (0: all; otherwise a
// record boundary, as a committed length is). A header for another generation or dim, a bad
// hash, a record running past `committed`, or sequences that do not increase -> kCorrupt. `data`
// may be longer than `committed`: the rest is ignored. Errors from `fn` are passed on.
Status read_dense_log(std::string_view data, std::uint64_t from, std::uint64_t committed, std::uint64_t generation,
                      int dim, const std::filesystem::path& file,
                      const std::function<Status(DenseLogRecord&)>& fn);

}  // namespace ragft
