// ragft train extract, ragft eval extract, and `ragft predict` for extraction models (BIO
// sequence labelling on CoNLL data).
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "evaluate/latency.h"
#include "evaluate/conlleval.h"
#include "train/conll.h"
#include "train/extractor.h"
#include "train/combo_tagger.h"
#include "train/knn_tagger.h"
#include "train/neural_backend.h"
#include "train/neural_tagger.h"

namespace ragft::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Result<ConllData> load_conll(const std::string& path, bool strict, bool quiet) {
  ConllOptions o;
  o.strict = strict;
  RAGFT_TRY(ConllData d, read_conll(path, o));
  if (!quiet) {
    for (const auto& w : d.warnings) fmt::print(stderr, "warning: {}\n", w);
    if (d.malformed_lines > d.warnings.size()) {
      fmt::print(stderr, "warning: {}: {} more malformed lines\n", path, d.malformed_lines - d.warnings.size());
    }
  }
  if (d.sentences.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: no sentences (expected CoNLL token<TAB>tag lines)", path);
  }
  return d;
}

// Tags every sentence; returns conlleval figures and per-sentence latencies (ms).
Result<ConllevalResult> evaluate(const Extractor& model, const std::vector<TaggedSentence>& data,
                                 std::vector<double>* latencies_ms = nullptr) {
  ConllevalAccumulator acc;
  for (const auto& s : data) {
    auto t0 = Clock::now();
    auto tags = model.predict(s.tokens);
    if (latencies_ms) latencies_ms->push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    RAGFT_TRY_STATUS(acc.add(s.tags, tags));
  }
  return acc.result();
}

void print_metrics(const char* name, const ConllevalResult& r) {
  fmt::print("{}: {} sentences, {} tokens: entity P {:.4f} R {:.4f} F1 {:.4f}  token accuracy {:.4f}\n", name,
             r.sentences, r.tokens, r.overall.precision(), r.overall.recall(), r.overall.f1(), r.accuracy());
  fmt::print("  {:<16} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}\n", "type", "gold", "guess", "right", "P", "R", "F1");
  for (const auto& [type, c] : r.per_type) {
    fmt::print("  {:<16} {:>6} {:>6} {:>6} {:>7.4f} {:>7.4f} {:>7.4f}\n", type, c.gold, c.guessed, c.correct,
               c.precision(), c.recall(), c.f1());
  }
}

void print_checks(const nlohmann::json& checks) {
  for (const char* name : {"train", "dev", "eval"}) {
    if (!checks.contains(name)) continue;
    const nlohmann::json& c = checks[name];
    std::string types;
    for (const auto& [t, n] : c["entities_per_type"].items()) {
      types += fmt::format("{}{} {}", types.empty() ? "" : ", ", t, n.get<std::size_t>());
    }
    fmt::print("{}: {} sentences, {} tokens, {} entities ({})", name, c["sentences"].get<std::size_t>(),
               c["tokens"].get<std::size_t>(), c["entities"].get<std::size_t>(), types);
    if (c.contains("unseen_share")) {
      fmt::print("; unseen in train: {} ({:.1f}%)", c["unseen_entities"].get<std::size_t>(),
                 100 * c["unseen_share"].get<double>());
    }
    fmt::print("\n");
  }
}

// ---- train extract ----

struct TrainArgs {
  std::string train, dev, eval, out;
  std::string contender = "knn";        // knn, neural, combo or all
  std::string kind;                     // older spelling of --contender: tagger-knn, tagger-neural, ...
  std::vector<std::string> configs;     // per kind, by prefix: tagger-knn:..., tagger-neural:..., tagger-combo:...
  bool strict = false;
};

// One trained model to evaluate and save.
struct Trained {
  std::string name;  // knn, neural, combo
  Extractor* model = nullptr;
  fs::path dir;
  nlohmann::json info = nlohmann::json::object();  // selection figures etc.
};

