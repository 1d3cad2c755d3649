#include "train/sif_embedder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <unordered_map>
#include <utility>

#include <fasttext/fasttext.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "core/env.h"
#include "core/hash.h"
#include "core/temp_file.h"
#include "train/fasttext_io.h"
#include "text/analyzer.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPcTexts = 20000;
constexpr int kPowerIterations = 300;
constexpr std::string_view kAnalyzerKey = "analyzer:";

bool to_int(std::string_view v, long long lo, long long hi, long long* out) {
  auto r = config_int("sif", "", v, lo, hi);
  if (r.ok()) *out = *r;
  return r.ok();
}

bool to_double(std::string_view v, double lo, double hi, double* out) {
  auto r = config_double("sif", "", v, lo, hi);
  if (r.ok()) *out = *r;
  return r.ok();
}

std::string join_terms(const std::vector<std::string>& terms) {
  std::string s;
  for (const auto& t : terms) {
    if (!s.empty()) s += ' ';
    s += t;
  }
  return s;
}

// First principal component (uncentred) of the rows of x (n x d, row-major): power iteration on
// X^T X from the mean row. Sign fixed so the largest-magnitude component is positive.
std::vector<float> first_pc(const std::vector<double>& x, std::size_t n, std::size_t d) {
  std::vector<double> c(d * d, 0.0);
  for (std::size_t r = 0; r < n; ++r) {
    const double* row = &x[r * d];
    for (std::size_t i = 0; i < d; ++i) {
      if (row[i] == 0) continue;
      double* ci = &c[i * d];
      for (std::size_t j = 0; j < d; ++j) ci[j] += row[i] * row[j];
    }
  }
  std::vector<double> u(d, 0.0), next(d);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t i = 0; i < d; ++i) u[i] += x[r * d + i];
  auto normalise = [](std::vector<double>& v) {
    double s = 0;
    for (double e : v) s += e * e;
    s = std::sqrt(s);
    if (s == 0) return false;
    for (double& e : v) e /= s;
    return true;
  };
  if (!normalise(u)) {
    std::fill(u.begin(), u.end(), 1.0);
    normalise(u);
  }
  for (int it = 0; it < kPowerIterations; ++it) {
    for (std::size_t i = 0; i < d; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < d; ++j) s += c[i * d + j] * u[j];
      next[i] = s;
    }
    if (!normalise(next)) return std::vector<float>(d, 0.0f);  // all rows zero
    double delta = 0;
    for (std::size_t i = 0; i < d; ++i) delta = std::max(delta, std::abs(next[i] - u[i]));
    u.swap(next);
    if (delta < 1e-10) break;
  }
  std::size_t big = 0;
  for (std::size_t i = 1; i < d; ++i)
    if (std::abs(u[i]) > std::abs(u[big])) big = i;
  double sign = u[big] < 0 ? -1.0 : 1.0;
  std::vector<float> pc(d);
  for (std::size_t i = 0; i < d; ++i) pc[i] = static_cast<float>(sign * u[i]);
  return pc;
}

}  // namespace

std::string SifOptions::to_config() const {
  return fmt::format("sif:dim={},epochs={},minn={},maxn={},mincount={},lr={},threads={},seed={},a={},bucket={},{}", dim,
                     epochs, minn, maxn, min_count, lr, threads, seed, a, bucket, analyzer);
}

