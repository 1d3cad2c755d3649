#include "train/knn_tagger.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "core/check.h"
#include "core/config_string.h"
#include "core/env.h"
#include "core/log.h"
#include "evaluate/conlleval.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr char kSep = '\x1f';
constexpr std::size_t kMaxPhraseTokens = 16;  // longer entities are not matched

std::vector<std::string> make_keys(const std::vector<std::string>& tokens, bool fold) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (const auto& t : tokens) out.push_back(fold ? fold_case(t) : t);
  return out;
}

std::string join_keys(const std::vector<std::string>& keys, std::size_t start, std::size_t end) {
  std::string out;
  for (std::size_t i = start; i < end; ++i) {
    if (i > start) out += kSep;
    out += keys[i];
  }
  return out;
}

std::string join_text(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

KnnTagger::Tables build_tables(const std::vector<TaggedSentence>& train, bool fold) {
  KnnTagger::Tables t;
  t.fold = fold;
  std::set<std::string> types;
  t.sentence_entities.resize(train.size());
  for (std::size_t s = 0; s < train.size(); ++s) {
    const auto& sent = train[s];
    auto keys = make_keys(sent.tokens, fold);
    for (const Chunk& c : extract_chunks(sent.tags)) {
      std::size_t end = std::min(c.end, keys.size());
      if (end - c.start > kMaxPhraseTokens) continue;
      std::string key = join_keys(keys, c.start, end);
      auto& e = t.gazetteer[key];
      ++e.types[c.type];
      ++e.tagged;
      t.max_len = std::max(t.max_len, end - c.start);
      t.sentence_entities[s].push_back({key, c.type});
      types.insert(c.type);
    }
  }
  // Occurrences of every gazetteer string anywhere in the training text.
  for (const auto& sent : train) {
    auto keys = make_keys(sent.tokens, fold);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      std::string key;
      for (std::size_t len = 1; len <= t.max_len && i + len <= keys.size(); ++len) {
        if (len > 1) key += kSep;
        key += keys[i + len - 1];
        auto it = t.gazetteer.find(key);
        if (it != t.gazetteer.end()) ++it->second.occurrences;
      }
    }
  }
  t.types.assign(types.begin(), types.end());
  return t;
}

Result<fs::path> make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "ragft-knn-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    return make_error(ErrorCode::kIo, "cannot create a temporary directory under {}",
                      fs::temp_directory_path().string());
  }
  return fs::path(tmpl);
}

Result<Bm25Index> build_index(const std::vector<TaggedSentence>& train, const fs::path& dir, Analyzer& analyzer) {
  RAGFT_TRY(Bm25Index index, Bm25Index::open(dir));
  ChunkAttrs attrs;
  std::vector<std::string> terms;
  for (std::size_t s = 0; s < train.size(); ++s) {
    terms.clear();
    analyzer.terms(join_text(train[s].tokens), terms);
    index.add(static_cast<ChunkId>(s), attrs, terms);
  }
  RAGFT_TRY_STATUS(index.commit(1));
  return index;
}

std::vector<ScoredChunk> neighbours(const Bm25Index& index, Analyzer& analyzer, const std::vector<std::string>& tokens,
                                    std::size_t k) {
  if (k == 0) return {};
  std::vector<std::string> terms;
  analyzer.terms(join_text(tokens), terms);
  if (terms.empty()) return {};
  std::vector<QueryTerm> q;
  q.reserve(terms.size());
  for (auto& t : terms) q.push_back({std::move(t), 1.0f});
  return index.search(q, k);
}

// Tags [i, i+len) as an entity of `type`.
void mark(std::vector<std::string>& tags, std::vector<bool>& taken, std::size_t i, std::size_t len,
          const std::string& type) {
  for (std::size_t j = i; j < i + len; ++j) {
    tags[j] = (j == i ? "B-" : "I-") + type;
    taken[j] = true;
  }
}

// Spans of a sentence whose key is in the gazetteer: hits[i] = (length, entry) for spans
// starting at token i, longest first. Every projection candidate is a gazetteer key too (both
// come from the same training entities), so matching only needs these spans.
struct SpanHit {
  std::size_t len = 0;
  const std::string* key = nullptr;
  const KnnTagger::GazEntry* entry = nullptr;
};
using SpanHits = std::vector<std::vector<SpanHit>>;

SpanHits find_hits(const KnnTagger::Tables& t, const std::vector<std::string>& keys) {
  SpanHits hits(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string key;
    for (std::size_t len = 1; len <= t.max_len && i + len <= keys.size(); ++len) {
      if (len > 1) key += kSep;
      key += keys[i + len - 1];
      auto it = t.gazetteer.find(key);
      if (it != t.gazetteer.end()) hits[i].push_back({len, &it->first, &it->second});
    }
    std::reverse(hits[i].begin(), hits[i].end());
  }
  return hits;
}

