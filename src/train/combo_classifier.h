// The combination (kind "combo"): p = sum_i w_i * p_i over member models (any kinds: the
// fine-tuned ones and the retrieval-based knn), weights on the simplex (w_i >= 0, sum 1).
//
// Weights are chosen on a validation split with the members as trained *without* that split
// (a grid over the simplex in steps of `step`; ties keep the first in grid order, which puts
// weight on earlier members first); the saved members are the final ones (linear refitted on
// all the data; knn indexing all the data; neural/encoder models as trained, their validation
// split having served for early stopping).
//
// Files: one complete sub-model directory per member, named by its kind (linear/, knn/,
// neural/, ...), and model.json with extra.members = [{"kind","dir","weight"}]. Version-1
// directories written before members existed (extra.alpha with linear/ and knn/) still load.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "train/knn_classifier.h"
#include "train/linear_classifier.h"

namespace ragft {

struct ComboOptions {
  LinearOptions linear;
  KnnOptions knn;
  double step = 0.1;  // weight grid step; 1/step must be a whole number
  // "combo:step=0.1;<linear>;<knn>"
  std::string to_config() const;
};

// A member for combine(): `split_model` was trained without the validation split (it scores
// the weights); `final_model` is kept in the combination (null: keep split_model).
struct ComboMember {
  std::string kind;
  std::unique_ptr<Classifier> split_model;
  std::unique_ptr<Classifier> final_model;
};

// The linear and knn members trained as their own train() does (same split).
Result<ComboMember> train_linear_member(const std::vector<Example>& examples, const LinearOptions& o,
                                        const TrainOptions& t);
Result<ComboMember> train_knn_member(const std::vector<Example>& examples, const KnnOptions& o, const TrainOptions& t);

class ComboClassifier : public Classifier {
 public:
  // linear + knn, weights chosen on the validation split of `t`.
  static Result<std::unique_ptr<ComboClassifier>> train(const std::vector<Example>& examples, const ComboOptions& o,
                                                        const TrainOptions& t);
  // Chooses the weights of `members` (at least one; all with the same labels, distinct kinds)
  // by accuracy on `validation`; kInvalidArgument otherwise.
  static Result<std::unique_ptr<ComboClassifier>> combine(std::vector<ComboMember> members,
                                                          const std::vector<Example>& validation, double step,
                                                          const TrainOptions& t);
  // Fixed weights (same count as models, on the simplex).
  static Result<std::unique_ptr<ComboClassifier>> make(std::vector<std::unique_ptr<Classifier>> models,
                                                       std::vector<double> weights);
  static Result<std::unique_ptr<ComboClassifier>> load(const std::filesystem::path& dir, const ModelManifest& m);

  std::string kind() const override { return "combo"; }
  const std::vector<std::string>& labels() const override { return members_.front()->labels(); }
  std::vector<float> distribution(std::string_view text) const override;
  Status save(const std::filesystem::path& dir) const override;

  std::size_t size() const { return members_.size(); }
  const Classifier& member(std::size_t i) const { return *members_[i]; }
  Classifier& member(std::size_t i) { return *members_[i]; }
  double weight(std::size_t i) const { return weights_[i]; }
  // The member of that kind, or null.
  const Classifier* find(std::string_view kind) const;

 private:
  ComboClassifier() = default;
  std::vector<std::unique_ptr<Classifier>> members_;
  std::vector<double> weights_;
};

}  // namespace ragft
