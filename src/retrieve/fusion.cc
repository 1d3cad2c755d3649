#include "retrieve/fusion.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/config_string.h"

namespace ragft {

namespace {

Result<double> parse_number(std::string_view config, std::string_view key, const std::string& value) {
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v)) {
    return make_error(ErrorCode::kInvalidArgument, "fusion config \"{}\": {}={} is not a number", config, key, value);
  }
  return v;
}

}  // namespace

std::string FusionOptions::to_config() const {
  if (method == Fusion::kRrf) return fmt::format("rrf:k={}", rrf_k);
  if (weights.empty()) return "weighted";
  std::string w;
  for (double x : weights) w += (w.empty() ? "" : "|") + fmt::format("{}", x);
  return "weighted:w=" + w;
}

Result<FusionOptions> FusionOptions::parse(std::string_view config) {
  FusionOptions o;
  std::string_view kind = config.substr(0, config.find(':'));
  if (kind == "rrf") {
    o.method = Fusion::kRrf;
  } else if (kind == "weighted") {
    o.method = Fusion::kWeighted;
  } else {
    return make_error(ErrorCode::kInvalidArgument, "fusion config \"{}\": use rrf:k=N or weighted:w=A|B", config);
  }
  RAGFT_TRY(auto items, config_items(config, kind));
  for (const auto& [key, value] : items) {
    if (o.method == Fusion::kRrf && key == "k") {
      RAGFT_TRY(o.rrf_k, parse_number(config, key, value));
      if (o.rrf_k <= 0) return make_error(ErrorCode::kInvalidArgument, "fusion config \"{}\": k must be > 0", config);
    } else if (o.method == Fusion::kWeighted && key == "w") {
      std::string_view rest = value;
      while (true) {
        std::size_t bar = rest.find('|');
        RAGFT_TRY(double w, parse_number(config, key, std::string(rest.substr(0, bar))));
        if (w < 0) return make_error(ErrorCode::kInvalidArgument, "fusion config \"{}\": weights must be >= 0", config);
        o.weights.push_back(w);
        if (bar == std::string_view::npos) break;
        rest.remove_prefix(bar + 1);
      }
      if (std::all_of(o.weights.begin(), o.weights.end(), [](double w) { return w == 0; })) {
        return make_error(ErrorCode::kInvalidArgument, "fusion config \"{}\": the weights are all 0", config);
      }
    } else {
      return make_error(ErrorCode::kInvalidArgument, "fusion config \"{}\": unknown key \"{}\"", config, key);
    }
  }
  return o;
}

Result<std::vector<ScoredChunk>> fuse(const std::vector<std::vector<ScoredChunk>>& lists, const FusionOptions& o,
                                      std::size_t k) {
  if (o.method == Fusion::kWeighted && !o.weights.empty() && o.weights.size() != lists.size()) {
    return make_error(ErrorCode::kInvalidArgument, "weighted fusion of {} lists with {} weights", lists.size(),
                      o.weights.size());
  }
  std::unordered_map<ChunkId, double> score;
  for (std::size_t l = 0; l < lists.size(); ++l) {
    const auto& list = lists[l];
    std::unordered_set<ChunkId> seen;
    double lo = 0, hi = 0;
    if (o.method == Fusion::kWeighted && !list.empty()) {
      auto [mn, mx] = std::minmax_element(list.begin(), list.end(),
                                          [](const ScoredChunk& a, const ScoredChunk& b) { return a.score < b.score; });
      lo = mn->score;
      hi = mx->score;
    }
    const double w = o.weights.empty() ? 1.0 / static_cast<double>(lists.size()) : o.weights[l];
    for (std::size_t r = 0; r < list.size(); ++r) {
      const ScoredChunk& c = list[r];
      if (!seen.insert(c.id).second) continue;
      if (o.method == Fusion::kRrf) {
        score[c.id] += 1.0 / (o.rrf_k + static_cast<double>(r + 1));
      } else {
        double norm = hi > lo ? (c.score - lo) / (hi - lo) : 1.0;
        score[c.id] += w * norm;
      }
    }
  }
  std::vector<ScoredChunk> out;
  out.reserve(score.size());
  for (const auto& [id, s] : score) out.push_back({id, static_cast<float>(s)});
  // Sort on the double sums, not the float copies, so close sums keep their order.
  std::sort(out.begin(), out.end(), [&](const ScoredChunk& a, const ScoredChunk& b) {
    double sa = score[a.id], sb = score[b.id];
    return sa != sb ? sa > sb : a.id < b.id;
  });
  if (k > 0 && out.size() > k) out.resize(k);
  return out;
}

}  // namespace ragft
