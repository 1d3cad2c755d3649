// Non-cryptographic 64-bit hashing for content change detection and near-duplicate sketches.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ragft {

// Stable across runs and builds on little-endian machines (x86-64, arm64: the only targets);
// the bytes are read in native order. Content hashes are stored, so the function is frozen
// (pinned in tests/core/hash_test.cc). `seed` selects a family.
std::uint64_t hash64(std::string_view data, std::uint64_t seed = 0);
// 128 bits as 32 lowercase hex digits: two independent hash64 seeds. Used as a content hash.
std::string content_hash(std::string_view data);

}  // namespace ragft
