#include "train/data_checks.h"

#include <unordered_map>

namespace ragft {

std::string normalize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

namespace {

std::string join_labels(const std::vector<std::string>& labels) {
  std::string s;
  for (const auto& l : labels) {
    if (!s.empty()) s += ',';
    s += l;
  }
  return s;
}

void add_sample(DataFinding& f, std::size_t max, nlohmann::json sample) {
  ++f.count;
  if (f.samples.size() < max) f.samples.push_back(std::move(sample));
}

nlohmann::json finding_json(const DataFinding& f) { return {{"count", f.count}, {"samples", f.samples}}; }

}  // namespace

Result<DataReport> check_data(const Dataset& train, const Dataset* eval, const DataCheckOptions& o) {
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(o.analyzer));
  DataReport r;
  r.min_per_class = o.min_per_class;
  r.examples = train.examples.size();
  r.multi_label = train.multi_label();
  for (const auto& e : train.examples) {
    for (const auto& l : e.labels) ++r.label_counts[l];
  }
  for (const auto& [l, n] : r.label_counts) {
    if (n < o.min_per_class) r.rare_labels.push_back(l);
  }

  struct Seen {
    std::size_t first = 0;  // index of the first example with this key
    std::string labels;     // its labels, sorted and joined
    bool conflict_reported = false;
  };
  std::unordered_map<std::string, Seen> by_text;
  std::unordered_map<std::string, std::size_t> by_terms;
  std::vector<std::string> terms;
  for (std::size_t i = 0; i < train.examples.size(); ++i) {
    const Example& e = train.examples[i];
    std::vector<std::string> sorted = e.labels;
    std::sort(sorted.begin(), sorted.end());
    std::string labels = join_labels(sorted);
    std::string norm = normalize_text(e.text);
    auto [it, fresh] = by_text.try_emplace(norm, Seen{i, labels, false});
    terms.clear();
    analyzer.terms(e.text, terms);
    std::string key;
    for (const auto& t : terms) {
      key += t;
      key += '\x1f';
    }
    if (!fresh) {
      const Example& first = train.examples[it->second.first];
      add_sample(r.exact_duplicates, o.max_samples,
                 {{"lines", {first.line, e.line}}, {"text", e.text}});
      if (it->second.labels != labels && !it->second.conflict_reported) {
        it->second.conflict_reported = true;
        add_sample(r.conflicting_labels, o.max_samples,
                   {{"lines", {first.line, e.line}}, {"text", e.text}, {"labels", {it->second.labels, labels}}});
      }
      continue;
    }
    if (key.empty()) continue;
    auto [t, tfresh] = by_terms.try_emplace(key, i);
    if (!tfresh) {
      const Example& first = train.examples[t->second];
      add_sample(r.near_duplicates, o.max_samples,
                 {{"lines", {first.line, e.line}}, {"text", e.text}, {"other", first.text}});
    }
  }
  if (eval) {
    r.eval_examples = eval->examples.size();
    for (const auto& e : eval->examples) {
      auto it = by_text.find(normalize_text(e.text));
      if (it == by_text.end()) continue;
      add_sample(r.leakage, o.max_samples,
                 {{"lines", {train.examples[it->second.first].line, e.line}}, {"text", e.text}});
    }
  }
  return r;
}

nlohmann::json DataReport::to_json() const {
  nlohmann::json j = {{"examples", examples},
                      {"multi_label", multi_label},
                      {"label_counts", label_counts},
                      {"min_per_class", min_per_class},
                      {"rare_labels", rare_labels},
                      {"exact_duplicates", finding_json(exact_duplicates)},
                      {"near_duplicates", finding_json(near_duplicates)},
                      {"conflicting_labels", finding_json(conflicting_labels)}};
  if (eval_examples) {
    j["leakage"] = finding_json(leakage);
    j["leakage"]["eval_examples"] = eval_examples;
    j["leakage"]["fraction"] = static_cast<double>(leakage.count) / static_cast<double>(eval_examples);
  }
  return j;
}

std::string DataReport::to_text() const {
  std::string s = fmt::format("data: {} examples, {} labels{}\n", examples, label_counts.size(),
                              multi_label ? " (multi-label)" : "");
  for (const auto& [l, n] : label_counts) {
    s += fmt::format("  {:<24} {:>7}  {:5.1f}%\n", l, n, examples ? 100.0 * static_cast<double>(n) / static_cast<double>(examples) : 0.0);
  }
  if (!rare_labels.empty()) {
    std::string ls;
    for (const auto& l : rare_labels) {
      if (!ls.empty()) ls += ", ";
      ls += l;
    }
    s += fmt::format("warning: {} classes with fewer than {} examples: {}\n", rare_labels.size(), min_per_class, ls);
  }
  auto line = [&](const char* what, const DataFinding& f) {
    if (!f.count) return;
    s += fmt::format("warning: {} {}", f.count, what);
    if (!f.samples.empty()) {
      const auto& x = f.samples.front();
      s += fmt::format(" (e.g. lines {} and {}: \"{}\")", x["lines"][0].get<std::size_t>(),
                       x["lines"][1].get<std::size_t>(), x["text"].get<std::string>().substr(0, 60));
    }
    s += '\n';
  };
  line("exact duplicates", exact_duplicates);
  line("near-duplicates (same analysed terms)", near_duplicates);
  line("texts with conflicting labels", conflicting_labels);
  if (eval_examples) {
    if (leakage.count) {
      line("eval examples also in train (leakage; lines are train, eval)", leakage);
    } else {
      s += fmt::format("eval: {} examples, none found in train\n", eval_examples);
    }
  }
  return s;
}

}  // namespace ragft
