// NeuralClassifier in a build without libtorch (RAGFT_WITH_TORCH=OFF): every entry point says
// so. The options and their config strings are shared with the real implementation.
#ifndef RAGFT_WITH_TORCH
#include "train/neural_classifier.h"

namespace ragft {

namespace {
Error no_torch() {
  return make_error(ErrorCode::kUnsupported,
                    "the neural contender needs libtorch: rebuild with -DRAGFT_WITH_TORCH=ON (scripts/setup installs it)");
}
}  // namespace

struct NeuralClassifier::Impl {};
NeuralClassifier::NeuralClassifier() = default;
NeuralClassifier::~NeuralClassifier() = default;
Result<std::unique_ptr<NeuralClassifier>> NeuralClassifier::train(const std::vector<Example>&, const NeuralOptions&,
                                                                  const TrainOptions&) {
  return no_torch();
}
Result<std::unique_ptr<NeuralClassifier>> NeuralClassifier::load(const std::filesystem::path&, const ModelManifest&) {
  return no_torch();
}
std::vector<float> NeuralClassifier::distribution(std::string_view) const { return {}; }
Status NeuralClassifier::save(const std::filesystem::path&) const { return no_torch(); }
std::vector<std::int64_t> NeuralClassifier::token_ids(std::string_view) const { return {}; }

}  // namespace ragft
#endif
