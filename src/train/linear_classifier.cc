#include "train/linear_classifier.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include <fasttext/fasttext.h>

#include "core/env.h"
#include "core/temp_file.h"
#include "train/fasttext_io.h"
#include "text/analyzer.h"
#include "train/data_checks.h"
#include "train/progress.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLabelPrefix = "__label__";
constexpr std::string_view kWhitespace = "whitespace";

std::string join_epochs(const std::vector<int>& e) {
  std::string s;
  for (int x : e) {
    if (!s.empty()) s += '|';
    s += std::to_string(x);
  }
  return s;
}

}  // namespace

std::string LinearOptions::to_config() const {
  return fmt::format("linear:dim={},lr={},epochs={},ngrams={},minn={},maxn={},bucket={},threads={},refit={},{}", dim,
                     lr, join_epochs(epochs), word_ngrams, minn, maxn, bucket, threads, refit ? 1 : 0, analyzer);
}

LinearClassifier::LinearClassifier() = default;
LinearClassifier::~LinearClassifier() = default;

std::string LinearClassifier::normalize(std::string_view text) const {
  if (!analyzer_) return normalize_text(text);
  terms_.clear();
  analyzer_->terms(text, terms_);
  std::string s;
  for (const auto& t : terms_) {
    if (!s.empty()) s += ' ';
    s += t;
  }
  return s;
}

Status LinearClassifier::map_labels() {
  auto dict = ft_->getDictionary();
  ft_to_ours_.assign(static_cast<std::size_t>(dict->nlabels()), -1);
  for (int32_t i = 0; i < dict->nlabels(); ++i) {
    std::string name = dict->getLabel(i);
    std::string_view idx = std::string_view(name).substr(std::string_view(kLabelPrefix).size());
    int v = -1;
    try {
      v = std::stoi(std::string(idx));
    } catch (const std::exception&) {
      v = -1;
    }
    if (v < 0 || static_cast<std::size_t>(v) >= labels_.size()) {
      return make_error(ErrorCode::kCorrupt, "fastText label \"{}\" is not an index into the {} labels", name, labels_.size());
    }
    ft_to_ours_[static_cast<std::size_t>(i)] = v;
  }
  return ok_status();
}

std::vector<float> LinearClassifier::distribution(std::string_view text) const {
  std::vector<float> d(labels_.size(), 0.0f);
  std::istringstream in(normalize(text) + "\n");
  std::vector<int32_t> words, ft_labels;
  ft_->getDictionary()->getLine(in, words, ft_labels);
  fasttext::Predictions preds;
  if (!words.empty()) ft_->predict(-1, words, preds);
  float sum = 0;
  for (const auto& [logp, id] : preds) {
    float p = std::exp(logp);
    d[static_cast<std::size_t>(ft_to_ours_[static_cast<std::size_t>(id)])] += p;
    sum += p;
  }
  if (sum <= 0) {
    for (auto& x : d) x = 1.0f / static_cast<float>(d.size());
    return d;
  }
  for (auto& x : d) x /= sum;
  return d;
}

Result<std::unique_ptr<LinearClassifier>> LinearClassifier::fit(const std::vector<Example>& examples,
                                                                 const std::vector<std::string>& labels,
                                                                 const LinearOptions& o, int epoch, std::uint64_t seed,
                                                                 double* final_loss) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  std::unique_ptr<LinearClassifier> c(new LinearClassifier());
  if (o.analyzer != kWhitespace) {
    RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(o.analyzer));
    RAGFT_TRY(Analyzer analyzer, Analyzer::create(ao));
    c->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));
  }
  c->labels_ = labels;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < labels.size(); ++i) index[labels[i]] = i;
  std::string file;
  for (const auto& e : examples) {
    for (const auto& l : e.labels) {
      auto it = index.find(l);
      if (it == index.end()) return make_error(ErrorCode::kInvalidArgument, "label \"{}\" is not in the label list", l);
      file += kLabelPrefix;
      file += std::to_string(it->second);
      file += ' ';
    }
    file += c->normalize(e.text);
    file += '\n';
  }
  RAGFT_TRY(TempFile tmp, TempFile::write(file, "ragft-fasttext-"));

  fasttext::Args args;
  args.input = tmp.path().string();
  args.model = fasttext::model_name::sup;
  args.loss = fasttext::loss_name::softmax;
  args.minCount = 1;
  args.minCountLabel = 0;
  args.lr = o.lr;
  args.dim = o.dim;
  args.epoch = epoch;
  args.wordNgrams = o.word_ngrams;
  args.minn = o.minn;
  args.maxn = o.maxn;
  args.bucket = o.bucket;
  args.thread = o.threads;
  args.seed = static_cast<int>(seed & 0x7fffffff);
  args.verbose = 0;
  args.label = kLabelPrefix;
  c->ft_ = std::make_unique<fasttext::FastText>();
  try {
    c->ft_->train(args);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "fastText training failed: {}", e.what());
  }
  RAGFT_TRY_STATUS(c->map_labels());
  if (final_loss) {
    // fastText's own running loss is not exposed after training: the mean negative log
    // likelihood of the gold labels on the training examples instead.
    double nll = 0;
    for (const auto& e : examples) {
      std::vector<float> d = c->distribution(e.text);
      float p = 0;
      for (const auto& l : e.labels) p += d[index[l]];
      nll -= std::log(std::max(p, 1e-7f));
    }
    *final_loss = nll / static_cast<double>(examples.size());
  }
  return c;
}

