#include "train/knn_classifier.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "core/env.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

std::string join_ks(const std::vector<int>& ks) {
  std::string s;
  for (int k : ks) {
    if (!s.empty()) s += '|';
    s += std::to_string(k);
  }
  return s;
}

}  // namespace

std::string KnnOptions::to_config() const { return fmt::format("knn:ks={},{},{}", join_ks(ks), bm25, analyzer); }

KnnClassifier::KnnClassifier() = default;

KnnClassifier::~KnnClassifier() {
  index_.reset();
  if (owns_index_dir_) {
    std::error_code ec;
    fs::remove_all(index_dir_, ec);
  }
}

std::vector<ScoredChunk> KnnClassifier::search(std::string_view text, std::size_t k) const {
  terms_.clear();
  analyzer_->terms(text, terms_);
  std::vector<QueryTerm> q;
  q.reserve(terms_.size());
  for (auto& t : terms_) q.push_back(QueryTerm{std::move(t), 1.0f});
  if (q.empty()) return {};
  return index_->search(q, k);
}

std::vector<float> KnnClassifier::vote(const std::vector<ScoredChunk>& hits, std::size_t k) const {
  std::vector<float> d(labels_.size(), 0.0f);
  std::size_t n = std::min(k, hits.size());
  if (n == 0 || hits[0].score <= 0) return prior_;
  float top = hits[0].score;
  float total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    float w = hits[i].score / top;
    const auto& ls = example_labels_[hits[i].id];
    for (auto l : ls) d[l] += w / static_cast<float>(ls.size());
    total += w;
  }
  for (auto& x : d) x /= total;
  return d;
}

std::vector<float> KnnClassifier::distribution_k(std::string_view text, int k) const {
  return vote(search(text, static_cast<std::size_t>(k)), static_cast<std::size_t>(k));
}

std::vector<std::vector<float>> KnnClassifier::distributions(std::string_view text, const std::vector<int>& ks) const {
  int kmax = ks.empty() ? 1 : *std::max_element(ks.begin(), ks.end());
  auto hits = search(text, static_cast<std::size_t>(kmax));
  std::vector<std::vector<float>> out;
  for (int k : ks) out.push_back(vote(hits, static_cast<std::size_t>(k)));
  return out;
}

Result<std::unique_ptr<KnnClassifier>> KnnClassifier::build(const std::vector<Example>& examples,
                                                             const std::vector<std::string>& labels,
                                                             const KnnOptions& o, int k) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  if (k < 1) return make_error(ErrorCode::kInvalidArgument, "knn: k must be >= 1, got {}", k);
  RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(o.analyzer));
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(ao));
  RAGFT_TRY(Bm25Options bo, Bm25Options::parse(o.bm25));
  std::unique_ptr<KnnClassifier> c(new KnnClassifier());
  c->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));
  c->options_ = o;
  c->k_ = k;
  c->labels_ = labels;
  std::map<std::string, std::uint32_t> index;
  for (std::size_t i = 0; i < labels.size(); ++i) index[labels[i]] = static_cast<std::uint32_t>(i);
  std::string tmpl = (fs::temp_directory_path() / "ragft-knn-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    return make_error(ErrorCode::kIo, "cannot create a temporary directory in {}", fs::temp_directory_path().string());
  }
  c->index_dir_ = tmpl;
  c->owns_index_dir_ = true;
  RAGFT_TRY(Bm25Index idx, Bm25Index::open(c->index_dir_, bo));
  c->prior_.assign(labels.size(), 0.0f);
  std::vector<std::string> terms;
  ChunkAttrs attrs;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    std::vector<std::uint32_t> ls;
    for (const auto& l : examples[i].labels) {
      auto it = index.find(l);
      if (it == index.end()) return make_error(ErrorCode::kInvalidArgument, "label \"{}\" is not in the label list", l);
      ls.push_back(it->second);
      c->prior_[it->second] += 1.0f / static_cast<float>(examples[i].labels.size());
    }
    c->example_labels_.push_back(std::move(ls));
    terms.clear();
    c->analyzer_->terms(examples[i].text, terms);
    idx.add(static_cast<ChunkId>(i), attrs, terms);
  }
  for (auto& p : c->prior_) p /= static_cast<float>(examples.size());
  RAGFT_TRY_STATUS(idx.commit(1));
  c->index_ = std::make_unique<Bm25Index>(std::move(idx));
  return c;
}