int run_train(const Globals& g, TrainArgs a) {
  if (!a.kind.empty()) {
    if (a.kind == kKnnTaggerKind) a.contender = "knn";
    else if (a.kind == kNeuralTaggerKind) a.contender = "neural";
    else if (a.kind == kComboTaggerKind) a.contender = "combo";
    else return report(make_error(ErrorCode::kUnsupported, "--kind {}: use tagger-knn, tagger-neural or tagger-combo", a.kind));
  }
  const std::string& c = a.contender;
  if (c != "knn" && c != "neural" && c != "combo" && c != "all") {
    return report(make_error(ErrorCode::kInvalidArgument, "--contender \"{}\": use knn, neural, combo or all", c));
  }
  bool want_knn = c != "neural", want_neural = c != "knn";
  const NeuralBackend* backend = nullptr;
  if (want_neural) {
    auto b = neural_backend();
    if (!b.ok()) return report(b.error());
    backend = *b;
  }
  std::string knn_config, neural_config, combo_config;
  for (const auto& cfg : a.configs) {
    if (cfg.starts_with("tagger-knn")) knn_config = cfg;
    else if (cfg.starts_with("tagger-neural")) neural_config = cfg;
    else if (cfg.starts_with("tagger-combo")) combo_config = cfg;
    else if (c == "knn") knn_config = cfg;  // bare options: the one contender's
    else if (c == "neural") neural_config = cfg;
    else return report(make_error(ErrorCode::kInvalidArgument, "--config \"{}\": start it with tagger-knn:, "
                                  "tagger-neural: or tagger-combo:", cfg));
  }
  bool want_combo = c == "combo" || c == "all";
  if ((!want_knn && !knn_config.empty()) || (!want_neural && !neural_config.empty()) ||
      (!want_combo && !combo_config.empty())) {
    return report(make_error(ErrorCode::kInvalidArgument, "--config: options for a contender --contender {} does not "
                             "train", c));
  }

  auto train = load_conll(a.train, a.strict, false);
  if (!train.ok()) return report(train.error());
  ConllData dev, eval;
  if (!a.dev.empty()) {
    auto d = load_conll(a.dev, a.strict, false);
    if (!d.ok()) return report(d.error());
    dev = std::move(*d);
  }
  if (!a.eval.empty()) {
    auto d = load_conll(a.eval, a.strict, false);
    if (!d.ok()) return report(d.error());
    eval = std::move(*d);
  }
  std::map<std::string, const std::vector<TaggedSentence>*> evals;
  if (!a.dev.empty()) evals["dev"] = &dev.sentences;
  if (!a.eval.empty()) evals["eval"] = &eval.sentences;
  nlohmann::json checks = extraction_data_checks(train->sentences, evals);
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto* d : {&*train, &dev, &eval}) {
    for (const auto& w : d->warnings) warnings.push_back(w);
  }
  if (!g.json) print_checks(checks);
  std::fflush(stdout);

  std::vector<Trained> trained;
  auto dir_for = [&](const char* name) { return c == "all" ? fs::path(a.out) / name : fs::path(a.out); };

  std::unique_ptr<Extractor> knn;
  nlohmann::json knn_info = nlohmann::json::object();
  if (want_knn) {
    auto t0 = Clock::now();
    if (!knn_config.empty()) {
      auto opts = KnnTaggerOptions::parse(knn_config);
      if (!opts.ok()) return report(opts.error());
      auto m = KnnTagger::build(train->sentences, *opts);
      if (!m.ok()) return report(m.error());
      (*m)->record().train_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      knn = std::move(*m);
    } else {
      KnnTaggerSelection sel;
      auto m = KnnTagger::train(train->sentences, dev.sentences, &sel);
      if (!m.ok()) return report(m.error());
      knn = std::move(*m);
      if (!g.json) {
        fmt::print("selection: {} configs on {}: best {} (F1 {:.4f})\n", sel.configs_tried, sel.validation_source,
                   sel.chosen.to_config(), sel.validation_f1);
      }
      knn_info["selection"] = {{"source", sel.validation_source},
                               {"configs_tried", sel.configs_tried},
                               {"f1", sel.validation_f1},
                               {"top", sel.top}};
    }
  }

  std::unique_ptr<Extractor> neural;
  if (want_neural) {
    auto opts = NeuralTaggerOptions::parse(neural_config);
    if (!opts.ok()) return report(opts.error());
    NeuralTaggerHooks hooks;
    hooks.progress = [](const TrainProgress& p) { train_progress_bar(p); };
    hooks.log = [](const std::string& line) {
      progress_done();
      fmt::print(stderr, "{}\n", line);
    };
    auto m = backend->train_tagger(train->sentences, dev.sentences, *opts, hooks);
    progress_done();
    if (!m.ok()) return report(m.error());
    neural = std::move(*m);
  }

  std::unique_ptr<ComboTagger> combo;
  if (want_combo) {
    Result<std::unique_ptr<ComboTagger>> m = make_error(ErrorCode::kInternal, "unset");
    ComboTaggerSelection sel;
    if (!combo_config.empty()) {
      auto opts = ComboTaggerOptions::parse(combo_config);
      if (!opts.ok()) return report(opts.error());
      m = ComboTagger::make(std::move(neural), std::move(knn), *opts);
    } else {
      // The rule is chosen on dev, else on the held-out tenth the neural tagger validated on.
      std::vector<TaggedSentence> holdout;
      if (dev.sentences.empty()) {
        fmt::print(stderr,
                   "warning: no --dev: the combination rule is chosen on the tenth of --train the neural tagger held "
                   "out, which the knn tagger has memorised (the choice favours knn); pass --dev\n");
        for (std::size_t i = 9; i < train->sentences.size(); i += 10) holdout.push_back(train->sentences[i]);
        if (holdout.empty()) holdout = train->sentences;
      }
      m = ComboTagger::choose(std::move(neural), std::move(knn), dev.sentences.empty() ? holdout : dev.sentences, &sel);
    }
    if (!m.ok()) return report(m.error());
    combo = std::move(*m);
    if (c == "all") {
      trained.push_back({"knn", &combo->secondary(), dir_for("knn"), knn_info});
      trained.push_back({"neural", &combo->primary(), dir_for("neural"), {}});
    }
    nlohmann::json info = nlohmann::json::object();
    if (combo_config.empty()) {
      info["selection"] = {{"source", dev.sentences.empty() ? "train-holdout" : "dev"},
                           {"configs_tried", std::size(kComboRules)},
                           {"f1", sel.validation_f1},
                           {"per_rule", sel.per_rule}};
      if (!g.json) {
        fmt::print("combination: rule {} (validation F1 {:.4f}; per rule {})\n", combo_rule_name(sel.chosen.rule),
                   sel.validation_f1, sel.per_rule.dump());
      }
    }
    trained.push_back({"combo", combo.get(), dir_for("combo"), info});
  } else if (knn) {
    trained.push_back({"knn", knn.get(), dir_for("knn"), knn_info});
  } else {
    trained.push_back({"neural", neural.get(), dir_for("neural"), {}});
  }

  nlohmann::json rows = nlohmann::json::array();
  for (auto& t : trained) {
    Extractor& model = *t.model;
    nlohmann::json row = {{"task", "extract"},
                          {"contender", t.name},
                          {"kind", model.kind()},
                          {"config", model.config()},
                          {"train_seconds", model.record().train_seconds},
                          {"validation", model.record().metrics.value("validation", nlohmann::json::object())}};
    if (t.info.is_object()) row.update(t.info);
    if (!g.json && c == "all") fmt::print("\n== {} ({})\n", t.name, model.config());
    for (auto [name, data] : {std::pair{"dev", &dev}, std::pair{"eval", &eval}}) {
      if (data->sentences.empty()) continue;
      std::vector<double> lat;
      auto r = evaluate(model, data->sentences, &lat);
      if (!r.ok()) return report(r.error());
      model.record().metrics[name] = r->to_json();
      row[name] = r->to_json();
      row[name]["latency_ms_p50"] = percentile(lat, 0.50);
      if (!g.json) print_metrics(name, *r);
    }
    Status st = model.save(t.dir);
    if (!st.ok()) return report(st.error());
    row["model"] = t.dir.string();
    row["model_bytes"] = dir_bytes(t.dir);
    rows.push_back(std::move(row));
  }

  if (g.json) {
    nlohmann::json out;
    if (c == "all") {
      out = {{"data_checks", checks}, {"warnings", warnings}, {"models", rows}};
    } else {
      out = rows[0];
      out["data_checks"] = checks;
      out["warnings"] = warnings;
    }
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  if (c != "all") {
    fmt::print("training time: {:.2f} s\nsaved {} ({} bytes)\n", rows[0]["train_seconds"].get<double>(),
               rows[0]["model"].get<std::string>(), rows[0]["model_bytes"].get<std::uint64_t>());
    return 0;
  }
  fmt::print("\n{:<8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}  {}\n", "model", "dev F1", "eval F1", "eval P",
             "eval R", "train s", "p50 ms", "size MB", "dir");
  auto fig = [](const nlohmann::json& r, const char* split, const char* key) {
    return r.contains(split) ? fmt::format("{:.4f}", r[split][key].get<double>()) : std::string("-");
  };
  for (const auto& r : rows) {
    fmt::print("{:<8} {:>8} {:>8} {:>8} {:>8} {:>9.1f} {:>9} {:>8.1f}  {}\n", r["contender"].get<std::string>(),
               fig(r, "dev", "f1"), fig(r, "eval", "f1"), fig(r, "eval", "precision"), fig(r, "eval", "recall"),
               r["train_seconds"].get<double>(),
               r.contains("eval") ? fmt::format("{:.3f}", r["eval"]["latency_ms_p50"].get<double>()) : "-",
               static_cast<double>(r["model_bytes"].get<std::uint64_t>()) / 1e6, r["model"].get<std::string>());
  }
  return 0;
}

