#include "train/combo_tagger.h"

#include <chrono>
#include <set>

#include <fmt/format.h>

#include "core/check.h"
#include "core/config_string.h"
#include "core/env.h"
#include "evaluate/conlleval.h"

namespace ragft {

namespace fs = std::filesystem;

const char* combo_rule_name(ComboRule rule) {
  switch (rule) {
    case ComboRule::kFirst: return "first";
    case ComboRule::kSecond: return "second";
    case ComboRule::kFill: return "fill";
    case ComboRule::kFill2: return "fill2";
    case ComboRule::kAgree: return "agree";
  }
  return "?";
}

std::string ComboTaggerOptions::to_config() const { return fmt::format("tagger-combo:rule={}", combo_rule_name(rule)); }

Result<ComboTaggerOptions> ComboTaggerOptions::parse(std::string_view config) {
  ComboTaggerOptions o;
  RAGFT_TRY(auto items, config_items(config, "tagger-combo"));
  for (const auto& [key, v] : items) {
    if (key != "rule") {
      return make_error(ErrorCode::kInvalidArgument, "tagger-combo config \"{}\": unknown key \"{}\" (known: rule)",
                        config, key);
    }
    bool found = false;
    for (ComboRule r : kComboRules) {
      if (v == combo_rule_name(r)) {
        o.rule = r;
        found = true;
      }
    }
    if (!found) {
      return make_error(ErrorCode::kInvalidArgument,
                        "tagger-combo config: rule=\"{}\" (known: first, second, fill, fill2, agree)", v);
    }
  }
  return o;
}

namespace {

// Writes `c` into `tags` as B-/I- tags.
void put_chunk(std::vector<std::string>& tags, const Chunk& c) {
  for (std::size_t i = c.start; i < c.end && i < tags.size(); ++i) tags[i] = (i == c.start ? "B-" : "I-") + c.type;
}

// `base`'s chunks plus `extra`'s chunks that lie entirely on tokens `base` left outside chunks.
std::vector<std::string> fill(const std::vector<std::string>& base, const std::vector<std::string>& extra) {
  const std::size_t n = base.size();
  std::vector<std::string> out(n, "O");
  std::vector<bool> taken(n, false);
  for (const Chunk& c : extract_chunks(base)) {
    put_chunk(out, c);
    for (std::size_t i = c.start; i < c.end && i < n; ++i) taken[i] = true;
  }
  for (const Chunk& c : extract_chunks(extra)) {
    bool free = c.end <= n;
    for (std::size_t i = c.start; i < c.end && free; ++i) free = !taken[i];
    if (free) put_chunk(out, c);
  }
  return out;
}

}  // namespace

std::vector<std::string> combine_tags(ComboRule rule, const std::vector<std::string>& primary,
                                      const std::vector<std::string>& secondary) {
  RAGFT_CHECK(primary.size() == secondary.size());
  switch (rule) {
    case ComboRule::kFirst: return to_bio(primary);
    case ComboRule::kSecond: return to_bio(secondary);
    case ComboRule::kFill: return fill(primary, secondary);
    case ComboRule::kFill2: return fill(secondary, primary);
    case ComboRule::kAgree: {
      std::vector<std::string> out(primary.size(), "O");
      auto b = extract_chunks(secondary);
      for (const Chunk& c : extract_chunks(primary)) {
        if (std::find(b.begin(), b.end(), c) != b.end()) put_chunk(out, c);
      }
      return out;
    }
  }
  return to_bio(primary);
}

Result<std::unique_ptr<ComboTagger>> ComboTagger::make(std::unique_ptr<Extractor> primary,
                                                      std::unique_ptr<Extractor> secondary,
                                                      const ComboTaggerOptions& options) {
  if (!primary || !secondary) return make_error(ErrorCode::kInvalidArgument, "tagger-combo: a sub-model is missing");
  std::unique_ptr<ComboTagger> m(new ComboTagger());
  m->options_ = options;
  m->record().train_data_hash = primary->record().train_data_hash;
  m->record().train_seconds = primary->record().train_seconds + secondary->record().train_seconds;
  m->primary_ = std::move(primary);
  m->secondary_ = std::move(secondary);
  return m;
}

Result<std::unique_ptr<ComboTagger>> ComboTagger::choose(std::unique_ptr<Extractor> primary,
                                                        std::unique_ptr<Extractor> secondary,
                                                        const std::vector<TaggedSentence>& validation,
                                                        ComboTaggerSelection* selection) {
  auto t0 = std::chrono::steady_clock::now();
  if (validation.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "tagger-combo: no validation sentences to choose the rule on");
  }
  RAGFT_TRY(std::unique_ptr<ComboTagger> m, make(std::move(primary), std::move(secondary), {}));
  std::vector<std::vector<std::string>> a, b;
  for (const auto& s : validation) {
    a.push_back(m->primary_->predict(s.tokens));
    b.push_back(m->secondary_->predict(s.tokens));
  }
  ComboTaggerSelection sel;
  ConllevalResult best;
  bool have = false;
  for (ComboRule r : kComboRules) {
    ConllevalAccumulator acc;
    for (std::size_t i = 0; i < validation.size(); ++i) {
      RAGFT_TRY_STATUS(acc.add(validation[i].tags, combine_tags(r, a[i], b[i])));
    }
    const auto& c = acc.result().overall;
    sel.per_rule[combo_rule_name(r)] = {{"f1", c.f1()}, {"precision", c.precision()}, {"recall", c.recall()}};
    if (!have || c.f1() > sel.validation_f1) {
      have = true;
      sel.validation_f1 = c.f1();
      sel.chosen.rule = r;
      best = acc.result();
    }
  }
  m->options_ = sel.chosen;
  nlohmann::json v = best.to_json();
  v["rule"] = combo_rule_name(sel.chosen.rule);
  v["per_rule"] = sel.per_rule;
  m->record().metrics["validation"] = v;
  m->record().train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (selection) *selection = std::move(sel);
  return m;
}

