#include "decide/reranker.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/env.h"
#include "text/analyzer.h"

namespace ragft::decide {

namespace {

constexpr std::size_t kMaxCache = 200000;
constexpr const char* kMagic = "ragft-reranker";
constexpr int kVersion = 1;
const std::vector<std::string> kBaseFeatures = {"bm25_norm", "bm25_rrank", "bm25_log", "title_cover",
                                                "text_cover", "idf_cover", "bigram_match", "log_len"};
constexpr double kCbFloor = 1e-5;

std::size_t hash_doc(const Candidate& c) {
  std::hash<std::string_view> h;
  return h(c.title) * 1000003u ^ h(c.text) ^ c.text.size();
}

bool contains(const std::vector<std::string>& v, const std::string& t) { return std::find(v.begin(), v.end(), t) != v.end(); }

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

Error bad(std::string_view key, std::string_view v) {
  return make_error(ErrorCode::kInvalidArgument, "rerank config: {}={} is not a valid value", key, v);
}

}  // namespace

std::string RerankerOptions::to_config() const {
  return fmt::format("rerank:depth={},loss={},l2={},epochs={},lr={},seed={}", depth, loss, l2, epochs, lr, seed);
}

Result<RerankerOptions> RerankerOptions::parse(std::string_view config) {
  constexpr std::string_view kPrefix = "rerank:";
  if (config.substr(0, kPrefix.size()) != kPrefix) {
    return make_error(ErrorCode::kInvalidArgument, "rerank config \"{}\" must start with \"{}\"", config, kPrefix);
  }
  std::string_view rest = config.substr(kPrefix.size());
  RerankerOptions o;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return make_error(ErrorCode::kInvalidArgument, "rerank config: \"{}\" is not key=value", item);
    std::string_view k = item.substr(0, eq), v = item.substr(eq + 1);
    auto as_int = [&](auto& out) -> Status {
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      if (ec != std::errc() || p != v.data() + v.size()) return Status(bad(k, v));
      return ok_status();
    };
    auto as_double = [&](double& out) -> Status {
      std::string s(v);
      char* end = nullptr;
      out = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') return Status(bad(k, v));
      return ok_status();
    };
    if (k == "depth") {
      RAGFT_TRY_STATUS(as_int(o.depth));
    } else if (k == "loss") {
      o.loss = std::string(v);
      if (o.loss != "pairwise" && o.loss != "pointwise") return bad(k, v);
    } else if (k == "l2") {
      RAGFT_TRY_STATUS(as_double(o.l2));
    } else if (k == "epochs") {
      RAGFT_TRY_STATUS(as_int(o.epochs));
    } else if (k == "lr") {
      RAGFT_TRY_STATUS(as_double(o.lr));
    } else if (k == "seed") {
      RAGFT_TRY_STATUS(as_int(o.seed));
    } else {
      return make_error(ErrorCode::kInvalidArgument, "rerank config: unknown key \"{}\"", k);
    }
  }
  if (o.depth < 1 || o.l2 < 0 || o.epochs < 1 || !(o.lr > 0)) {
    return make_error(ErrorCode::kInvalidArgument, "rerank config: a value is out of range in \"{}\"", config);
  }
  return o;
}

Reranker::Reranker() = default;
Reranker::~Reranker() = default;

const Reranker::DocTerms& Reranker::doc_terms(const Candidate& c) const {
  std::size_t h = hash_doc(c);
  auto it = cache_.find(c.doc_id);
  if (it != cache_.end() && it->second.text_hash == h) return it->second;
  if (cache_.size() >= kMaxCache) cache_.clear();
  DocTerms d;
  d.text_hash = h;
  analyzer_->terms(c.title, d.title);
  analyzer_->terms(c.text, d.text);
  return cache_[c.doc_id] = std::move(d);
}