Result<std::unique_ptr<LinearClassifier>> LinearClassifier::select(const Split& split,
                                                                   const std::vector<std::string>& labels,
                                                                   const LinearOptions& o, const TrainOptions& t,
                                                                   int* best_epoch, double* best_accuracy) {
  if (o.epochs.empty()) return make_error(ErrorCode::kInvalidArgument, "linear: no epoch candidates");
  std::unique_ptr<LinearClassifier> best;
  *best_accuracy = -1;
  *best_epoch = o.epochs.front();
  nlohmann::json grid = nlohmann::json::array();
  for (int epoch : o.epochs) {
    auto t0 = std::chrono::steady_clock::now();
    double loss = 0;
    RAGFT_TRY(auto m, fit(split.train, labels, o, epoch, t.seed, &loss));
    double acc = accuracy_of(*m, split.validation);
    double secs = seconds_since(t0);
    grid.push_back({{"epoch", epoch}, {"loss", loss}, {"val_accuracy", acc}, {"seconds", secs}});
    if (t.progress) {
      t.progress(fmt::format("linear: epoch {:>3}  train loss {:.4f}  val acc {:.4f}  ({:.2f} s)", epoch, loss, acc, secs));
    }
    if (acc > *best_accuracy) {  // ties keep the fewer epochs
      *best_accuracy = acc;
      *best_epoch = epoch;
      best = std::move(m);
    }
    if (split.validation.empty()) break;  // nothing to choose with: the first setting
  }
  best->info_.metrics["selection"] = grid;
  return best;
}

Result<std::unique_ptr<LinearClassifier>> LinearClassifier::train(const std::vector<Example>& examples,
                                                                  const LinearOptions& o, const TrainOptions& t) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> labels = labels_of(examples);
  Split split = stratified_split(examples, t.validation_fraction, t.seed);
  int epoch = 0;
  double val_acc = 0;
  RAGFT_TRY(auto model, select(split, labels, o, t, &epoch, &val_acc));
  nlohmann::json grid = model->info_.metrics["selection"];
  if (o.refit && !split.validation.empty()) {
    double loss = 0;
    RAGFT_TRY(model, fit(examples, labels, o, epoch, t.seed, &loss));
    if (t.progress) t.progress(fmt::format("linear: refit on all {} examples with epoch {}  loss {:.4f}", examples.size(), epoch, loss));
  }
  model->info_.train_data_hash = examples_hash(examples);
  model->info_.config = o.to_config();
  model->info_.train_seconds = seconds_since(t0);
  model->info_.metrics = {{"validation", {{"accuracy", val_acc}, {"examples", split.validation.size()}}},
                          {"selection", grid}};
  model->info_.extra = {{"epoch", epoch}, {"seed", t.seed}, {"refit", o.refit}, {"analyzer", o.analyzer}};
  return model;
}

Status LinearClassifier::save(const fs::path& dir) const {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  RAGFT_TRY_STATUS(save_fasttext_model(*ft_, dir));
  ModelManifest m = info_;
  m.extra["analyzer"] = analyzer_ ? analyzer_->options().to_config() : std::string(kWhitespace);
  return write_model_json(dir, std::move(m));
}

Result<std::unique_ptr<LinearClassifier>> LinearClassifier::load(const fs::path& dir, const ModelManifest& m) {
  std::unique_ptr<LinearClassifier> c(new LinearClassifier());
  c->info_ = m;
  c->labels_ = m.labels;
  std::string analyzer = m.extra.value("analyzer", LinearOptions{}.analyzer);
  if (analyzer != kWhitespace) {
    auto ao = AnalyzerOptions::parse(analyzer);
    if (!ao.ok()) return make_error(ErrorCode::kCorrupt, "{}/model.json: extra.analyzer: {}", dir.string(), ao.error().message);
    RAGFT_TRY(Analyzer a, Analyzer::create(*ao));
    c->analyzer_ = std::make_unique<Analyzer>(std::move(a));
  }
  fs::path bin = dir / "model.bin";
  std::error_code ec;
  if (!fs::exists(bin, ec)) return make_error(ErrorCode::kCorrupt, "{} is missing (linear model)", bin.string());
  c->ft_ = std::make_unique<fasttext::FastText>();
  try {
    c->ft_->loadModel(bin.string());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "cannot load {}: {}", bin.string(), e.what());
  }
  RAGFT_TRY_STATUS(c->map_labels());
  return c;
}

}  // namespace ragft
