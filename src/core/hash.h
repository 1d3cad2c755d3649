// Non-cryptographic 64-bit hashing for content change detection and near-duplicate sketches.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ragft {

// Stable across runs and platforms (little-endian reads of the bytes); seed selects a family.
std::uint64_t hash64(std::string_view data, std::uint64_t seed = 0);
// 128 bits as 32 lowercase hex digits: two independent hash64 seeds. Used as a content hash.
std::string content_hash(std::string_view data);

}  // namespace ragft
