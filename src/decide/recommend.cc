#include "decide/recommend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace ragft::decide {

namespace {

using nlohmann::json;

double num(const json& j, const char* key, double fallback = std::numeric_limits<double>::quiet_NaN()) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string fmt_ms(double ms) {
  if (std::isnan(ms)) return "—";
  if (ms >= 100) return fmt::format("{:.0f} ms", ms);
  if (ms >= 1) return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.3f} ms", ms);
}

std::string fmt_s(double s) {
  if (s >= 100) return fmt::format("{:.0f} s", s);
  if (s >= 1) return fmt::format("{:.1f} s", s);
  return fmt::format("{:.2f} s", s);
}

const char* pretty(const std::string& decision) {
  if (decision == "rag") return "RAG";
  if (decision == "fine_tune") return "Fine-tune";
  if (decision == "fine_tune_rag") return "Fine-tune + RAG";
  if (decision == "fix_data") return "Fix the data/retrieval layer first";
  return "?";
}

struct Arm {
  std::string id;
  double q = 0, lo = 0, hi = 0;
  double p95 = std::numeric_limits<double>::quiet_NaN();
  double build = 0;
  bool cites = false, acl = false;
  std::string update;
  int components = 1;  // fine_tuned_rag has two
  std::optional<double> time_to_fresh;
};

struct Inputs {
  std::vector<Arm> arms;  // non-baseline, in report order
  std::optional<Arm> baseline;
  const json* comparisons = nullptr;
  std::string metric = "quality";
  std::vector<std::string> data_problems;
};

Inputs read_inputs(const json& report) {
  Inputs in;
  static const json kEmpty = json::array();
  in.comparisons = report.contains("comparisons") && report["comparisons"].is_array() ? &report["comparisons"] : &kEmpty;
  if (report.contains("metric") && report["metric"].is_object()) in.metric = report["metric"].value("label", "quality");
  std::map<std::string, double> fresh;
  if (report.contains("freshness") && report["freshness"].is_object() && report["freshness"].contains("arms")) {
    for (const auto& f : report["freshness"]["arms"]) {
      if (f.is_object() && f.contains("id") && f["id"].is_string()) fresh[f["id"].get<std::string>()] = num(f, "time_to_fresh_s");
    }
  }
  if (report.contains("arms") && report["arms"].is_array()) {
    for (const auto& a : report["arms"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_string()) continue;
      Arm arm;
      arm.id = a["id"].get<std::string>();
      const json& q = a.contains("quality") ? a["quality"] : json();
      arm.q = num(q, "value", 0);
      arm.lo = num(q, "ci_low", arm.q);
      arm.hi = num(q, "ci_high", arm.q);
      if (a.contains("latency_ms")) arm.p95 = num(a["latency_ms"], "p95");
      if (a.contains("build")) arm.build = num(a["build"], "seconds", 0);
      if (a.contains("capabilities") && a["capabilities"].is_object()) {
        const json& c = a["capabilities"];
        arm.cites = c.value("cites", false);
        arm.acl = c.value("acl", false);
        arm.update = c.value("update", "");
      }
      arm.components = arm.id == "fine_tuned_rag" ? 2 : 1;
      if (fresh.count(arm.id) && !std::isnan(fresh[arm.id])) arm.time_to_fresh = fresh[arm.id];
      if (arm.id == "baseline") {
        in.baseline = arm;
      } else if (std::string(decision_of_arm(arm.id)) != "?") {
        in.arms.push_back(arm);
      }
    }
  }
  // Data problems the profile shows.
  const json profile = report.value("profile", json::object());
  if (profile.is_object()) {
    const json labeled = profile.value("labeled", json());
    if (labeled.is_object()) {
      double n = num(labeled, "examples", 0);
      auto count = [&](const char* k) {
        return labeled.contains(k) && labeled[k].is_object() ? num(labeled[k], "count", 0) : 0.0;
      };
      if (n > 0 && count("conflicting_labels") / n >= 0.01) {
        in.data_problems.push_back(fmt::format("{:.0f} texts carry conflicting labels", count("conflicting_labels")));
      }
      if (n > 0 && count("exact_duplicates") / n >= 0.05) {
        in.data_problems.push_back(fmt::format("{:.0f} exact duplicates in the training data ({:.0f}%)",
                                               count("exact_duplicates"), 100 * count("exact_duplicates") / n));
      }
      double eval_n = num(labeled, "eval_examples", 0);
      if (eval_n > 0 && count("leakage") / eval_n >= 0.01) {
        in.data_problems.push_back(fmt::format("{:.0f} eval examples also occur in training", count("leakage")));
      }
      if (labeled.contains("rare_labels") && labeled["rare_labels"].is_array() && !labeled["rare_labels"].empty()) {
        in.data_problems.push_back(fmt::format("{} labels have too few examples", labeled["rare_labels"].size()));
      }
    }
    const json corpus = profile.value("corpus", json());
    if (corpus.is_object()) {
      if (num(corpus, "near_duplicate_share", 0) >= 0.2) {
        in.data_problems.push_back(
            fmt::format("{:.0f}% of the chunks are near-duplicates", 100 * num(corpus, "near_duplicate_share", 0)));
      }
      if (num(corpus, "boilerplate_share", 0) >= 0.2) {
        in.data_problems.push_back(
            fmt::format("{:.0f}% of the corpus text is boilerplate", 100 * num(corpus, "boilerplate_share", 0)));
      }
    }
  }
  return in;
}

