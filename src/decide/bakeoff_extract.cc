// The extraction bake-off (see bakeoff.h) and its freshness experiment.
//
// Data: data.train, data.dev (optional) and data.eval, CoNLL files read with train/conll.h
// (malformed lines are dropped with a logged warning, as `ragft train extract` does).
//
// Arms:
//  - baseline: every token O. Scored through conlleval like the others (F1 0 by construction).
//  - rag: KnnTagger::train (BM25 neighbour projection + gazetteer; options selected by entity F1
//    on the validation sentences, then built on all training sentences).
//  - fine_tuned: the BiLSTM-CRF tagger, trained through neural_backend() (libragft_torch.so).
//    Options: NeuralTaggerOptions defaults with seed = bakeoff.seed; the environment variable
//    RAGFT_DECIDE_TAGGER_NEURAL, a tagger-neural config string (any subset of its keys, seed
//    excepted), overrides them (small models for tests and quick looks; the config is in the
//    arm's config string and the cache key). Without the library both neural arms are skipped
//    with a log line.
//  - fine_tuned_rag: ComboTagger of the two (primary neural, secondary knn); the rule is the one
//    with the best entity F1 on the validation sentences (ties: the earlier of kComboRules).
// Validation: data.dev when given. Otherwise the tenth of data.train that KnnTagger::train and
// NeuralTagger::train hold out themselves (every 10th sentence; the CLI's behaviour); the
// combination rule is chosen on that same tenth, scoring a kNN tagger built on the other nine
// tenths with the chosen options (the final kNN tagger has memorised the tenth, which would
// favour it).
//
// Metric: entity F1 (conlleval, exact span and type) over the eval sentences, with percentile
// bootstrap intervals over sentences (evaluate/bootstrap.h); comparisons are paired bootstraps
// of the F1 difference. F1 is not a mean of per-sentence values, so ArmResult::per_item stays
// empty and ArmResult::extra (cached with the arm) keeps the per-sentence counts:
//   "counts":      [[correct, guessed, gold], ...]  one per eval sentence, all types
//   "type_counts": {"TYPE": [[sentence, correct, guessed, gold], ...]}  only non-zero sentences
// plus the settings the freshness experiment reruns ("knn_config", "neural_config", "rule").
//
// Freshness: the entity type whose share of training entities is closest to
// bakeoff.freshness (among types with >= 5 eval entities) is new knowledge: the training
// sentences containing it are held back, a kNN tagger (same options, KnnTagger::build) and a
// neural tagger (same options) are built without them ("before"), and the type's F1 (recall
// too) is measured on the eval sentences containing it. Updates: kNN re-indexes all training
// sentences (timed); neural and combination retrain (their main build time). "after" = the main
// arms on the same sentences. Needs two entity types (else freshness is null, logged).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "core/check.h"
#include "decide/bakeoff.h"
#include "decide/cache.h"
#include "decide/profile.h"
#include "evaluate/conlleval.h"
#include "train/combo_tagger.h"
#include "train/conll.h"
#include "train/knn_tagger.h"
#include "train/neural_backend.h"
#include "train/neural_tagger.h"

