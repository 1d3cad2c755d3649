// Retrieval metrics with trec_eval's definitions:
//  - ranking: entries sorted by score descending, ties by doc id descending (strcmp), as
//    trec_eval does; rank positions count from 1.
//  - ndcg_cut_k: DCG = sum rel_i / log2(i + 1) over the top k (gain = graded relevance),
//    IDCG from the ideal ordering of all judged relevance values; 0 if IDCG = 0.
//  - recall_k: relevant retrieved in top k / relevant judged (rel > 0).
//  - recip_rank (MRR@k): 1 / rank of the first relevant doc in the top k, else 0.
//  - map_cut_k: sum of precision at each relevant rank <= k, divided by the number of relevant
//    judged docs.
// Averages are over queries in the qrels with at least one relevant doc; such a query missing
// from the run scores 0 (trec_eval -c).
#pragma once

#include <map>
#include <string>
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

struct EvalResult {
  std::vector<MetricSpec> metrics;
  std::map<std::string, std::vector<double>> per_query;  // qid -> value per metric
  std::vector<double> mean;                               // per metric
  std::size_t queries = 0;
};

double ndcg_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged, int k);
double recall_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged, int k);
double rr_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged, int k);
double ap_at(const std::vector<RunEntry>& ranked, const std::map<std::string, int>& judged, int k);

// Sorts a query's entries the way trec_eval does (see above).
void sort_like_trec_eval(std::vector<RunEntry>& entries);

EvalResult evaluate(const Run& run, const Qrels& qrels,
                    const std::vector<MetricSpec>& metrics = default_retrieval_metrics());

}  // namespace ragft
