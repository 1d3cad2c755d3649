// Process-wide knobs of Bm25Index::search(), for tests and benchmarks. The defaults are what
// production uses; every choice returns the same results (the exhaustive order), only speed
// differs. Thread-safe (atomics); change them only while no search is running.
#pragma once

#include <cstdint>

namespace ragft::lexical {

enum class PrunedAlgorithm : std::uint32_t { kMaxScore, kBlockMaxWand };

struct SearchTuning {
  // Segments with at most this many chunks are scored term-at-a-time into a dense accumulator
  // (faster than dynamic pruning when everything fits in cache); larger ones use `algorithm`.
  std::uint32_t exhaustive_max_docs = 32768;
  PrunedAlgorithm algorithm = PrunedAlgorithm::kMaxScore;
};

SearchTuning search_tuning();
void set_search_tuning(const SearchTuning& tuning);

}  // namespace ragft::lexical