double Reranker::idf(const std::string& term) const {
  auto it = df_.find(term);
  double df = it == df_.end() ? 0.0 : static_cast<double>(it->second);
  double n = static_cast<double>(df_docs_);
  return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

std::vector<std::vector<double>> Reranker::features(std::string_view query, const std::vector<Candidate>& cands) const {
  return features(query, cands, nullptr);
}

std::vector<std::vector<double>> Reranker::features(std::string_view query, const std::vector<Candidate>& cands,
                                                    const std::vector<float>* given_cb) const {
  scratch_.clear();
  analyzer_->terms(query, scratch_);
  std::vector<std::string> q;  // distinct, first-occurrence order
  for (const auto& t : scratch_) {
    if (!contains(q, t)) q.push_back(t);
  }
  std::vector<std::pair<std::string, std::string>> bigrams;
  for (std::size_t i = 0; i + 1 < scratch_.size(); ++i) {
    std::pair<std::string, std::string> b{scratch_[i], scratch_[i + 1]};
    if (b.first != b.second && std::find(bigrams.begin(), bigrams.end(), b) == bigrams.end()) bigrams.push_back(b);
  }
  std::vector<double> q_idf(q.size());
  double idf_total = 0;
  for (std::size_t i = 0; i < q.size(); ++i) idf_total += q_idf[i] = idf(q[i]);
  double top = 0;
  for (const auto& c : cands) top = std::max(top, c.bm25);
  if (top <= 0) top = 1;
  std::vector<float> cb;
  if (closed_book_ && given_cb) {
    cb = *given_cb;
  } else if (closed_book_) {
    std::vector<std::string> ids;
    ids.reserve(cands.size());
    for (const auto& c : cands) ids.push_back(c.doc_id);
    cb = closed_book_->score(query, ids);
  }
  std::vector<std::vector<double>> rows;
  rows.reserve(cands.size());
  for (std::size_t r = 0; r < cands.size(); ++r) {
    const Candidate& c = cands[r];
    const DocTerms& d = doc_terms(c);
    double in_title = 0, in_text = 0, idf_hit = 0;
    for (std::size_t i = 0; i < q.size(); ++i) {
      bool ti = contains(d.title, q[i]), tx = contains(d.text, q[i]);
      in_title += ti;
      in_text += tx;
      if (ti || tx) idf_hit += q_idf[i];
    }
    double bigram_hits = 0;
    for (const auto& [a, b] : bigrams) {
      for (std::size_t i = 0; i + 1 < d.text.size(); ++i) {
        if (d.text[i] == a && d.text[i + 1] == b) {
          bigram_hits += 1;
          break;
        }
      }
    }
    double nq = std::max<double>(1, static_cast<double>(q.size()));
    std::vector<double> f = {c.bm25 / top,
                             1.0 / static_cast<double>(r + 1),
                             std::log1p(std::max(0.0, c.bm25)),
                             in_title / nq,
                             in_text / nq,
                             idf_total > 0 ? idf_hit / idf_total : 0.0,
                             bigrams.empty() ? 0.0 : bigram_hits / static_cast<double>(bigrams.size()),
                             std::log1p(static_cast<double>(d.title.size() + d.text.size()))};
    if (closed_book_) f.push_back(std::log(kCbFloor + static_cast<double>(cb[r])));
    rows.push_back(std::move(f));
  }
  return rows;
}

Result<std::unique_ptr<Reranker>> Reranker::train(
    const std::vector<std::pair<std::string, std::vector<Candidate>>>& train_lists,
    const std::vector<std::map<std::string, int>>& judgments, const ClosedBookModel* closed_book,
    const RerankerOptions& o, const std::vector<std::vector<float>>* closed_book_scores) {
  RAGFT_TRY(RerankerOptions opts, RerankerOptions::parse(o.to_config()));
  if (train_lists.size() != judgments.size()) {
    return make_error(ErrorCode::kInvalidArgument, "reranker: {} training lists but {} judgment maps", train_lists.size(),
                      judgments.size());
  }
  if (closed_book_scores) {
    if (!closed_book) return make_error(ErrorCode::kInvalidArgument, "reranker: closed-book scores given without a closed-book model");
    if (closed_book_scores->size() != train_lists.size()) {
      return make_error(ErrorCode::kInvalidArgument, "reranker: {} training lists but {} closed-book score lists",
                        train_lists.size(), closed_book_scores->size());
    }
    for (std::size_t l = 0; l < train_lists.size(); ++l) {
      if ((*closed_book_scores)[l].size() < std::min(train_lists[l].second.size(), opts.depth)) {
        return make_error(ErrorCode::kInvalidArgument, "reranker: closed-book scores of list {} cover {} of its candidates",
                          l, (*closed_book_scores)[l].size());
      }
    }
  }
  std::unique_ptr<Reranker> m(new Reranker());
  m->options_ = opts;
  m->closed_book_ = closed_book;
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(AnalyzerOptions{}));
  m->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));
  m->names_ = kBaseFeatures;
  if (closed_book) m->names_.push_back("cb_logp");

  // Document frequencies over the distinct candidate documents of the training lists.
  std::unordered_set<std::string> seen;
  std::unordered_set<std::string> terms;
  for (const auto& [query, cands] : train_lists) {
    std::size_t n = std::min(cands.size(), opts.depth);
    for (std::size_t i = 0; i < n; ++i) {
      if (!seen.insert(cands[i].doc_id).second) continue;
      const DocTerms& d = m->doc_terms(cands[i]);
      terms.clear();
      terms.insert(d.title.begin(), d.title.end());
      terms.insert(d.text.begin(), d.text.end());
      for (const auto& t : terms) ++m->df_[t];
    }
  }
  m->df_docs_ = seen.size();

  // Raw features and labels per list.
  struct List {
    std::vector<std::vector<double>> x;
    std::vector<int> rel;
  };
  std::vector<List> lists;
  std::size_t rows = 0, usable = 0;
  const std::size_t nf = m->names_.size();
  for (std::size_t l = 0; l < train_lists.size(); ++l) {
    const auto& cands = train_lists[l].second;
    std::vector<Candidate> cut(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(std::min(cands.size(), opts.depth)));
    if (cut.empty()) continue;
    List list;
    std::vector<float> cb;
    if (closed_book_scores) cb.assign((*closed_book_scores)[l].begin(), (*closed_book_scores)[l].begin() + static_cast<std::ptrdiff_t>(cut.size()));
    list.x = m->features(train_lists[l].first, cut, closed_book_scores ? &cb : nullptr);
    bool pos = false, neg = false;
    for (const auto& c : cut) {
      auto it = judgments[l].find(c.doc_id);
      int rel = it == judgments[l].end() ? 0 : it->second;
      list.rel.push_back(rel);
      (rel >= 1 ? pos : neg) = true;
    }
    rows += cut.size();
    if (opts.loss == "pointwise" || (pos && neg)) ++usable;
    lists.push_back(std::move(list));
  }
  if (usable == 0) {
    return make_error(ErrorCode::kInvalidArgument, "reranker: no training list has both a relevant and a non-relevant "
                      "candidate within depth {}", opts.depth);
  }

  // Standardise.
  m->mean_.assign(nf, 0.0);
  m->std_.assign(nf, 0.0);
  for (const auto& l : lists)
    for (const auto& x : l.x)
      for (std::size_t f = 0; f < nf; ++f) m->mean_[f] += x[f];
  for (auto& v : m->mean_) v /= static_cast<double>(rows);
  for (const auto& l : lists)
    for (const auto& x : l.x)
      for (std::size_t f = 0; f < nf; ++f) m->std_[f] += (x[f] - m->mean_[f]) * (x[f] - m->mean_[f]);
  for (auto& v : m->std_) v = std::sqrt(v / static_cast<double>(rows)) > 1e-9 ? std::sqrt(v / static_cast<double>(rows)) : 1.0;
  for (auto& l : lists)
    for (auto& x : l.x)
      for (std::size_t f = 0; f < nf; ++f) x[f] = (x[f] - m->mean_[f]) / m->std_[f];

  // Adam over one-list mini-batches; the learning rate decays linearly to 0.
  const bool pairwise = opts.loss == "pairwise";
  const std::size_t np = nf + 1;  // weights + bias (the bias cancels in pairwise)
  std::vector<double> w(np, 0.0), mo(np, 0.0), ve(np, 0.0), g(np);
  std::vector<std::size_t> order(lists.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(opts.seed);
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const std::size_t total = static_cast<std::size_t>(opts.epochs) * lists.size();
  std::size_t step = 0;
  auto dot = [&](const std::vector<double>& x) {
    double s = w[nf];
    for (std::size_t f = 0; f < nf; ++f) s += w[f] * x[f];
    return s;
  };
  for (int e = 0; e < opts.epochs; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t li : order) {
      const List& l = lists[li];
      std::fill(g.begin(), g.end(), 0.0);
      std::size_t terms_in_loss = 0;
      if (pairwise) {
        std::vector<double> s(l.x.size());
        for (std::size_t i = 0; i < l.x.size(); ++i) s[i] = dot(l.x[i]);
        for (std::size_t i = 0; i < l.x.size(); ++i) {
          for (std::size_t j = 0; j < l.x.size(); ++j) {
            if (l.rel[i] <= l.rel[j]) continue;
            double c = -sigmoid(-(s[i] - s[j]));
            for (std::size_t f = 0; f < nf; ++f) g[f] += c * (l.x[i][f] - l.x[j][f]);
            ++terms_in_loss;
          }
        }
      } else {
        for (std::size_t i = 0; i < l.x.size(); ++i) {
          double c = sigmoid(dot(l.x[i])) - (l.rel[i] >= 1 ? 1.0 : 0.0);
          for (std::size_t f = 0; f < nf; ++f) g[f] += c * l.x[i][f];
          g[nf] += c;
          ++terms_in_loss;
        }
      }
      ++step;
      if (terms_in_loss == 0) continue;
      double lr = opts.lr * std::max(0.01, 1.0 - static_cast<double>(step) / static_cast<double>(total));
      for (std::size_t p = 0; p < np; ++p) {
        g[p] /= static_cast<double>(terms_in_loss);
        if (p < nf) g[p] += opts.l2 * w[p];
        mo[p] = b1 * mo[p] + (1 - b1) * g[p];
        ve[p] = b2 * ve[p] + (1 - b2) * g[p] * g[p];
        double mh = mo[p] / (1 - std::pow(b1, static_cast<double>(step)));
        double vh = ve[p] / (1 - std::pow(b2, static_cast<double>(step)));
        w[p] -= lr * mh / (std::sqrt(vh) + eps);
      }
    }
  }
  m->w_ = std::move(w);
  return m;
}