Result<std::unique_ptr<KnnClassifier>> KnnClassifier::train(const std::vector<Example>& examples, const KnnOptions& o,
                                                            const TrainOptions& t,
                                                            std::unique_ptr<KnnClassifier>* split_model) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  if (o.ks.empty()) return make_error(ErrorCode::kInvalidArgument, "knn: no k candidates");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> labels = labels_of(examples);
  Split split = stratified_split(examples, t.validation_fraction, t.seed);
  int kmax = *std::max_element(o.ks.begin(), o.ks.end());
  RAGFT_TRY(auto sm, build(split.train, labels, o, kmax));
  std::vector<std::size_t> correct(o.ks.size(), 0);
  for (const auto& e : split.validation) {
    auto ds = sm->distributions(e.text, o.ks);
    for (std::size_t i = 0; i < ds.size(); ++i) {
      auto best = static_cast<std::size_t>(std::max_element(ds[i].begin(), ds[i].end()) - ds[i].begin());
      if (std::find(e.labels.begin(), e.labels.end(), labels[best]) != e.labels.end()) ++correct[i];
    }
  }
  std::size_t best_i = 0;
  nlohmann::json grid = nlohmann::json::array();
  double nval = static_cast<double>(std::max<std::size_t>(1, split.validation.size()));
  for (std::size_t i = 0; i < o.ks.size(); ++i) {
    double acc = static_cast<double>(correct[i]) / nval;
    grid.push_back({{"k", o.ks[i]}, {"val_accuracy", acc}});
    if (t.progress) t.progress(fmt::format("knn: k {:>3}  val acc {:.4f}", o.ks[i], acc));
    if (correct[i] > correct[best_i] || (correct[i] == correct[best_i] && o.ks[i] < o.ks[best_i])) best_i = i;
  }
  int k = o.ks[best_i];
  double val_acc = static_cast<double>(correct[best_i]) / nval;
  sm->k_ = k;
  RAGFT_TRY(auto model, build(examples, labels, o, k));
  if (split_model) *split_model = std::move(sm);
  model->info_.train_data_hash = examples_hash(examples);
  model->info_.config = o.to_config();
  model->info_.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  model->info_.metrics = {{"validation", {{"accuracy", val_acc}, {"examples", split.validation.size()}}},
                          {"selection", grid}};
  model->info_.extra = {{"k", k}, {"seed", t.seed}};
  return model;
}

Status KnnClassifier::save(const fs::path& dir) const {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  fs::path target = dir / "index";
  std::error_code ec;
  if (fs::weakly_canonical(target, ec) != fs::weakly_canonical(index_dir_, ec)) {
    fs::remove_all(target, ec);
    fs::copy(index_dir_, target, fs::copy_options::recursive, ec);
    if (ec) return make_error(ErrorCode::kIo, "cannot copy the index to {}: {}", target.string(), ec.message());
  }
  nlohmann::json j = {{"examples", example_labels_}, {"prior", prior_}};
  RAGFT_TRY_STATUS(Env::posix().write_file_atomic(dir / "labels.json", j.dump() + "\n"));
  ModelManifest m = info_;
  m.extra["k"] = k_;
  m.extra["analyzer"] = analyzer_->options().to_config();
  m.extra["bm25"] = index_->options().to_config();
  return write_model_json(dir, std::move(m));
}

Result<std::unique_ptr<KnnClassifier>> KnnClassifier::load(const fs::path& dir, const ModelManifest& m) {
  std::unique_ptr<KnnClassifier> c(new KnnClassifier());
  c->info_ = m;
  c->labels_ = m.labels;
  std::string where = (dir / "model.json").string();
  if (!m.extra.contains("k") || !m.extra["k"].is_number_integer() || m.extra["k"].get<int>() < 1) {
    return make_error(ErrorCode::kCorrupt, "{}: extra.k missing or not a positive integer", where);
  }
  c->k_ = m.extra["k"].get<int>();
  auto ao = AnalyzerOptions::parse(m.extra.value("analyzer", KnnOptions{}.analyzer));
  if (!ao.ok()) return make_error(ErrorCode::kCorrupt, "{}: extra.analyzer: {}", where, ao.error().message);
  auto bo = Bm25Options::parse(m.extra.value("bm25", KnnOptions{}.bm25));
  if (!bo.ok()) return make_error(ErrorCode::kCorrupt, "{}: extra.bm25: {}", where, bo.error().message);
  RAGFT_TRY(Analyzer a, Analyzer::create(*ao));
  c->analyzer_ = std::make_unique<Analyzer>(std::move(a));
  c->options_.analyzer = ao->to_config();
  c->options_.bm25 = bo->to_config();
  fs::path lf = dir / "labels.json";
  auto text = Env::posix().read_file(lf);
  if (!text.ok()) return make_error(ErrorCode::kCorrupt, "{}: {}", lf.string(), text.error().message);
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  try {
    if (j.is_discarded()) throw std::runtime_error("not JSON");
    j.at("examples").get_to(c->example_labels_);
    j.at("prior").get_to(c->prior_);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: {}", lf.string(), e.what());
  }
  if (c->prior_.size() != c->labels_.size()) {
    return make_error(ErrorCode::kCorrupt, "{}: prior has {} entries for {} labels", lf.string(), c->prior_.size(), c->labels_.size());
  }
  for (const auto& ls : c->example_labels_) {
    for (auto l : ls) {
      if (l >= c->labels_.size()) return make_error(ErrorCode::kCorrupt, "{}: label index {} out of range", lf.string(), l);
    }
  }
  fs::path idir = dir / "index";
  std::error_code ec;
  if (!fs::exists(idir / "MANIFEST", ec)) return make_error(ErrorCode::kCorrupt, "{} has no index (knn model)", idir.string());
  RAGFT_TRY(Bm25Index idx, Bm25Index::open(idir, *bo));
  if (idx.stats().live_chunks != c->example_labels_.size()) {
    return make_error(ErrorCode::kCorrupt, "{}: {} chunks for {} examples in labels.json", idir.string(),
                      idx.stats().live_chunks, c->example_labels_.size());
  }
  c->index_ = std::make_unique<Bm25Index>(std::move(idx));
  c->index_dir_ = idir;
  return c;
}

}  // namespace ragft