// The paired comparison of a and b as (a - b), from either orientation.
std::optional<std::pair<double, double>> diff_ci(const Inputs& in, const std::string& a, const std::string& b) {
  for (const auto& c : *in.comparisons) {
    if (!c.is_object()) continue;
    std::string ca = c.value("a", ""), cb = c.value("b", "");
    double lo = num(c, "ci_low"), hi = num(c, "ci_high");
    if (std::isnan(lo) || std::isnan(hi)) continue;
    if (ca == a && cb == b) return std::make_pair(lo, hi);
    if (ca == b && cb == a) return std::make_pair(-hi, -lo);
  }
  return std::nullopt;
}

// a clearly better than b: the paired interval of (a - b) is above 0; without a comparison,
// the marginal intervals must not overlap.
bool clearly_better(const Inputs& in, const Arm& a, const Arm& b) {
  if (auto d = diff_ci(in, a.id, b.id)) return d->first > 0;
  return a.lo > b.hi;
}

std::string quality_text(const Inputs& in, const Arm& a) {
  return fmt::format("{:.3f} {} [{:.3f}, {:.3f}]", a.q, in.metric, a.lo, a.hi);
}

bool is_retrieval_arm(const std::string& id) { return id == "rag" || id == "fine_tuned_rag"; }
bool is_tuned_arm(const std::string& id) { return id == "fine_tuned" || id == "fine_tuned_rag"; }

struct Walk {
  json rec;
  std::string decision;
};

