#include "train/classifier.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "train/combo_classifier.h"
#include "train/knn_classifier.h"
#include "train/linear_classifier.h"
#include "train/neural_backend.h"

namespace ragft {

Prediction Classifier::predict(std::string_view text) const {
  std::vector<float> d = distribution(text);
  const auto& ls = labels();
  std::vector<std::size_t> order(ls.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return d[a] > d[b]; });
  Prediction p;
  p.labels.reserve(order.size());
  for (std::size_t i : order) p.labels.push_back(LabelScore{ls[i], d[i]});
  return p;
}

Status Classifier::write_model_json(const std::filesystem::path& dir, ModelManifest m) const {
  m.task = "classify";
  m.kind = kind();
  m.labels = labels();
  return write_manifest(dir, m);
}

Split stratified_split(const std::vector<Example>& examples, double fraction, std::uint64_t seed) {
  std::map<std::string, std::vector<std::size_t>> by_label;
  for (std::size_t i = 0; i < examples.size(); ++i) by_label[examples[i].labels.front()].push_back(i);
  std::mt19937_64 rng(seed);
  std::vector<char> is_val(examples.size(), 0);
  for (auto& [label, idx] : by_label) {
    // Fisher-Yates with our own index draws (std::shuffle's algorithm is unspecified).
    for (std::size_t i = idx.size(); i > 1; --i) {
      std::size_t j = static_cast<std::size_t>(rng() % i);
      std::swap(idx[i - 1], idx[j]);
    }
    auto take = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(idx.size())));
    take = std::min(take, idx.size() - 1);
    for (std::size_t k = 0; k < take; ++k) is_val[idx[k]] = 1;
  }
  Split s;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    (is_val[i] ? s.validation : s.train).push_back(examples[i]);
  }
  return s;
}

double accuracy_of(const Classifier& c, const std::vector<Example>& examples) {
  if (examples.empty()) return 0;
  std::size_t ok = 0;
  for (const auto& e : examples) {
    std::string top = c.predict(e.text).top();
    if (std::find(e.labels.begin(), e.labels.end(), top) != e.labels.end()) ++ok;
  }
  return static_cast<double>(ok) / static_cast<double>(examples.size());
}


Result<std::unique_ptr<Classifier>> load_classifier(const std::filesystem::path& dir) {
  RAGFT_TRY(ModelManifest m, read_manifest(dir));
  if (m.task != "classify") {
    return make_error(ErrorCode::kInvalidArgument, "{} is a {} model, not a classifier", dir.string(), m.task);
  }
  std::unique_ptr<Classifier> c;
  if (m.kind == "linear") {
    RAGFT_TRY(c, LinearClassifier::load(dir, m));
  } else if (m.kind == "knn") {
    RAGFT_TRY(c, KnnClassifier::load(dir, m));
  } else if (m.kind == "combo") {
    RAGFT_TRY(c, ComboClassifier::load(dir, m));
  } else if (m.kind == "neural" || m.kind == "encoder") {
    RAGFT_TRY(const NeuralBackend* backend, neural_backend());
    RAGFT_TRY(c, m.kind == "neural" ? backend->load_neural(dir, m) : backend->load_encoder(dir, m));
  } else {
    return make_error(ErrorCode::kUnsupported, "{}: unknown classifier kind \"{}\" (known: linear, knn, neural, encoder, combo)",
                      dir.string(), m.kind);
  }
  return c;
}

}  // namespace ragft
