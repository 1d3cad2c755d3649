// Checks shared by the kill -9 tests of `ragft index` and `ragft serve`.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <vector>

#include "core/types.h"
#include "retrieve/workspace.h"

namespace ragft::testing {

// Opens the workspace at `dir` (which brings its index up to date with the store) and compares
// the index's live chunk ids with the store's current chunk ids (both ascending): success when
// they are equal. The failure names the open error, or both counts and the first position where
// they differ. The workspace is closed again before this returns.
inline ::testing::AssertionResult index_matches_store(const std::filesystem::path& dir) {
  auto ws = Workspace::open(dir);
  if (!ws.ok()) return ::testing::AssertionFailure() << "opening " << dir << ": " << ws.error().to_string();
  std::vector<ChunkId> store_ids;
  const Status walked = ws->store().for_each_chunk([&](const ChunkRecord& c, const ChunkAccess&) {
    store_ids.push_back(c.id);
    return ok_status();
  });
  if (!walked.ok()) return ::testing::AssertionFailure() << "reading the store's chunks: " << walked.error().to_string();
  const std::vector<ChunkId> index_ids = ws->index().live_ids();
  if (index_ids == store_ids) return ::testing::AssertionSuccess();
  const auto [in_index, in_store] = std::mismatch(index_ids.begin(), index_ids.end(), store_ids.begin(), store_ids.end());
  const auto at = static_cast<std::size_t>(in_index - index_ids.begin());
  auto failure = ::testing::AssertionFailure();
  failure << "the index holds " << index_ids.size() << " live chunks, the store " << store_ids.size()
          << "; first difference at position " << at << ": index ";
  if (in_index == index_ids.end()) {
    failure << "(end)";
  } else {
    failure << *in_index;
  }
  failure << ", store ";
  if (in_store == store_ids.end()) {
    failure << "(end)";
  } else {
    failure << *in_store;
  }
  return failure;
}

}  // namespace ragft::testing
