// The linear contender (kind "linear"): a fastText supervised model (softmax over labels, word
// n-grams, optional character n-grams) trained through the fastText library.
//
// Text is normalised the same way for training and prediction: with `analyzer` = "whitespace",
// ASCII lowercased and whitespace collapsed (punctuation tokens kept: normalize_text in
// data_checks.h); otherwise the terms of that analyzer config joined by single spaces.
//
// Training (train()): a stratified validation split (TrainOptions::validation_fraction, seed)
// chooses the number of epochs from `epochs` (each a fresh fastText run: fastText's learning
// rate decays linearly over the whole run, so a short run is not a prefix of a long one); then,
// when `refit`, the model is trained again on all the data with the chosen epochs. Validation
// figures are recorded in info().metrics["validation"].
//
// Files: model.bin (fastText's own format, FastText::saveModel), model.json.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "train/classifier.h"

namespace fasttext {
class FastText;
}

namespace ragft {

class Analyzer;

struct LinearOptions {
  // dim 50 and 100k buckets: as accurate as dim 100 / 200k on TREC (0.900 vs 0.902) at half the
  // training time and a quarter of the size (22 MB, loads well under 100 ms); docs/benchmarks.md.
  int dim = 50;
  double lr = 0.5;
  std::vector<int> epochs = {5, 10, 25, 50};  // candidates, chosen on validation
  int word_ngrams = 2;
  int minn = 0;  // character n-grams min length (0: none)
  int maxn = 0;
  // Hash buckets for word/char n-grams: memory is (words + bucket) * dim * 4 bytes. fastText's
  // default 2M costs 0.8 GB at dim 100.
  int bucket = 100000;
  int threads = 1;  // 1: reproducible for a seed
  // "whitespace" or an analyzer config (e.g. "analyzer:lang=none,stop=none,maxlen=64").
  std::string analyzer = "whitespace";
  bool refit = true;  // retrain on train+validation with the chosen epochs

  // "linear:dim=100,lr=0.5,epochs=5|10|25|50,ngrams=2,minn=0,maxn=0,bucket=200000,threads=1,refit=1,<analyzer>"
  std::string to_config() const;
};

class LinearClassifier : public Classifier {
 public:
  ~LinearClassifier() override;

  // One fastText run with `epoch` epochs on `examples` (labels: the given list, sorted).
  // `final_loss`, when given, receives the mean negative log-likelihood of the gold labels on
  // `examples` after training.
  static Result<std::unique_ptr<LinearClassifier>> fit(const std::vector<Example>& examples,
                                                       const std::vector<std::string>& labels,
                                                       const LinearOptions& options, int epoch,
                                                       std::uint64_t seed, double* final_loss = nullptr);
  // Selection on a validation split plus refit (see above). Empty data -> kInvalidArgument.
  static Result<std::unique_ptr<LinearClassifier>> train(const std::vector<Example>& examples,
                                                         const LinearOptions& options, const TrainOptions& t);
  // Chooses epochs on (split.train, split.validation); returns the model trained on split.train
  // with the best setting, its epochs and validation accuracy.
  static Result<std::unique_ptr<LinearClassifier>> select(const Split& split, const std::vector<std::string>& labels,
                                                          const LinearOptions& options, const TrainOptions& t,
                                                          int* best_epoch, double* best_accuracy);
  static Result<std::unique_ptr<LinearClassifier>> load(const std::filesystem::path& dir, const ModelManifest& m);

  std::string kind() const override { return "linear"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  std::vector<float> distribution(std::string_view text) const override;
  Status save(const std::filesystem::path& dir) const override;

 private:
  LinearClassifier();
  // fastText label ids -> our label indices, from the "__label__<index>" names.
  Status map_labels();
  std::string normalize(std::string_view text) const;

  std::unique_ptr<fasttext::FastText> ft_;
  std::unique_ptr<Analyzer> analyzer_;
  std::vector<std::string> labels_;
  std::vector<int> ft_to_ours_;
  mutable std::vector<std::string> terms_;
};

}  // namespace ragft