Walk walk(const Requirements& r, const Inputs& in) {
  Walk w;
  json reasons = json::array();
  json excluded = json::array();
  json warnings = json::array();
  json path = json::array({"start", "constraints"});
  auto reason = [&](std::string text, const char* evidence, std::string ref) {
    reasons.push_back({{"text", std::move(text)}, {"evidence", evidence}, {"ref", std::move(ref)}});
  };

  // 1. constraints
  const double interval = change_interval_seconds(r.change.value);
  std::vector<Arm> feasible;
  for (const Arm& a : in.arms) {
    std::vector<std::pair<std::string, std::string>> why;  // text, ref
    const auto& budget = r.latency_p95_ms.value;
    if (budget && !std::isnan(a.p95) && a.p95 > *budget) {
      why.emplace_back(fmt::format("p95 {} over the {} budget", fmt_ms(a.p95), fmt_ms(*budget)),
                       fmt::format("arms.{}.latency_ms.p95", a.id));
    }
    if (r.citations.value && !a.cites) why.emplace_back("cannot cite its sources, and citations are required", "requirements.citations");
    if (r.acls.value && !a.acl) {
      why.emplace_back("cannot enforce per-document access control (what it learned is in its weights), and ACLs "
                       "are required",
                       "requirements.acls");
    }
    if (a.time_to_fresh && std::isfinite(interval) && *a.time_to_fresh > interval / 10) {
      why.emplace_back(fmt::format("an update takes {}, over a tenth of the {} change interval", fmt_s(*a.time_to_fresh),
                                   r.change.value),
                       fmt::format("freshness.arms.{}.time_to_fresh_s", a.id));
    }
    if (why.empty()) {
      feasible.push_back(a);
      continue;
    }
    std::string text;
    for (const auto& [t, ref] : why) text += (text.empty() ? "" : "; ") + t;
    excluded.push_back({{"arm", a.id}, {"why", text}, {"ref", why.front().second}});
  }
  if (!excluded.empty()) {
    for (const auto& e : excluded) {
      std::string ref = e["ref"];
      reason(fmt::format("{} is out: {}", e["arm"].get<std::string>(), e["why"].get<std::string>()),
             ref.rfind("requirements.", 0) == 0 ? "answered" : "measured", ref);
    }
  }
  bool relaxed = false;
  if (feasible.empty()) {
    if (in.arms.empty()) {
      w.decision = "fix_data";
      path.push_back("fix_data");
      w.rec = {{"decision", w.decision}, {"arm", nullptr}, {"headline", "No arm was measured"},
               {"reasons", reasons}, {"path", path}, {"excluded", excluded}, {"warnings", warnings}};
      return w;
    }
    feasible = in.arms;
    relaxed = true;
    warnings.push_back("No arm meets every hard requirement; the decision below ignores them — revisit the "
                       "requirements or the arms' settings.");
  }

  // 2. quality
  path.push_back("quality");
  const Arm* best = &feasible.front();
  for (const Arm& a : feasible) {
    if (a.q > best->q) best = &a;
  }

  // 3. data
  path.push_back("data");
  bool beats_baseline = !in.baseline || clearly_better(in, *best, *in.baseline);
  const auto& target = r.quality_target.value;
  bool meets_target = !target || best->q >= *target;
  if (in.baseline) {
    reason(fmt::format("the best arm, {}, scores {} against {:.3f} for the no-knowledge baseline", best->id,
                       quality_text(in, *best), in.baseline->q),
           "measured", fmt::format("arms.{}.quality", best->id));
  }
  if (!beats_baseline || !meets_target) {
    std::string weak = !beats_baseline ? "is not clearly better than the no-knowledge baseline"
                                       : fmt::format("is under the quality target {:.3f}", *target);
    if (!in.data_problems.empty()) {
      std::string problems;
      for (const auto& p : in.data_problems) problems += (problems.empty() ? "" : "; ") + p;
      reason(fmt::format("{} {}", best->id, weak), !beats_baseline ? "measured" : "answered",
             !beats_baseline ? fmt::format("arms.{}.quality", best->id) : "requirements.quality_target");
      reason("the profile shows data problems: " + problems, "measured", "profile");
      w.decision = "fix_data";
      path.push_back("fix_data");
      w.rec = {{"decision", w.decision},
               {"arm", nullptr},
               {"headline", fmt::format("Fix the data first: the best arm ({}) {}, and {}", best->id, weak, problems)},
               {"reasons", reasons},
               {"path", path},
               {"excluded", excluded},
               {"warnings", warnings}};
      return w;
    }
    warnings.push_back(fmt::format("The best arm {}; the profile shows no data problem to fix, so more or better "
                                   "labelled data, or a stronger model, is the way up.",
                                   weak));
  }

  // 4. tie
  path.push_back("tie");
  std::vector<const Arm*> tied;
  for (const Arm& a : feasible) {
    if (&a == best || !clearly_better(in, *best, a)) tied.push_back(&a);
  }
  const Arm* pick = best;
  if (tied.size() > 1) {
    std::string names;
    for (const Arm* a : tied) names += (names.empty() ? "" : ", ") + a->id;
    reason(fmt::format("{} cannot be told apart at 95% confidence", names), "measured", "comparisons");
    if (r.wrong_answer_cost.value == "high") {
      reason("a wrong answer is costly: the best point estimate wins the tie", "answered", "requirements.wrong_answer_cost");
    } else {
      path.push_back("tiebreak");
      auto lean = [&](const Arm* a) {
        const std::string& need = r.need.value;
        if (need == "knowledge") return is_retrieval_arm(a->id) ? 1 : 0;
        if (need == "behaviour" || r.style_consistency.value) return is_tuned_arm(a->id) ? 1 : 0;
        return 0;
      };
      auto better = [&](const Arm* a, const Arm* b) {
        if (lean(a) != lean(b)) return lean(a) > lean(b);
        if (a->components != b->components) return a->components < b->components;
        double pa = std::isnan(a->p95) ? 1e300 : a->p95, pb = std::isnan(b->p95) ? 1e300 : b->p95;
        if (pa != pb) return pa < pb;
        return a->build < b->build;
      };
      pick = *std::min_element(tied.begin(), tied.end(), better);
      if (lean(pick) && r.need.value != "both") {
        reason(fmt::format("the task needs {}: {} leans that way", r.need.value, pick->id), "answered",
               "requirements.need");
      } else if (lean(pick)) {
        reason(fmt::format("consistent style/format is required: {} leans that way", pick->id), "answered",
               "requirements.style_consistency");
      }
      reason(fmt::format("among the tied arms {} is the simplest and fastest (p95 {}, built in {})", pick->id,
                         fmt_ms(pick->p95), fmt_s(pick->build)),
             "measured", fmt::format("arms.{}.latency_ms.p95", pick->id));
    }
  } else {
    for (const Arm& a : feasible) {
      if (&a == best) continue;
      auto d = diff_ci(in, best->id, a.id);
      reason(d ? fmt::format("{} beats {} ({}) by {:.3f}; 95% CI of the difference [{:.3f}, {:.3f}]", best->id, a.id,
                             quality_text(in, a), best->q - a.q, d->first, d->second)
               : fmt::format("{} beats {} ({})", best->id, a.id, quality_text(in, a)),
             "measured", "comparisons");
    }
  }
  w.decision = decision_of_arm(pick->id);
  path.push_back(w.decision);

  // Context the decision rests on.
  if (r.latency_p95_ms.value && !std::isnan(pick->p95)) {
    reason(fmt::format("{} answers in {} at p95, within the {} budget", pick->id, fmt_ms(pick->p95),
                       fmt_ms(*r.latency_p95_ms.value)),
           "measured", fmt::format("arms.{}.latency_ms.p95", pick->id));
  }
  if (pick->time_to_fresh) {
    reason(fmt::format("new knowledge reaches {} in {} ({}); the knowledge changes {}", pick->id,
                       fmt_s(*pick->time_to_fresh), pick->update == "retrain" ? "retraining" : "an index update",
                       r.change.value),
           "measured", fmt::format("freshness.arms.{}.time_to_fresh_s", pick->id));
  }
  if (r.citations.value) {
    reason("answers must cite their sources: " + pick->id + " can", "answered", "requirements.citations");
  }
  if (relaxed) warnings.push_back("Requirements were relaxed to reach a decision (see excluded arms).");

  w.rec = {{"decision", w.decision},
           {"arm", pick->id},
           {"headline", fmt::format("{}: {}, p95 {}", pretty(w.decision), quality_text(in, *pick), fmt_ms(pick->p95))},
           {"reasons", reasons},
           {"path", path},
           {"excluded", excluded},
           {"warnings", warnings}};
  return w;
}

