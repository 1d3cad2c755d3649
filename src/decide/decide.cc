#include "decide/decide.h"

#include <cstdlib>

#include "decide/arm.h"
#include "decide/bakeoff.h"
#include "decide/recommend.h"

namespace ragft::decide {

namespace fs = std::filesystem;

fs::path cache_dir_for(const Project& p, const DecideOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir;
  if (!p.bakeoff.cache.empty()) return p.bakeoff.cache;
  fs::path base = p.file.empty() ? fs::current_path() : p.file.parent_path();
  return base / ".ragft-decide";
}

Result<nlohmann::json> decide(const Project& p, const DecideOptions& o) {
  Stopwatch total;
  nlohmann::json report = {
      {"ragft_decide", 1},
      {"project", {{"name", p.name}, {"task", task_type_name(p.task)}, {"file", p.file.string()}}},
  };
  Requirements req = p.requirements;
  if (!p.data.has_data()) {
    report["requirements"] = req.to_json();
    report["metric"] = nullptr;
    report["profile"] = nullptr;
    report["arms"] = nlohmann::json::array();
    report["comparisons"] = nlohmann::json::array();
    report["freshness"] = nullptr;
    report["recommendation"] = plan_without_data(req, p.task);
    report["flowchart"] = flowchart();
    report["timing"] = {{"seconds", total.seconds()}, {"cached_arms", 0}};
    return report;
  }
  // The libtorch arms train on one thread unless RAGFT_THREADS says otherwise: fixed figures for
  // a seed, and on 2 cores the BiLSTM-CRF trains faster that way (WNUT-17: 3 min 42 s for the
  // whole decide run on one thread, 7 min 16 s on two; docs/decide.md). Read at libtorch's first use.
  // LoRA training of the generation task too: 614 tokens/s on one thread, 246 on two
  // (ragft_lora_bench, idle machine).
  ::setenv("RAGFT_THREADS", "1", /*overwrite=*/0);
  BakeoffOptions bo;
  bo.cache_dir = cache_dir_for(p, o);
  bo.use_cache = o.use_cache;
  bo.log = o.log;
  bo.open_chat = o.open_chat;
  bo.train_adapter = o.train_adapter;
  RAGFT_TRY(Bakeoff b, run_bakeoff(p, bo));
  // Measured answers replace unanswered defaults; an answer the user gave stays.
  if (b.labeled_examples && req.labeled_examples.source != Source::kAnswered) {
    req.labeled_examples = {b.labeled_examples, Source::kMeasured};
  }
  if (!b.measured_change.empty() && req.change.source != Source::kAnswered) {
    req.change = {b.measured_change, Source::kMeasured};
  }
  report["requirements"] = req.to_json();
  report["metric"] = b.metric;
  report["profile"] = b.profile;
  report["arms"] = nlohmann::json::array();
  for (const auto& a : b.arms) report["arms"].push_back(a.to_json());
  report["comparisons"] = b.comparisons;
  report["freshness"] = b.freshness;
  report["skipped_arms"] = b.skipped;
  report["recommendation"] = recommend(req, p.task, report);
  report["flowchart"] = flowchart();
  report["timing"] = {{"seconds", total.seconds()}, {"cached_arms", b.cached_arms}};
  return report;
}

}  // namespace ragft::decide
