// "tagger-combo": combines the BIO predictions of two extraction models, e.g. the neural tagger
// (primary) and the retrieval tagger (secondary). Torch-free: the sub-models are any Extractor.
//
// Rules, applied per sentence to the two models' entity chunks (evaluate/conlleval.h):
//   first   the primary's tags only
//   second  the secondary's tags only
//   fill    the primary's entities, plus every secondary entity whose tokens the primary
//           tagged all O (recall from the secondary where the primary found nothing)
//   fill2   the same with the roles swapped (the secondary's entities win)
//   agree   only entities both predict with the same span and type (precision)
// choose() scores every rule on validation sentences by entity F1 (conlleval) and keeps the best
// (ties: the earlier rule in the order above). The output is always valid BIO when the inputs
// are.
//
// A saved combination is a directory with model.json (config "tagger-combo:rule=fill") and the
// two sub-models, each a complete model directory: primary/ and secondary/.
// Thread safety: predict() is as safe as the sub-models' (both Extractors promise concurrency).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "train/extractor.h"

namespace ragft {

inline constexpr std::string_view kComboTaggerKind = "tagger-combo";

enum class ComboRule { kFirst, kSecond, kFill, kFill2, kAgree };
inline constexpr ComboRule kComboRules[] = {ComboRule::kFirst, ComboRule::kSecond, ComboRule::kFill,
                                            ComboRule::kFill2, ComboRule::kAgree};
const char* combo_rule_name(ComboRule rule);

struct ComboTaggerOptions {
  ComboRule rule = ComboRule::kFill;
  // Round-trips: "tagger-combo:rule=fill"; unknown keys or rules -> kInvalidArgument.
  std::string to_config() const;
  static Result<ComboTaggerOptions> parse(std::string_view config);
  friend bool operator==(const ComboTaggerOptions&, const ComboTaggerOptions&) = default;
};

// Merges two tag sequences of one sentence (same length) under `rule`.
std::vector<std::string> combine_tags(ComboRule rule, const std::vector<std::string>& primary,
                                      const std::vector<std::string>& secondary);

// What choose() measured: {"rule":{"f1","precision","recall"}} per rule, on `source`.
struct ComboTaggerSelection {
  ComboTaggerOptions chosen;
  double validation_f1 = 0;
  nlohmann::json per_rule = nlohmann::json::object();
};

class ComboTagger : public Extractor {
 public:
  // Fixed rule. Null sub-models -> kInvalidArgument.
  static Result<std::unique_ptr<ComboTagger>> make(std::unique_ptr<Extractor> primary,
                                                   std::unique_ptr<Extractor> secondary,
                                                   const ComboTaggerOptions& options);
  // Chooses the rule on `validation` (non-empty, else kInvalidArgument). Records
  // metrics["validation"] (conlleval json of the chosen rule plus "rule" and "per_rule"),
  // train_data_hash (the primary's) and train_seconds (sum of the sub-models' plus the choice).
  static Result<std::unique_ptr<ComboTagger>> choose(std::unique_ptr<Extractor> primary,
                                                     std::unique_ptr<Extractor> secondary,
                                                     const std::vector<TaggedSentence>& validation,
                                                     ComboTaggerSelection* selection = nullptr);
  // Opens a directory written by save() (called by load_extractor()); sub-model errors pass
  // through (a missing sub-directory -> kCorrupt).
  static Result<std::unique_ptr<ComboTagger>> load(const std::filesystem::path& dir, const ModelManifest& manifest);

  std::string kind() const override { return std::string(kComboTaggerKind); }
  std::vector<std::string> predict(const std::vector<std::string>& tokens) const override;
  std::vector<std::string> labels() const override;
  std::string config() const override { return options_.to_config(); }
  nlohmann::json extra() const override;

  const Extractor& primary() const { return *primary_; }
  const Extractor& secondary() const { return *secondary_; }
  Extractor& primary() { return *primary_; }
  Extractor& secondary() { return *secondary_; }
  const ComboTaggerOptions& options() const { return options_; }

 protected:
  Status save_files(const std::filesystem::path& dir) const override;

 private:
  ComboTagger() = default;

  ComboTaggerOptions options_;
  std::unique_ptr<Extractor> primary_, secondary_;
};

}  // namespace ragft