std::vector<RunEntry> Reranker::rerank(std::string_view query, const std::vector<Candidate>& candidates) const {
  return rerank_impl(query, candidates, nullptr);
}

std::vector<RunEntry> Reranker::rerank(std::string_view query, const std::vector<Candidate>& candidates,
                                       const std::vector<float>& closed_book_scores) const {
  return rerank_impl(query, candidates, &closed_book_scores);
}

std::vector<RunEntry> Reranker::rerank_impl(std::string_view query, const std::vector<Candidate>& candidates,
                                            const std::vector<float>* cb_scores) const {
  std::size_t n = std::min(candidates.size(), options_.depth);
  std::vector<Candidate> head(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<float> cb;
  if (cb_scores) {
    cb.assign(n, 0.0f);
    std::copy_n(cb_scores->begin(), std::min(n, cb_scores->size()), cb.begin());
  }
  std::vector<std::vector<double>> x = features(query, head, cb_scores ? &cb : nullptr);
  const std::size_t nf = names_.size();
  std::vector<RunEntry> out;
  out.reserve(candidates.size());
  for (std::size_t i = 0; i < n; ++i) {
    double s = w_[nf];
    for (std::size_t f = 0; f < nf; ++f) s += w_[f] * (x[i][f] - mean_[f]) / std_[f];
    out.push_back({head[i].doc_id, s});
  }
  std::stable_sort(out.begin(), out.end(), [](const RunEntry& a, const RunEntry& b) { return a.score > b.score; });
  double floor = out.empty() ? 0.0 : out.back().score;
  for (std::size_t i = n; i < candidates.size(); ++i) {
    out.push_back({candidates[i].doc_id, floor - 1.0 - static_cast<double>(i - n)});
  }
  return out;
}

std::vector<std::pair<std::string, double>> Reranker::weights() const {
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t f = 0; f < names_.size(); ++f) out.emplace_back(names_[f], w_[f]);
  if (options_.loss == "pointwise") out.emplace_back("bias", w_[names_.size()]);
  return out;
}

}  // namespace ragft::decide

