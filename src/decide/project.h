// The project file of `ragft decide`: what the task is, where its data lives, the framework's
// requirement answers, and bake-off settings. YAML or JSON (JSON is read as YAML); the schema is
// documented in docs/decide.md with examples in examples/*/project.yaml.
//
// Paths in the file are relative to the file's directory; load_project() makes them absolute.
// Unknown keys are errors (a typo must not silently fall back to a default). Every error names
// the file, line and column, the field's dotted path and what is expected, e.g.
//   project.yaml:7:19: requirements.latency_p95_ms: expected a positive number (milliseconds), got "fast"
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace ragft::decide {

enum class TaskType { kRetrieval, kClassification, kExtraction, kGeneration };
// "retrieval" (aliases "qa", "qa-over-documents"), "classification", "extraction", "generation".
Result<TaskType> parse_task_type(std::string_view s);
const char* task_type_name(TaskType t);

// Where an answer came from: the user (file or questionnaire), the default, or measured from data.
enum class Source { kDefault, kAnswered, kMeasured };
const char* source_name(Source s);

template <typename T>
struct Answer {
  T value{};
  Source source = Source::kDefault;
  friend bool operator==(const Answer&, const Answer&) = default;
};

// The allowed values of the enumerated settings, in the order the docs list them.
inline constexpr std::array<std::string_view, 3> kNeedValues = {"knowledge", "behaviour", "both"};
inline constexpr std::array<std::string_view, 6> kChangeValues = {"never", "yearly", "monthly", "weekly", "daily", "hourly"};
inline constexpr std::array<std::string_view, 3> kCostValues = {"low", "medium", "high"};
inline constexpr std::array<std::string_view, 3> kSensitivityValues = {"public", "internal", "restricted"};
inline constexpr std::array<std::string_view, 4> kArmIds = {"baseline", "rag", "fine_tuned", "fine_tuned_rag"};
inline constexpr std::array<std::string_view, 2> kFineTunedValues = {"linear", "neural"};

struct Requirements {
  // "knowledge" (what the model must know), "behaviour" (how it must respond: format, labels,
  // style) or "both". Default "both".
  Answer<std::string> need{"both"};
  // How often the knowledge changes: "never", "yearly", "monthly", "weekly", "daily", "hourly".
  // Default "monthly". The profile measures it from the store's change log when it has history.
  Answer<std::string> change{"monthly"};
  Answer<bool> citations{false};                    // answers must cite their sources
  Answer<std::optional<double>> latency_p95_ms{};   // per-query budget; nullopt: none
  Answer<std::string> wrong_answer_cost{"medium"};  // "low", "medium", "high"
  Answer<std::string> sensitivity{"internal"};      // "public", "internal", "restricted"
  Answer<bool> acls{false};                         // per-document access control needed
  Answer<std::optional<double>> deadline_weeks{};   // time to ship; nullopt: none
  Answer<bool> style_consistency{false};            // consistent style/format of outputs
  // Labelled examples available (nullopt: unknown; the profile measures it when data is given).
  Answer<std::optional<long>> labeled_examples{};
  // The task metric value that is good enough (accuracy, nDCG@10 or F1 in [0, 1]); nullopt: none.
  Answer<std::optional<double>> quality_target{};

  // {"need": {"value": ..., "source": "answered"}, ...} as in docs/decide-design.md.
  nlohmann::json to_json() const;
  friend bool operator==(const Requirements&, const Requirements&) = default;
};

// Seconds between knowledge changes for a `change` value ("never" -> +infinity; a value not in
// kChangeValues -> NaN).
double change_interval_seconds(std::string_view change);

struct DataSpec {
  // classification: train/eval files (dataset.h formats), format ("jsonl", "csv", "fasttext",
  // "trec", "sst"; empty: by extension) and encoding ("utf-8", "latin-1").
  // extraction: train/dev/eval CoNLL files.
  // retrieval: corpus files or folders (anything `ragft index` reads), queries (BEIR jsonl or
  // TSV), train_qrels (judgments for training the fine-tuned arms; optional) and eval_qrels.
  // generation: train/eval question files (generate/raft.h format: question, reference answer,
  // optional gold evidence spans) and an optional corpus (the retrieval arms need it).
  std::vector<std::filesystem::path> corpus;
  std::filesystem::path queries, train_qrels, eval_qrels;
  std::filesystem::path train, dev, eval;
  std::string format;
  std::string encoding = "utf-8";
  bool has_data() const { return !corpus.empty() || !train.empty() || !eval.empty() || !eval_qrels.empty(); }
  friend bool operator==(const DataSpec&, const DataSpec&) = default;
};

struct BakeoffSpec {
  // Arms to run (subset of "baseline", "rag", "fine_tuned", "fine_tuned_rag"); default all.
  // load_project() returns them in that order, whatever the file's order.
  std::vector<std::string> arms = {"baseline", "rag", "fine_tuned", "fine_tuned_rag"};
  // The fine-tuned contender for behaviour tasks: "linear" (fastText, default) or "neural"
  // (libtorch CNN; classification) — extraction always uses the neural tagger.
  std::string fine_tuned = "linear";
  std::uint64_t seed = 1;
  // Share of the corpus (retrieval) or of the labelled data (behaviour tasks) held back as "new
  // knowledge" by the freshness experiment; 0 turns the experiment off. Default 0.1.
  double freshness = 0.1;
  int bootstrap_samples = 1000;
  // Cache directory for finished arms; empty: <project file dir>/.ragft-decide/<project name hash>.
  std::filesystem::path cache;
  friend bool operator==(const BakeoffSpec&, const BakeoffSpec&) = default;
};

// USD per million tokens, for the token-cost model of generation bake-offs (0: free, e.g. a
// local model whose cost is the machine).
struct TokenPrices {
  double prompt = 0;      // prompt tokens, retrieved context included
  double completion = 0;  // generated tokens
  double training = 0;    // tokens seen in fine-tuning (examples x epochs)
  friend bool operator==(const TokenPrices&, const TokenPrices&) = default;
};

// The `generation:` section (task generation only).
struct GenerationSpec {
  // The base model: "local:path=DIR,..." (the fine-tuned arms train LoRA adapters on it) or
  // "openai:..." (fine-tuned arms are then skipped: the data can be exported for training
  // elsewhere). Required with data.
  std::string llm;
  std::string lora = "lora:";       // LoRA training config (generate/lora.h)
  std::string raft = "raft:";       // RAFT data for the fine-tuned + RAG arm (generate/raft.h)
  std::string answer = "llm:";      // RAG answering options (generate/llm_answer.h)
  std::string metric = "f1";        // per-answer metric: f1 | exact_match | json_valid
  std::filesystem::path schema;     // JSON schema of the answers (json_valid needs it)
  std::filesystem::path prompt;     // prompt template file (generate/prompt.h); empty: built in
  std::string system;               // system message of the closed-book arms; empty: none
  int max_tokens = 256;             // per answer
  TokenPrices prices;
  friend bool operator==(const GenerationSpec&, const GenerationSpec&) = default;
};
inline constexpr std::array<std::string_view, 3> kGenerationMetrics = {"f1", "exact_match", "json_valid"};

struct Project {
  std::filesystem::path file;  // the project file (absolute), empty when built in memory
  std::string name;
  TaskType task = TaskType::kClassification;
  DataSpec data;
  Requirements requirements;
  BakeoffSpec bakeoff;
  GenerationSpec generation;
  friend bool operator==(const Project&, const Project&) = default;
};

// Reads and validates a project file. Errors (kInvalidArgument) as described above; a missing
// file -> kNotFound; missing data files are reported with the field that names them.
Result<Project> load_project(const std::filesystem::path& path);
// Same from text; `name` is used in messages and `base_dir` resolves relative paths
// (Project::file stays empty). Data fields that do not belong to the task are left empty.
Result<Project> parse_project(std::string_view text, std::string_view name, const std::filesystem::path& base_dir);
// YAML that load_project() reads back to an equal Project (paths written relative to
// `base_dir` when they are under it). Answers with source kDefault are written commented out,
// so the file shows every question; kMeasured ones are written commented out too (the profile
// measures them again), so they read back as defaults. Round trips need absolute paths (as
// load_project() and run_questionnaire() produce) and finite numbers.
std::string to_yaml(const Project& p, const std::filesystem::path& base_dir);

}  // namespace ragft::decide
