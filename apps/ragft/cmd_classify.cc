// ragft train classify, ragft eval classify, and predictions of classify models.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "evaluate/latency.h"
#include "evaluate/classification.h"
#include "train/classifier.h"
#include "train/combo_classifier.h"
#include "train/data_checks.h"
#include "train/dataset.h"
#include "train/neural_backend.h"

namespace ragft::cli {

namespace {

namespace fs = std::filesystem;

struct DataArgs {
  std::string format = "jsonl";
  std::string text_column = "text";
  std::string label_column = "label";
  std::string encoding = "utf-8";
  bool strict = false;
  bool trec_fine = false;
};

void add_data_options(CLI::App* cmd, DataArgs& d) {
  cmd->add_option("--format", d.format, "Data format: jsonl, csv, fasttext, trec, sst")->capture_default_str();
  cmd->add_option("--text-column", d.text_column, "jsonl field / csv column holding the text")->capture_default_str();
  cmd->add_option("--label-column", d.label_column, "jsonl field / csv column holding the label(s)")->capture_default_str();
  cmd->add_option("--encoding", d.encoding, "utf-8 or latin-1 (TREC files are Latin-1)")->capture_default_str();
  cmd->add_flag("--strict", d.strict, "Fail on the first invalid line instead of skipping it");
  cmd->add_flag("--trec-fine", d.trec_fine, "trec: use the fine label COARSE:fine");
}

Result<DataOptions> data_options(const DataArgs& d) {
  DataOptions o;
  RAGFT_TRY(o.format, parse_data_format(d.format));
  RAGFT_TRY(o.encoding, parse_encoding(d.encoding));
  o.text_column = d.text_column;
  o.label_column = d.label_column;
  o.strict = d.strict;
  o.trec_fine = d.trec_fine;
  return o;
}

Result<Dataset> load_data(const std::string& path, const DataOptions& o) {
  RAGFT_TRY(Dataset d, load_examples(path, o));
  for (const auto& w : d.warnings) fmt::print(stderr, "warning: {}\n", w);
  if (d.skipped > d.warnings.size()) {
    fmt::print(stderr, "warning: {} more invalid lines skipped in {}\n", d.skipped - d.warnings.size(), path);
  }
  if (d.examples.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no usable examples in {} (format {}); check --format and the columns",
                      path, data_format_name(o.format));
  }
  return d;
}

struct Evaluation {
  ClassificationReport report;
  std::vector<double> latency_us;
};

// Gold label for single-label metrics: the predicted label when it is one of the gold labels,
// else the first gold label.
Evaluation evaluate(const Classifier& c, const Dataset& data) {
  Evaluation ev;
  std::vector<std::string> gold, pred;
  ev.latency_us.reserve(data.examples.size());
  for (const auto& e : data.examples) {
    auto t0 = std::chrono::steady_clock::now();
    Prediction p = c.predict(e.text);
    ev.latency_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    const std::string& top = p.top();
    bool hit = std::find(e.labels.begin(), e.labels.end(), top) != e.labels.end();
    gold.push_back(hit ? top : e.labels.front());
    pred.push_back(top);
  }
  ev.report = classification_report(gold, pred, c.labels());
  return ev;
}

constexpr const char* kDefaultMembers = "linear,knn,neural";

struct TrainArgs {
  std::string train, eval, out;
  DataArgs data;
  std::string contender = "all";
  std::uint64_t seed = 1;
  double validation = 0.1;
  LinearOptions linear;
  std::string epochs = "5,10,25,50";
  KnnOptions knn;
  std::string ks = "1,3,5,10,20,50";
  std::string neural;  // NeuralOptions config (overrides of the defaults)
  std::string checkpoint;  // encoder: a BERT-family checkpoint directory
  std::string encoder;     // EncoderOptions config (overrides of the defaults)
  std::string members;     // empty: kDefaultMembers, plus encoder with --checkpoint
  double combo_step = 0.1;
};

Result<std::vector<std::string>> parse_members(const std::string& s) {
  std::vector<std::string> v;
  for (const auto& x : split_list(s)) {
    if (x != "linear" && x != "knn" && x != "neural" && x != "encoder") {
      return make_error(ErrorCode::kInvalidArgument,
                        "--members: unknown contender \"{}\" (use linear, knn, neural, encoder)", x);
    }
    if (std::find(v.begin(), v.end(), x) != v.end()) {
      return make_error(ErrorCode::kInvalidArgument, "--members: \"{}\" twice", x);
    }
    v.push_back(x);
  }
  if (v.empty()) return make_error(ErrorCode::kInvalidArgument, "--members is empty");
  return v;
}

Result<std::vector<int>> parse_ints(const std::string& s, const char* flag) {
  std::vector<int> v;
  for (const auto& x : split_list(s)) {
    try {
      std::size_t used = 0;
      int n = std::stoi(x, &used);
      if (used != x.size() || n < 1) throw std::invalid_argument(x);
      v.push_back(n);
    } catch (const std::exception&) {
      return make_error(ErrorCode::kInvalidArgument, "{} \"{}\": expected positive integers separated by commas", flag, s);
    }
  }
  if (v.empty()) return make_error(ErrorCode::kInvalidArgument, "{} is empty", flag);
  return v;
}

int run_train(const Globals& g, TrainArgs a) {
  auto o = data_options(a.data);
  if (!o.ok()) return report(o.error());
  if (a.contender != "linear" && a.contender != "knn" && a.contender != "neural" && a.contender != "encoder" &&
      a.contender != "combo" && a.contender != "all") {
    return report(make_error(ErrorCode::kInvalidArgument,
                             "--contender \"{}\": use linear, knn, neural, encoder, combo or all", a.contender));
  }
  if (a.members.empty()) a.members = std::string(kDefaultMembers) + (a.checkpoint.empty() ? "" : ",encoder");
  auto encoder = EncoderOptions::parse(a.encoder.empty() ? "encoder" : a.encoder);
  if (!encoder.ok()) return report(encoder.error());
  encoder->checkpoint = a.checkpoint;
  auto neural = NeuralOptions::parse(a.neural);
  if (!neural.ok()) return report(neural.error());
  auto member_kinds = parse_members(a.members);
  if (!member_kinds.ok()) return report(member_kinds.error());
  bool combines = a.contender == "combo" || a.contender == "all";
  bool wants_encoder = a.contender == "encoder" ||
                       (combines && std::find(member_kinds->begin(), member_kinds->end(), "encoder") != member_kinds->end());
  if (wants_encoder && a.checkpoint.empty()) {
    return report(make_error(ErrorCode::kInvalidArgument,
                             "the encoder contender needs --checkpoint DIR (a BERT-family checkpoint: config.json, "
                             "model.safetensors, vocab.txt or tokenizer.json)"));
  }
  auto epochs = parse_ints(a.epochs, "--epochs");
  if (!epochs.ok()) return report(epochs.error());
  a.linear.epochs = *epochs;
  auto ks = parse_ints(a.ks, "--k");
  if (!ks.ok()) return report(ks.error());
  a.knn.ks = *ks;

  auto train = load_data(a.train, *o);
  if (!train.ok()) return report(train.error());
  std::optional<Dataset> eval;
  if (!a.eval.empty()) {
    auto e = load_data(a.eval, *o);
    if (!e.ok()) return report(e.error());
    eval = std::move(*e);
  }
  auto checks = check_data(*train, eval ? &*eval : nullptr);
  if (!checks.ok()) return report(checks.error());
  if (!g.json) fmt::print("{}", checks->to_text());
  std::fflush(stdout);

  TrainOptions t;
  t.seed = a.seed;
  t.validation_fraction = a.validation;
  t.progress = [](const std::string& line) {
    progress_done();  // a progress bar on a terminal is cleared before the line
    fmt::print(stderr, "{}\n", line);
  };

  // (kind, model) in training order; `all` trains the combo and keeps its sub-models.
  std::vector<std::pair<std::string, const Classifier*>> models;
  std::unique_ptr<Classifier> owned;
  const auto& ex = train->examples;
  // The libtorch contenders (neural, encoder), trained through the lazily loaded backend with a
  // progress bar.
  auto train_torch = [&](const std::string& kind) -> Result<std::unique_ptr<Classifier>> {
    RAGFT_TRY(const NeuralBackend* backend, neural_backend());
    TrainOptions tt = t;
    tt.on_step = train_progress_bar;
    auto m = kind == "neural" ? backend->train_neural(ex, *neural, tt) : backend->train_encoder(ex, *encoder, tt);
    progress_done();
    return m;
  };
  if (a.contender == "linear") {
    auto m = LinearClassifier::train(ex, a.linear, t);
    if (!m.ok()) return report(m.error());
    owned = std::move(*m);
    models.emplace_back("linear", owned.get());
  } else if (a.contender == "knn") {
    auto m = KnnClassifier::train(ex, a.knn, t);
    if (!m.ok()) return report(m.error());
    owned = std::move(*m);
    models.emplace_back("knn", owned.get());
  } else if (a.contender == "neural" || a.contender == "encoder") {
    auto m = train_torch(a.contender);
    if (!m.ok()) return report(m.error());
    owned = std::move(*m);
    models.emplace_back(a.contender, owned.get());
  } else {
    // The combination: every member trained on the same split, weights chosen on it.
    auto t0 = std::chrono::steady_clock::now();
    std::vector<ComboMember> members;
    for (const auto& kind : *member_kinds) {
      Result<ComboMember> m = make_error(ErrorCode::kInternal, "unreachable");
      if (kind == "linear") {
        m = train_linear_member(ex, a.linear, t);
      } else if (kind == "knn") {
        m = train_knn_member(ex, a.knn, t);
      } else {
        auto n = train_torch(kind);
        if (!n.ok()) return report(n.error());
        m = ComboMember{kind, std::move(*n), nullptr};
      }
      if (!m.ok()) return report(m.error());
      members.push_back(std::move(*m));
    }
    Split split = stratified_split(ex, t.validation_fraction, t.seed);
    auto m = ComboClassifier::combine(std::move(members), split.validation, a.combo_step, t);
    if (!m.ok()) return report(m.error());
    ComboClassifier* c = m->get();
    c->info().train_data_hash = examples_hash(ex);
    c->info().config = fmt::format("combo:step={},members={}", a.combo_step, a.members);
    c->info().train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    owned = std::move(*m);
    if (a.contender == "all") {
      for (std::size_t i = 0; i < c->size(); ++i) models.emplace_back(c->member(i).kind(), &c->member(i));
    }
    models.emplace_back("combo", c);
  }

  nlohmann::json out = {{"data", checks->to_json()}, {"models", nlohmann::json::array()}};
  for (auto& [kind, cm] : models) {
    auto* m = const_cast<Classifier*>(cm);
    fs::path dir = a.contender == "all" ? fs::path(a.out) / kind : fs::path(a.out);
    nlohmann::json row = {{"kind", kind}, {"dir", dir.string()}, {"train_seconds", m->info().train_seconds},
                          {"validation", m->info().metrics.value("validation", nlohmann::json::object())}};
    if (eval) {
      Evaluation ev = evaluate(*m, *eval);
      nlohmann::json e = {{"file", a.eval},
                          {"n", ev.report.n},
                          {"accuracy", ev.report.accuracy},
                          {"macro_f1", ev.report.macro_f1},
                          {"latency_us_p50", percentile(ev.latency_us, 0.5)}};
      m->info().metrics["eval"] = e;
      row["eval"] = e;
    }
    Status s = m->save(dir);
    if (!s.ok()) return report(s.error());
    row["bytes_on_disk"] = dir_bytes(dir);
    out["models"].push_back(row);
  }
  if (g.json) {
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("\n{:<8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}  {}\n", "model", "val acc", "eval acc", "macro-F1",
             "train s", "p50 us", "size MB", "dir");
  for (const auto& r : out["models"]) {
    bool has_eval = r.contains("eval");
    fmt::print("{:<8} {:>9.4f} {:>9} {:>9} {:>9.2f} {:>10} {:>10.1f}  {}\n", r["kind"].get<std::string>(),
               r["validation"].value("accuracy", 0.0),
               has_eval ? fmt::format("{:.4f}", r["eval"]["accuracy"].get<double>()) : "-",
               has_eval ? fmt::format("{:.4f}", r["eval"]["macro_f1"].get<double>()) : "-",
               r["train_seconds"].get<double>(),
               has_eval ? fmt::format("{:.1f}", r["eval"]["latency_us_p50"].get<double>()) : "-",
               static_cast<double>(r["bytes_on_disk"].get<std::uint64_t>()) / 1e6, r["dir"].get<std::string>());
  }
  return 0;
}

struct EvalArgs {
  std::string model, data;
  DataArgs d;
};

int run_eval_classify(const Globals& g, const EvalArgs& a) {
  auto o = data_options(a.d);
  if (!o.ok()) return report(o.error());
  auto t0 = std::chrono::steady_clock::now();
  auto c = load_classifier(a.model);
  if (!c.ok()) return report(c.error());
  double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  auto data = load_data(a.data, *o);
  if (!data.ok()) return report(data.error());
  Evaluation ev = evaluate(**c, *data);
  const auto& r = ev.report;
  double p50 = percentile(ev.latency_us, 0.5), p99 = percentile(ev.latency_us, 0.99);
  std::uint64_t bytes = dir_bytes(a.model);
  if (g.json) {
    nlohmann::json j = r.to_json();
    j["model"] = a.model;
    j["kind"] = (*c)->kind();
    j["data"] = a.data;
    j["latency_us_p50"] = p50;
    j["latency_us_p99"] = p99;
    j["load_ms"] = load_ms;
    j["bytes_on_disk"] = bytes;
    j["train_seconds"] = (*c)->info().train_seconds;
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("model {} ({}), data {}: {} examples\n", a.model, (*c)->kind(), a.data, r.n);
  fmt::print("accuracy {:.4f}  macro-F1 {:.4f}\n", r.accuracy, r.macro_f1);
  fmt::print("{:<24} {:>9} {:>9} {:>9} {:>8}\n", "label", "precision", "recall", "F1", "support");
  for (const auto& m : r.per_class) {
    fmt::print("{:<24} {:>9.4f} {:>9.4f} {:>9.4f} {:>8}\n", m.label, m.precision, m.recall, m.f1, m.support);
  }
  fmt::print("confusion (rows gold, columns predicted):\n{:<12}", "");
  for (const auto& l : r.labels) fmt::print(" {:>8.8}", l);
  fmt::print("\n");
  for (std::size_t i = 0; i < r.labels.size(); ++i) {
    fmt::print("{:<12.12}", r.labels[i]);
    for (auto n : r.confusion[i]) fmt::print(" {:>8}", n);
    fmt::print("\n");
  }
  fmt::print("latency per example (1 thread): p50 {:.1f} us, p99 {:.1f} us; load {:.1f} ms\n", p50, p99, load_ms);
  fmt::print("model size {:.1f} MB; trained in {:.2f} s\n", static_cast<double>(bytes) / 1e6, (*c)->info().train_seconds);
  return 0;
}

}  // namespace

void register_train_classify(CLI::App* train, Globals& g, int& exit_code) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = train->add_subcommand("classify", "Train text classifiers (linear fastText, BM25 kNN, neural CNN, pretrained encoder, combination) "
                                                    "and compare them");
  cmd->add_option("--train", a->train, "Training data file")->required();
  cmd->add_option("--eval", a->eval, "Evaluation data file (same format)");
  add_data_options(cmd, a->data);
  cmd->add_option("--contender", a->contender, "linear, knn, neural, encoder, combo, or all (each member into OUT/<kind>, and OUT/combo)")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "Model directory")->required();
  cmd->add_option("--seed", a->seed, "Seed (validation split, fastText)")->capture_default_str();
  cmd->add_option("--validation", a->validation, "Share of the training data held out to choose settings")
      ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--dim", a->linear.dim, "linear: vector dimension")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--lr", a->linear.lr, "linear: learning rate")->capture_default_str();
  cmd->add_option("--epochs", a->epochs, "linear: candidate epochs, chosen on validation")->capture_default_str();
  cmd->add_option("--word-ngrams", a->linear.word_ngrams, "linear: word n-gram length")->capture_default_str();
  cmd->add_option("--minn", a->linear.minn, "linear: min char n-gram (0: none)")->capture_default_str();
  cmd->add_option("--maxn", a->linear.maxn, "linear: max char n-gram (0: none)")->capture_default_str();
  cmd->add_option("--bucket", a->linear.bucket, "linear: hash buckets for n-grams")->capture_default_str();
  cmd->add_option("--linear-analyzer", a->linear.analyzer, "linear: \"whitespace\" or an analyzer config")
      ->capture_default_str();
  cmd->add_option("--threads", a->linear.threads, "linear: training threads (1: reproducible)")->capture_default_str();
  cmd->add_option("--k", a->ks, "knn: candidate k, chosen on validation")->capture_default_str();
  cmd->add_option("--members", a->members,
                  std::string("combo/all: the contenders combined (default ") + kDefaultMembers +
                      ", plus encoder with --checkpoint)");
  cmd->add_option("--combo-step", a->combo_step, "combo: grid step of the member weights")
      ->capture_default_str()->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--checkpoint", a->checkpoint,
                  "encoder: a BERT-family checkpoint directory (config.json, model.safetensors, vocab.txt or "
                  "tokenizer.json) to fine-tune");
  cmd->add_option("--encoder", a->encoder,
                  "encoder: settings overriding the defaults, e.g. \"mode=full,epochs=3\" (defaults: " +
                      EncoderOptions{}.to_config() + ")");
  cmd->add_option("--neural", a->neural,
                  "neural: settings overriding the defaults, e.g. \"arch=bigru,epochs=20\" (defaults: " +
                      NeuralOptions{}.to_config() + ")");
  cmd->callback([&g, &exit_code, a] { exit_code = run_train(g, *a); });
}