Result<SifOptions> SifOptions::parse(std::string_view config) {
  SifOptions o;
  std::string_view head = config;
  std::size_t at = config.find(kAnalyzerKey);
  if (at != std::string_view::npos) {
    if (at != 0 && config[at - 1] != ',' && config[at - 1] != ':') {
      return make_error(ErrorCode::kInvalidArgument, "sif config \"{}\": misplaced \"analyzer:\"", config);
    }
    o.analyzer = std::string(config.substr(at));
    head = config.substr(0, at);
    auto ao = AnalyzerOptions::parse(o.analyzer);
    if (!ao.ok()) return make_error(ErrorCode::kInvalidArgument, "sif option analyzer: {}", ao.error().message);
    o.analyzer = ao->to_config();
  }
  if (!head.starts_with("sif")) {
    return make_error(ErrorCode::kInvalidArgument, "sif config \"{}\" must start with \"sif\"", config);
  }
  RAGFT_TRY(auto items, config_items(head, "sif"));
  for (const auto& [key, value] : items) {
    std::string_view k = key, v = value;
    long long n = 0;
    bool ok = true;
    if (k == "dim") {
      ok = to_int(v, 1, 10000, &n) && (o.dim = static_cast<int>(n), true);
    } else if (k == "epochs") {
      ok = to_int(v, 1, 100000, &n) && (o.epochs = static_cast<int>(n), true);
    } else if (k == "minn") {
      ok = to_int(v, 0, 100, &n) && (o.minn = static_cast<int>(n), true);
    } else if (k == "maxn") {
      ok = to_int(v, 0, 100, &n) && (o.maxn = static_cast<int>(n), true);
    } else if (k == "mincount") {
      ok = to_int(v, 1, 1000000000, &n) && (o.min_count = static_cast<int>(n), true);
    } else if (k == "lr") {
      ok = to_double(v, 1e-9, 100, &o.lr);
    } else if (k == "threads") {
      ok = to_int(v, 1, 1024, &n) && (o.threads = static_cast<int>(n), true);
    } else if (k == "seed") {
      ok = to_int(v, 0, 0x7fffffffLL, &n) && (o.seed = static_cast<std::uint64_t>(n), true);
    } else if (k == "a") {
      ok = to_double(v, 1e-12, 1e6, &o.a);
    } else if (k == "bucket") {
      ok = to_int(v, 1, 100000000, &n) && (o.bucket = static_cast<int>(n), true);
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown sif option \"{}\" (known: dim, epochs, minn, maxn, mincount, lr, threads, seed, a, "
                        "bucket, then analyzer:...)",
                        k);
    }
    if (!ok) return make_error(ErrorCode::kInvalidArgument, "sif option {}=\"{}\" is not valid", k, v);
  }
  if (o.maxn < o.minn || (o.minn == 0) != (o.maxn == 0)) {
    return make_error(ErrorCode::kInvalidArgument, "sif options minn={} maxn={}: need 0 < minn <= maxn, or both 0",
                      o.minn, o.maxn);
  }
  return o;
}

SifEmbedder::SifEmbedder() = default;
SifEmbedder::~SifEmbedder() = default;

double SifEmbedder::weight(const std::string& term) const {
  auto it = std::lower_bound(counts_.begin(), counts_.end(), term,
                             [](const auto& e, const std::string& t) { return e.first < t; });
  if (it == counts_.end() || it->first != term || total_ == 0) return 1.0;
  return sif_weight(options_.a, static_cast<double>(it->second) / static_cast<double>(total_));
}

void SifEmbedder::cache_word_vectors() {
  auto dict = ft_->getDictionary();
  std::size_t d = static_cast<std::size_t>(dim_);
  word_vectors_.assign(static_cast<std::size_t>(dict->nwords()) * d, 0.0f);
  fasttext::Vector v(dim_);
  for (int32_t i = 0; i < dict->nwords(); ++i) {
    ft_->getWordVector(v, dict->getWord(i));
    std::memcpy(&word_vectors_[static_cast<std::size_t>(i) * d], v.data(), d * sizeof(float));
  }
}

bool SifEmbedder::sif_vector(const std::vector<std::string>& terms, std::vector<double>& v) const {
  std::size_t d = static_cast<std::size_t>(dim_);
  v.assign(d, 0.0);
  if (terms.empty()) return false;
  auto dict = ft_->getDictionary();
  fasttext::Vector wv(dim_);
  bool any = false;
  for (const auto& t : terms) {
    double w = weight(t);
    int32_t id = dict->getId(t);
    const float* x = nullptr;
    if (id >= 0 && id < dict->nwords()) {
      x = &word_vectors_[static_cast<std::size_t>(id) * d];
    } else {
      ft_->getWordVector(wv, t);  // subword n-grams only
      x = wv.data();
    }
    for (std::size_t i = 0; i < d; ++i) {
      if (x[i] != 0) any = true;
      v[i] += w * x[i];
    }
  }
  double inv = 1.0 / static_cast<double>(terms.size());
  for (double& e : v) e *= inv;
  return any;
}

void SifEmbedder::embed_into(std::string_view text, std::vector<std::string>& terms, std::vector<double>& v,
                             float* out) const {
  std::size_t d = static_cast<std::size_t>(dim_);
  terms.clear();
  {
    std::lock_guard<std::mutex> lock(analyzer_mu_);
    analyzer_->terms(text, terms);
  }
  std::fill(out, out + d, 0.0f);
  if (!sif_vector(terms, v)) return;
  double proj = 0;
  for (std::size_t i = 0; i < d; ++i) proj += v[i] * pc_[i];
  double norm = 0;
  for (std::size_t i = 0; i < d; ++i) {
    v[i] -= proj * pc_[i];
    norm += v[i] * v[i];
  }
  norm = std::sqrt(norm);
  if (!(norm > 0)) return;
  for (std::size_t i = 0; i < d; ++i) out[i] = static_cast<float>(v[i] / norm);
}