namespace ragft::decide {

namespace fs = std::filesystem;

namespace {

constexpr int kCacheVersion = 1;
constexpr const char* kNeuralEnv = "RAGFT_DECIDE_TAGGER_NEURAL";
constexpr std::size_t kMinSliceEntities = 5;  // freshness: eval entities a held-back type needs

void say(const BakeoffOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

nlohmann::json interval_json(const Interval& q) { return {{"value", q.value}, {"ci_low", q.low}, {"ci_high", q.high}}; }

// ---- data ----

struct ExtractionData {
  std::vector<TaggedSentence> train, dev, eval;  // dev empty when data.dev is not given
};

Result<std::vector<TaggedSentence>> load_split(const fs::path& path, const char* field, const BakeoffOptions* o) {
  RAGFT_TRY(ConllData d, read_conll(path));
  if (o) {
    for (const auto& w : d.warnings) say(*o, "warning: " + w);
    if (d.malformed_lines > d.warnings.size()) {
      std::size_t more = d.malformed_lines - d.warnings.size();
      say(*o, fmt::format("warning: {}: {} more malformed lines", path.string(), more));
    }
  }
  if (d.sentences.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "data.{}: no sentences in {} (expected CoNLL token<TAB>tag lines)",
                      field, path.string());
  }
  return std::move(d.sentences);
}

Result<ExtractionData> load_extraction(const Project& p, const BakeoffOptions* o) {
  const DataSpec& d = p.data;
  if (d.train.empty()) return make_error(ErrorCode::kInvalidArgument, "data.train: required for task extraction");
  if (d.eval.empty()) return make_error(ErrorCode::kInvalidArgument, "data.eval: required for task extraction");
  ExtractionData out;
  RAGFT_TRY(out.train, load_split(d.train, "train", o));
  if (!d.dev.empty()) {
    RAGFT_TRY(out.dev, load_split(d.dev, "dev", o));
  }
  RAGFT_TRY(out.eval, load_split(d.eval, "eval", o));
  return out;
}

// The "labeled" profile object:
//   "train", "dev" (when data.dev is given), "eval": extraction_data_checks() per split —
//     sentences, tokens, entities, entities_per_type, mean_sentence_tokens,
//     sentences_without_entities; dev/eval also unseen_entities, unseen_entities_per_type and
//     unseen_share (entity surface forms, case-folded, never tagged in train);
//   "examples": training sentences; "eval_examples": eval sentences; "unit": "sentences";
//   "entity_types": the types of the training entities, sorted;
//   "unseen_share": the eval split's unseen_share (W-NUT'17's "emerging" rate).
nlohmann::json labeled_profile(const ExtractionData& d) {
  std::map<std::string, const std::vector<TaggedSentence>*> evals = {{"eval", &d.eval}};
  if (!d.dev.empty()) evals["dev"] = &d.dev;
  nlohmann::json j = extraction_data_checks(d.train, evals);
  nlohmann::json types = nlohmann::json::array();
  for (const auto& [t, n] : j["train"]["entities_per_type"].items()) types.push_back(t);
  j["examples"] = d.train.size();
  j["eval_examples"] = d.eval.size();
  j["unit"] = "sentences";
  j["entity_types"] = types;
  j["unseen_share"] = j["eval"]["unseen_share"];
  return j;
}

nlohmann::json profile_of(const ExtractionData& d) {
  return {{"corpus", nullptr},
          {"labeled", labeled_profile(d)},
          {"eval", profile_eval(d.eval.size(), "sentences").to_json()}};
}

// ---- scoring ----

// Per-sentence chunk counts of one arm on the eval sentences.
struct ArmCounts {
  std::vector<ChunkCounts> all;                              // one per sentence
  std::map<std::string, std::vector<ChunkCounts>> per_type;  // type -> one per sentence
};

ChunkCounts sum(const std::vector<ChunkCounts>& v, const std::vector<std::size_t>& idx) {
  ChunkCounts c;
  for (std::size_t i : idx) {
    c.correct += v[i].correct;
    c.guessed += v[i].guessed;
    c.gold += v[i].gold;
  }
  return c;
}

IndexStatistic f1_statistic(const std::vector<ChunkCounts>& v) {
  return [&v](const std::vector<std::size_t>& idx) { return sum(v, idx).f1(); };
}

// Tags every eval sentence with `tag` (single thread, timed) and keeps the counts in arm.extra.
template <typename Tag>
Status measure(const std::vector<TaggedSentence>& eval, Tag&& tag, ArmResult& arm) {
  nlohmann::json counts = nlohmann::json::array();
  nlohmann::json type_counts = nlohmann::json::object();
  arm.latency_ms.clear();
  arm.per_item.clear();
  for (std::size_t i = 0; i < eval.size(); ++i) {
    Stopwatch w;
    std::vector<std::string> guess = tag(eval[i].tokens);
    arm.latency_ms.push_back(w.ms());
    ConllevalAccumulator acc;
    RAGFT_TRY_STATUS(acc.add(eval[i].tags, guess));
    const ConllevalResult& r = acc.result();
    counts.push_back({r.overall.correct, r.overall.guessed, r.overall.gold});
    for (const auto& [type, c] : r.per_type) {
      if (c.correct + c.guessed + c.gold == 0) continue;
      type_counts[type].push_back({i, c.correct, c.guessed, c.gold});
    }
  }
  arm.extra["counts"] = std::move(counts);
  arm.extra["type_counts"] = std::move(type_counts);
  return ok_status();
}

// The counts kept in arm.extra; nullopt when missing, damaged or not for `n` sentences (such a
// cache entry is not used: the arm is rerun).
std::optional<ArmCounts> counts_of(const ArmResult& arm, std::size_t n) {
  try {
    const auto& c = arm.extra.at("counts");
    if (c.size() != n) return std::nullopt;
    ArmCounts out;
    out.all.reserve(n);
    for (const auto& x : c) {
      out.all.push_back({x.at(0).get<std::size_t>(), x.at(1).get<std::size_t>(), x.at(2).get<std::size_t>()});
    }
    for (const auto& [type, rows] : arm.extra.at("type_counts").items()) {
      auto& v = out.per_type[type];
      v.assign(n, ChunkCounts{});
      for (const auto& x : rows) {
        std::size_t i = x.at(0).get<std::size_t>();
        if (i >= n) return std::nullopt;
        v[i] = {x.at(1).get<std::size_t>(), x.at(2).get<std::size_t>(), x.at(3).get<std::size_t>()};
      }
    }
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// ---- training ----

struct Setup {
  NeuralTaggerOptions neural;
  std::string knn_key = "tagger-knn:select";  // the kNN arm's settings are selected on validation
  std::string combo_key() const { return fmt::format("tagger-combo:rule=select;{};{}", neural.to_config(), knn_key); }
};

Result<NeuralTaggerOptions> neural_options(std::uint64_t seed) {
  const char* env = std::getenv(kNeuralEnv);
  auto o = NeuralTaggerOptions::parse(env ? env : "");
  if (!o.ok()) return make_error(ErrorCode::kInvalidArgument, "{}: {}", kNeuralEnv, o.error().message);
  o->seed = seed;
  return *o;
}

NeuralTaggerHooks neural_hooks(const BakeoffOptions& o, const std::string& who) {
  NeuralTaggerHooks h;
  h.log = [&o, who](const std::string& line) { say(o, fmt::format("  {}: {}", who, line)); };
  return h;
}

// The sentences the combination rule is chosen on, and the kNN tagger that is scored on them
// (see the file comment). `knn` is the final kNN tagger.
struct RuleChoice {
  ComboRule rule = ComboRule::kFill;
  double f1 = 0;
  std::string source;
  nlohmann::json per_rule = nlohmann::json::object();
};

Result<RuleChoice> choose_rule(const Extractor& neural, const KnnTagger& knn, const std::vector<TaggedSentence>& train,
                               const std::vector<TaggedSentence>& dev) {
  RuleChoice out;
  std::vector<TaggedSentence> fit, holdout;
  std::unique_ptr<KnnTagger> fit_knn;
  const std::vector<TaggedSentence>* val = &dev;
  const Extractor* secondary = &knn;
  out.source = "dev";
  if (dev.empty()) {
    for (std::size_t i = 0; i < train.size(); ++i) (i % 10 == 9 ? holdout : fit).push_back(train[i]);
    if (holdout.empty() || fit.empty()) {  // tiny sets: the taggers validated on train itself
      val = &train;
      out.source = "train";
    } else {
      RAGFT_TRY(fit_knn, KnnTagger::build(fit, knn.options()));
      secondary = fit_knn.get();
      val = &holdout;
      out.source = "train-holdout";
    }
  }
  std::vector<std::vector<std::string>> a, b;
  for (const auto& s : *val) {
    a.push_back(neural.predict(s.tokens));
    b.push_back(secondary->predict(s.tokens));
  }
  bool have = false;
  for (ComboRule r : kComboRules) {
    ConllevalAccumulator acc;
    for (std::size_t i = 0; i < val->size(); ++i) {
      RAGFT_TRY_STATUS(acc.add((*val)[i].tags, combine_tags(r, a[i], b[i])));
    }
    const ChunkCounts& c = acc.result().overall;
    out.per_rule[combo_rule_name(r)] = c.f1();
    if (!have || c.f1() > out.f1) have = true, out.f1 = c.f1(), out.rule = r;
  }
  return out;
}

Status save_model(const Extractor& m, const fs::path& dir, ArmResult& arm) {
  std::error_code ec;
  fs::remove_all(dir, ec);  // a previous model of another kind must not count towards disk_bytes
  RAGFT_TRY_STATUS(m.save(dir));
  arm.disk_bytes = directory_bytes(dir);
  return ok_status();
}

// ---- freshness ----

struct Slice {
  std::string type;
  std::vector<TaggedSentence> reduced_train;
  std::vector<std::size_t> eval_items;  // eval sentences with a gold entity of `type`
  std::size_t type_entities = 0, train_entities = 0, held_sentences = 0;
};

std::optional<Slice> freshness_slice(const ExtractionData& d, double fraction) {
  std::map<std::string, std::size_t> train_counts, eval_counts;
  std::size_t total = 0;
  for (const auto& s : d.train) {
    for (const auto& m : entity_mentions(s.tokens, s.tags)) ++train_counts[m.type], ++total;
  }
  for (const auto& s : d.eval) {
    for (const auto& m : entity_mentions(s.tokens, s.tags)) ++eval_counts[m.type];
  }
  if (train_counts.size() < 2) return std::nullopt;
  Slice out;
  double best = 2;
  for (const auto& [type, n] : train_counts) {
    if (eval_counts[type] < kMinSliceEntities) continue;
    double dist = std::fabs(static_cast<double>(n) / static_cast<double>(total) - fraction);
    if (dist < best) best = dist, out.type = type;
  }
  if (out.type.empty()) return std::nullopt;
  auto has_type = [&](const TaggedSentence& s) {
    auto ms = entity_mentions(s.tokens, s.tags);
    return std::any_of(ms.begin(), ms.end(), [&](const EntityMention& m) { return m.type == out.type; });
  };
  std::size_t kept_entities = 0;
  for (const auto& s : d.train) {
    if (has_type(s)) {
      ++out.held_sentences;
    } else {
      kept_entities += entity_mentions(s.tokens, s.tags).size();
      out.reduced_train.push_back(s);
    }
  }
  if (out.reduced_train.empty() || kept_entities == 0) return std::nullopt;
  for (std::size_t i = 0; i < d.eval.size(); ++i) {
    if (has_type(d.eval[i])) out.eval_items.push_back(i);
  }
  out.type_entities = train_counts[out.type];
  out.train_entities = total;
  return out;
}

// Counts of `type` on the slice's sentences (dense, in slice order).
template <typename Tag>
Result<std::vector<ChunkCounts>> slice_counts(const ExtractionData& d, const Slice& s, Tag&& tag) {
  std::vector<ChunkCounts> out;
  for (std::size_t i : s.eval_items) {
    ConllevalAccumulator acc;
    RAGFT_TRY_STATUS(acc.add(d.eval[i].tags, tag(d.eval[i].tokens)));
    auto it = acc.result().per_type.find(s.type);
    out.push_back(it == acc.result().per_type.end() ? ChunkCounts{} : it->second);
  }
  return out;
}

struct SliceFigures {
  Interval f1;
  double recall = 0;
};

SliceFigures figures(const std::vector<ChunkCounts>& v, const BakeoffSpec& b) {
  SliceFigures f;
  f.f1 = bootstrap_statistic(v.size(), f1_statistic(v), b.bootstrap_samples, 0.95, b.seed);
  std::vector<std::size_t> all(v.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  f.recall = sum(v, all).recall();
  return f;
}

Result<nlohmann::json> run_freshness(const Project& p, const BakeoffOptions& o, const Setup& setup,
                                     const ExtractionData& d, const std::vector<ArmResult>& arms,
                                     const NeuralBackend* backend) {
  const BakeoffSpec& b = p.bakeoff;
  auto slice = freshness_slice(d, b.freshness);
  if (!slice) {
    say(o, fmt::format("freshness: skipped (needs two entity types, one with >= {} eval entities, and training "
                       "entities left once it is held back)",
                       kMinSliceEntities));
    return nlohmann::json(nullptr);
  }
  std::map<std::string, const ArmResult*> by_id;
  for (const auto& a : arms) by_id[a.id] = &a;
  const ArmResult* knn_arm = by_id.count("rag")              ? by_id["rag"]
                             : by_id.count("fine_tuned_rag") ? by_id["fine_tuned_rag"]
                                                             : nullptr;
  bool want_neural = backend && (by_id.count("fine_tuned") || by_id.count("fine_tuned_rag"));
  std::string description = fmt::format(
      "entity type \"{}\" ({} of {} training entities, {:.1f}%; {} training sentences) held back as new knowledge; "
      "value: {} F1 (conlleval) on the {} eval sentences containing it",
      slice->type, slice->type_entities, slice->train_entities,
      100.0 * static_cast<double>(slice->type_entities) / static_cast<double>(slice->train_entities),
      slice->held_sentences, slice->type, slice->eval_items.size());
  say(o, "freshness: " + description);

  // Before: taggers built without the held-back sentences, same settings as the main arms.
  std::unique_ptr<Extractor> knn_before, neural_before;
  KnnTaggerOptions knn_opts;
  std::map<std::string, std::vector<ChunkCounts>> before;
  if (knn_arm) {
    RAGFT_TRY(knn_opts, KnnTaggerOptions::parse(knn_arm->extra.value("knn_config", std::string())));
    RAGFT_TRY(knn_before, KnnTagger::build(slice->reduced_train, knn_opts));
    RAGFT_TRY(before["rag"], slice_counts(d, *slice, [&](const auto& t) { return knn_before->predict(t); }));
  }
  if (want_neural) {
    say(o, fmt::format("freshness: training the neural tagger on {} sentences", slice->reduced_train.size()));
    RAGFT_TRY(neural_before,
              backend->train_tagger(slice->reduced_train, d.dev, setup.neural, neural_hooks(o, "freshness")));
    RAGFT_TRY(before["fine_tuned"], slice_counts(d, *slice, [&](const auto& t) { return neural_before->predict(t); }));
  }
  if (by_id.count("fine_tuned_rag") && knn_before && neural_before) {
    std::string rule = by_id["fine_tuned_rag"]->extra.value("rule", std::string("fill"));
    RAGFT_TRY(ComboTaggerOptions co, ComboTaggerOptions::parse("tagger-combo:rule=" + rule));
    RAGFT_TRY(auto combo, ComboTagger::make(std::move(neural_before), std::move(knn_before), co));
    RAGFT_TRY(before["fine_tuned_rag"], slice_counts(d, *slice, [&](const auto& t) { return combo->predict(t); }));
  }

  nlohmann::json out = {{"description", description},
                        {"entity_type", slice->type},
                        {"new_items", slice->eval_items.size()},
                        {"held_back_sentences", slice->held_sentences},
                        {"arms", nlohmann::json::array()}};
  for (const ArmResult& a : arms) {
    if (!before.count(a.id)) continue;
    auto counts = counts_of(a, d.eval.size());
    if (!counts) continue;
    std::vector<ChunkCounts> after;
    const auto it = counts->per_type.find(slice->type);
    for (std::size_t i : slice->eval_items) {
      after.push_back(it == counts->per_type.end() ? ChunkCounts{} : it->second[i]);
    }
    nlohmann::json row = {{"id", a.id}};
    if (a.id == "rag") {
      Stopwatch w;
      RAGFT_TRY(auto rebuilt, KnnTagger::build(d.train, knn_opts));
      row["update"] = "re-index";
      row["time_to_fresh_s"] = w.seconds();
    } else {
      row["update"] = "retrain";
      row["time_to_fresh_s"] = a.build_seconds;
    }
    SliceFigures bf = figures(before[a.id], b), af = figures(after, b);
    row["before"] = interval_json(bf.f1);
    row["after"] = interval_json(af.f1);
    row["recall_before"] = bf.recall;
    row["recall_after"] = af.recall;
    out["arms"].push_back(std::move(row));
  }
  return out;
}

}  // namespace

Result<nlohmann::json> profile_extraction(const Project& p) {
  RAGFT_TRY(ExtractionData d, load_extraction(p, nullptr));
  return profile_of(d);
}

Result<Bakeoff> run_extraction_bakeoff(const Project& p, const BakeoffOptions& o) {
  const BakeoffSpec& b = p.bakeoff;
  RAGFT_TRY(ExtractionData d, load_extraction(p, &o));
  Bakeoff out;
  out.metric = {{"name", "f1"}, {"label", "entity F1"}, {"higher_is_better", true}};
  out.profile = profile_of(d);
  out.labeled_examples = static_cast<long>(d.train.size());

  Setup setup;
  RAGFT_TRY(setup.neural, neural_options(b.seed));
  nlohmann::json inputs = {{"v", kCacheVersion},
                           {"task", "extraction"},
                           {"train", conll_data_hash(d.train)},
                           {"dev", d.dev.empty() ? std::string() : conll_data_hash(d.dev)},
                           {"eval", conll_data_hash(d.eval)},
                           {"seed", b.seed},
                           {"bootstrap", b.bootstrap_samples}};
  std::map<std::string, std::string> configs = {{"baseline", "tagger-none"},
                                                {"rag", setup.knn_key},
                                                {"fine_tuned", setup.neural.to_config()},
                                                {"fine_tuned_rag", setup.combo_key()}};
  ArmLedger ledger(p, o, inputs, configs);
  // Cached arms must carry their per-sentence counts (the comparisons need them).
  out.cached_arms = ledger.load([&](const ArmResult& a) { return counts_of(a, d.eval.size()).has_value(); });
  auto missing = [&](const std::string& id) { return ledger.missing(id); };
  // A finished arm gets its interval from its counts, then the ledger caches it.
  auto finish = [&](ArmResult a) -> Status {
    auto c = counts_of(a, d.eval.size());
    RAGFT_CHECK(c.has_value());  // measure() put them there
    a.quality = bootstrap_statistic(d.eval.size(), f1_statistic(c->all), b.bootstrap_samples, 0.95, b.seed);
    return ledger.finish(std::move(a));
  };

  // The neural tagger library, loaded only when something is trained with it (loading libtorch
  // costs ~0.4 s); without it the neural arms (or freshness rows) are skipped, not failed.
  auto backend_for = [&](const std::string& what) -> const NeuralBackend* {
    auto be = neural_backend();
    if (be.ok()) return *be;
    say(o, fmt::format("{}: skipped: {}", what, be.error().message));
    return nullptr;
  };

  if (missing("baseline")) {
    ArmResult a;
    a.id = "baseline";
    a.name = "no entities (every token O)";
    a.config = configs["baseline"];
    a.note = "knows nothing: tags every token O, so entity F1 is 0 by construction";
    auto none = [](const std::vector<std::string>& t) { return std::vector<std::string>(t.size(), "O"); };
    RAGFT_TRY_STATUS(measure(d.eval, none, a));
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }

  const fs::path models = o.cache_dir / "models";
  // kNN first: its peak memory must not include libtorch, which the neural arms load.
  bool need_knn = missing("rag") || missing("fine_tuned_rag");
  std::unique_ptr<KnnTagger> knn;
  std::unique_ptr<Extractor> neural;
  double knn_seconds = 0, knn_mb = 0, neural_seconds = 0, neural_mb = 0;
  if (need_knn) {
    say(o, fmt::format("rag: selecting and building the kNN tagger on {} sentences", d.train.size()));
    reset_peak_rss();
    Stopwatch w;
    KnnTaggerSelection sel;
    RAGFT_TRY(knn, KnnTagger::train(d.train, d.dev, &sel));
    knn_seconds = w.seconds();
    knn_mb = peak_rss_mb();
    ArmResult a;
    a.id = "rag";
    a.name = "kNN tagger (BM25 neighbour projection + gazetteer)";
    a.config = knn->config();
    a.capabilities = {true, true, "incremental"};
    a.extra["knn_config"] = knn->config();
    a.note = fmt::format("options chosen on {} ({} configs, validation F1 {:.3f}); cites the training sentences and "
                         "gazetteer entries it tags from",
                         sel.validation_source, sel.configs_tried, sel.validation_f1);
    RAGFT_TRY_STATUS(measure(d.eval, [&](const auto& t) { return knn->predict(t); }, a));
    a.build_seconds = knn_seconds;
    a.peak_mb = knn_mb;
    RAGFT_TRY_STATUS(save_model(*knn, models / "rag", a));
    if (missing("rag")) RAGFT_TRY_STATUS(finish(std::move(a)));
  }
  const NeuralBackend* backend =
      missing("fine_tuned") || missing("fine_tuned_rag") ? backend_for("fine_tuned, fine_tuned_rag") : nullptr;
  if (backend) {
    say(o, fmt::format("fine_tuned: training the neural tagger on {} sentences ({})", d.train.size(),
                       setup.neural.to_config()));
    reset_peak_rss();
    Stopwatch w;
    RAGFT_TRY(neural, backend->train_tagger(d.train, d.dev, setup.neural, neural_hooks(o, "fine_tuned")));
    neural_seconds = w.seconds();
    neural_mb = peak_rss_mb();
    ArmResult a;
    a.id = "fine_tuned";
    a.name = "fine-tuned BiLSTM-CRF tagger (libtorch)";
    a.config = neural->config();
    a.capabilities = {false, false, "retrain"};
    a.extra["neural_config"] = neural->config();
    const nlohmann::json v = neural->record().metrics.value("validation", nlohmann::json::object());
    a.note = fmt::format("best epoch {} of {} on {} (validation F1 {:.3f})", v.value("best_epoch", 0),
                         v.value("epochs_run", 0), v.value("source", std::string("?")), v.value("f1", 0.0));
    RAGFT_TRY_STATUS(measure(d.eval, [&](const auto& t) { return neural->predict(t); }, a));
    a.build_seconds = neural_seconds;
    a.peak_mb = neural_mb;
    RAGFT_TRY_STATUS(save_model(*neural, models / "fine_tuned", a));
    if (missing("fine_tuned")) RAGFT_TRY_STATUS(finish(std::move(a)));
  }
  if (missing("fine_tuned_rag") && knn && neural) {
    Stopwatch w;
    RAGFT_TRY(RuleChoice choice, choose_rule(*neural, *knn, d.train, d.dev));
    std::string knn_config = knn->config(), neural_config = neural->config();
    ComboTaggerOptions co;
    co.rule = choice.rule;
    RAGFT_TRY(auto combo, ComboTagger::make(std::move(neural), std::move(knn), co));
    double choose_seconds = w.seconds();
    ArmResult a;
    a.id = "fine_tuned_rag";
    a.name = "BiLSTM-CRF + kNN tagger combination";
    a.config = fmt::format("{};{};{}", combo->config(), neural_config, knn_config);
    a.capabilities = {true, false, "retrain"};
    a.extra["rule"] = combo_rule_name(choice.rule);
    a.extra["knn_config"] = knn_config;
    a.extra["neural_config"] = neural_config;
    a.extra["per_rule_f1"] = choice.per_rule;
    a.note = fmt::format("rule {} chosen on {} (validation F1 {:.3f})", combo_rule_name(choice.rule), choice.source,
                         choice.f1);
    RAGFT_TRY_STATUS(measure(d.eval, [&](const auto& t) { return combo->predict(t); }, a));
    a.build_seconds = knn_seconds + neural_seconds + choose_seconds;
    a.peak_mb = std::max(knn_mb, neural_mb);
    RAGFT_TRY_STATUS(save_model(*combo, models / "fine_tuned_rag", a));
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }

  std::map<std::string, ArmCounts> counts;  // for the comparisons
  out.arms = ledger.take();
  for (const ArmResult& a : out.arms) {
    auto c = counts_of(a, d.eval.size());
    RAGFT_CHECK(c.has_value());  // measure() or the check in load() put them there
    counts[a.id] = std::move(*c);
  }
  for (std::size_t i = 0; i < out.arms.size(); ++i) {
    for (std::size_t j = i + 1; j < out.arms.size(); ++j) {
      const std::string &ia = out.arms[i].id, &ib = out.arms[j].id;
      Interval diff = paired_bootstrap_statistic_diff(d.eval.size(), f1_statistic(counts[ia].all),
                                                      f1_statistic(counts[ib].all), b.bootstrap_samples, 0.95, b.seed);
      out.comparisons.push_back({{"a", ia},
                                 {"b", ib},
                                 {"diff", diff.value},
                                 {"ci_low", diff.low},
                                 {"ci_high", diff.high},
                                 {"distinguishable", diff.low > 0 || diff.high < 0}});
    }
  }

  bool learned = std::any_of(out.arms.begin(), out.arms.end(), [](const ArmResult& a) { return a.id != "baseline"; });
  if (b.freshness > 0 && learned) {
    RAGFT_TRY(out.freshness, ledger.freshness(out.arms, b.freshness, [&]() -> Result<nlohmann::json> {
      bool neural_arms = std::any_of(out.arms.begin(), out.arms.end(),
                                     [](const ArmResult& a) { return a.id.starts_with("fine_tuned"); });
      const NeuralBackend* fresh_backend = neural_arms ? backend_for("freshness of the neural arms") : nullptr;
      return run_freshness(p, o, setup, d, out.arms, fresh_backend);
    }));
  }
  return out;
}

}  // namespace ragft::decide
