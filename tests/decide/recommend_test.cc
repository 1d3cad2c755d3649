#include "decide/recommend.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace ragft::decide {
namespace {

using nlohmann::json;

json arm(const std::string& id, double q, double lo, double hi, double p95, bool cites, bool acl,
         const std::string& update, double build = 1) {
  return {{"id", id},
          {"quality", {{"value", q}, {"ci_low", lo}, {"ci_high", hi}}},
          {"latency_ms", {{"p50", p95 / 2}, {"p95", p95}}},
          {"build", {{"seconds", build}, {"peak_mb", 100}, {"disk_bytes", 1000}}},
          {"capabilities", {{"cites", cites}, {"acl", acl}, {"update", update}}}};
}

json cmp(const std::string& a, const std::string& b, double lo, double hi) {
  return {{"a", a}, {"b", b}, {"diff", (lo + hi) / 2}, {"ci_low", lo}, {"ci_high", hi}, {"distinguishable", lo > 0 || hi < 0}};
}

// A behaviour task where the fine-tuned model is clearly best and fastest.
json behaviour_report() {
  return {{"metric", {{"label", "accuracy"}}},
          {"arms", json::array({arm("baseline", 0.19, 0.16, 0.22, 0.001, false, false, "none"),
                                arm("rag", 0.84, 0.81, 0.87, 0.09, true, true, "incremental"),
                                arm("fine_tuned", 0.90, 0.87, 0.92, 0.01, false, false, "retrain", 7),
                                arm("fine_tuned_rag", 0.90, 0.88, 0.93, 0.11, true, false, "retrain", 9)})},
          {"comparisons", json::array({cmp("baseline", "rag", -0.69, -0.61), cmp("baseline", "fine_tuned", -0.75, -0.67),
                                       cmp("baseline", "fine_tuned_rag", -0.75, -0.67), cmp("rag", "fine_tuned", -0.09, -0.03),
                                       cmp("rag", "fine_tuned_rag", -0.09, -0.03),
                                       cmp("fine_tuned", "fine_tuned_rag", -0.02, 0.01)})},
          {"freshness", nullptr},
          {"profile", {{"labeled", {{"examples", 5000}}}}}};
}

// Consecutive path nodes must be joined by an edge, or the renderers cannot highlight the path.
void expect_path_on_edges(const json& path) {
  const json chart = flowchart();
  std::set<std::pair<std::string, std::string>> edges;
  for (const auto& e : chart["edges"]) edges.emplace(e["from"].get<std::string>(), e["to"].get<std::string>());
  for (std::size_t i = 1; i < path.size(); ++i) {
    EXPECT_TRUE(edges.count({path[i - 1].get<std::string>(), path[i].get<std::string>()})) << path.dump();
  }
}

std::set<std::string> node_ids() {
  std::set<std::string> ids;
  const json chart = flowchart();  // not a temporary: range-for over its member would dangle
  for (const auto& n : chart["nodes"]) ids.insert(n["id"].get<std::string>());
  return ids;
}

TEST(Recommend, TiedArmsGoToTheSimplerOneWhenTheTaskIsBehaviour) {
  Requirements r;
  r.need.value = "behaviour";
  json rec = recommend(r, TaskType::kClassification, behaviour_report());
  EXPECT_EQ(rec["decision"], "fine_tune");
  EXPECT_EQ(rec["arm"], "fine_tuned");
  // Every node on the path is a node of the flowchart, and the path ends at the decision.
  auto ids = node_ids();
  for (const auto& n : rec["path"]) EXPECT_TRUE(ids.count(n.get<std::string>())) << n;
  EXPECT_EQ(rec["path"].back(), "fine_tune");
  expect_path_on_edges(rec["path"]);
  // Every reason says where its evidence is.
  ASSERT_FALSE(rec["reasons"].empty());
  for (const auto& reason : rec["reasons"]) {
    std::string ev = reason["evidence"];
    EXPECT_TRUE(ev == "measured" || ev == "answered") << reason;
    EXPECT_FALSE(reason["ref"].get<std::string>().empty()) << reason;
  }
}

TEST(Recommend, LatencyBudgetExcludesSlowArms) {
  Requirements r;
  r.need.value = "knowledge";
  r.latency_p95_ms.value = 0.05;  // only the fine-tuned arm fits
  json rec = recommend(r, TaskType::kClassification, behaviour_report());
  EXPECT_EQ(rec["decision"], "fine_tune");
  std::set<std::string> excluded;
  for (const auto& e : rec["excluded"]) excluded.insert(e["arm"].get<std::string>());
  EXPECT_EQ(excluded, (std::set<std::string>{"rag", "fine_tuned_rag"}));
}

TEST(Recommend, CitationsAndAclsKeepOnlyRetrieval) {
  Requirements r;
  r.citations.value = true;
  r.acls.value = true;
  json rec = recommend(r, TaskType::kClassification, behaviour_report());
  // fine_tuned cannot cite, fine_tuned_rag cannot enforce ACLs: RAG is what is left.
  EXPECT_EQ(rec["decision"], "rag");
  EXPECT_EQ(rec["excluded"].size(), 2u);
}

TEST(Recommend, WhatWouldChangeNamesTheLatencyThreshold) {
  Requirements r;
  r.need.value = "knowledge";  // the tie between fine_tuned and fine_tuned_rag leans to retrieval
  json rec = recommend(r, TaskType::kClassification, behaviour_report());
  EXPECT_EQ(rec["decision"], "fine_tune_rag");
  bool latency_flip = false;
  for (const auto& c : rec["what_would_change"]) {
    if (c["ref"] == "arms.fine_tuned_rag.latency_ms.p95") {
      latency_flip = true;
      EXPECT_EQ(c["then"], "fine_tune");
    }
  }
  EXPECT_TRUE(latency_flip) << rec["what_would_change"].dump();
}

TEST(Recommend, HighCostOfAWrongAnswerKeepsTheBestPointEstimate) {
  Requirements r;
  r.wrong_answer_cost.value = "high";
  json rec = recommend(r, TaskType::kClassification, behaviour_report());
  // fine_tuned_rag has the higher interval; both are 0.90 — the first of equal point estimates
  // in report order stays.
  EXPECT_EQ(rec["decision"], "fine_tune");
}

TEST(Recommend, WeakArmsWithDataProblemsMeanFixTheDataFirst) {
  json rep = {{"metric", {{"label", "accuracy"}}},
              {"arms", json::array({arm("baseline", 0.50, 0.45, 0.55, 0.001, false, false, "none"),
                                    arm("rag", 0.52, 0.47, 0.57, 0.09, true, true, "incremental"),
                                    arm("fine_tuned", 0.53, 0.48, 0.58, 0.01, false, false, "retrain")})},
              {"comparisons", json::array({cmp("baseline", "rag", -0.05, 0.01), cmp("baseline", "fine_tuned", -0.06, 0.01),
                                           cmp("rag", "fine_tuned", -0.04, 0.03)})},
              {"profile", {{"labeled", {{"examples", 1000}, {"conflicting_labels", {{"count", 80}}}}}}}};
  Requirements r;
  json rec = recommend(r, TaskType::kClassification, rep);
  EXPECT_EQ(rec["decision"], "fix_data");
  EXPECT_TRUE(rec["arm"].is_null());
  EXPECT_EQ(rec["path"].back(), "fix_data");
  expect_path_on_edges(rec["path"]);
  EXPECT_NE(rec["headline"].get<std::string>().find("conflicting labels"), std::string::npos) << rec["headline"];

  // The same weak arms on clean data: no data problem to fix, so a decision with a warning.
  rep["profile"]["labeled"]["conflicting_labels"]["count"] = 0;
  json clean = recommend(r, TaskType::kClassification, rep);
  EXPECT_NE(clean["decision"], "fix_data");
  EXPECT_FALSE(clean["warnings"].empty());
}

TEST(Recommend, SlowUpdatesAreExcludedWhenKnowledgeChangesOften) {
  json rep = behaviour_report();
  rep["freshness"] = {{"arms", json::array({{{"id", "rag"}, {"time_to_fresh_s", 0.5}},
                                            {{"id", "fine_tuned"}, {"time_to_fresh_s", 900.0}},
                                            {{"id", "fine_tuned_rag"}, {"time_to_fresh_s", 950.0}}})}};
  Requirements r;
  r.change.value = "hourly";  // a tenth of an hour is 360 s: retraining (900 s) is too slow
  json rec = recommend(r, TaskType::kClassification, rep);
  EXPECT_EQ(rec["decision"], "rag");
  r.change.value = "monthly";
  EXPECT_EQ(recommend(r, TaskType::kClassification, rep)["decision"], "fine_tune");
}

TEST(Recommend, MalformedReportDoesNotThrow) {
  Requirements r;
  for (const json& rep : {json::object(), json{{"arms", "x"}}, json{{"arms", json::array({1, "a", json::object()})}},
                          json{{"arms", json::array({{{"id", "rag"}, {"quality", "high"}}})}, {"comparisons", 3}}}) {
    json rec;
    EXPECT_NO_THROW(rec = recommend(r, TaskType::kRetrieval, rep)) << rep;
    EXPECT_TRUE(rec.contains("decision"));
  }
}

TEST(PlanWithoutData, AsksForLabelsBeforeFineTuning) {
  Requirements r;
  r.need.value = "behaviour";
  r.style_consistency.value = true;
  json plan = plan_without_data(r, TaskType::kClassification);
  bool asks_labels = false;
  for (const auto& c : plan["collect"]) asks_labels |= c.get<std::string>().find("200 examples per class") != std::string::npos;
  EXPECT_TRUE(asks_labels) << plan.dump();
  EXPECT_EQ(plan["decision"], "fine_tune");
  for (const auto& reason : plan["reasons"]) EXPECT_EQ(reason["evidence"], "answered");
}

TEST(PlanWithoutData, CitationsAndFastChangingKnowledgePointToRag) {
  Requirements r;
  r.need.value = "knowledge";
  r.citations.value = true;
  r.change.value = "daily";
  json plan = plan_without_data(r, TaskType::kRetrieval);
  EXPECT_EQ(plan["decision"], "rag");
  auto ids = node_ids();
  for (const auto& n : plan["path"]) EXPECT_TRUE(ids.count(n.get<std::string>())) << n;
  expect_path_on_edges(plan["path"]);
}

}  // namespace
}  // namespace ragft::decide