// Greedy left-to-right, longest-first matching of untaken spans; `lookup(hit)` returns the type
// to assign or nullptr.
template <typename Lookup>
void greedy_match(const SpanHits& hits, std::vector<std::string>& tags, std::vector<bool>& taken, Lookup lookup) {
  std::size_t i = 0;
  while (i < hits.size()) {
    std::size_t matched = 0;
    if (!taken[i]) {
      for (const SpanHit& h : hits[i]) {
        bool free = true;
        for (std::size_t j = i; j < i + h.len && free; ++j) free = !taken[j];
        if (!free) continue;
        if (const std::string* type = lookup(h)) {
          mark(tags, taken, i, h.len, *type);
          matched = h.len;
          break;
        }
      }
    }
    i += matched ? matched : 1;
  }
}

void project(const KnnTagger::Tables& t, const SpanHits& hits, const std::vector<ScoredChunk>& nbrs, std::size_t k,
             double proj_min_ratio, std::vector<std::string>& tags, std::vector<bool>& taken) {
  std::unordered_map<std::string_view, std::map<std::string, double>> cand;
  for (std::size_t n = 0; n < nbrs.size() && n < k; ++n) {
    if (nbrs[n].id >= t.sentence_entities.size()) continue;
    for (const auto& p : t.sentence_entities[nbrs[n].id]) {
      auto g = t.gazetteer.find(p.key);
      if (g != t.gazetteer.end() && g->second.ratio() < proj_min_ratio) continue;
      cand[p.key][p.type] += std::max(nbrs[n].score, 1e-6f);
    }
  }
  if (cand.empty()) return;
  greedy_match(hits, tags, taken, [&](const SpanHit& h) -> const std::string* {
    auto it = cand.find(*h.key);
    if (it == cand.end()) return nullptr;
    const std::string* best = nullptr;
    double w = -1;
    for (const auto& [type, weight] : it->second) {
      if (weight > w) {
        w = weight;
        best = &type;
      }
    }
    return best;
  });
}

void gazetteer_fill(const SpanHits& hits, std::size_t min_count, double min_ratio, std::vector<std::string>& tags,
                    std::vector<bool>& taken) {
  greedy_match(hits, tags, taken, [&](const SpanHit& h) -> const std::string* {
    if (h.entry->tagged < min_count || h.entry->ratio() < min_ratio) return nullptr;
    return &h.entry->best_type();
  });
}

std::vector<std::string> tag_sentence(const KnnTagger::Tables& t, const KnnTaggerOptions& o,
                                      const std::vector<std::string>& tokens, const std::vector<ScoredChunk>& nbrs) {
  std::vector<std::string> tags(tokens.size(), "O");
  std::vector<bool> taken(tokens.size(), false);
  SpanHits hits = find_hits(t, make_keys(tokens, t.fold));
  if (o.k > 0) project(t, hits, nbrs, o.k, o.proj_min_ratio, tags, taken);
  if (o.use_gazetteer) gazetteer_fill(hits, o.min_count, o.min_ratio, tags, taken);
  return tags;
}

std::string fmt_ratio(double r) { return fmt::format("{}", r); }

Result<double> parse_double(std::string_view key, std::string_view v, double lo, double hi) {
  std::string s(v);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !(d >= lo && d <= hi)) {
    return make_error(ErrorCode::kInvalidArgument, "tagger-knn config: {}=\"{}\" must be a number in [{}, {}]", key, v,
                      lo, hi);
  }
  return d;
}

Result<std::size_t> parse_size(std::string_view key, std::string_view v, std::size_t hi) {
  std::string s(v);
  char* end = nullptr;
  unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || end != s.c_str() + s.size() || n > hi) {
    return make_error(ErrorCode::kInvalidArgument, "tagger-knn config: {}=\"{}\" must be an integer in [0, {}]", key,
                      v, hi);
  }
  return static_cast<std::size_t>(n);
}

}  // namespace

const std::string& KnnTagger::GazEntry::best_type() const {
  RAGFT_CHECK(!types.empty());
  auto best = types.begin();
  for (auto it = types.begin(); it != types.end(); ++it) {
    if (it->second > best->second) best = it;
  }
  return best->first;
}

// ---- options ----

