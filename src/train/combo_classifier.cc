#include "train/combo_classifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "train/progress.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

// Every vector of `m` non-negative integers summing to `total`, in lexicographic order from
// (total, 0, ..., 0): the weight grid in units of `step`.
void compositions(std::size_t m, int total, std::vector<int>& cur, std::vector<std::vector<int>>& out) {
  if (cur.size() + 1 == m) {
    cur.push_back(total);
    out.push_back(cur);
    cur.pop_back();
    return;
  }
  for (int x = total; x >= 0; --x) {
    cur.push_back(x);
    compositions(m, total - x, cur, out);
    cur.pop_back();
  }
}

}  // namespace

std::string ComboOptions::to_config() const {
  return fmt::format("combo:step={};{};{}", step, linear.to_config(), knn.to_config());
}

Result<ComboMember> train_linear_member(const std::vector<Example>& examples, const LinearOptions& o,
                                        const TrainOptions& t) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> labels = labels_of(examples);
  Split split = stratified_split(examples, t.validation_fraction, t.seed);
  int epoch = 0;
  double val = 0;
  RAGFT_TRY(auto split_model, LinearClassifier::select(split, labels, o, t, &epoch, &val));
  nlohmann::json grid = split_model->info().metrics["selection"];
  std::unique_ptr<LinearClassifier> final_model;
  if (o.refit && !split.validation.empty()) {
    double loss = 0;
    RAGFT_TRY(final_model, LinearClassifier::fit(examples, labels, o, epoch, t.seed, &loss));
    if (t.progress) {
      t.progress(fmt::format("linear: refit on all {} examples with epoch {}  loss {:.4f}", examples.size(), epoch, loss));
    }
  }
  LinearClassifier& kept = final_model ? *final_model : *split_model;
  kept.info().train_data_hash = examples_hash(examples);
  kept.info().config = o.to_config();
  kept.info().metrics = {{"validation", {{"accuracy", val}, {"examples", split.validation.size()}}}, {"selection", grid}};
  kept.info().extra = {{"epoch", epoch}, {"seed", t.seed}, {"refit", o.refit}, {"analyzer", o.analyzer}};
  kept.info().train_seconds = seconds_since(t0);
  ComboMember m{"linear", std::move(split_model), std::move(final_model)};
  return m;
}

Result<ComboMember> train_knn_member(const std::vector<Example>& examples, const KnnOptions& o, const TrainOptions& t) {
  std::unique_ptr<KnnClassifier> split_model;
  RAGFT_TRY(auto final_model, KnnClassifier::train(examples, o, t, &split_model));
  ComboMember m{"knn", std::move(split_model), std::move(final_model)};
  return m;
}

const Classifier* ComboClassifier::find(std::string_view kind) const {
  for (const auto& m : members_) {
    if (m->kind() == kind) return m.get();
  }
  return nullptr;
}

std::vector<float> ComboClassifier::distribution(std::string_view text) const {
  std::vector<float> d(labels().size(), 0.0f);
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (weights_[i] == 0) continue;
    std::vector<float> p = members_[i]->distribution(text);
    auto w = static_cast<float>(weights_[i]);
    for (std::size_t j = 0; j < d.size(); ++j) d[j] += w * p[j];
  }
  return d;
}

Result<std::unique_ptr<ComboClassifier>> ComboClassifier::make(std::vector<std::unique_ptr<Classifier>> models,
                                                                std::vector<double> weights) {
  if (models.empty()) return make_error(ErrorCode::kInvalidArgument, "combo: no member models");
  if (weights.size() != models.size()) {
    return make_error(ErrorCode::kInvalidArgument, "combo: {} weights for {} models", weights.size(), models.size());
  }
  double sum = 0;
  std::set<std::string> kinds;
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (models[i]->labels() != models.front()->labels()) {
      return make_error(ErrorCode::kInvalidArgument, "combo: the {} and {} models have different labels",
                        models.front()->kind(), models[i]->kind());
    }
    if (!kinds.insert(models[i]->kind()).second) {
      return make_error(ErrorCode::kInvalidArgument, "combo: two members of kind {}", models[i]->kind());
    }
    if (!(weights[i] >= 0 && weights[i] <= 1)) {
      return make_error(ErrorCode::kInvalidArgument, "combo: weight {} not in [0, 1]", weights[i]);
    }
    sum += weights[i];
  }
  if (std::abs(sum - 1) > 1e-6) return make_error(ErrorCode::kInvalidArgument, "combo: weights sum to {}, not 1", sum);
  std::unique_ptr<ComboClassifier> c(new ComboClassifier());
  c->members_ = std::move(models);
  c->weights_ = std::move(weights);
  return c;
}