namespace ragft::decide {

Status Reranker::save(const std::filesystem::path& dir) const {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  nlohmann::json df = nlohmann::json::object();
  for (const auto& [term, n] : df_) df[term] = n;
  nlohmann::json j = {{"magic", kMagic},   {"version", kVersion}, {"config", options_.to_config()},
                      {"features", names_}, {"mean", mean_},       {"std", std_},
                      {"weights", w_},      {"df_docs", df_docs_}, {"df", std::move(df)}};
  return Env::posix().write_file_atomic(dir / "reranker.json", j.dump());
}

Result<std::unique_ptr<Reranker>> Reranker::load(const std::filesystem::path& dir, const ClosedBookModel* closed_book) {
  const std::filesystem::path file = dir / "reranker.json";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return make_error(ErrorCode::kNotFound, "{} does not exist (reranker)", file.string());
  }
  RAGFT_TRY(std::string text, Env::posix().read_file(file));
  std::unique_ptr<Reranker> m(new Reranker());
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("magic", "") != kMagic || j.value("version", 0) != kVersion) {
      return make_error(ErrorCode::kCorrupt, "{}: not a version {} reranker", file.string(), kVersion);
    }
    auto o = RerankerOptions::parse(j.at("config").get<std::string>());
    if (!o.ok()) return make_error(ErrorCode::kCorrupt, "{}: config: {}", file.string(), o.error().message);
    m->options_ = *o;
    m->names_ = j.at("features").get<std::vector<std::string>>();
    m->mean_ = j.at("mean").get<std::vector<double>>();
    m->std_ = j.at("std").get<std::vector<double>>();
    m->w_ = j.at("weights").get<std::vector<double>>();
    m->df_docs_ = j.at("df_docs").get<std::size_t>();
    for (const auto& [term, n] : j.at("df").items()) m->df_[term] = n.get<std::uint32_t>();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: {}", file.string(), e.what());
  }
  std::vector<std::string> expected = kBaseFeatures;
  const bool with_cb = m->names_.size() == expected.size() + 1;
  if (with_cb) expected.push_back("cb_logp");
  const std::size_t nf = m->names_.size();
  if (m->names_ != expected || m->mean_.size() != nf || m->std_.size() != nf || m->w_.size() != nf + 1) {
    return make_error(ErrorCode::kCorrupt, "{}: features or weights do not match this version's {} features",
                      file.string(), expected.size());
  }
  for (double s : m->std_) {
    if (!(s > 0) || !std::isfinite(s)) return make_error(ErrorCode::kCorrupt, "{}: a standard deviation is not positive", file.string());
  }
  if (with_cb && !closed_book) {
    return make_error(ErrorCode::kInvalidArgument, "{}: the reranker uses the closed-book feature; load its closed-book model too",
                      file.string());
  }
  m->closed_book_ = with_cb ? closed_book : nullptr;
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(AnalyzerOptions{}));
  m->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));
  return m;
}

}  // namespace ragft::decide