std::string KnnTaggerOptions::to_config() const {
  return fmt::format("tagger-knn:k={},proj_min_ratio={},gazetteer={},min_count={},min_ratio={},case={}", k,
                     fmt_ratio(proj_min_ratio), use_gazetteer ? 1 : 0, min_count, fmt_ratio(min_ratio),
                     fold_case ? "fold" : "exact");
}

Result<KnnTaggerOptions> KnnTaggerOptions::parse(std::string_view config) {
  KnnTaggerOptions o;
  RAGFT_TRY(auto items, config_items(config, kKnnTaggerKind));
  for (const auto& [key_s, v_s] : items) {
    std::string_view key = key_s, v = v_s;
    if (key == "k") {
      RAGFT_TRY(o.k, parse_size(key, v, 1000));
    } else if (key == "proj_min_ratio") {
      RAGFT_TRY(o.proj_min_ratio, parse_double(key, v, 0, 1));
    } else if (key == "gazetteer") {
      if (v != "0" && v != "1") return make_error(ErrorCode::kInvalidArgument, "tagger-knn config: gazetteer must be 0 or 1");
      o.use_gazetteer = v == "1";
    } else if (key == "min_count") {
      RAGFT_TRY(o.min_count, parse_size(key, v, 1000000));
    } else if (key == "min_ratio") {
      RAGFT_TRY(o.min_ratio, parse_double(key, v, 0, 1));
    } else if (key == "case") {
      if (v != "fold" && v != "exact") {
        return make_error(ErrorCode::kInvalidArgument, "tagger-knn config: case=\"{}\" must be fold or exact", v);
      }
      o.fold_case = v == "fold";
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "tagger-knn config: unknown key \"{}\" (known: k, proj_min_ratio, gazetteer, min_count, "
                        "min_ratio, case)",
                        key);
    }
  }
  return o;
}

// ---- building ----

KnnTagger::~KnnTagger() {
  index_.reset();
  if (owns_index_dir_) {
    std::error_code ec;
    fs::remove_all(index_dir_, ec);
  }
}

Result<std::unique_ptr<KnnTagger>> KnnTagger::build(const std::vector<TaggedSentence>& train,
                                                    const KnnTaggerOptions& options) {
  if (train.empty()) return make_error(ErrorCode::kInvalidArgument, "tagger-knn: no training sentences");
  std::unique_ptr<KnnTagger> m(new KnnTagger());
  m->options_ = options;
  m->tables_ = build_tables(train, options.fold_case);
  RAGFT_TRY(Analyzer analyzer, Analyzer::create());
  RAGFT_TRY(m->index_dir_, make_temp_dir());
  m->owns_index_dir_ = true;
  RAGFT_TRY(Bm25Index index, build_index(train, m->index_dir_, analyzer));
  m->index_.emplace(std::move(index));
  m->analyzer_.emplace(std::move(analyzer));
  m->record().train_data_hash = conll_data_hash(train);
  return m;
}

