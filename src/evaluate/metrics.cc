#include "evaluate/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <unordered_set>

#include <fmt/format.h>

#include "core/check.h"

namespace ragft {
namespace {

// trec_eval's default relevance_level: a doc is relevant when its judged value is >= 1.
constexpr int kRelevanceLevel = 1;

// Relevance values of the first k distinct docs of `ranked`, in order. Unjudged docs count as
// 0 (not relevant). A repeated doc id is skipped (it keeps its best rank); trec_eval rejects
// such runs outright.
std::vector<int> relevance_list(const std::vector<RunEntry>& ranked,
                                const std::map<std::string, int>& judged, int k) {
  std::vector<int> rels;
  if (k <= 0) return rels;
  rels.reserve(std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(k)));
  std::unordered_set<std::string_view> seen;
  for (const auto& e : ranked) {
    if (static_cast<int>(rels.size()) >= k) break;
    if (!seen.insert(e.doc_id).second) continue;
    auto it = judged.find(e.doc_id);
    rels.push_back(it == judged.end() ? 0 : it->second);
  }
  return rels;
}

std::size_t num_relevant(const std::map<std::string, int>& judged) {
  std::size_t n = 0;
  for (const auto& [doc, rel] : judged) n += rel >= kRelevanceLevel ? 1 : 0;
  return n;
}

double sort_key(double score) {
  return std::isnan(score) ? -std::numeric_limits<double>::infinity() : score;
}

}  // namespace

std::string MetricSpec::label() const {
  std::string short_name = name;
  if (name == "ndcg_cut") short_name = "ndcg";
  else if (name == "recip_rank") short_name = "mrr";
  else if (name == "map_cut") short_name = "map";
  return fmt::format("{}@{}", short_name, k);
}

std::vector<MetricSpec> default_retrieval_metrics() {
  return {{"ndcg_cut", 10}, {"recall", 100}, {"recip_rank", 10}, {"map_cut", 100}};
}

Result<MetricSpec> parse_metric_spec(std::string_view text) {
  std::size_t at = text.find('@');
  std::string_view head = text.substr(0, at);
  std::string name;
  if (head == "ndcg" || head == "ndcg_cut") name = "ndcg_cut";
  else if (head == "recall") name = "recall";
  else if (head == "mrr" || head == "recip_rank") name = "recip_rank";
  else if (head == "map" || head == "map_cut") name = "map_cut";
  if (name.empty() || at == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown metric '{}'; expected ndcg@K, recall@K, mrr@K or map@K", text);
  }
  std::string_view k_text = text.substr(at + 1);
  int k = 0;
  for (char c : k_text) {
    if (c < '0' || c > '9' || k > 100000000) {
      k = 0;
      break;
    }
    k = k * 10 + (c - '0');
  }
  if (k <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "metric '{}': cutoff '{}' must be a positive integer", text, k_text);
  }
  return MetricSpec{name, k};
}

void sort_like_trec_eval(std::vector<RunEntry>& entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const RunEntry& a, const RunEntry& b) {
    double sa = sort_key(a.score), sb = sort_key(b.score);
    if (sa != sb) return sa > sb;
    return a.doc_id > b.doc_id;  // byte-wise, like strcmp(b, a) in trec_eval
  });
}

double ndcg_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged,
               int k) {
  std::vector<int> ideal;
  for (const auto& [doc, rel] : judged) {
    if (rel > 0) ideal.push_back(rel);
  }
  std::sort(ideal.begin(), ideal.end(), std::greater<>());
  double idcg = 0;
  for (std::size_t i = 0; i < ideal.size() && static_cast<int>(i) < k; ++i) {
    idcg += ideal[i] / std::log2(static_cast<double>(i) + 2.0);
  }
  if (idcg <= 0) return 0;
  auto rels = relevance_list(ranked, judged, k);
  double dcg = 0;
  for (std::size_t i = 0; i < rels.size(); ++i) {
    if (rels[i] > 0) dcg += rels[i] / std::log2(static_cast<double>(i) + 2.0);
  }
  return dcg / idcg;
}

double recall_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged,
                 int k) {
  std::size_t n_rel = num_relevant(judged);
  if (n_rel == 0) return 0;
  std::size_t hit = 0;
  for (int rel : relevance_list(ranked, judged, k)) hit += rel >= kRelevanceLevel ? 1 : 0;
  return static_cast<double>(hit) / static_cast<double>(n_rel);
}

double rr_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged,
             int k) {
  auto rels = relevance_list(ranked, judged, k);
  for (std::size_t i = 0; i < rels.size(); ++i) {
    if (rels[i] >= kRelevanceLevel) return 1.0 / static_cast<double>(i + 1);
  }
  return 0;
}

double ap_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged,
             int k) {
  std::size_t n_rel = num_relevant(judged);
  if (n_rel == 0) return 0;
  auto rels = relevance_list(ranked, judged, k);
  double sum = 0;
  std::size_t hit = 0;
  for (std::size_t i = 0; i < rels.size(); ++i) {
    if (rels[i] >= kRelevanceLevel) {
      ++hit;
      sum += static_cast<double>(hit) / static_cast<double>(i + 1);
    }
  }
  return sum / static_cast<double>(n_rel);
}

EvalResult evaluate(const Run& run, const Qrels& qrels, const std::vector<MetricSpec>& metrics) {
  using Fn = double (*)(const std::vector<RunEntry>&, const std::map<std::string, int>&, int);
  std::vector<Fn> fns;
  for (const auto& m : metrics) {
    RAGFT_CHECK(m.k > 0);
    if (m.name == "ndcg_cut") fns.push_back(&ndcg_at);
    else if (m.name == "recall") fns.push_back(&recall_at);
    else if (m.name == "recip_rank") fns.push_back(&rr_at);
    else if (m.name == "map_cut") fns.push_back(&ap_at);
    else RAGFT_CHECK(false && "unknown metric name; validate with parse_metric_spec");
  }
  EvalResult result;
  result.metrics = metrics;
  result.mean.assign(metrics.size(), 0.0);
  for (const auto& [qid, judged] : qrels) {
    if (num_relevant(judged) == 0) continue;
    std::vector<RunEntry> ranked;
    if (auto it = run.find(qid); it != run.end()) {
      ranked = it->second;
      sort_like_trec_eval(ranked);
    }
    auto& values = result.per_query[qid];
    values.reserve(metrics.size());
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      double v = fns[m](ranked, judged, metrics[m].k);
      values.push_back(v);
      result.mean[m] += v;
    }
    ++result.queries;
  }
  if (result.queries > 0) {
    for (double& v : result.mean) v /= static_cast<double>(result.queries);
  }
  return result;
}

}  // namespace ragft