Result<std::unique_ptr<ComboClassifier>> ComboClassifier::combine(std::vector<ComboMember> members,
                                                                   const std::vector<Example>& validation, double step,
                                                                   const TrainOptions& t) {
  if (members.empty()) return make_error(ErrorCode::kInvalidArgument, "combo: no member models");
  int units = static_cast<int>(std::lround(1 / step));
  if (!(step > 0 && step <= 1) || std::abs(units * step - 1) > 1e-9) {
    return make_error(ErrorCode::kInvalidArgument, "combo: step {} must divide 1", step);
  }
  const auto& labels = members.front().split_model->labels();
  // Validation distributions of every member, computed once.
  std::vector<std::vector<std::vector<float>>> dist(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i].split_model->labels() != labels) {
      return make_error(ErrorCode::kInvalidArgument, "combo: the {} and {} models have different labels",
                        members.front().kind, members[i].kind);
    }
    for (const auto& e : validation) dist[i].push_back(members[i].split_model->distribution(e.text));
  }
  std::vector<std::vector<int>> grid;
  std::vector<int> cur;
  compositions(members.size(), units, cur, grid);
  std::size_t best_i = 0, best_correct = 0;
  nlohmann::json tried = nlohmann::json::array();
  std::vector<float> p(labels.size());
  for (std::size_t g = 0; g < grid.size(); ++g) {
    std::size_t correct = 0;
    for (std::size_t e = 0; e < validation.size(); ++e) {
      std::fill(p.begin(), p.end(), 0.0f);
      for (std::size_t i = 0; i < members.size(); ++i) {
        auto w = static_cast<float>(static_cast<double>(grid[g][i]) / units);
        for (std::size_t j = 0; j < p.size(); ++j) p[j] += w * dist[i][e][j];
      }
      std::size_t top = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
      const auto& gold = validation[e].labels;
      if (std::find(gold.begin(), gold.end(), labels[top]) != gold.end()) ++correct;
    }
    if (correct > best_correct) {
      best_correct = correct;
      best_i = g;
    }
  }
  double nval = static_cast<double>(std::max<std::size_t>(1, validation.size()));
  std::vector<double> weights;
  nlohmann::json chosen = nlohmann::json::object();
  std::string desc;
  for (std::size_t i = 0; i < members.size(); ++i) {
    weights.push_back(static_cast<double>(grid[best_i][i]) / units);
    chosen[members[i].kind] = weights.back();
    desc += fmt::format("{}{} {:.2f}", desc.empty() ? "" : ", ", members[i].kind, weights.back());
  }
  if (t.progress) {
    t.progress(fmt::format("combo: weights {}  val acc {:.4f} ({} weightings tried)", desc,
                           static_cast<double>(best_correct) / nval, grid.size()));
  }
  // Validation accuracy of each member alone, for the record.
  for (std::size_t i = 0; i < members.size(); ++i) {
    std::size_t correct = 0;
    for (std::size_t e = 0; e < validation.size(); ++e) {
      const auto& d = dist[i][e];
      std::size_t top = static_cast<std::size_t>(std::max_element(d.begin(), d.end()) - d.begin());
      const auto& gold = validation[e].labels;
      if (std::find(gold.begin(), gold.end(), labels[top]) != gold.end()) ++correct;
    }
    tried.push_back({{"kind", members[i].kind}, {"val_accuracy", static_cast<double>(correct) / nval}});
  }
  std::vector<std::unique_ptr<Classifier>> models;
  for (auto& m : members) models.push_back(m.final_model ? std::move(m.final_model) : std::move(m.split_model));
  RAGFT_TRY(auto c, make(std::move(models), weights));
  c->info_.metrics = {{"validation", {{"accuracy", static_cast<double>(best_correct) / nval}, {"examples", validation.size()}}},
                      {"members", tried},
                      {"weightings_tried", grid.size()}};
  c->info_.extra = {{"weights", chosen}, {"step", step}, {"seed", t.seed}};
  return c;
}

