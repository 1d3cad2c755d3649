#include "train/combo_classifier.h"

#include <algorithm>
#include <chrono>

namespace ragft {

namespace fs = std::filesystem;

std::string ComboOptions::to_config() const {
  std::string a;
  for (double x : alphas) {
    if (!a.empty()) a += '|';
    a += fmt::format("{}", x);
  }
  return fmt::format("combo:alphas={};{};{}", a, linear.to_config(), knn.to_config());
}

std::vector<float> ComboClassifier::distribution(std::string_view text) const {
  std::vector<float> d = linear_->distribution(text);
  std::vector<float> k = knn_->distribution(text);
  auto a = static_cast<float>(alpha_);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = (1 - a) * d[i] + a * k[i];
  return d;
}

Result<std::unique_ptr<ComboClassifier>> ComboClassifier::make(std::unique_ptr<LinearClassifier> linear,
                                                                std::unique_ptr<KnnClassifier> knn, double alpha) {
  if (linear->labels() != knn->labels()) {
    return make_error(ErrorCode::kInvalidArgument, "combo: the linear and knn models have different labels");
  }
  if (alpha < 0 || alpha > 1) return make_error(ErrorCode::kInvalidArgument, "combo: alpha {} not in [0, 1]", alpha);
  std::unique_ptr<ComboClassifier> c(new ComboClassifier());
  c->linear_ = std::move(linear);
  c->knn_ = std::move(knn);
  c->alpha_ = alpha;
  return c;
}

Result<std::unique_ptr<ComboClassifier>> ComboClassifier::train(const std::vector<Example>& examples,
                                                                 const ComboOptions& o, const TrainOptions& t) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  if (o.alphas.empty()) return make_error(ErrorCode::kInvalidArgument, "combo: no alpha candidates");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> labels = labels_of(examples);
  Split split = stratified_split(examples, t.validation_fraction, t.seed);

  // The linear model trained on the split's training part, then the refit, as LinearClassifier::train does.
  int epoch = 0;
  double lin_val = 0;
  RAGFT_TRY(auto lin_split, LinearClassifier::select(split, labels, o.linear, t, &epoch, &lin_val));
  nlohmann::json lin_grid = lin_split->info().metrics["selection"];
  std::unique_ptr<KnnClassifier> knn_split;
  RAGFT_TRY(auto knn, KnnClassifier::train(examples, o.knn, t, &knn_split));

  std::vector<std::size_t> correct(o.alphas.size(), 0);
  for (const auto& e : split.validation) {
    std::vector<float> pl = lin_split->distribution(e.text);
    std::vector<float> pk = knn_split->distribution(e.text);
    for (std::size_t i = 0; i < o.alphas.size(); ++i) {
      auto a = static_cast<float>(o.alphas[i]);
      std::size_t best = 0;
      float best_p = -1;
      for (std::size_t j = 0; j < pl.size(); ++j) {
        float p = (1 - a) * pl[j] + a * pk[j];
        if (p > best_p) {
          best_p = p;
          best = j;
        }
      }
      if (std::find(e.labels.begin(), e.labels.end(), labels[best]) != e.labels.end()) ++correct[i];
    }
  }
  double nval = static_cast<double>(std::max<std::size_t>(1, split.validation.size()));
  std::size_t best_i = 0;
  nlohmann::json grid = nlohmann::json::array();
  for (std::size_t i = 0; i < o.alphas.size(); ++i) {
    double acc = static_cast<double>(correct[i]) / nval;
    grid.push_back({{"alpha", o.alphas[i]}, {"val_accuracy", acc}});
    if (t.progress) t.progress(fmt::format("combo: alpha {:.2f}  val acc {:.4f}", o.alphas[i], acc));
    if (correct[i] > correct[best_i]) best_i = i;
  }
  double alpha = o.alphas[best_i];

  std::unique_ptr<LinearClassifier> lin;
  auto tl = std::chrono::steady_clock::now();
  if (o.linear.refit && !split.validation.empty()) {
    double loss = 0;
    RAGFT_TRY(lin, LinearClassifier::fit(examples, labels, o.linear, epoch, t.seed, &loss));
    if (t.progress) t.progress(fmt::format("linear: refit on all {} examples with epoch {}  loss {:.4f}", examples.size(), epoch, loss));
  } else {
    lin = std::move(lin_split);
  }
  lin->info().train_data_hash = examples_hash(examples);
  lin->info().config = o.linear.to_config();
  lin->info().metrics = {{"validation", {{"accuracy", lin_val}, {"examples", split.validation.size()}}},
                         {"selection", lin_grid}};
  lin->info().extra = {{"epoch", epoch}, {"seed", t.seed}, {"refit", o.linear.refit}, {"analyzer", o.linear.analyzer}};
  double lin_seconds = 0;
  for (const auto& g : lin_grid) lin_seconds += g.value("seconds", 0.0);
  lin->info().train_seconds = lin_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - tl).count();

  RAGFT_TRY(auto c, make(std::move(lin), std::move(knn), alpha));
  c->info_.train_data_hash = examples_hash(examples);
  c->info_.config = o.to_config();
  c->info_.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c->info_.metrics = {{"validation", {{"accuracy", static_cast<double>(correct[best_i]) / nval},
                                      {"examples", split.validation.size()}}},
                      {"selection", grid}};
  c->info_.extra = {{"alpha", alpha}, {"seed", t.seed}};
  return c;
}

Status ComboClassifier::save(const fs::path& dir) const {
  RAGFT_TRY_STATUS(linear_->save(dir / "linear"));
  RAGFT_TRY_STATUS(knn_->save(dir / "knn"));
  ModelManifest m = info_;
  m.extra["alpha"] = alpha_;
  m.extra["linear"] = "linear";
  m.extra["knn"] = "knn";
  return write_model_json(dir, std::move(m));
}

Result<std::unique_ptr<ComboClassifier>> ComboClassifier::load(const fs::path& dir, const ModelManifest& m) {
  if (!m.extra.contains("alpha") || !m.extra["alpha"].is_number()) {
    return make_error(ErrorCode::kCorrupt, "{}/model.json: extra.alpha missing", dir.string());
  }
  RAGFT_TRY(ModelManifest lm, read_manifest(dir / "linear"));
  RAGFT_TRY(ModelManifest km, read_manifest(dir / "knn"));
  if (lm.kind != "linear" || km.kind != "knn") {
    return make_error(ErrorCode::kCorrupt, "{}: sub-models must be linear/ and knn/, found kinds {} and {}", dir.string(),
                      lm.kind, km.kind);
  }
  RAGFT_TRY(auto lin, LinearClassifier::load(dir / "linear", lm));
  RAGFT_TRY(auto knn, KnnClassifier::load(dir / "knn", km));
  auto c = make(std::move(lin), std::move(knn), m.extra["alpha"].get<double>());
  if (!c.ok()) return make_error(ErrorCode::kCorrupt, "{}: {}", dir.string(), c.error().message);
  (*c)->info_ = m;
  return c;
}

}  // namespace ragft