// ---- eval extract ----

struct EvalArgs {
  std::string model, data;
  bool strict = false;
};

int run_eval(const Globals& g, const EvalArgs& a) {
  auto t0 = Clock::now();
  auto m = load_extractor(a.model);
  if (!m.ok()) return report(m.error());
  double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  auto data = load_conll(a.data, a.strict, g.json);
  if (!data.ok()) return report(data.error());
  std::vector<double> lat;
  auto r = evaluate(**m, data->sentences, &lat);
  if (!r.ok()) return report(r.error());
  nlohmann::json out = r->to_json();
  out["model"] = a.model;
  out["kind"] = (*m)->kind();
  out["config"] = (*m)->config();
  out["data"] = a.data;
  out["latency_ms"] = {{"p50", percentile(lat, 0.50)}, {"p99", percentile(lat, 0.99)}, {"threads", 1}};
  out["model_bytes"] = dir_bytes(a.model);
  out["load_ms"] = load_ms;
  out["train_seconds"] = (*m)->record().train_seconds;
  out["malformed_lines"] = data->malformed_lines;
  if (g.json) {
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("model {} ({}, {} bytes, trained in {:.2f} s)\n", a.model, (*m)->config(),
             out["model_bytes"].get<std::uint64_t>(), (*m)->record().train_seconds);
  print_metrics(a.data.c_str(), *r);
  fmt::print("latency per sentence (1 thread): p50 {:.3f} ms, p99 {:.3f} ms; load {:.1f} ms\n",
             percentile(lat, 0.50), percentile(lat, 0.99), load_ms);
  return 0;
}

}  // namespace

