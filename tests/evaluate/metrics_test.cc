#include "evaluate/metrics.h"

#include <cmath>

#include <gtest/gtest.h>

namespace ragft {
namespace {

constexpr double kEps = 1e-12;

std::vector<RunEntry> ranked(std::initializer_list<const char*> ids) {
  // Scores descend so that sort_like_trec_eval keeps the given order.
  std::vector<RunEntry> out;
  double score = 100;
  for (const char* id : ids) out.push_back({id, score--});
  return out;
}

// Graded judgments used by most tests: a=3, b=2, c=1, d=0 (judged not relevant).
const std::map<std::string, int> kJudged = {{"a", 3}, {"b", 2}, {"c", 1}, {"d", 0}};

TEST(Metrics, NdcgGradedHandComputed) {
  // Ranking: d(0) b(2) x(unjudged) a(3) c(1).
  // DCG@5 = 2/log2(3) + 3/log2(5) + 1/log2(6)
  //       = 1.2618595071429150 + 1.2920296742201793 + 0.3868528072345416 = 2.9407419885976360
  // IDCG@5 = 3/log2(2) + 2/log2(3) + 1/log2(4) = 3 + 1.2618595071429150 + 0.5 = 4.7618595071429155
  // nDCG@5 = 2.9407419885976360 / 4.7618595071429155 = 0.6175616866...
  auto r = ranked({"d", "b", "x", "a", "c"});
  double dcg = 2 / std::log2(3.0) + 3 / std::log2(5.0) + 1 / std::log2(6.0);
  double idcg = 3 + 2 / std::log2(3.0) + 0.5;
  EXPECT_NEAR(ndcg_at(r, kJudged, 5), dcg / idcg, kEps);
  EXPECT_NEAR(ndcg_at(r, kJudged, 5), 0.6175616866, 1e-9);
  // Cut at 2: DCG@2 = 0 + 2/log2(3) = 1.2618595; IDCG@2 = 3 + 2/log2(3) = 4.2618595;
  // nDCG@2 = 0.2960827...
  EXPECT_NEAR(ndcg_at(r, kJudged, 2), (2 / std::log2(3.0)) / (3 + 2 / std::log2(3.0)), kEps);
  EXPECT_NEAR(ndcg_at(r, kJudged, 2), 0.29608, 1e-5);
  // Cut at 1: d is judged 0 -> DCG 0.
  EXPECT_DOUBLE_EQ(ndcg_at(r, kJudged, 1), 0.0);
}

TEST(Metrics, NdcgIdealUsesAllJudgedEvenUnretrieved) {
  // Only c (rel 1) retrieved at rank 1: DCG@10 = 1; IDCG@10 = 3 + 2/log2(3) + 1/2 = 4.76186.
  auto r = ranked({"c"});
  EXPECT_NEAR(ndcg_at(r, kJudged, 10), 1 / (3.5 + 2 / std::log2(3.0)), kEps);
  // Perfect ranking scores exactly 1, shorter than k or not.
  EXPECT_NEAR(ndcg_at(ranked({"a", "b", "c", "d"}), kJudged, 10), 1.0, kEps);
  EXPECT_NEAR(ndcg_at(ranked({"a", "b", "c"}), kJudged, 2), 1.0, kEps);
}

TEST(Metrics, NdcgNoRelevantIsZero) {
  std::map<std::string, int> none = {{"a", 0}};
  EXPECT_DOUBLE_EQ(ndcg_at(ranked({"a"}), none, 10), 0.0);
  EXPECT_DOUBLE_EQ(ndcg_at({}, kJudged, 10), 0.0);
}

TEST(Metrics, RecallAtK) {
  // Relevant judged: a, b, c (d is 0) -> 3.
  auto r = ranked({"d", "b", "x", "a", "c"});
  EXPECT_DOUBLE_EQ(recall_at(r, kJudged, 1), 0.0);        // d only
  EXPECT_DOUBLE_EQ(recall_at(r, kJudged, 2), 1.0 / 3);    // b
  EXPECT_DOUBLE_EQ(recall_at(r, kJudged, 4), 2.0 / 3);    // b, a
  EXPECT_DOUBLE_EQ(recall_at(r, kJudged, 100), 1.0);      // b, a, c
}

TEST(Metrics, ReciprocalRankWithCut) {
  auto r = ranked({"d", "x", "c", "a"});
  // First relevant (rel >= 1) is c at rank 3 -> 1/3; d (rel 0) and x (unjudged) do not count.
  EXPECT_DOUBLE_EQ(rr_at(r, kJudged, 10), 1.0 / 3);
  EXPECT_DOUBLE_EQ(rr_at(r, kJudged, 3), 1.0 / 3);
  EXPECT_DOUBLE_EQ(rr_at(r, kJudged, 2), 0.0);  // cut before it
  EXPECT_DOUBLE_EQ(rr_at(ranked({"a"}), kJudged, 1), 1.0);
}

TEST(Metrics, AveragePrecisionWithCut) {
  // Ranking: b(rel) x d a(rel) y c(rel); 3 relevant judged.
  // Precisions at relevant ranks: rank1 1/1, rank4 2/4, rank6 3/6.
  // AP@100 = (1 + 0.5 + 0.5) / 3 = 0.6666...
  // AP@4   = (1 + 0.5) / 3 = 0.5  (divides by all 3 relevant, as map_cut does)
  // AP@3   = 1 / 3
  auto r = ranked({"b", "x", "d", "a", "y", "c"});
  EXPECT_NEAR(ap_at(r, kJudged, 100), 2.0 / 3, kEps);
  EXPECT_NEAR(ap_at(r, kJudged, 4), 0.5, kEps);
  EXPECT_NEAR(ap_at(r, kJudged, 3), 1.0 / 3, kEps);
}

TEST(Metrics, TiesSortByDocIdDescending) {
  // Equal scores: trec_eval orders by docno descending (strcmp), ignoring input order.
  std::vector<RunEntry> e = {{"d1", 1.0}, {"d3", 1.0}, {"d2", 2.0}, {"d10", 1.0}};
  sort_like_trec_eval(e);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].doc_id, "d2");   // highest score
  EXPECT_EQ(e[1].doc_id, "d3");   // then ties: "d3" > "d10" > "d1" byte-wise
  EXPECT_EQ(e[2].doc_id, "d10");
  EXPECT_EQ(e[3].doc_id, "d1");
}