void register_eval_classify(CLI::App* eval, Globals& g, int& exit_code) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = eval->add_subcommand("classify", "Accuracy, macro-F1, per-class P/R/F1, confusion matrix and latency "
                                                   "of a classify model");
  cmd->add_option("model", a->model, "Model directory")->required();
  cmd->add_option("data", a->data, "Labelled data file")->required();
  add_data_options(cmd, a->d);
  cmd->callback([&g, &exit_code, a] { exit_code = run_eval_classify(g, *a); });
}

int predict_classify(const Globals& g, const fs::path& model, const std::vector<std::string>& files) {
  auto c = load_classifier(model);
  if (!c.ok()) return report(c.error());
  auto one = [&](std::istream& in) {
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      Prediction p = (*c)->predict(line);
      if (g.json) {
        nlohmann::json ls = nlohmann::json::array();
        for (const auto& x : p.labels) ls.push_back({{"label", x.label}, {"score", x.score}});
        nlohmann::json j = {{"text", line}, {"labels", ls}};
        fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      } else {
        fmt::print("{}\t{:.4f}\n", p.labels.front().label, p.labels.front().score);
      }
    }
  };
  if (files.empty()) {
    one(std::cin);
    return 0;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return report(make_error(ErrorCode::kNotFound, "cannot open {}", f));
    one(in);
  }
  return 0;
}

}  // namespace ragft::cli
