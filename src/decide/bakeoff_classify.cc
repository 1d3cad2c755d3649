// The classification bake-off (see bakeoff.h) and its freshness experiment.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "decide/bakeoff.h"
#include "decide/cache.h"
#include "decide/profile.h"
#include "train/combo_classifier.h"
#include "train/data_checks.h"
#include "train/dataset.h"
#include "train/knn_classifier.h"
#include "train/linear_classifier.h"
#include "train/neural_backend.h"

namespace ragft::decide {

namespace fs = std::filesystem;

namespace {

constexpr int kCacheVersion = 1;
constexpr double kValidationFraction = 0.1;
constexpr double kComboStep = 0.1;

void say(const BakeoffOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

std::string majority_label(const std::vector<Example>& examples) {
  std::map<std::string, std::size_t> counts;
  for (const auto& e : examples) ++counts[e.labels.front()];
  std::string best;
  std::size_t best_n = 0;
  for (const auto& [label, n] : counts) {
    if (n > best_n) best = label, best_n = n;  // ties: the first label in sorted order
  }
  return best;
}

bool correct(const std::vector<std::string>& gold, const std::string& predicted) {
  return std::find(gold.begin(), gold.end(), predicted) != gold.end();
}

// Per-example correctness and single-thread latency of `c` on `eval`.
void measure(const Classifier& c, const std::vector<Example>& eval, ArmResult& arm) {
  arm.per_item.clear();
  arm.latency_ms.clear();
  for (const auto& e : eval) {
    Stopwatch w;
    Prediction p = c.predict(e.text);
    arm.latency_ms.push_back(w.ms());
    arm.per_item.push_back(correct(e.labels, p.top()) ? 1.0 : 0.0);
  }
}

std::vector<double> correctness(const Classifier& c, const std::vector<Example>& eval) {
  std::vector<double> v;
  v.reserve(eval.size());
  for (const auto& e : eval) v.push_back(correct(e.labels, c.predict(e.text).top()) ? 1.0 : 0.0);
  return v;
}

struct Contenders {
  LinearOptions linear;
  NeuralOptions neural;
  KnnOptions knn;
  std::string fine_tuned;  // "linear" or "neural"
  std::string ft_config() const { return fine_tuned == "neural" ? neural.to_config() : linear.to_config(); }
  std::string combo_config() const {
    return fmt::format("combo:step={},members={},knn;{};{}", kComboStep, fine_tuned, ft_config(), knn.to_config());
  }
};

Result<ComboMember> train_fine_tuned(const Contenders& c, const std::vector<Example>& ex, const TrainOptions& t) {
  if (c.fine_tuned == "neural") {
    RAGFT_TRY(const NeuralBackend* backend, neural_backend());
    RAGFT_TRY(auto m, backend->train_neural(ex, c.neural, t));
    return ComboMember{"neural", std::move(m), nullptr};
  }
  return train_linear_member(ex, c.linear, t);
}

const Classifier& final_of(const ComboMember& m) { return m.final_model ? *m.final_model : *m.split_model; }

// The trained arms: knn and fine-tuned members, and their combination.
struct Trained {
  ComboMember knn, ft;
  std::unique_ptr<ComboClassifier> combo;
  double knn_seconds = 0, ft_seconds = 0, combine_seconds = 0;
  double knn_mb = 0, ft_mb = 0;
};

Result<Trained> train_all(const Contenders& c, const std::vector<Example>& ex, const TrainOptions& t, bool want_combo,
                          bool measure_memory) {
  Trained out;
  if (measure_memory) reset_peak_rss();
  Stopwatch w1;
  RAGFT_TRY(out.knn, train_knn_member(ex, c.knn, t));
  out.knn_seconds = w1.seconds();
  out.knn_mb = peak_rss_mb();
  if (measure_memory) reset_peak_rss();
  Stopwatch w2;
  RAGFT_TRY(out.ft, train_fine_tuned(c, ex, t));
  out.ft_seconds = w2.seconds();
  out.ft_mb = peak_rss_mb();
  return out;
}

// Moves the members into a combination (weights on the validation split).
Status combine(Trained& tr, const std::vector<Example>& ex, const TrainOptions& t) {
  Stopwatch w;
  Split split = stratified_split(ex, kValidationFraction, t.seed);
  std::vector<ComboMember> members;
  members.push_back(std::move(tr.ft));
  members.push_back(std::move(tr.knn));
  RAGFT_TRY(tr.combo, ComboClassifier::combine(std::move(members), split.validation, kComboStep, t));
  tr.combine_seconds = w.seconds();
  return ok_status();
}

// The freshness slice: one label held back as "new knowledge" (tasks with three or more labels),
// or a stratified share of the examples (two labels).
struct Slice {
  std::string description;
  std::vector<Example> reduced_train;
  std::vector<std::size_t> eval_items;  // indices of the eval examples the slice is measured on
};

Slice freshness_slice(const std::vector<Example>& train, const std::vector<Example>& eval, double fraction,
                      std::uint64_t seed) {
  Slice s;
  std::map<std::string, std::size_t> counts, eval_counts;
  for (const auto& e : train) ++counts[e.labels.front()];
  for (const auto& e : eval) {
    for (const auto& l : e.labels) ++eval_counts[l];
  }
  if (counts.size() >= 3) {
    // The label whose training share is closest to `fraction`, among labels the eval set
    // tests at least 5 times.
    std::string held;
    double best = 2;
    for (const auto& [label, n] : counts) {
      if (eval_counts[label] < 5) continue;
      double d = std::fabs(static_cast<double>(n) / train.size() - fraction);
      if (d < best) best = d, held = label;
    }
    if (!held.empty()) {
      for (const auto& e : train) {
        if (!correct(e.labels, held)) s.reduced_train.push_back(e);
      }
      for (std::size_t i = 0; i < eval.size(); ++i) {
        if (correct(eval[i].labels, held)) s.eval_items.push_back(i);
      }
      s.description = fmt::format(
          "label \"{}\" ({} training examples, {:.1f}%) held back as new knowledge; measured on the {} eval "
          "examples with that label",
          held, counts[held], 100.0 * counts[held] / train.size(), s.eval_items.size());
      return s;
    }
  }
  Split split = stratified_split(train, fraction, seed ^ 0x5eedf7e5);
  s.reduced_train = std::move(split.train);
  for (std::size_t i = 0; i < eval.size(); ++i) s.eval_items.push_back(i);
  s.description = fmt::format("{} training examples ({:.0f}%, stratified) held back as new knowledge; measured on "
                              "all {} eval examples",
                              split.validation.size(), 100.0 * fraction, eval.size());
  return s;
}

std::vector<double> pick(const std::vector<double>& v, const std::vector<std::size_t>& idx) {
  std::vector<double> out;
  out.reserve(idx.size());
  for (std::size_t i : idx) out.push_back(v[i]);
  return out;
}

nlohmann::json interval_json(const Interval& q) { return {{"value", q.value}, {"ci_low", q.low}, {"ci_high", q.high}}; }

Result<nlohmann::json> run_freshness(const Project& p, const BakeoffOptions& o, const Contenders& c,
                                     const std::vector<Example>& train, const std::vector<Example>& eval,
                                     const std::vector<ArmResult>& arms) {
  const auto& b = p.bakeoff;
  Slice slice = freshness_slice(train, eval, b.freshness, b.seed);
  say(o, "freshness: " + slice.description);
  std::vector<Example> slice_eval;
  for (std::size_t i : slice.eval_items) slice_eval.push_back(eval[i]);
  TrainOptions t;
  t.seed = b.seed;
  t.validation_fraction = kValidationFraction;
  RAGFT_TRY(Trained before, train_all(c, slice.reduced_train, t, true, false));
  std::map<std::string, std::vector<double>> before_items;
  before_items["rag"] = correctness(final_of(before.knn), slice_eval);
  before_items["fine_tuned"] = correctness(final_of(before.ft), slice_eval);
  RAGFT_TRY_STATUS(combine(before, slice.reduced_train, t));
  before_items["fine_tuned_rag"] = correctness(*before.combo, slice_eval);

  // The update, each arm its own way. kNN: index the labelled examples again with its chosen k
  // (adding the new examples to the BM25 index); fine-tuned and combination: train again on all
  // the data, which is what the main bake-off measured.
  nlohmann::json out = {{"description", slice.description}, {"new_items", slice_eval.size()}, {"arms", nlohmann::json::array()}};
  for (const ArmResult& a : arms) {
    if (a.id == "baseline") continue;
    nlohmann::json row = {{"id", a.id}};
    if (a.id == "rag") {
      int k = a.extra.value("k", 10);
      Stopwatch w;
      RAGFT_TRY(auto rebuilt, KnnClassifier::build(train, labels_of(train), c.knn, k));
      row["update"] = "re-index the labelled examples";
      row["time_to_fresh_s"] = w.seconds();
    } else {
      row["update"] = "retrain";
      row["time_to_fresh_s"] = a.build_seconds;
    }
    row["before"] = interval_json(bootstrap_mean(before_items[a.id], b.bootstrap_samples, 0.95, b.seed));
    row["after"] = interval_json(bootstrap_mean(pick(a.per_item, slice.eval_items), b.bootstrap_samples, 0.95, b.seed));
    out["arms"].push_back(row);
  }
  return out;
}

struct LabeledData {
  Dataset train, eval;
};

Result<LabeledData> load_labeled(const Project& p) {
  const DataSpec& d = p.data;
  DataOptions dopt;
  if (!d.format.empty()) {
    RAGFT_TRY(dopt.format, parse_data_format(d.format));
  } else {
    std::string ext = d.train.extension().string();
    dopt.format = ext == ".csv" ? DataFormat::kCsv : ext == ".jsonl" ? DataFormat::kJsonl : DataFormat::kFastText;
  }
  RAGFT_TRY(dopt.encoding, parse_encoding(d.encoding));
  LabeledData out;
  RAGFT_TRY(out.train, load_examples(d.train, dopt));
  RAGFT_TRY(out.eval, load_examples(d.eval, dopt));
  if (out.train.examples.empty()) return make_error(ErrorCode::kInvalidArgument, "data.train: no usable examples in {}", d.train.string());
  if (out.eval.examples.empty()) return make_error(ErrorCode::kInvalidArgument, "data.eval: no usable examples in {}", d.eval.string());
  return out;
}

Result<nlohmann::json> profile_of(const LabeledData& data) {
  RAGFT_TRY(DataReport checks, check_data(data.train, &data.eval));
  return nlohmann::json{{"corpus", nullptr}, {"labeled", checks.to_json()},
                        {"eval", profile_eval(data.eval.examples.size(), "examples").to_json()}};
}

}  // namespace

Result<nlohmann::json> profile_classification(const Project& p) {
  RAGFT_TRY(LabeledData data, load_labeled(p));
  return profile_of(data);
}

Result<Bakeoff> run_classification_bakeoff(const Project& p, const BakeoffOptions& o) {
  const BakeoffSpec& b = p.bakeoff;
  RAGFT_TRY(LabeledData data, load_labeled(p));
  const Dataset& train = data.train;
  const Dataset& eval = data.eval;
  Bakeoff out;
  out.metric = {{"name", "accuracy"}, {"label", "accuracy"}, {"higher_is_better", true}};
  RAGFT_TRY(out.profile, profile_of(data));
  out.labeled_examples = static_cast<long>(train.examples.size());

  Contenders c;
  c.fine_tuned = b.fine_tuned;
  nlohmann::json inputs = {{"v", kCacheVersion},           {"task", "classification"},
                           {"train", train.content_hash()}, {"eval", eval.content_hash()},
                           {"seed", b.seed},                {"validation", kValidationFraction},
                           {"bootstrap", b.bootstrap_samples}};
  std::map<std::string, std::string> configs = {
      {"baseline", "majority"}, {"rag", c.knn.to_config()}, {"fine_tuned", c.ft_config()},
      {"fine_tuned_rag", c.combo_config()}};
  ArmLedger ledger(p, o, inputs, configs);
  out.cached_arms = ledger.load();
  auto finish = [&](ArmResult a) {
    set_quality(a, b.bootstrap_samples, b.seed);
    return ledger.finish(std::move(a));
  };
  auto wanted = [&](const std::string& id) { return ledger.wanted(id); };
  auto missing = [&](const std::string& id) { return ledger.missing(id); };

  if (missing("baseline")) {
    ArmResult a;
    a.id = "baseline";
    std::string label = majority_label(train.examples);
    a.name = fmt::format("majority class (\"{}\")", label);
    a.config = "majority:label=" + label;
    Stopwatch w;
    for (const auto& e : eval.examples) {
      Stopwatch q;
      a.per_item.push_back(correct(e.labels, label) ? 1.0 : 0.0);
      a.latency_ms.push_back(q.ms());
    }
    a.build_seconds = 0;
    a.peak_mb = 0;
    a.note = "no knowledge: always the most frequent training label";
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }

  bool need_train = missing("rag") || missing("fine_tuned") || missing("fine_tuned_rag");
  fs::path models = o.cache_dir / "models";
  if (need_train) {
    TrainOptions t;
    t.seed = b.seed;
    t.validation_fraction = kValidationFraction;
    t.progress = [&o](const std::string& line) { say(o, "  " + line); };
    say(o, fmt::format("training knn and {} on {} examples", c.fine_tuned, train.examples.size()));
    RAGFT_TRY(Trained tr, train_all(c, train.examples, t, wanted("fine_tuned_rag"), true));
    {
      ArmResult a;
      a.id = "rag";
      a.name = "kNN over the labelled examples (BM25)";
      a.capabilities = {true, true, "incremental"};
      const Classifier& m = final_of(tr.knn);
      int k = dynamic_cast<const KnnClassifier&>(m).k();
      a.config = configs["rag"];
      a.extra["k"] = k;
      a.note = fmt::format("k={} chosen on the validation split; cites the neighbours it votes with", k);
      measure(m, eval.examples, a);
      a.build_seconds = tr.knn_seconds;
      a.peak_mb = tr.knn_mb;
      RAGFT_TRY_STATUS(m.save(models / "rag"));
      a.disk_bytes = directory_bytes(models / "rag");
      if (missing("rag")) RAGFT_TRY_STATUS(finish(std::move(a)));
    }
    {
      ArmResult a;
      a.id = "fine_tuned";
      const Classifier& m = final_of(tr.ft);
      a.name = c.fine_tuned == "neural" ? "fine-tuned CNN (libtorch)" : "fine-tuned linear model (fastText)";
      a.capabilities = {false, false, "retrain"};
      a.config = configs["fine_tuned"];
      measure(m, eval.examples, a);
      a.build_seconds = tr.ft_seconds;
      a.peak_mb = tr.ft_mb;
      a.note = "settings chosen on the validation split";
      RAGFT_TRY_STATUS(m.save(models / "fine_tuned"));
      a.disk_bytes = directory_bytes(models / "fine_tuned");
      if (missing("fine_tuned")) RAGFT_TRY_STATUS(finish(std::move(a)));
    }
    if (missing("fine_tuned_rag")) {
      double members_seconds = tr.knn_seconds + tr.ft_seconds;
      double members_mb = std::max(tr.knn_mb, tr.ft_mb);
      RAGFT_TRY_STATUS(combine(tr, train.examples, t));
      ArmResult a;
      a.id = "fine_tuned_rag";
      a.name = fmt::format("{} + kNN combination", c.fine_tuned);
      a.capabilities = {true, false, "retrain"};
      a.config = configs["fine_tuned_rag"];
      measure(*tr.combo, eval.examples, a);
      a.build_seconds = members_seconds + tr.combine_seconds;
      a.peak_mb = std::max(members_mb, peak_rss_mb());
      a.note = fmt::format("weights {:.1f} {} / {:.1f} knn, chosen on the validation split", tr.combo->weight(0),
                           c.fine_tuned, tr.combo->weight(1));
      RAGFT_TRY_STATUS(tr.combo->save(models / "fine_tuned_rag"));
      a.disk_bytes = directory_bytes(models / "fine_tuned_rag");
      RAGFT_TRY_STATUS(finish(std::move(a)));
    }
  }

  out.arms = ledger.take();
  out.comparisons = compare_arms(out.arms, b.bootstrap_samples, b.seed);

  if (b.freshness > 0 && wanted("rag") && wanted("fine_tuned") && wanted("fine_tuned_rag")) {
    RAGFT_TRY(out.freshness, ledger.freshness(out.arms, b.freshness, [&] {
      return run_freshness(p, o, c, train.examples, eval.examples, out.arms);
    }));
  }
  return out;
}

}  // namespace ragft::decide