std::vector<float> SifEmbedder::embed(std::string_view text) const {
  std::vector<float> out(static_cast<std::size_t>(dim_));
  std::vector<std::string> terms;
  std::vector<double> v;
  embed_into(text, terms, v, out.data());
  return out;
}

void SifEmbedder::embed_batch(const std::vector<std::string>& texts, std::vector<float>& out) const {
  std::size_t d = static_cast<std::size_t>(dim_);
  out.assign(texts.size() * d, 0.0f);
  std::vector<std::string> terms;
  std::vector<double> v;
  for (std::size_t i = 0; i < texts.size(); ++i) embed_into(texts[i], terms, v, &out[i * d]);
}

Result<std::unique_ptr<SifEmbedder>> SifEmbedder::train(const std::vector<std::string>& texts, const SifOptions& o) {
  if (texts.empty()) return make_error(ErrorCode::kInvalidArgument, "sif: no training texts");
  // Validate through the config string, so a model trained here can always be described.
  RAGFT_TRY(SifOptions checked, SifOptions::parse(o.to_config()));
  std::unique_ptr<SifEmbedder> e(new SifEmbedder());
  e->options_ = checked;
  e->dim_ = checked.dim;
  RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(checked.analyzer));
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(ao));
  e->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));

  // Analyse once: the fastText training file, word counts and the training hash.
  std::vector<std::vector<std::string>> analysed(texts.size());
  std::string file, hashed;
  std::unordered_map<std::string, std::uint64_t> counts;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    e->analyzer_->terms(texts[i], analysed[i]);
    for (const auto& t : analysed[i]) ++counts[t];
    e->total_ += analysed[i].size();
    file += join_terms(analysed[i]);
    file += '\n';
    hashed += std::to_string(texts[i].size());
    hashed += ':';
    hashed += texts[i];
  }
  if (e->total_ == 0) return make_error(ErrorCode::kInvalidArgument, "sif: the {} training texts hold no word", texts.size());
  e->counts_.assign(counts.begin(), counts.end());
  std::sort(e->counts_.begin(), e->counts_.end());
  e->train_hash_ = content_hash(hashed);
  hashed.clear();
  hashed.shrink_to_fit();

  RAGFT_TRY(TempFile tmp, TempFile::write(file, "ragft-sif-"));
  file.clear();
  file.shrink_to_fit();
  fasttext::Args args;
  args.input = tmp.path().string();
  args.model = fasttext::model_name::sg;
  args.loss = fasttext::loss_name::ns;
  args.minCount = checked.min_count;
  args.lr = checked.lr;
  args.dim = checked.dim;
  args.epoch = checked.epochs;
  args.minn = checked.minn;
  args.maxn = checked.maxn;
  args.bucket = checked.bucket;
  args.thread = checked.threads;
  args.seed = static_cast<int>(checked.seed & 0x7fffffff);
  args.verbose = 0;
  e->ft_ = std::make_unique<fasttext::FastText>();
  try {
    e->ft_->train(args);
  } catch (const std::exception& ex) {
    return make_error(ErrorCode::kInvalidArgument, "sif: fastText training failed: {} (mincount={})", ex.what(),
                      checked.min_count);
  }
  e->cache_word_vectors();

  // Principal component over at most kMaxPcTexts texts (a seeded Fisher-Yates prefix).
  std::vector<std::size_t> idx(texts.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::size_t n = std::min(idx.size(), kMaxPcTexts);
  if (n < idx.size()) {
    std::mt19937_64 rng(checked.seed);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t j = i + static_cast<std::size_t>(rng() % (idx.size() - i));
      std::swap(idx[i], idx[j]);
    }
    idx.resize(n);
    std::sort(idx.begin(), idx.end());
  }
  std::size_t d = static_cast<std::size_t>(e->dim_);
  std::vector<double> x(n * d), v;
  for (std::size_t r = 0; r < n; ++r) {
    e->sif_vector(analysed[idx[r]], v);
    std::copy(v.begin(), v.end(), &x[r * d]);
  }
  e->pc_ = first_pc(x, n, d);
  return e;
}

Status SifEmbedder::embed(const std::vector<std::string>& texts, EmbedRole /*role*/, std::vector<float>& out) {
  embed_batch(texts, out);
  return ok_status();
}

