#include "generate/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/config_string.h"

namespace ragft {

namespace {

constexpr const char* kKnown = "temperature, top_k, top_p, repetition_penalty, seed";

// Steps 1-5 of the header: fills ids (ascending) and their unnormalised weights for the kept
// tokens. `scores` is scratch of logits.size(). Greedy leaves one id with weight 1.
void kept_tokens(std::span<const float> logits, std::span<const std::int32_t> seen, const SamplingOptions& o,
                 std::vector<float>& scores, std::vector<std::int32_t>& ids, std::vector<double>& weights) {
  const auto n = static_cast<std::int64_t>(logits.size());
  scores.assign(logits.begin(), logits.end());
  ids.clear();
  weights.clear();
  if (o.repetition_penalty != 1.0) {
    const auto penalty = static_cast<float>(o.repetition_penalty);
    // Each distinct id once (ids is scratch here).
    ids.assign(seen.begin(), seen.end());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (std::int32_t id : ids) {
      if (id < 0 || id >= n) continue;
      float& s = scores[static_cast<std::size_t>(id)];
      s = s < 0 ? s * penalty : s / penalty;
    }
    ids.clear();
  }
  if (o.greedy()) {
    // std::max_element returns the first of equal maxima: the lowest id.
    auto best = std::max_element(scores.begin(), scores.end());
    ids.push_back(static_cast<std::int32_t>(best - scores.begin()));
    weights.push_back(1.0);
    return;
  }
  const auto inv_t = static_cast<float>(1.0 / o.temperature);
  for (float& s : scores) s *= inv_t;

  float threshold = -std::numeric_limits<float>::infinity();
  if (o.top_k > 0 && o.top_k < n) {
    std::vector<float> copy(scores);
    std::nth_element(copy.begin(), copy.begin() + (o.top_k - 1), copy.end(), std::greater<float>());
    threshold = copy[static_cast<std::size_t>(o.top_k - 1)];
  }
  float max_score = -std::numeric_limits<float>::infinity();
  for (std::int64_t i = 0; i < n; ++i) {
    if (scores[static_cast<std::size_t>(i)] >= threshold) {
      ids.push_back(static_cast<std::int32_t>(i));
      max_score = std::max(max_score, scores[static_cast<std::size_t>(i)]);
    }
  }
  if (ids.empty() || !std::isfinite(max_score)) {  // every logit -inf or NaN: fall back to the argmax
    ids.assign(1, static_cast<std::int32_t>(std::max_element(scores.begin(), scores.end()) - scores.begin()));
    weights.assign(1, 1.0);
    return;
  }
  weights.resize(ids.size());
  double total = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    weights[i] = std::exp(static_cast<double>(scores[static_cast<std::size_t>(ids[i])] - max_score));
    total += weights[i];
  }
  if (o.top_p >= 1.0) return;

  // Top-p: the most probable tokens first (ties by id), found by partial sorts of growing size.
  const double target = o.top_p * total;
  std::vector<std::size_t> order(ids.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto before = [&](std::size_t a, std::size_t b) {
    return weights[a] != weights[b] ? weights[a] > weights[b] : ids[a] < ids[b];
  };
  std::size_t keep = 0;
  for (std::size_t m = std::min<std::size_t>(order.size(), 64);; m = std::min(order.size(), m * 4)) {
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m), order.end(), before);
    double cum = 0;
    keep = 0;
    while (keep < m && cum < target) cum += weights[order[keep++]];
    if (cum >= target || m == order.size()) break;
  }
  if (keep == 0) keep = 1;
  order.resize(keep);
  std::sort(order.begin(), order.end());  // positions in ids are ascending ids
  std::vector<std::int32_t> kept_ids;
  std::vector<double> kept_w;
  kept_ids.reserve(keep);
  kept_w.reserve(keep);
  for (std::size_t i : order) {
    kept_ids.push_back(ids[i]);
    kept_w.push_back(weights[i]);
  }
  ids.swap(kept_ids);
  weights.swap(kept_w);
}

}  // namespace

Status SamplingOptions::validate() const {
  if (!(temperature >= 0) || !std::isfinite(temperature)) {
    return make_error(ErrorCode::kInvalidArgument, "sampling: temperature={} must be >= 0 (0 is greedy)", temperature);
  }
  if (top_k < 0) return make_error(ErrorCode::kInvalidArgument, "sampling: top_k={} must be >= 0 (0 is off)", top_k);
  if (!(top_p > 0 && top_p <= 1)) {
    return make_error(ErrorCode::kInvalidArgument, "sampling: top_p={} must be in (0, 1] (1 is off)", top_p);
  }
  if (!(repetition_penalty > 0) || !std::isfinite(repetition_penalty)) {
    return make_error(ErrorCode::kInvalidArgument, "sampling: repetition_penalty={} must be > 0 (1 is off)",
                      repetition_penalty);
  }
  return ok_status();
}