TEST(Metrics, TieOrderChangesEvaluateResult) {
  // Two docs tied at score 1: "a" (rel) and "b" (non-rel). Descending doc id puts "b" first,
  // so MRR@10 = 1/2 whatever order the run lists them in.
  Qrels qrels = {{"q", {{"a", 1}}}};
  ragft::Run run1 = {{"q", {{"a", 1.0}, {"b", 1.0}}}};
  ragft::Run run2 = {{"q", {{"b", 1.0}, {"a", 1.0}}}};
  std::vector<MetricSpec> mrr = {{"recip_rank", 10}};
  EXPECT_DOUBLE_EQ(evaluate(run1, qrels, mrr).mean[0], 0.5);
  EXPECT_DOUBLE_EQ(evaluate(run2, qrels, mrr).mean[0], 0.5);
}

TEST(Metrics, EvaluateAveragesAndMissingQueries) {
  Qrels qrels = {
      {"q1", {{"a", 2}, {"b", 1}}},  // 2 relevant
      {"q2", {{"c", 1}}},            // missing from the run -> all zeros
      {"q3", {{"e", 0}}},            // no relevant docs -> not averaged
  };
  ragft::Run run = {
      {"q1", {{"b", 3.0}, {"z", 2.0}, {"a", 1.0}}},  // z is not in the qrels: non-relevant
      {"q9", {{"a", 1.0}}},                           // not in qrels: ignored
  };
  EvalResult r = evaluate(run, qrels);
  ASSERT_EQ(r.metrics.size(), 4u);
  EXPECT_EQ(r.queries, 2u);
  ASSERT_EQ(r.per_query.size(), 2u);
  ASSERT_TRUE(r.per_query.count("q1"));
  ASSERT_TRUE(r.per_query.count("q2"));
  // q1 ranking: b(1) z(unjudged) a(2).
  //   nDCG@10: DCG = 1/log2(2) + 2/log2(4) = 1 + 1 = 2; IDCG = 2 + 1/log2(3) = 2.6309297536
  //            -> 0.7601899..
  //   recall@100 = 2/2 = 1; MRR@10 = 1; MAP@100 = (1/1 + 2/3) / 2 = 0.8333...
  const auto& q1 = r.per_query.at("q1");
  double ndcg_q1 = 2.0 / (2.0 + 1.0 / std::log2(3.0));
  EXPECT_NEAR(q1[0], ndcg_q1, kEps);
  EXPECT_NEAR(q1[0], 0.76019, 1e-5);
  EXPECT_DOUBLE_EQ(q1[1], 1.0);
  EXPECT_DOUBLE_EQ(q1[2], 1.0);
  EXPECT_NEAR(q1[3], (1.0 + 2.0 / 3) / 2, kEps);
  for (double v : r.per_query.at("q2")) EXPECT_DOUBLE_EQ(v, 0.0);
  // Means over 2 queries (q2 contributes 0).
  EXPECT_NEAR(r.mean[0], ndcg_q1 / 2, kEps);
  EXPECT_DOUBLE_EQ(r.mean[1], 0.5);
  EXPECT_DOUBLE_EQ(r.mean[2], 0.5);
  EXPECT_NEAR(r.mean[3], (1.0 + 2.0 / 3) / 4, kEps);
}

