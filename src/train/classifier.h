// Text classifiers: the interface every contender implements, training options shared by all,
// and load_classifier(), which opens a model directory by its manifest's kind.
//
// A model is a directory (train/model_manifest.h): model.json with task "classify" plus the
// kind's files. Kinds: "linear" (fastText, linear_classifier.h), "knn" (BM25 neighbours,
// knn_classifier.h), "neural" (libtorch CNN from scratch, neural_classifier.h), "encoder"
// (fine-tuned BERT-family checkpoint, encoder_classifier.h), "combo" (weighted mixture of
// members; combo_classifier.h).
//
// Thread safety: a Classifier is not thread-safe (predict() uses per-instance buffers); use one
// per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "train/dataset.h"
#include "train/model_manifest.h"
#include "train/progress.h"

namespace ragft {

struct LabelScore {
  std::string label;
  float score = 0;  // a probability in [0, 1]; the scores of one prediction sum to 1
};

struct Prediction {
  std::vector<LabelScore> labels;  // every label of the model, score-descending (ties: label order)
  const std::string& top() const { return labels.front().label; }
};

class Classifier {
 public:
  virtual ~Classifier() = default;
  // "linear", "knn", "neural", "encoder" or "combo".
  virtual std::string kind() const = 0;
  // The model's labels, in its fixed order (sorted).
  virtual const std::vector<std::string>& labels() const = 0;
  // Probability per label, in labels() order; sums to 1.
  virtual std::vector<float> distribution(std::string_view text) const = 0;
  // Writes the kind's files and model.json (task "classify", kind, labels and info()) into
  // `dir`, creating it. Existing files of the same names are replaced.
  virtual Status save(const std::filesystem::path& dir) const = 0;

  Prediction predict(std::string_view text) const;

  // Training facts recorded in the manifest (train_data_hash, config, metrics, train_seconds,
  // extra). Callers may add metrics (e.g. eval figures) before save().
  ModelManifest& info() { return info_; }
  const ModelManifest& info() const { return info_; }

 protected:
  // Writes model.json from `m` (default info()) with task/kind/labels filled in.
  Status write_model_json(const std::filesystem::path& dir) const { return write_model_json(dir, info_); }
  Status write_model_json(const std::filesystem::path& dir, ModelManifest m) const;
  ModelManifest info_;
};

// Options for training any contender.
struct TrainOptions {
  std::uint64_t seed = 1;
  // Share of the training data held out (stratified by first label) to choose settings.
  double validation_fraction = 0.1;
  // Progress lines ("epoch 10: val acc 0.91"), e.g. printed to stderr by the CLI. May be empty.
  std::function<void(const std::string&)> progress;
  // Per-step progress of neural training (loss, epoch, ETA). May be empty.
  ProgressFn on_step;
};

// Stratified split by first label: from each class, round(fraction * n) examples go to the
// validation part, keeping at least one in the training part. Deterministic for a seed.
struct Split {
  std::vector<Example> train;
  std::vector<Example> validation;
};
Split stratified_split(const std::vector<Example>& examples, double fraction, std::uint64_t seed);

// Accuracy of `c` on `examples`: a prediction is correct when its top label is one of the gold
// labels.
double accuracy_of(const Classifier& c, const std::vector<Example>& examples);

// Opens a model directory: kNotFound without model.json, kInvalidArgument if its task is not
// "classify", kUnsupported for an unknown kind, kCorrupt for damaged files.
Result<std::unique_ptr<Classifier>> load_classifier(const std::filesystem::path& dir);

}  // namespace ragft
