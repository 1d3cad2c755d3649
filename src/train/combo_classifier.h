// The combination (kind "combo"): p = (1 - alpha) * p_linear + alpha * p_knn, where p_linear is
// the linear model's softmax and p_knn the kNN vote distribution. alpha = 0 is the linear model
// alone, 1 the kNN alone.
//
// Training (train()): both contenders are trained as by their own train() (same seed, same
// validation split); alpha is chosen from `alphas` by accuracy on that validation split using
// the models trained without it (ties keep the smaller alpha); the saved sub-models are the
// refitted ones.
//
// Files: linear/ and knn/ (complete sub-model directories), model.json (extra: alpha).
#pragma once

#include <memory>

#include "train/knn_classifier.h"
#include "train/linear_classifier.h"

namespace ragft {

struct ComboOptions {
  LinearOptions linear;
  KnnOptions knn;
  std::vector<double> alphas = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  // "combo:alphas=0|0.1|...;<linear>;<knn>"
  std::string to_config() const;
};

class ComboClassifier : public Classifier {
 public:
  static Result<std::unique_ptr<ComboClassifier>> train(const std::vector<Example>& examples, const ComboOptions& o,
                                                        const TrainOptions& t);
  // Combines two models with the same labels (kInvalidArgument otherwise).
  static Result<std::unique_ptr<ComboClassifier>> make(std::unique_ptr<LinearClassifier> linear,
                                                       std::unique_ptr<KnnClassifier> knn, double alpha);
  static Result<std::unique_ptr<ComboClassifier>> load(const std::filesystem::path& dir, const ModelManifest& m);

  std::string kind() const override { return "combo"; }
  const std::vector<std::string>& labels() const override { return linear_->labels(); }
  std::vector<float> distribution(std::string_view text) const override;
  Status save(const std::filesystem::path& dir) const override;

  double alpha() const { return alpha_; }
  const LinearClassifier& linear() const { return *linear_; }
  const KnnClassifier& knn() const { return *knn_; }

 private:
  ComboClassifier() = default;
  std::unique_ptr<LinearClassifier> linear_;
  std::unique_ptr<KnnClassifier> knn_;
  double alpha_ = 0.5;
};

}  // namespace ragft
