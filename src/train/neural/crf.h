// Linear-chain CRF pieces of the neural tagger (internal to src/train/neural; includes torch).
//
// Scores: a tag sequence y over L tokens scores
//   start[y0] + sum_t em[t][y_t] + sum_{t>0} trans[y_{t-1}][y_t] + end[y_{L-1}],
// trans indexed [from][to]. log_partition() is the forward algorithm (log-sum-exp over all T^L
// sequences), differentiable; viterbi() is the arg-max, plain C++ on float arrays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace ragft::crf {

// Score added to a forbidden transition / start (large enough to never win, small enough to
// keep log-sum-exp finite in float).
inline constexpr float kForbidden = -10000.0f;

// Tag inventory for entity types (sorted): "O", then "B-X", "I-X" per type.
std::vector<std::string> bio_tags(const std::vector<std::string>& types);

// BIO constraints over a tag inventory: trans[i*T+j] = 0 when i->j is allowed, kForbidden when
// not (O->I-X, B-X/I-X->I-Y with Y != X); start[j] = kForbidden for I-X. end is unconstrained.
struct Constraints {
  std::vector<float> trans;
  std::vector<float> start;
};
Constraints bio_constraints(const std::vector<std::string>& tags);

// True when `tags` is valid BIO (no I-X after O, after another type, or at the start).
bool valid_bio(const std::vector<std::string>& tags);

// Forward algorithm. em [B,L,T] float, mask [B,L] bool (true for real tokens; each row a
// non-empty prefix), trans [T,T], start [T], end [T]. Returns log Z per sentence, [B].
torch::Tensor log_partition(const torch::Tensor& em, const torch::Tensor& mask, const torch::Tensor& trans,
                            const torch::Tensor& start, const torch::Tensor& end);
// Score of the given tag sequences (tags [B,L] int64; padded positions ignored), [B].
torch::Tensor sequence_score(const torch::Tensor& em, const torch::Tensor& tags, const torch::Tensor& mask,
                             const torch::Tensor& trans, const torch::Tensor& start, const torch::Tensor& end);

// Best tag sequence for one sentence: em row-major [L][T], trans [T][T], start/end [T].
// Ties go to the lower tag id. L == 0 gives an empty result.
std::vector<int> viterbi(const float* em, std::size_t L, std::size_t T, const float* trans, const float* start,
                         const float* end);

}  // namespace ragft::crf