std::string change_text(const std::string& label, const std::string& decision) {
  return fmt::format("{} -> {}", label, pretty(decision));
}

}  // namespace

const char* arm_of_decision(const std::string& decision) {
  if (decision == "rag") return "rag";
  if (decision == "fine_tune") return "fine_tuned";
  if (decision == "fine_tune_rag") return "fine_tuned_rag";
  return "";
}

const char* decision_of_arm(const std::string& arm) {
  if (arm == "rag") return "rag";
  if (arm == "fine_tuned") return "fine_tune";
  if (arm == "fine_tuned_rag") return "fine_tune_rag";
  return "?";
}

json flowchart() {
  json nodes = json::array({
      {{"id", "start"}, {"label", "Task, requirements and measured arms"}, {"kind", "start"}},
      {{"id", "constraints"}, {"label", "Which arms meet the hard requirements? (latency, citations, ACLs, freshness)"}, {"kind", "question"}},
      {{"id", "quality"}, {"label", "Which feasible arm scores best?"}, {"kind", "question"}},
      {{"id", "data"}, {"label", "Clearly better than the no-knowledge baseline, and at target?"}, {"kind", "question"}},
      {{"id", "tie"}, {"label", "Can the others be told apart from it (95% CI)?"}, {"kind", "question"}},
      {{"id", "tiebreak"}, {"label", "Tied: what the task leans to, then the simpler, faster arm"}, {"kind", "question"}},
      {{"id", "requirements"}, {"label", "No data yet: which way do the answers lean?"}, {"kind", "question"}},
      {{"id", "rag"}, {"label", "RAG"}, {"kind", "decision"}},
      {{"id", "fine_tune"}, {"label", "Fine-tune"}, {"kind", "decision"}},
      {{"id", "fine_tune_rag"}, {"label", "Fine-tune + RAG"}, {"kind", "decision"}},
      {{"id", "fix_data"}, {"label", "Fix the data/retrieval layer first"}, {"kind", "decision"}},
  });
  json edges = json::array({
      {{"from", "start"}, {"to", "constraints"}, {"label", ""}},
      {{"from", "constraints"}, {"to", "quality"}, {"label", "feasible arms"}},
      {{"from", "quality"}, {"to", "data"}, {"label", "best arm"}},
      {{"from", "data"}, {"to", "fix_data"}, {"label", "no, and the data has problems"}},
      {{"from", "data"}, {"to", "tie"}, {"label", "yes (or no data problem)"}},
      {{"from", "tie"}, {"to", "tiebreak"}, {"label", "tied"}},
      {{"from", "tie"}, {"to", "rag"}, {"label", "RAG best"}},
      {{"from", "tie"}, {"to", "fine_tune"}, {"label", "fine-tuned best"}},
      {{"from", "tie"}, {"to", "fine_tune_rag"}, {"label", "combination best"}},
      {{"from", "tiebreak"}, {"to", "rag"}, {"label", ""}},
      {{"from", "tiebreak"}, {"to", "fine_tune"}, {"label", ""}},
      {{"from", "tiebreak"}, {"to", "fine_tune_rag"}, {"label", ""}},
      {{"from", "start"}, {"to", "requirements"}, {"label", "no data"}},
      {{"from", "requirements"}, {"to", "rag"}, {"label", ""}},
      {{"from", "requirements"}, {"to", "fine_tune"}, {"label", ""}},
      {{"from", "requirements"}, {"to", "fine_tune_rag"}, {"label", ""}},
  });
  return {{"nodes", nodes}, {"edges", edges}};
}

