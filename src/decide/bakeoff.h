// The bake-off: every arm of docs/decide-design.md built and measured on the same eval set, the
// freshness experiment, and the profile — as the report's "arms", "comparisons", "freshness",
// "metric" and "profile" objects. Finished arms are cached (cache.h): a re-run with the same
// inputs and config strings reuses them.
//
// Per task:
//  - classification: baseline = majority class; rag = kNN over the labelled examples (BM25);
//    fine_tuned = the linear (fastText) or neural contender; fine_tuned_rag = their combination
//    (weights chosen on the validation split). Metric: accuracy, one 0/1 value per eval example.
//  - retrieval: baseline = the documents most often judged relevant in training (no corpus
//    access at query time); rag = BM25 over the chunked corpus; fine_tuned = closed-book model
//    (closed_book.h); fine_tuned_rag = BM25 candidates re-ranked by a model trained on the
//    training judgments with the closed-book score as a feature (reranker.h). Metric: nDCG@10
//    per query.
//  - extraction: baseline = no entities; rag = kNN tagger; fine_tuned = neural BiLSTM-CRF;
//    fine_tuned_rag = their combination. Metric: entity F1 (bootstrap over sentences).
//  - generation (generation.h): baseline = the base LLM closed book; rag = the LLM answering
//    from BM25's chunks with citations; fine_tuned = a LoRA adapter closed book; fine_tuned_rag
//    = a RAFT-trained adapter with RAG. Metric: answer F1, exact match or JSON validity.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "decide/arm.h"
#include "decide/cache.h"
#include "decide/generation.h"
#include "decide/project.h"

namespace ragft::decide {

struct BakeoffOptions {
  std::filesystem::path cache_dir;  // required: arms, models and workspaces live here
  bool use_cache = true;            // false: rerun every arm (results still written)
  std::function<void(const std::string&)> log;  // progress lines; may be empty
  // Generation bake-offs (generation.h); empty: open_chat_model and train_lora_adapter.
  OpenChatFn open_chat;
  TrainAdapterFn train_adapter;
};

struct Bakeoff {
  nlohmann::json metric;  // {"name","label","higher_is_better"}
  std::vector<ArmResult> arms;
  nlohmann::json comparisons = nlohmann::json::array();
  nlohmann::json freshness;  // null when off
  nlohmann::json profile;    // {"corpus","labeled","eval"}
  // Requirements measured from the data (labeled_examples, change rate) to merge into the report.
  std::optional<long> labeled_examples;
  std::string measured_change;  // "" when the store has no history
  std::size_t cached_arms = 0;
  // Arms of bakeoff.arms the data or model did not allow: "id: why".
  std::vector<std::string> skipped;
};

Result<Bakeoff> run_bakeoff(const Project& project, const BakeoffOptions& options);

// Task runners (bakeoff_classify.cc, bakeoff_retrieval.cc, bakeoff_extract.cc).
Result<Bakeoff> run_classification_bakeoff(const Project& project, const BakeoffOptions& options);
Result<Bakeoff> run_retrieval_bakeoff(const Project& project, const BakeoffOptions& options);
Result<Bakeoff> run_extraction_bakeoff(const Project& project, const BakeoffOptions& options);
Result<Bakeoff> run_generation_bakeoff(const Project& project, const BakeoffOptions& options);  // bakeoff_generate.cc

// The profile alone ("profile" object: corpus, labeled, eval), as `ragft profile` prints it;
// a retrieval project's corpus is synced into the same cached workspace the bake-off uses.
Result<nlohmann::json> profile_project(const Project& project, const BakeoffOptions& options);
Result<nlohmann::json> profile_classification(const Project& project);   // bakeoff_classify.cc
Result<nlohmann::json> profile_extraction(const Project& project);       // bakeoff_extract.cc
Result<nlohmann::json> profile_retrieval(const Project& project, const BakeoffOptions& options);  // bakeoff_retrieval.cc
Result<nlohmann::json> profile_generation(const Project& project, const BakeoffOptions& options);  // bakeoff_generate.cc

// Paired comparisons of every pair of arms with per-item values (same items), a before b in
// kArmIds order: {"a","b","diff","ci_low","ci_high","distinguishable"}.
nlohmann::json compare_arms(const std::vector<ArmResult>& arms, int samples, std::uint64_t seed);

// The finished arms of one bake-off. load() takes what the cache holds; finish() caches a new arm
// at once, so an interrupted or partial run resumes after the arms it finished. An arm's cache
// key covers `inputs` (task, input hashes, seed, bootstrap settings), its id and its config.
class ArmLedger {
 public:
  ArmLedger(const Project& project, const BakeoffOptions& options, nlohmann::json inputs,
            std::map<std::string, std::string> configs);
  bool wanted(const std::string& id) const;                                  // listed in bakeoff.arms
  bool missing(const std::string& id) const { return wanted(id) && !has(id); }  // wanted, not finished
  bool has(const std::string& id) const { return done_.count(id) > 0; }
  const std::string& config(const std::string& id) const { return configs_.at(id); }
  const nlohmann::json& inputs() const { return inputs_; }
  const Cache& cache() const { return cache_; }
  // Loads the cached wanted arms that `usable` accepts (all when empty); returns how many.
  std::size_t load(const std::function<bool(const ArmResult&)>& usable = {});
  Status finish(ArmResult arm);  // caches and keeps it (quality must be set)
  // The freshness experiment for `arms` (keyed by the inputs, `fraction` and the arms' configs):
  // the cached result, else run() — whose result is cached unless null.
  Result<nlohmann::json> freshness(const std::vector<ArmResult>& arms, double fraction,
                                   const std::function<Result<nlohmann::json>()>& run) const;
  // The finished arms in kArmIds order (moved out).
  std::vector<ArmResult> take();

 private:
  std::string key(const std::string& id) const;
  const Project& project_;
  const BakeoffOptions& options_;
  nlohmann::json inputs_;
  std::map<std::string, std::string> configs_;
  Cache cache_;
  std::map<std::string, ArmResult> done_;
};

// Fills `arm.quality` from arm.per_item (bootstrap mean).
void set_quality(ArmResult& arm, int samples, std::uint64_t seed);

}  // namespace ragft::decide
