#include "train/neural/crf.h"

#include <limits>

namespace ragft::crf {

namespace {

// "B-X" -> ('B', "X"); "O" -> ('O', "").
std::pair<char, std::string> split_tag(const std::string& t) {
  if (t.size() >= 2 && t[1] == '-') return {t[0], t.substr(2)};
  return {'O', ""};
}

}  // namespace

std::vector<std::string> bio_tags(const std::vector<std::string>& types) {
  std::vector<std::string> out = {"O"};
  for (const auto& t : types) {
    out.push_back("B-" + t);
    out.push_back("I-" + t);
  }
  return out;
}

Constraints bio_constraints(const std::vector<std::string>& tags) {
  const std::size_t T = tags.size();
  Constraints c;
  c.trans.assign(T * T, 0.0f);
  c.start.assign(T, 0.0f);
  for (std::size_t j = 0; j < T; ++j) {
    auto [pj, tj] = split_tag(tags[j]);
    if (pj != 'I') continue;
    c.start[j] = kForbidden;
    for (std::size_t i = 0; i < T; ++i) {
      auto [pi, ti] = split_tag(tags[i]);
      if (pi == 'O' || ti != tj) c.trans[i * T + j] = kForbidden;
    }
  }
  return c;
}

bool valid_bio(const std::vector<std::string>& tags) {
  std::string prev_type;
  char prev = 'O';
  for (const auto& t : tags) {
    auto [p, type] = split_tag(t);
    if (p == 'I' && (prev == 'O' || prev_type != type)) return false;
    if (p != 'O' && p != 'B' && p != 'I') return false;
    prev = p;
    prev_type = type;
  }
  return true;
}

torch::Tensor log_partition(const torch::Tensor& em, const torch::Tensor& mask, const torch::Tensor& trans,
                            const torch::Tensor& start, const torch::Tensor& end) {
  const int64_t L = em.size(1);
  torch::Tensor alpha = start.unsqueeze(0) + em.select(1, 0);  // [B,T]
  torch::Tensor tr = trans.unsqueeze(0);                          // [1,T,T]
  for (int64_t t = 1; t < L; ++t) {
    torch::Tensor next = torch::logsumexp(alpha.unsqueeze(2) + tr, 1) + em.select(1, t);
    alpha = torch::where(mask.select(1, t).unsqueeze(1), next, alpha);
  }
  return torch::logsumexp(alpha + end.unsqueeze(0), 1);
}

torch::Tensor sequence_score(const torch::Tensor& em, const torch::Tensor& tags, const torch::Tensor& mask,
                             const torch::Tensor& trans, const torch::Tensor& start, const torch::Tensor& end) {
  const int64_t T = em.size(2);
  torch::Tensor maskf = mask.to(em.dtype());
  torch::Tensor emit = em.gather(2, tags.unsqueeze(2)).squeeze(2);  // [B,L]
  torch::Tensor score = start.index_select(0, tags.select(1, 0)) + (emit * maskf).sum(1);
  if (em.size(1) > 1) {
    using torch::indexing::Slice;
    torch::Tensor from = tags.index({Slice(), Slice(0, -1)});
    torch::Tensor to = tags.index({Slice(), Slice(1, torch::indexing::None)});
    torch::Tensor tr = trans.reshape({-1}).index_select(0, (from * T + to).reshape({-1})).reshape(from.sizes());
    score = score + (tr * maskf.index({Slice(), Slice(1, torch::indexing::None)})).sum(1);
  }
  torch::Tensor last = mask.to(torch::kLong).sum(1) - 1;                  // [B]
  torch::Tensor last_tag = tags.gather(1, last.unsqueeze(1)).squeeze(1);  // [B]
  return score + end.index_select(0, last_tag);
}

std::vector<int> viterbi(const float* em, std::size_t L, std::size_t T, const float* trans, const float* start,
                         const float* end) {
  if (L == 0) return {};
  std::vector<float> score(T), next(T);
  std::vector<int> back(L * T, 0);
  for (std::size_t j = 0; j < T; ++j) score[j] = start[j] + em[j];
  for (std::size_t t = 1; t < L; ++t) {
    for (std::size_t j = 0; j < T; ++j) {
      float best = -std::numeric_limits<float>::infinity();
      int arg = 0;
      for (std::size_t i = 0; i < T; ++i) {
        float s = score[i] + trans[i * T + j];
        if (s > best) {
          best = s;
          arg = static_cast<int>(i);
        }
      }
      next[j] = best + em[t * T + j];
      back[t * T + j] = arg;
    }
    score.swap(next);
  }
  int cur = 0;
  float best = -std::numeric_limits<float>::infinity();
  for (std::size_t j = 0; j < T; ++j) {
    if (score[j] + end[j] > best) {
      best = score[j] + end[j];
      cur = static_cast<int>(j);
    }
  }
  std::vector<int> path(L);
  for (std::size_t t = L; t-- > 0;) {
    path[t] = cur;
    cur = back[t * T + static_cast<std::size_t>(cur)];
  }
  return path;
}

}  // namespace ragft::crf