json recommend(const Requirements& r, TaskType /*task*/, const json& report) {
  Inputs in = read_inputs(report);
  Walk base = walk(r, in);

  // What would change the decision: the same walk with one answer changed.
  json changes = json::array();
  auto try_change = [&](const std::string& label, const std::string& ref, Requirements alt) {
    Walk w = walk(alt, in);
    if (w.decision != base.decision) changes.push_back({{"if", label}, {"then", w.decision}, {"ref", ref},
                                                        {"text", change_text(label, w.decision)}});
  };
  // Latency: a budget just under the chosen arm's p95, if another arm is faster.
  std::string chosen = arm_of_decision(base.decision);
  for (const Arm& a : in.arms) {
    if (a.id != chosen || std::isnan(a.p95)) continue;
    bool faster_exists = std::any_of(in.arms.begin(), in.arms.end(),
                                     [&](const Arm& b) { return !std::isnan(b.p95) && b.p95 < a.p95; });
    if (!faster_exists) continue;
    Requirements alt = r;
    alt.latency_p95_ms.value = a.p95 * 0.99;
    try_change(fmt::format("a latency budget under {} (p95)", fmt_ms(a.p95)), fmt::format("arms.{}.latency_ms.p95", a.id), alt);
  }
  {
    Requirements alt = r;
    alt.citations.value = !r.citations.value;
    try_change(r.citations.value ? "citations were not required" : "answers had to cite their sources", "requirements.citations", alt);
  }
  {
    Requirements alt = r;
    alt.acls.value = !r.acls.value;
    try_change(r.acls.value ? "no per-document access control were needed" : "per-document access control were required",
               "requirements.acls", alt);
  }
  for (const char* change : {"hourly", "never"}) {
    if (r.change.value == change) continue;
    Requirements alt = r;
    alt.change.value = change;
    try_change(fmt::format("the knowledge changed {}", std::string(change) == "never" ? "never" : change),
               "requirements.change", alt);
  }
  for (const char* cost : {"high", "low"}) {
    if (r.wrong_answer_cost.value == cost) continue;
    Requirements alt = r;
    alt.wrong_answer_cost.value = cost;
    try_change(fmt::format("the cost of a wrong answer were {}", cost), "requirements.wrong_answer_cost", alt);
  }
  for (const char* need : {"knowledge", "behaviour"}) {
    if (r.need.value == need) continue;
    Requirements alt = r;
    alt.need.value = need;
    try_change(fmt::format("the task were about {}", need), "requirements.need", alt);
  }
  {
    // A quality target just above the best measured arm.
    double best_q = 0;
    for (const Arm& a : in.arms) best_q = std::max(best_q, a.q);
    if (best_q > 0 && best_q < 0.99) {
      Requirements alt = r;
      alt.quality_target.value = std::min(1.0, best_q + 0.01);
      try_change(fmt::format("the quality target were above {:.3f}", best_q), "requirements.quality_target", alt);
    }
  }
  json rec = base.rec;
  rec["what_would_change"] = changes;
  return rec;
}