void register_train_extract(CLI::App* train, Globals& g, int& exit_code) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = train->add_subcommand(
      "extract", "Train entity extractors (BIO tags) on CoNLL data and compare them: retrieval (knn), BiLSTM-CRF "
                 "(neural), their combination (combo); settings chosen on --dev (or a held-out tenth of --train)");
  cmd->add_option("--train", a->train, "Training data: CoNLL token<TAB>tag, blank line between sentences")
      ->required();
  cmd->add_option("--dev", a->dev, "Validation data (CoNLL): chooses the options, reported");
  cmd->add_option("--eval", a->eval, "Evaluation data (CoNLL): reported only");
  cmd->add_option("--out", a->out, "Model directory to write")->required();
  cmd->add_option("--contender", a->contender,
                  "knn, neural, combo, or all (into OUT/knn, OUT/neural, OUT/combo)")
      ->capture_default_str();
  cmd->add_option("--kind", a->kind, "Same as --contender, by model kind: tagger-knn, tagger-neural, tagger-combo");
  cmd->add_option("--config", a->configs,
                  "Options per kind (repeatable): tagger-knn:... fixes the knn options (no selection), "
                  "tagger-neural:... the neural tagger's training options, tagger-combo:rule=R fixes the rule");
  cmd->add_flag("--strict", a->strict, "Malformed data lines are errors (default: warnings, line dropped)");
  cmd->callback([&g, &exit_code, a] { exit_code = run_train(g, *a); });
}

void register_eval_extract(CLI::App* eval, Globals& g, int& exit_code) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = eval->add_subcommand(
      "extract", "Entity P/R/F1 (conlleval) overall and per type, token accuracy, latency of an extraction model");
  cmd->add_option("model", a->model, "Model directory (from ragft train extract)")->required();
  cmd->add_option("data", a->data, "Labelled CoNLL data")->required();
  cmd->add_flag("--strict", a->strict, "Malformed data lines are errors");
  cmd->callback([&g, &exit_code, a] { exit_code = run_eval(g, *a); });
}

// Input: one sentence per line, whitespace tokens. Output: token<TAB>tag lines and a blank line
// per sentence, or with --json one object per line:
// {"tokens":[...],"entities":[{"text","type","start","end","char_start","char_end"}]}
// (start/end: token offsets; char_start/char_end: code points of the line; end exclusive;
// text: the line's characters of the span: extract_entities() in train/extractor.h). `ragft
// serve`'s POST /v1/extract answers the same per input.
int predict_extract(const Globals& g, const std::filesystem::path& model, const std::vector<std::string>& files) {
  auto m = load_extractor(model);
  if (!m.ok()) return report(m.error());
  auto handle = [&](std::istream& in) {
    std::string line;
    while (std::getline(in, line)) {
      auto t = extract_entities(**m, line);
      if (g.json) {
        nlohmann::json ents = nlohmann::json::array();
        for (const auto& e : t.entities) {
          ents.push_back({{"text", e.text}, {"type", e.type}, {"start", e.token_start}, {"end", e.token_end},
                          {"char_start", e.char_start}, {"char_end", e.char_end}});
        }
        nlohmann::json j = {{"tokens", t.tokens}, {"entities", ents}};
        fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      } else {
        std::string out;
        for (std::size_t i = 0; i < t.tokens.size(); ++i) out += fmt::format("{}\t{}\n", t.tokens[i], t.tags[i]);
        fmt::print("{}\n", out);
      }
    }
  };
  if (files.empty()) {
    handle(std::cin);
    return 0;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return report(make_error(ErrorCode::kNotFound, "cannot open input file {}", f));
    handle(in);
  }
  return 0;
}

}  // namespace ragft::cli