Result<std::unique_ptr<KnnTagger>> KnnTagger::train(const std::vector<TaggedSentence>& train,
                                                    const std::vector<TaggedSentence>& validation,
                                                    KnnTaggerSelection* selection) {
  auto t0 = std::chrono::steady_clock::now();
  if (train.empty()) return make_error(ErrorCode::kInvalidArgument, "tagger-knn: no training sentences");
  // Fit / validation split.
  std::vector<TaggedSentence> fit_holder, val_holder;
  const std::vector<TaggedSentence>* fit = &train;
  const std::vector<TaggedSentence>* val = &validation;
  std::string source = "dev";
  if (validation.empty()) {
    source = "train-holdout";
    for (std::size_t i = 0; i < train.size(); ++i) (i % 10 == 9 ? val_holder : fit_holder).push_back(train[i]);
    if (val_holder.empty() || fit_holder.empty()) {  // tiny sets: select on train itself
      fit_holder = train;
      val_holder = train;
      source = "train";
    }
    fit = &fit_holder;
    val = &val_holder;
  }

  RAGFT_TRY(Analyzer analyzer, Analyzer::create());
  RAGFT_TRY(fs::path tmp, make_temp_dir());
  struct RemoveDir {
    fs::path p;
    ~RemoveDir() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } remove_tmp{tmp};
  const std::vector<std::size_t> ks = {0, 1, 3, 5, 10, 20, 50};
  const std::vector<double> proj_ratios = {0, 0.1, 0.3, 0.5};
  const std::vector<std::size_t> min_counts = {1, 2, 3};
  const std::vector<double> min_ratios = {0, 0.1, 0.3, 0.5, 0.7};

  std::vector<std::vector<ScoredChunk>> nbrs;
  {
    RAGFT_TRY(Bm25Index index, build_index(*fit, tmp, analyzer));
    nbrs.reserve(val->size());
    for (const auto& s : *val) nbrs.push_back(neighbours(index, analyzer, s.tokens, ks.back()));
  }

  struct Tried {
    KnnTaggerOptions o;
    ChunkCounts c;
  };
  std::vector<Tried> tried;
  auto score = [&](const std::vector<std::vector<std::string>>& guesses) {
    ConllevalAccumulator acc;
    for (std::size_t i = 0; i < val->size(); ++i) {
      Status st = acc.add((*val)[i].tags, guesses[i]);
      RAGFT_CHECK(st.ok());
    }
    return acc.result().overall;
  };
  for (bool fold : {true, false}) {
    Tables t = build_tables(*fit, fold);
    std::vector<SpanHits> hits;
    for (const auto& s : *val) hits.push_back(find_hits(t, make_keys(s.tokens, fold)));
    for (std::size_t k : ks) {
      for (double pr : proj_ratios) {
        if (k == 0 && pr > 0) continue;
        std::vector<std::vector<std::string>> ptags(val->size());
        std::vector<std::vector<bool>> ptaken(val->size());
        for (std::size_t i = 0; i < val->size(); ++i) {
          ptags[i].assign(hits[i].size(), "O");
          ptaken[i].assign(hits[i].size(), false);
          if (k > 0) project(t, hits[i], nbrs[i], k, pr, ptags[i], ptaken[i]);
        }
        KnnTaggerOptions o;
        o.k = k;
        o.proj_min_ratio = pr;
        o.fold_case = fold;
        if (k > 0) {
          o.use_gazetteer = false;
          tried.push_back({o, score(ptags)});
        }
        o.use_gazetteer = true;
        for (std::size_t mc : min_counts) {
          for (double mr : min_ratios) {
            auto g = ptags;
            auto taken = ptaken;
            for (std::size_t i = 0; i < val->size(); ++i) gazetteer_fill(hits[i], mc, mr, g[i], taken[i]);
            o.min_count = mc;
            o.min_ratio = mr;
            tried.push_back({o, score(g)});
          }
        }
      }
    }
  }
  // Best F1; ties keep the earlier (simpler) config.
  std::stable_sort(tried.begin(), tried.end(), [](const Tried& a, const Tried& b) { return a.c.f1() > b.c.f1(); });
  const Tried& best = tried.front();
  KnnTaggerSelection sel;
  sel.chosen = best.o;
  sel.validation_f1 = best.c.f1();
  sel.validation_source = source;
  sel.configs_tried = tried.size();
  for (std::size_t i = 0; i < tried.size() && i < 5; ++i) {
    sel.top.push_back({{"config", tried[i].o.to_config()},
                       {"f1", tried[i].c.f1()},
                       {"precision", tried[i].c.precision()},
                       {"recall", tried[i].c.recall()}});
  }

  RAGFT_TRY(std::unique_ptr<KnnTagger> m, build(train, sel.chosen));
  m->record().train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m->record().metrics["validation"] = {{"source", source},
                                       {"sentences", val->size()},
                                       {"f1", best.c.f1()},
                                       {"precision", best.c.precision()},
                                       {"recall", best.c.recall()},
                                       {"configs_tried", tried.size()}};
  if (selection) *selection = std::move(sel);
  return m;
}

// ---- prediction ----

std::vector<std::string> KnnTagger::predict(const std::vector<std::string>& tokens) const {
  if (tokens.empty()) return {};
  std::vector<ScoredChunk> nbrs;
  if (options_.k > 0 && index_) {
    std::lock_guard lock(analyzer_mu_);
    nbrs = neighbours(*index_, *analyzer_, tokens, options_.k);
  }
  return tag_sentence(tables_, options_, tokens, nbrs);
}

std::vector<std::string> KnnTagger::labels() const { return tables_.types; }

nlohmann::json KnnTagger::extra() const {
  return {{"options", options_.to_config()},
          {"analyzer", analyzer_ ? analyzer_->options().to_config() : AnalyzerOptions{}.to_config()},
          {"bm25", Bm25Options{}.to_config()},
          {"sentences", tables_.sentence_entities.size()},
          {"gazetteer_entries", tables_.gazetteer.size()},
          {"max_entity_tokens", tables_.max_len}};
}

// ---- persistence ----
// index/            Bm25Index of the training sentences (ChunkId = sentence number)
// sentences.jsonl   line i: the entities of training sentence i: [[type, key], ...]
// gazetteer.jsonl   {"key":..., "types":{type:count}, "occurrences":n} per entry, sorted by key
// Keys are in matching form (folded when case=fold) with tokens joined by U+001F.