Result<std::unique_ptr<ComboClassifier>> ComboClassifier::train(const std::vector<Example>& examples,
                                                                 const ComboOptions& o, const TrainOptions& t) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<ComboMember> members;
  RAGFT_TRY(ComboMember lin, train_linear_member(examples, o.linear, t));
  members.push_back(std::move(lin));
  RAGFT_TRY(ComboMember knn, train_knn_member(examples, o.knn, t));
  members.push_back(std::move(knn));
  Split split = stratified_split(examples, t.validation_fraction, t.seed);
  RAGFT_TRY(auto c, combine(std::move(members), split.validation, o.step, t));
  c->info_.train_data_hash = examples_hash(examples);
  c->info_.config = o.to_config();
  c->info_.train_seconds = seconds_since(t0);
  return c;
}

Status ComboClassifier::save(const fs::path& dir) const {
  ModelManifest m = info_;
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < members_.size(); ++i) {
    std::string sub = members_[i]->kind();
    RAGFT_TRY_STATUS(members_[i]->save(dir / sub));
    list.push_back({{"kind", sub}, {"dir", sub}, {"weight", weights_[i]}});
  }
  m.extra["members"] = list;
  return write_model_json(dir, std::move(m));
}

Result<std::unique_ptr<ComboClassifier>> ComboClassifier::load(const fs::path& dir, const ModelManifest& m) {
  std::vector<std::pair<std::string, double>> subs;  // (dir, weight)
  if (m.extra.contains("members") && m.extra["members"].is_array()) {
    for (const auto& x : m.extra["members"]) {
      if (!x.is_object() || !x.contains("dir") || !x["dir"].is_string() || !x.contains("weight") ||
          !x["weight"].is_number()) {
        return make_error(ErrorCode::kCorrupt, "{}/model.json: extra.members needs {{dir, weight}} entries", dir.string());
      }
      std::string sub = x["dir"].get<std::string>();
      if (sub.empty() || sub.find('/') != std::string::npos || sub == "..") {
        return make_error(ErrorCode::kCorrupt, "{}/model.json: member dir \"{}\" is not a plain name", dir.string(), sub);
      }
      subs.emplace_back(sub, x["weight"].get<double>());
    }
  } else if (m.extra.contains("alpha") && m.extra["alpha"].is_number()) {  // before members existed
    double alpha = m.extra["alpha"].get<double>();
    subs = {{"linear", 1 - alpha}, {"knn", alpha}};
  } else {
    return make_error(ErrorCode::kCorrupt, "{}/model.json: extra.members missing", dir.string());
  }
  std::vector<std::unique_ptr<Classifier>> models;
  std::vector<double> weights;
  for (const auto& [sub, w] : subs) {
    auto c = load_classifier(dir / sub);
    if (!c.ok()) {
      Error e = c.take_error();
      if (e.code == ErrorCode::kNotFound) e.code = ErrorCode::kCorrupt;  // the combo exists, its member does not
      return e;
    }
    if ((*c)->kind() == "combo") return make_error(ErrorCode::kCorrupt, "{}/{}: a combo cannot contain a combo", dir.string(), sub);
    models.push_back(std::move(*c));
    weights.push_back(w);
  }
  auto c = make(std::move(models), std::move(weights));
  if (!c.ok()) return make_error(ErrorCode::kCorrupt, "{}: {}", dir.string(), c.error().message);
  (*c)->info_ = m;
  return c;
}

}  // namespace ragft