json plan_without_data(const Requirements& r, TaskType task) {
  json reasons = json::array();
  json collect = json::array();
  auto reason = [&](std::string text, std::string ref) {
    reasons.push_back({{"text", std::move(text)}, {"evidence", "answered"}, {"ref", std::move(ref)}});
  };
  int rag = 0, tune = 0;
  const std::string& need = r.need.value;
  if (need == "knowledge") ++rag, reason("the model must know things (knowledge): retrieval injects them", "requirements.need");
  if (need == "behaviour") ++tune, reason("the model must behave a certain way (behaviour): training changes that", "requirements.need");
  if (need == "both") ++rag, ++tune, reason("knowledge and behaviour: the combination is the likely end state", "requirements.need");
  double interval = change_interval_seconds(r.change.value);
  if (interval <= 7 * 86400.0) ++rag, reason(fmt::format("the knowledge changes {}: an index update beats retraining", r.change.value), "requirements.change");
  if (r.citations.value) rag += 2, reason("citations are required: only retrieval can point at the source", "requirements.citations");
  if (r.acls.value || r.sensitivity.value == "restricted") {
    rag += 2;
    reason("access control must hold per document: retrieval filters at query time, weights cannot", r.acls.value ? "requirements.acls" : "requirements.sensitivity");
  }
  if (r.style_consistency.value) ++tune, reason("consistent style/format is required: fine-tuning", "requirements.style_consistency");
  if (r.latency_p95_ms.value && *r.latency_p95_ms.value < 10) {
    ++tune;
    reason(fmt::format("a {} ms p95 budget is tight: a small fine-tuned model answers without a retrieval step",
                       *r.latency_p95_ms.value),
           "requirements.latency_p95_ms");
  }
  if (r.deadline_weeks.value && *r.deadline_weeks.value <= 2) {
    ++rag;
    reason("shipping within two weeks: RAG needs no labelled data and no training", "requirements.deadline_weeks");
  }
  const auto& labeled = r.labeled_examples.value;
  bool few_labels = !labeled || *labeled < 200;
  if (few_labels && tune > 0) {
    reason(labeled ? fmt::format("only {} labelled examples: too few to fine-tune well", *labeled)
                   : "labelled data is unknown: fine-tuning cannot be judged yet",
           "requirements.labeled_examples");
  }
  std::string decision = rag > 0 && tune > 0 ? (rag >= 2 * tune ? "rag" : tune >= 2 * rag ? "fine_tune" : "fine_tune_rag")
                         : tune > 0          ? "fine_tune"
                                             : "rag";
  if (decision != "rag" && few_labels) decision = rag > 0 ? "rag" : decision;

  json arms = json::array({"baseline", "rag"});
  if (tune > 0) arms.push_back("fine_tuned"), arms.push_back("fine_tuned_rag");
  switch (task) {
    case TaskType::kClassification:
      collect.push_back("label at least 200 examples per class to make fine-tuning viable (and 50 per class to see whether kNN retrieval over them works)");
      collect.push_back("hold out an eval set of at least 400 examples: accuracy is then known to within about ±0.05");
      break;
    case TaskType::kExtraction:
      collect.push_back("annotate at least 1,000 sentences (BIO tags) to make fine-tuning a tagger viable");
      collect.push_back("hold out at least 300 annotated sentences for evaluation");
      break;
    case TaskType::kRetrieval:
      collect.push_back("gather the corpus the answers must come from (any format `ragft index` reads)");
      collect.push_back("write at least 200 real questions with the documents that answer them (qrels) to train a reranker");
      collect.push_back("hold out at least 300 judged questions for evaluation: nDCG@10 is then known to within about ±0.05");
      break;
    case TaskType::kGeneration:
      collect.push_back("write at least 200 questions (or instructions) with reference answers to fine-tune a LoRA adapter");
      collect.push_back("mark the evidence (document and span) behind each answer: it trains RAFT and scores citations");
      collect.push_back("hold out at least 300 questions for evaluation: answer F1 is then known to within about ±0.05");
      break;
  }
  if (r.quality_target.value == std::nullopt) collect.push_back("state the quality that is good enough (quality_target)");
  json path = json::array({"start", "requirements", decision});
  return {{"decision", decision},
          {"arm", arm_of_decision(decision)},
          {"headline", fmt::format("Start with {} — from the requirements alone; run the bake-off on your data to confirm",
                                   pretty(decision))},
          {"reasons", reasons},
          {"path", path},
          {"excluded", json::array()},
          {"what_would_change", json::array()},
          {"warnings", json::array({"No data was given: nothing here is measured."})},
          {"arms_to_try", arms},
          {"collect", collect}};
}

}  // namespace ragft::decide