Status KnnTagger::save_files(const fs::path& dir) const {
  RAGFT_CHECK(index_.has_value());
  std::string sents;
  for (const auto& es : tables_.sentence_entities) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& p : es) arr.push_back({p.type, p.key});
    nlohmann::json line = {{"e", std::move(arr)}};
    sents += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::vector<const std::pair<const std::string, GazEntry>*> entries;
  for (const auto& e : tables_.gazetteer) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string gaz;
  for (const auto* e : entries) {
    nlohmann::json j = {{"key", e->first}, {"types", e->second.types}, {"occurrences", e->second.occurrences}};
    gaz += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  RAGFT_TRY_STATUS(Env::posix().write_file_atomic(dir / "sentences.jsonl", sents));
  RAGFT_TRY_STATUS(Env::posix().write_file_atomic(dir / "gazetteer.jsonl", gaz));
  fs::path target = dir / "index";
  std::error_code ec;
  if (fs::exists(target, ec) && fs::equivalent(target, index_dir_, ec)) return ok_status();
  fs::remove_all(target, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot replace {}: {}", target.string(), ec.message());
  fs::copy(index_dir_, target, fs::copy_options::recursive, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot copy the index to {}: {}", target.string(), ec.message());
  // mkdtemp made the training copy owner-only; the saved model gets ordinary permissions.
  fs::permissions(target, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec, ec);
  return ok_status();
}

Result<std::unique_ptr<KnnTagger>> KnnTagger::load(const fs::path& dir, const ModelManifest& manifest) {
  std::unique_ptr<KnnTagger> m(new KnnTagger());
  RAGFT_TRY(m->options_, KnnTaggerOptions::parse(manifest.config));
  m->tables_.fold = m->options_.fold_case;
  m->record().train_data_hash = manifest.train_data_hash;
  m->record().metrics = manifest.metrics;
  m->record().train_seconds = manifest.train_seconds;

  auto corrupt = [&](const fs::path& f, std::size_t line, const std::string& why) {
    return make_error(ErrorCode::kCorrupt, "{}:{}: {} (retrain the model)", f.string(), line, why);
  };
  auto for_lines = [&](const fs::path& f, auto fn) -> Status {
    RAGFT_TRY(std::string text, Env::posix().read_file(f));
    std::size_t pos = 0, line = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      ++line;
      auto j = nlohmann::json::parse(std::string_view(text).substr(pos, nl - pos), nullptr, false);
      pos = nl + 1;
      if (j.is_discarded()) return corrupt(f, line, "not JSON");
      try {
        fn(j);
      } catch (const std::exception& e) {
        return corrupt(f, line, e.what());
      }
    }
    return ok_status();
  };
  std::set<std::string> types;
  auto& t = m->tables_;
  RAGFT_TRY_STATUS(for_lines(dir / "sentences.jsonl", [&](const nlohmann::json& j) {
    std::vector<Phrase> es;
    for (const auto& p : j.at("e")) {
      es.push_back({p.at(1).get<std::string>(), p.at(0).get<std::string>()});
      types.insert(es.back().type);
      t.max_len = std::max<std::size_t>(t.max_len, std::count(es.back().key.begin(), es.back().key.end(), kSep) + 1);
    }
    t.sentence_entities.push_back(std::move(es));
  }));
  RAGFT_TRY_STATUS(for_lines(dir / "gazetteer.jsonl", [&](const nlohmann::json& j) {
    GazEntry e;
    j.at("types").get_to(e.types);
    j.at("occurrences").get_to(e.occurrences);
    if (e.types.empty()) throw std::runtime_error("entry without types");
    for (const auto& [type, n] : e.types) e.tagged += n;
    t.gazetteer.emplace(j.at("key").get<std::string>(), std::move(e));
  }));
  t.types.assign(types.begin(), types.end());
  RAGFT_TRY(Analyzer analyzer, Analyzer::create());
  m->analyzer_.emplace(std::move(analyzer));
  m->index_dir_ = dir / "index";
  std::error_code ec;
  if (!fs::is_directory(m->index_dir_, ec)) return corrupt(m->index_dir_, 0, "missing index directory");
  RAGFT_TRY(Bm25Index index, Bm25Index::open(m->index_dir_));
  if (index.stats().live_chunks != t.sentence_entities.size()) {
    return corrupt(m->index_dir_, 0,
                   fmt::format("index holds {} sentences but sentences.jsonl {}", index.stats().live_chunks,
                               t.sentence_entities.size()));
  }
  m->index_.emplace(std::move(index));
  return m;
}

}  // namespace ragft