std::string SamplingOptions::to_config() const {
  return fmt::format("sample:temperature={},top_k={},top_p={},repetition_penalty={},seed={}", temperature, top_k,
                     top_p, repetition_penalty, seed);
}

Result<SamplingOptions> SamplingOptions::parse(std::string_view config) {
  SamplingOptions o;
  if (config == "greedy" || config == "sample:greedy") return o;
  RAGFT_TRY(auto items, config_items(config, "sample"));
  for (const auto& [key, value] : items) {
    if (key == "temperature") {
      RAGFT_TRY(o.temperature, config_double("sample", key, value, 0, 1e6));
    } else if (key == "top_k") {
      RAGFT_TRY(long long k, config_int("sample", key, value, 0, 1 << 30));
      o.top_k = static_cast<int>(k);
    } else if (key == "top_p") {
      RAGFT_TRY(o.top_p, config_double("sample", key, value, 0, 1));
    } else if (key == "repetition_penalty") {
      RAGFT_TRY(o.repetition_penalty, config_double("sample", key, value, 0, 1e6));
    } else if (key == "seed") {
      // Up to 2^53, so every seed prints and parses back exactly.
      RAGFT_TRY(long long s, config_int("sample", key, value, 0, 1LL << 53));
      o.seed = static_cast<std::uint64_t>(s);
    } else {
      return make_error(ErrorCode::kInvalidArgument, "sample config \"{}\": unknown option \"{}\" (known: {})", config,
                        key, kKnown);
    }
  }
  auto st = o.validate();
  if (!st.ok()) return make_error(ErrorCode::kInvalidArgument, "sample config \"{}\": {}", config, st.error().message);
  return o;
}

std::vector<double> sampling_distribution(std::span<const float> logits, std::span<const std::int32_t> seen,
                                          const SamplingOptions& options) {
  std::vector<double> out(logits.size(), 0.0);
  if (logits.empty()) return out;
  std::vector<float> scores;
  std::vector<std::int32_t> ids;
  std::vector<double> weights;
  kept_tokens(logits, seen, options, scores, ids, weights);
  double total = 0;
  for (double w : weights) total += w;
  for (std::size_t i = 0; i < ids.size(); ++i) out[static_cast<std::size_t>(ids[i])] = weights[i] / total;
  return out;
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {}

std::int32_t Sampler::sample(std::span<const float> logits, std::span<const std::int32_t> seen) {
  kept_tokens(logits, seen, options_, scores_, ids_, probs_);
  if (ids_.size() == 1) return ids_[0];
  double total = 0;
  for (double w : probs_) total += w;
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
  double cum = 0;
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    cum += probs_[i];
    if (cum > u) return ids_[i];
  }
  return ids_.back();  // u within rounding of the total
}

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kEos: return "eos";
    case FinishReason::kStopSequence: return "stop_sequence";
    case FinishReason::kMaxTokens: return "max_tokens";
    case FinishReason::kContextFull: return "context_full";
  }
  return "?";
}

StopChecker::StopChecker(std::vector<std::int32_t> eos_ids, std::vector<std::vector<std::int32_t>> stop_sequences)
    : eos_(std::move(eos_ids)) {
  for (auto& s : stop_sequences) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
  // Longest first, so the longest match is the one removed.
  std::stable_sort(stops_.begin(), stops_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::optional<FinishReason> StopChecker::check(std::vector<std::int32_t>& generated,
                                               std::vector<std::int32_t>& stop) const {
  if (generated.empty()) return std::nullopt;
  if (std::find(eos_.begin(), eos_.end(), generated.back()) != eos_.end()) {
    stop.assign(1, generated.back());
    generated.pop_back();
    return FinishReason::kEos;
  }
  for (const auto& s : stops_) {
    if (s.size() <= generated.size() && std::equal(s.begin(), s.end(), generated.end() - static_cast<std::ptrdiff_t>(s.size()))) {
      stop = s;
      generated.resize(generated.size() - s.size());
      return FinishReason::kStopSequence;
    }
  }
  return std::nullopt;
}

}  // namespace ragft
