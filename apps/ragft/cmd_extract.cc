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
#include "train/knn_tagger.h"

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
  std::string kind = std::string(kKnnTaggerKind);
  std::string config;  // fixed options: skip selection
  bool strict = false;
};

int run_train(const Globals& g, const TrainArgs& a) {
  if (a.kind != kKnnTaggerKind) {
    return report(make_error(ErrorCode::kUnsupported, "--kind {}: this build trains only {}", a.kind, kKnnTaggerKind));
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

  std::unique_ptr<KnnTagger> model;
  KnnTaggerSelection sel;
  auto t0 = Clock::now();
  if (!a.config.empty()) {
    auto opts = KnnTaggerOptions::parse(a.config);
    if (!opts.ok()) return report(opts.error());
    auto m = KnnTagger::build(train->sentences, *opts);
    if (!m.ok()) return report(m.error());
    model = std::move(*m);
    model->record().train_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    auto m = KnnTagger::train(train->sentences, dev.sentences, &sel);
    if (!m.ok()) return report(m.error());
    model = std::move(*m);
    if (!g.json) {
      fmt::print("selection: {} configs on {}: best {} (F1 {:.4f})\n", sel.configs_tried, sel.validation_source,
                 sel.chosen.to_config(), sel.validation_f1);
    }
  }
  nlohmann::json out = {{"task", "extract"},           {"kind", model->kind()},
                        {"config", model->config()},   {"data_checks", checks},
                        {"warnings", warnings},        {"train_seconds", model->record().train_seconds}};
  if (a.config.empty()) {
    out["selection"] = {{"source", sel.validation_source},
                        {"configs_tried", sel.configs_tried},
                        {"f1", sel.validation_f1},
                        {"top", sel.top}};
  }
  for (auto [name, data] : {std::pair{"dev", &dev}, std::pair{"eval", &eval}}) {
    if (data->sentences.empty()) continue;
    auto r = evaluate(*model, data->sentences);
    if (!r.ok()) return report(r.error());
    model->record().metrics[name] = r->to_json();
    out[name] = r->to_json();
    if (!g.json) print_metrics(name, *r);
  }
  Status st = model->save(a.out);
  if (!st.ok()) return report(st.error());
  out["model"] = a.out;
  out["model_bytes"] = dir_bytes(a.out);
  if (g.json) {
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("training time: {:.2f} s\nsaved {} ({} bytes)\n", model->record().train_seconds, a.out,
               out["model_bytes"].get<std::uint64_t>());
  }
  return 0;
}

// ---- eval extract ----

struct EvalArgs {
  std::string model, data;
  bool strict = false;
};

int run_eval(const Globals& g, const EvalArgs& a) {
  auto m = load_extractor(a.model);
  if (!m.ok()) return report(m.error());
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
  out["train_seconds"] = (*m)->record().train_seconds;
  out["malformed_lines"] = data->malformed_lines;
  if (g.json) {
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("model {} ({}, {} bytes, trained in {:.2f} s)\n", a.model, (*m)->config(),
             out["model_bytes"].get<std::uint64_t>(), (*m)->record().train_seconds);
  print_metrics(a.data.c_str(), *r);
  fmt::print("latency per sentence (1 thread): p50 {:.3f} ms, p99 {:.3f} ms\n", percentile(lat, 0.50),
             percentile(lat, 0.99));
  return 0;
}

}  // namespace

void register_train_extract(CLI::App* train, Globals& g, int& exit_code) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = train->add_subcommand(
      "extract", "Train an entity extractor (BIO tags) on CoNLL data; options chosen on --dev (or a held-out "
                 "tenth of --train)");
  cmd->add_option("--train", a->train, "Training data: CoNLL token<TAB>tag, blank line between sentences")
      ->required();
  cmd->add_option("--dev", a->dev, "Validation data (CoNLL): chooses the options, reported");
  cmd->add_option("--eval", a->eval, "Evaluation data (CoNLL): reported only");
  cmd->add_option("--out", a->out, "Model directory to write")->required();
  cmd->add_option("--kind", a->kind, "Model kind")->capture_default_str();
  cmd->add_option("--config", a->config,
                  "Fixed options instead of selection, e.g. tagger-knn:k=10,min_count=2,case=fold");
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
// {"tokens":[...],"entities":[{"text","type","start","end"}]} (token offsets, end exclusive).
int predict_extract(const Globals& g, const std::filesystem::path& model, const std::vector<std::string>& files) {
  auto m = load_extractor(model);
  if (!m.ok()) return report(m.error());
  auto handle = [&](std::istream& in) {
    std::string line;
    while (std::getline(in, line)) {
      auto t = (*m)->predict_text(line);
      if (g.json) {
        nlohmann::json ents = nlohmann::json::array();
        for (const auto& e : entity_mentions(t.tokens, t.tags)) {
          ents.push_back({{"text", e.text}, {"type", e.type}, {"start", e.start}, {"end", e.end}});
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