std::string SifEmbedder::model_id() const {
  std::string data = train_hash_;
  data.append(reinterpret_cast<const char*>(pc_.data()), pc_.size() * sizeof(float));
  return options_.to_config() + "@" + content_hash(data);
}

Status SifEmbedder::save(const fs::path& dir) const {
  Env& env = Env::posix();
  RAGFT_TRY_STATUS(env.create_dirs(dir));
  RAGFT_TRY_STATUS(save_fasttext_model(*ft_, dir));
  std::string tsv;
  for (const auto& [w, c] : counts_) tsv += fmt::format("{}\t{}\n", w, c);
  RAGFT_TRY_STATUS(env.write_file_atomic(dir / "counts.tsv", tsv));
  nlohmann::json j = {{"format_version", 1},
                      {"kind", "sif"},
                      {"config", options_.to_config()},
                      {"train_hash", train_hash_},
                      {"pc", pc_},
                      {"model_id", model_id()}};
  return env.write_file_atomic(dir / "sif.json", j.dump(1) + "\n");
}

Result<std::unique_ptr<SifEmbedder>> SifEmbedder::load(const fs::path& dir) {
  Env& env = Env::posix();
  fs::path json_path = dir / "sif.json";
  auto text = env.read_file(json_path);
  if (!text.ok()) return make_error(ErrorCode::kCorrupt, "{} is missing or unreadable (sif model): {}", json_path.string(), text.error().message);
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error(ErrorCode::kCorrupt, "{} is not valid JSON", json_path.string());
  std::unique_ptr<SifEmbedder> e(new SifEmbedder());
  try {
    if (j.at("format_version").get<int>() != 1 || j.at("kind").get<std::string>() != "sif") {
      return make_error(ErrorCode::kCorrupt, "{}: not a version-1 sif model", json_path.string());
    }
    auto o = SifOptions::parse(j.at("config").get<std::string>());
    if (!o.ok()) return make_error(ErrorCode::kCorrupt, "{}: config: {}", json_path.string(), o.error().message);
    e->options_ = *o;
    e->dim_ = o->dim;
    e->train_hash_ = j.at("train_hash").get<std::string>();
    e->pc_ = j.at("pc").get<std::vector<float>>();
  } catch (const std::exception& ex) {
    return make_error(ErrorCode::kCorrupt, "{}: {}", json_path.string(), ex.what());
  }
  if (e->pc_.size() != static_cast<std::size_t>(e->dim_)) {
    return make_error(ErrorCode::kCorrupt, "{}: pc has {} values, dim is {}", json_path.string(), e->pc_.size(), e->dim_);
  }
  RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(e->options_.analyzer));
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(ao));
  e->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));

  fs::path tsv_path = dir / "counts.tsv";
  auto tsv = env.read_file(tsv_path);
  if (!tsv.ok()) return make_error(ErrorCode::kCorrupt, "{} is missing or unreadable (sif model)", tsv_path.string());
  std::string_view rest = *tsv;
  std::size_t line = 0;
  while (!rest.empty()) {
    ++line;
    std::size_t nl = rest.find('\n');
    std::string_view l = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    std::size_t tab = l.find('\t');
    long long c = 0;
    if (tab == std::string_view::npos || !to_int(l.substr(tab + 1), 1, 0x7fffffffffffffffLL, &c)) {
      return make_error(ErrorCode::kCorrupt, "{}:{}: expected \"word<TAB>count\"", tsv_path.string(), line);
    }
    e->counts_.emplace_back(std::string(l.substr(0, tab)), static_cast<std::uint64_t>(c));
    e->total_ += static_cast<std::uint64_t>(c);
  }
  if (!std::is_sorted(e->counts_.begin(), e->counts_.end())) {
    return make_error(ErrorCode::kCorrupt, "{}: words are not sorted", tsv_path.string());
  }

  fs::path bin = dir / "model.bin";
  std::error_code ec;
  if (!fs::exists(bin, ec)) return make_error(ErrorCode::kCorrupt, "{} is missing (sif model)", bin.string());
  e->ft_ = std::make_unique<fasttext::FastText>();
  try {
    e->ft_->loadModel(bin.string());
  } catch (const std::exception& ex) {
    return make_error(ErrorCode::kCorrupt, "cannot load {}: {}", bin.string(), ex.what());
  }
  if (e->ft_->getDimension() != e->dim_) {
    return make_error(ErrorCode::kCorrupt, "{}: dimension {} but sif.json says {}", bin.string(), e->ft_->getDimension(), e->dim_);
  }
  e->cache_word_vectors();
  return e;
}

}  // namespace ragft
