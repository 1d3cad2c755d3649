// Retrieval metrics with trec_eval's definitions (trec_eval 9.0.x, the version pytrec_eval and
// BEIR use):
//  - ranking: entries sorted by score descending, ties by doc id descending (strcmp), as
//    trec_eval does; the rank column of a run file is ignored. Rank positions count from 1.
//  - relevance: a doc is relevant when its judged value is >= 1 (trec_eval's default
//    relevance_level). A retrieved doc absent from the judgments counts as not relevant.
//  - ndcg_cut_k: DCG = sum rel_i / log2(i + 1) over ranks i = 1..k (gain = graded relevance,
//    non-positive values gain 0), IDCG from the ideal ordering of all judged positive
//    relevance values, cut at k; 0 if IDCG = 0. (trec_eval 8.x discounted by log2(i) for i >= 2;
//    9.x and this code use log2(i + 1).)
//  - recall_k: relevant retrieved in top k / relevant judged (rel >= 1).
//  - recip_rank (MRR@k): 1 / rank of the first relevant doc in the top k, else 0 (trec_eval's
//    recip_rank on a run truncated to k, as BEIR computes MRR@k).
//  - map_cut_k: sum of precision at each relevant rank <= k, divided by the number of relevant
//    judged docs.
// Averages are over queries in the qrels with at least one relevant doc; such a query missing
// from the run scores 0 (trec_eval -c). Run queries absent from the qrels are ignored.
// Deviation from trec_eval: a doc id repeated within one query's entries is counted once, at
// its best rank (trec_eval refuses such a run; read_run rejects it too).
// All functions are pure and thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "evaluate/trec.h"

namespace ragft {

struct MetricSpec {
  std::string name;  // "ndcg_cut", "recall", "recip_rank", "map_cut"
  int k = 10;
  std::string label() const;  // "ndcg@10", "recall@100", "mrr@10", "map@100"
};

// The default set: nDCG@10, recall@100, MRR@10, MAP@100.
std::vector<MetricSpec> default_retrieval_metrics();

// Parses "ndcg@10", "recall@100", "mrr@10", "map@100" (or the trec_eval names "ndcg_cut@10",
// "recip_rank@10", "map_cut@100"). Unknown name or non-positive cutoff -> kInvalidArgument.
Result<MetricSpec> parse_metric_spec(std::string_view text);

struct EvalResult {
  std::vector<MetricSpec> metrics;
  std::map<std::string, std::vector<double>> per_query;  // qid -> value per metric
  std::vector<double> mean;                               // per metric
  std::size_t queries = 0;
};

// Per-query metrics. `ranked` is taken in the order given (call sort_like_trec_eval first for
// trec_eval's order); `judged` maps doc id -> graded relevance for this query; k > 0.
double ndcg_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged, int k);
double recall_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged, int k);
double rr_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged, int k);
double ap_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged, int k);

// Sorts a query's entries the way trec_eval does (see above). Stable; a NaN score sorts last.
void sort_like_trec_eval(std::vector<RunEntry>& entries);

// Every metric name must be one of the four above and k > 0 (a bug otherwise: CHECKed).
EvalResult evaluate(const Run& run, const Qrels& qrels,
                    const std::vector<MetricSpec>& metrics = default_retrieval_metrics());

}  // namespace ragft