std::vector<std::string> ComboTagger::predict(const std::vector<std::string>& tokens) const {
  if (tokens.empty()) return {};
  switch (options_.rule) {
    case ComboRule::kFirst: return to_bio(primary_->predict(tokens));
    case ComboRule::kSecond: return to_bio(secondary_->predict(tokens));
    default: return combine_tags(options_.rule, primary_->predict(tokens), secondary_->predict(tokens));
  }
}

std::vector<std::string> ComboTagger::labels() const {
  std::set<std::string> all;
  for (const auto& l : primary_->labels()) all.insert(l);
  for (const auto& l : secondary_->labels()) all.insert(l);
  return {all.begin(), all.end()};
}

nlohmann::json ComboTagger::extra() const {
  return {{"primary", {{"dir", "primary"}, {"kind", primary_->kind()}, {"config", primary_->config()}}},
          {"secondary", {{"dir", "secondary"}, {"kind", secondary_->kind()}, {"config", secondary_->config()}}}};
}

Status ComboTagger::save_files(const fs::path& dir) const {
  RAGFT_TRY_STATUS(primary_->save(dir / "primary"));
  return secondary_->save(dir / "secondary");
}

Result<std::unique_ptr<ComboTagger>> ComboTagger::load(const fs::path& dir, const ModelManifest& manifest) {
  RAGFT_TRY(ComboTaggerOptions o, ComboTaggerOptions::parse(manifest.config));
  std::unique_ptr<Extractor> sub[2];
  const char* names[2] = {"primary", "secondary"};
  for (int i = 0; i < 2; ++i) {
    auto r = load_extractor(dir / names[i]);
    if (!r.ok()) {
      Error e = r.take_error();
      if (e.code == ErrorCode::kNotFound) {
        return make_error(ErrorCode::kCorrupt, "{}: the {} sub-model is missing ({}); retrain the model",
                          dir.string(), names[i], e.message);
      }
      return e;
    }
    sub[i] = std::move(r).value();
  }
  RAGFT_TRY(std::unique_ptr<ComboTagger> m, make(std::move(sub[0]), std::move(sub[1]), o));
  m->record().train_data_hash = manifest.train_data_hash;
  m->record().metrics = manifest.metrics;
  m->record().train_seconds = manifest.train_seconds;
  return m;
}

}  // namespace ragft
