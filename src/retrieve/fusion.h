// Fusing the ranked lists of several retrievers (BM25, dense, ...) into one list.
//  - RRF (Cormack, Clarke and Buettcher, SIGIR 2009): score(d) = sum over the lists that contain
//    d of 1 / (k + rank(d)), ranks counted from 1 in each list's given order; k = 60 by default.
//  - weighted: each list's scores min-max normalised to [0, 1] (a list whose scores are all
//    equal gives 1 to each of its chunks), then score(d) = sum_l w_l * norm_l(d); a chunk absent
//    from a list gets 0 from it. Weights default to equal shares.
// The fused list is score-descending, ties by ascending chunk id; a chunk repeated within one
// list counts once, at its first (best) position. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "index/lexical/bm25_index.h"

namespace ragft {

enum class Fusion { kRrf, kWeighted };

struct FusionOptions {
  Fusion method = Fusion::kRrf;
  double rrf_k = 60;            // RRF's k, > 0
  std::vector<double> weights;  // weighted: one per list, >= 0, not all 0; empty = equal
  // "rrf:k=60" or "weighted:w=0.7|0.3" (weights omitted when empty); round-trips with parse().
  std::string to_config() const;
  // Unknown method or key, k <= 0, a negative weight or all-zero weights -> kInvalidArgument.
  static Result<FusionOptions> parse(std::string_view config);
};

// Fuses `lists` (each in rank order). At most `k` results (0: all). Weighted fusion with a
// weight count different from the list count -> kInvalidArgument.
Result<std::vector<ScoredChunk>> fuse(const std::vector<std::vector<ScoredChunk>>& lists, const FusionOptions& options,
                                      std::size_t k = 0);

}  // namespace ragft
