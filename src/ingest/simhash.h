// SimHash near-duplicate sketches over word 3-shingles of normalised (case-folded) text.
#pragma once

#include <cstdint>
#include <string_view>

namespace ragft {

std::uint64_t simhash(std::string_view text);
inline int hamming(std::uint64_t a, std::uint64_t b) { return __builtin_popcountll(a ^ b); }
// Chunks whose sketches differ in at most this many bits are near-duplicates.
inline constexpr int kNearDuplicateBits = 3;

}  // namespace ragft