TEST(Metrics, EvaluateSortsUnorderedRunAndAppliesCuts) {
  // Run listed in ascending score order; evaluate must sort (rank column ignored).
  Qrels qrels = {{"q", {{"r1", 1}, {"r2", 1}}}};
  ragft::Run run = {{"q", {{"r2", 0.1}, {"n1", 0.5}, {"n2", 0.7}, {"r1", 0.9}}}};
  // Sorted: r1 n2 n1 r2. recall@2 = 1/2; recall@4 = 1; MRR@1 = 1;
  // MAP@4 = (1/1 + 2/4)/2 = 0.75; nDCG@2 = 1 / (1 + 1/log2(3)) = 0.6131471928.
  EvalResult r = evaluate(run, qrels,
                          {{"recall", 2}, {"recall", 4}, {"recip_rank", 1}, {"map_cut", 4},
                           {"ndcg_cut", 2}});
  EXPECT_DOUBLE_EQ(r.mean[0], 0.5);
  EXPECT_DOUBLE_EQ(r.mean[1], 1.0);
  EXPECT_DOUBLE_EQ(r.mean[2], 1.0);
  EXPECT_NEAR(r.mean[3], 0.75, kEps);
  EXPECT_NEAR(r.mean[4], 0.6131471928, 1e-9);
}

TEST(Metrics, DuplicateDocCountedOnceAtBestRank) {
  // "a" repeated: the second copy is skipped, so "b" moves up to rank 2.
  std::map<std::string, int> judged = {{"a", 1}, {"b", 1}};
  std::vector<RunEntry> r = {{"a", 3}, {"a", 2}, {"b", 1}};
  EXPECT_DOUBLE_EQ(recall_at(r, judged, 2), 1.0);
  EXPECT_NEAR(ap_at(r, judged, 10), 1.0, kEps);
}

TEST(Metrics, Labels) {
  auto d = default_retrieval_metrics();
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].label(), "ndcg@10");
  EXPECT_EQ(d[1].label(), "recall@100");
  EXPECT_EQ(d[2].label(), "mrr@10");
  EXPECT_EQ(d[3].label(), "map@100");
}

TEST(Metrics, ParseMetricSpec) {
  auto m = parse_metric_spec("ndcg@20");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "ndcg_cut");
  EXPECT_EQ(m->k, 20);
  auto r = parse_metric_spec("recip_rank@5");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->label(), "mrr@5");
  for (const char* bad : {"ndcg", "ndcg@0", "ndcg@x", "p@10", "map@-1", "recall@"}) {
    auto e = parse_metric_spec(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ragft
