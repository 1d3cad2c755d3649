// BM25 scoring shared by the pruned and exhaustive search paths. Both must compute bit-identical
// per-term scores and add them in the same (query-term) order, so this is the only definition.
#pragma once

#include <cmath>
#include <cstdint>

namespace ragft::lexical {

struct ScoreParams {
  float k1 = 0.9f;
  float k1p1 = 1.9f;           // k1 + 1
  float k1_one_minus_b = 0.0f;  // k1 * (1 - b)
  float k1_b_over_avgdl = 0.0f;  // k1 * b / avgdl

  static ScoreParams make(float k1, float b, double avgdl) {
    ScoreParams p;
    p.k1 = k1;
    p.k1p1 = k1 + 1.0f;
    p.k1_one_minus_b = k1 * (1.0f - b);
    p.k1_b_over_avgdl = avgdl > 0 ? static_cast<float>(double{k1} * b / avgdl) : 0.0f;
    return p;
  }
};

// Lucene BM25 idf: ln(1 + (N - df + 0.5) / (df + 0.5)); always > 0 for df <= N.
inline float bm25_idf(double n_docs, double df) {
  return static_cast<float>(std::log(1.0 + (n_docs - df + 0.5) / (df + 0.5)));
}

// idfw * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)). Non-decreasing in tf and
// non-increasing in dl (up to one rounding step; the pruning keeps a relative margin for that).
inline float term_score(float idfw, std::uint32_t tf, std::uint32_t dl, const ScoreParams& p) {
  const float ftf = static_cast<float>(tf);
  const float norm = p.k1_one_minus_b + p.k1_b_over_avgdl * static_cast<float>(dl);
  return idfw * (ftf * p.k1p1) / (ftf + norm);
}

}  // namespace ragft::lexical
