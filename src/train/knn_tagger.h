// "tagger-knn": a retrieval-based extraction model, no neural network.
//
// Two sources of entity spans, applied in this order to a new sentence:
//  1. projection: the training sentences are indexed with the foundation's Bm25Index (terms
//     from the shared Analyzer); the top-k neighbours of the new sentence are retrieved, and
//     token sequences of the new sentence that equal an entity of a neighbour (case-folded or
//     exact, see `fold_case`) are tagged with that entity's type. Candidates are weighted by the
//     BM25 score of the neighbours that contain them; the heaviest type wins. Matching is
//     greedy left to right, longest first.
//  2. gazetteer: every entity string of the training data with its type counts and the number
//     of times the string occurs in the training text at all. Remaining untagged tokens are
//     matched (greedy, longest first) against entries seen at least `min_count` times as an
//     entity whose entity ratio (times tagged / times it occurs) is at least `min_ratio`; the
//     most frequent type wins (ties: alphabetical).
// Projection candidates also need an entity ratio of at least `proj_min_ratio`.
//
// train() chooses the options on a validation set (a dev file, or every 10th training sentence
// when none is given) by entity F1 (conlleval), then builds the model on all training
// sentences. Thread safety: predict() may be called concurrently (the analyzer is guarded by a
// mutex); training and save() need exclusive access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/lexical/bm25_index.h"
#include "text/analyzer.h"
#include "train/extractor.h"

namespace ragft {

inline constexpr std::string_view kKnnTaggerKind = "tagger-knn";

struct KnnTaggerOptions {
  std::size_t k = 10;           // neighbours for projection; 0 disables projection
  double proj_min_ratio = 0.0;  // projection: minimum entity ratio of a candidate (0..1)
  bool use_gazetteer = true;    // fill remaining tokens from the gazetteer
  std::size_t min_count = 1;    // gazetteer: minimum times the string was tagged as an entity
  double min_ratio = 0.0;       // gazetteer: minimum entity ratio (0..1)
  bool fold_case = true;        // match case-insensitively (fold_case()) or exactly

  // Round-trips: "tagger-knn:k=10,proj_min_ratio=0,gazetteer=1,min_count=1,min_ratio=0,case=fold"
  // (case=fold|exact). parse() accepts any subset of the keys (others keep their defaults) and
  // rejects unknown keys and bad values with kInvalidArgument naming the key.
  std::string to_config() const;
  static Result<KnnTaggerOptions> parse(std::string_view config);
  friend bool operator==(const KnnTaggerOptions&, const KnnTaggerOptions&) = default;
};

// What train() tried and chose.
struct KnnTaggerSelection {
  KnnTaggerOptions chosen;
  double validation_f1 = 0;
  std::string validation_source;  // "dev" or "train-holdout"
  std::size_t configs_tried = 0;
  nlohmann::json top = nlohmann::json::array();  // best configs: [{"config","f1","precision","recall"}]
};

class KnnTagger : public Extractor {
 public:
  // Builds with fixed options from `train` (empty train -> kInvalidArgument).
  static Result<std::unique_ptr<KnnTagger>> build(const std::vector<TaggedSentence>& train,
                                                  const KnnTaggerOptions& options);
  // Chooses options on `validation` (every 10th sentence of `train` held out when it is
  // empty), then builds on all of `train`. Records train_data_hash, train_seconds and the
  // validation figures (metrics["validation"]) in record().
  static Result<std::unique_ptr<KnnTagger>> train(const std::vector<TaggedSentence>& train,
                                                  const std::vector<TaggedSentence>& validation,
                                                  KnnTaggerSelection* selection = nullptr);
  // Opens a directory written by save() (called by load_extractor()).
  static Result<std::unique_ptr<KnnTagger>> load(const std::filesystem::path& dir, const ModelManifest& manifest);

  ~KnnTagger() override;

  std::string kind() const override { return std::string(kKnnTaggerKind); }
  std::vector<std::string> predict(const std::vector<std::string>& tokens) const override;
  std::vector<std::string> labels() const override;
  std::string config() const override { return options_.to_config(); }
  nlohmann::json extra() const override;
  const KnnTaggerOptions& options() const { return options_; }

 protected:
  Status save_files(const std::filesystem::path& dir) const override;

 public:
  // Internal tables, in matching-key form (tokens folded or not, joined by '\x1f').
  struct GazEntry {
    std::map<std::string, std::uint32_t> types;  // type -> times tagged
    std::uint32_t tagged = 0;                    // sum of types
    std::uint32_t occurrences = 0;               // times the token sequence occurs in train
    double ratio() const { return occurrences == 0 ? 1.0 : static_cast<double>(tagged) / occurrences; }
    const std::string& best_type() const;
  };
  struct Phrase {
    std::string key;
    std::string type;
  };
  struct Tables {
    bool fold = true;
    std::unordered_map<std::string, GazEntry> gazetteer;
    std::vector<std::vector<Phrase>> sentence_entities;  // by sentence id (index ChunkId)
    std::size_t max_len = 1;                              // longest entity in tokens
    std::vector<std::string> types;                       // sorted
  };

 private:
  KnnTagger() = default;

  KnnTaggerOptions options_;
  Tables tables_;
  std::optional<Bm25Index> index_;
  std::filesystem::path index_dir_;
  bool owns_index_dir_ = false;  // a temporary dir from training, removed by the destructor
  mutable std::mutex analyzer_mu_;
  mutable std::optional<Analyzer> analyzer_;
};

}  // namespace ragft
