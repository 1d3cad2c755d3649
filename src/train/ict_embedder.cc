#include "train/ict_embedder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "core/env.h"
#include "core/hash.h"
#include "text/analyzer.h"
#include "text/sentences.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'R', 'G', 'F', 'T', 'I', 'C', 'T', '1'};
constexpr double kKeepSentence = 0.1;  // ORQA keeps the sentence in its context 10% of the time
constexpr std::size_t kMinSplitTerms = 8;  // a single sentence this long is split in two

// A weighted bag of term ids: (1 + ln tf) * idf per distinct term.
using Bag = std::vector<std::pair<std::uint32_t, float>>;

Bag make_bag(const std::vector<std::uint32_t>& ids, const std::vector<float>& idf) {
  std::map<std::uint32_t, int> tf;
  for (std::uint32_t id : ids) ++tf[id];
  Bag bag;
  bag.reserve(tf.size());
  for (const auto& [id, n] : tf) bag.emplace_back(id, static_cast<float>((1.0 + std::log(n)) * idf[id]));
  return bag;
}

// u = sum of weight * E[id]; returns |u|.
double encode(const Bag& bag, const std::vector<float>& e, std::size_t d, float* u) {
  std::fill(u, u + d, 0.0f);
  for (const auto& [id, w] : bag) {
    const float* row = e.data() + static_cast<std::size_t>(id) * d;
    for (std::size_t k = 0; k < d; ++k) u[k] += w * row[k];
  }
  double n = 0;
  for (std::size_t k = 0; k < d; ++k) n += static_cast<double>(u[k]) * u[k];
  return std::sqrt(n);
}

struct Sample {
  std::vector<std::vector<std::uint32_t>> sentences;  // term ids per sentence
};

}  // namespace

std::string IctOptions::to_config() const {
  std::string a = analyzer.empty() ? AnalyzerOptions{}.to_config() : analyzer;
  return fmt::format("ict:dim={},epochs={},pairs={},batch={},lr={},tau={},mincount={},seed={},{}", dim, epochs, pairs,
                     batch, lr, tau, min_count, seed, a);
}

Result<IctOptions> IctOptions::parse(std::string_view config) {
  constexpr std::string_view kKind = "ict";
  IctOptions o;
  const NestedConfig split = split_nested_config(config, "analyzer");
  if (split.head != kKind && !split.head.starts_with("ict:")) {
    return make_error(ErrorCode::kInvalidArgument, "ict config \"{}\" must start with \"ict\"", config);
  }
  if (!split.nested.empty()) {
    RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(split.nested));
    o.analyzer = ao.to_config();
  } else {
    o.analyzer = AnalyzerOptions{}.to_config();
  }
  RAGFT_TRY(auto items, config_items(split.head, kKind));
  for (const auto& [key, value] : items) {
    if (key == "dim") {
      RAGFT_TRY(auto v, config_int(kKind, key, value, 1, 4096));
      o.dim = static_cast<int>(v);
    } else if (key == "epochs") {
      RAGFT_TRY(auto v, config_int(kKind, key, value, 1, 10000));
      o.epochs = static_cast<int>(v);
    } else if (key == "pairs") {
      RAGFT_TRY(auto v, config_int(kKind, key, value, 1, 1000));
      o.pairs = static_cast<int>(v);
    } else if (key == "batch") {
      RAGFT_TRY(auto v, config_int(kKind, key, value, 2, 65536));
      o.batch = static_cast<int>(v);
    } else if (key == "lr") {
      RAGFT_TRY(o.lr, config_double(kKind, key, value, 1e-9, 100));
    } else if (key == "tau") {
      RAGFT_TRY(o.tau, config_double(kKind, key, value, 1e-4, 100));
    } else if (key == "mincount") {
      RAGFT_TRY(auto v, config_int(kKind, key, value, 1, 1000000000));
      o.min_count = static_cast<int>(v);
    } else if (key == "seed") {
      RAGFT_TRY(auto v, config_int(kKind, key, value, 0, 0x7fffffffLL));
      o.seed = static_cast<std::uint64_t>(v);
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown ict option \"{}\" (known: dim, epochs, pairs, batch, lr, tau, mincount, seed, then "
                        "analyzer:...)",
                        key);
    }
  }
  return o;
}

IctEmbedder::IctEmbedder() = default;
IctEmbedder::~IctEmbedder() = default;

Result<std::unique_ptr<IctEmbedder>> IctEmbedder::train(const std::vector<std::string>& texts,
                                                        const IctOptions& options, IctTrainReport* report) {
  RAGFT_TRY(IctOptions o, IctOptions::parse(options.to_config()));  // validates
  std::unique_ptr<IctEmbedder> m(new IctEmbedder());
  m->options_ = o;
  RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(o.analyzer));
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(ao));
  m->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));
  if (texts.empty()) return make_error(ErrorCode::kInvalidArgument, "ict: no training texts");

  // Analyse: texts -> lines -> sentences -> terms; document frequencies.
  std::vector<std::vector<std::vector<std::string>>> analysed(texts.size());
  std::unordered_map<std::string, std::uint32_t> df;
  std::string hash_input;
  std::vector<std::string> terms;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    const std::string& text = texts[t];
    hash_input += content_hash(text);
    std::size_t line_start = 0;
    while (line_start <= text.size()) {
      std::size_t nl = text.find('\n', line_start);
      if (nl == std::string::npos) nl = text.size();
      std::string_view line(text.data() + line_start, nl - line_start);
      for (const Span& s : split_sentences(line)) {
        terms.clear();  // terms() appends
        m->analyzer_->terms(line.substr(s.start, s.end - s.start), terms);
        if (!terms.empty()) analysed[t].push_back(terms);
      }
      line_start = nl + 1;
    }
    std::vector<std::string> distinct;
    for (const auto& sentence : analysed[t]) distinct.insert(distinct.end(), sentence.begin(), sentence.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (const auto& w : distinct) ++df[w];
  }
  m->train_hash_ = content_hash(hash_input);
  std::vector<std::pair<std::string, std::uint32_t>> kept;
  for (const auto& [w, n] : df) {
    if (static_cast<int>(n) >= o.min_count) kept.emplace_back(w, n);
  }
  std::sort(kept.begin(), kept.end());
  const double n_texts = static_cast<double>(texts.size());
  for (const auto& [w, n] : kept) {
    m->term_ids_.emplace(w, static_cast<std::uint32_t>(m->terms_.size()));
    m->terms_.push_back(w);
    m->idf_.push_back(static_cast<float>(std::log(1.0 + n_texts / n)));
  }
  if (m->terms_.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "ict: no term occurs in {} or more texts (mincount)", o.min_count);
  }

  std::vector<Sample> samples;
  for (const auto& text : analysed) {
    Sample s;
    for (const auto& sentence : text) {
      std::vector<std::uint32_t> ids;
      for (const auto& w : sentence) {
        auto it = m->term_ids_.find(w);
        if (it != m->term_ids_.end()) ids.push_back(it->second);
      }
      if (!ids.empty()) s.sentences.push_back(std::move(ids));
    }
    if (s.sentences.size() == 1 && s.sentences[0].size() >= kMinSplitTerms) {
      // One long sentence (no punctuation, a table row): its halves make the pair.
      std::vector<std::uint32_t>& all = s.sentences[0];
      std::vector<std::uint32_t> second(all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2), all.end());
      all.resize(all.size() / 2);
      s.sentences.push_back(std::move(second));
    }
    if (s.sentences.size() >= 2) samples.push_back(std::move(s));
  }
  if (samples.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "ict: no training text has two sentences (or one of {}+ terms) with known terms", kMinSplitTerms);
  }

  const std::size_t d = static_cast<std::size_t>(o.dim);
  const std::size_t v = m->terms_.size();
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> init(0.0f, 0.1f);
  std::vector<float>& e = m->vectors_;
  e.resize(v * d);
  for (float& x : e) x = init(rng);
  std::vector<double> acc(v, 0.0);  // Adagrad accumulators, one per row

  const std::size_t b_max = static_cast<std::size_t>(o.batch);
  std::vector<float> q(b_max * d), p(b_max * d), gq(b_max * d), gp(b_max * d);
  std::vector<double> qn(b_max), pn(b_max);
  std::vector<double> logits(b_max * b_max), g(b_max * b_max);
  std::unordered_map<std::uint32_t, std::vector<float>> grad;  // sparse row gradients of a batch
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (report != nullptr) {
    report->texts = texts.size();
    report->terms = v;
  }

  std::vector<std::size_t> order(samples.size());
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    // One pair per text per round; a batch never holds two pairs of one text (no false negatives).
    std::vector<std::pair<Bag, Bag>> pairs;
    for (int round = 0; round < o.pairs; ++round) {
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng);
      for (std::size_t i : order) {
        const Sample& s = samples[i];
        const std::size_t pick = static_cast<std::size_t>(rng() % s.sentences.size());
        const bool keep = unit(rng) < kKeepSentence;
        std::vector<std::uint32_t> context;
        for (std::size_t j = 0; j < s.sentences.size(); ++j) {
          if (j != pick || keep) context.insert(context.end(), s.sentences[j].begin(), s.sentences[j].end());
        }
        pairs.emplace_back(make_bag(s.sentences[pick], m->idf_), make_bag(context, m->idf_));
      }
    }
    double loss_sum = 0;
    std::size_t batches = 0;
    for (std::size_t begin = 0; begin < pairs.size(); begin += b_max) {
      const std::size_t b = std::min(b_max, pairs.size() - begin);
      if (b < 2) break;
      for (std::size_t i = 0; i < b; ++i) {
        qn[i] = encode(pairs[begin + i].first, e, d, &q[i * d]);
        pn[i] = encode(pairs[begin + i].second, e, d, &p[i * d]);
        const double qs = qn[i] > 0 ? 1.0 / qn[i] : 0.0, ps = pn[i] > 0 ? 1.0 / pn[i] : 0.0;
        for (std::size_t k = 0; k < d; ++k) {
          q[i * d + k] = static_cast<float>(q[i * d + k] * qs);
          p[i * d + k] = static_cast<float>(p[i * d + k] * ps);
        }
      }
      for (std::size_t i = 0; i < b; ++i) {
        for (std::size_t j = 0; j < b; ++j) {
          double dot = 0;
          for (std::size_t k = 0; k < d; ++k) dot += static_cast<double>(q[i * d + k]) * p[j * d + k];
          logits[i * b + j] = dot / o.tau;
        }
      }
      // Symmetric loss: rows (query -> passages) and columns (passage -> queries).
      std::fill(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(b * b), 0.0);
      double loss = 0;
      for (int dir = 0; dir < 2; ++dir) {
        for (std::size_t i = 0; i < b; ++i) {
          auto at = [&](std::size_t j) -> std::size_t { return dir == 0 ? i * b + j : j * b + i; };
          double mx = -1e300;
          for (std::size_t j = 0; j < b; ++j) mx = std::max(mx, logits[at(j)]);
          double z = 0;
          for (std::size_t j = 0; j < b; ++j) z += std::exp(logits[at(j)] - mx);
          loss += -(logits[at(i)] - mx - std::log(z));
          for (std::size_t j = 0; j < b; ++j) {
            g[at(j)] += std::exp(logits[at(j)] - mx) / z - (i == j ? 1.0 : 0.0);
          }
        }
      }
      loss_sum += loss / (2.0 * static_cast<double>(b));
      ++batches;
      const double scale = 1.0 / (o.tau * 2.0 * static_cast<double>(b));
      // dL/dq_i = sum_j g_ij p_j, dL/dp_j = sum_i g_ij q_i (times scale).
      std::fill(gq.begin(), gq.begin() + static_cast<std::ptrdiff_t>(b * d), 0.0f);
      std::fill(gp.begin(), gp.begin() + static_cast<std::ptrdiff_t>(b * d), 0.0f);
      for (std::size_t i = 0; i < b; ++i) {
        for (std::size_t j = 0; j < b; ++j) {
          const auto gij = static_cast<float>(g[i * b + j] * scale);
          if (gij == 0.0f) continue;
          for (std::size_t k = 0; k < d; ++k) {
            gq[i * d + k] += gij * p[j * d + k];
            gp[j * d + k] += gij * q[i * d + k];
          }
        }
      }
      // Through the normalisation (du = (dx - x (x.dx)) / |u|), then into the rows of E.
      grad.clear();
      auto backprop = [&](const Bag& bag, const float* x, float* dx, double norm) {
        if (norm <= 0) return;
        double dot = 0;
        for (std::size_t k = 0; k < d; ++k) dot += static_cast<double>(x[k]) * dx[k];
        for (std::size_t k = 0; k < d; ++k) dx[k] = static_cast<float>((dx[k] - x[k] * dot) / norm);
        for (const auto& [id, w] : bag) {
          auto& row = grad[id];
          if (row.empty()) row.assign(d, 0.0f);
          for (std::size_t k = 0; k < d; ++k) row[k] += w * dx[k];
        }
      };
      for (std::size_t i = 0; i < b; ++i) {
        backprop(pairs[begin + i].first, &q[i * d], &gq[i * d], qn[i]);
        backprop(pairs[begin + i].second, &p[i * d], &gp[i * d], pn[i]);
      }
      for (auto& [id, row] : grad) {
        double sq = 0;
        for (float x : row) sq += static_cast<double>(x) * x;
        acc[id] += sq / static_cast<double>(d);
        const auto step = static_cast<float>(o.lr / std::sqrt(acc[id] + 1e-10));
        float* erow = e.data() + static_cast<std::size_t>(id) * d;
        for (std::size_t k = 0; k < d; ++k) erow[k] -= step * row[k];
      }
    }
    if (report != nullptr) {
      report->pairs += pairs.size();
      report->epoch_loss.push_back(batches > 0 ? loss_sum / static_cast<double>(batches) : 0.0);
    }
  }
  return m;
}

Status IctEmbedder::embed(const std::vector<std::string>& texts, EmbedRole /*role*/, std::vector<float>& out) {
  const std::size_t d = static_cast<std::size_t>(options_.dim);
  out.assign(texts.size() * d, 0.0f);
  std::vector<std::string> terms;
  std::vector<std::uint32_t> ids;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    {
      std::lock_guard<std::mutex> lock(analyzer_mu_);
      terms.clear();  // terms() appends
      analyzer_->terms(texts[i], terms);
    }
    ids.clear();
    for (const auto& w : terms) {
      auto it = term_ids_.find(w);
      if (it != term_ids_.end()) ids.push_back(it->second);
    }
    float* row = out.data() + i * d;
    const double norm = encode(make_bag(ids, idf_), vectors_, d, row);
    if (norm > 0) {
      for (std::size_t k = 0; k < d; ++k) row[k] = static_cast<float>(row[k] / norm);
    }
  }
  return ok_status();
}

std::string IctEmbedder::model_id() const {
  std::string data = train_hash_;
  data.append(reinterpret_cast<const char*>(vectors_.data()), std::min<std::size_t>(vectors_.size(), 4096) * sizeof(float));
  return options_.to_config() + "@" + content_hash(data);
}

Status IctEmbedder::save(const fs::path& dir) const {
  Env& env = Env::posix();
  RAGFT_TRY_STATUS(env.create_dirs(dir));
  std::string bin(kMagic, sizeof(kMagic));
  auto put = [&bin](const void* p, std::size_t n) { bin.append(static_cast<const char*>(p), n); };
  const auto count = static_cast<std::uint32_t>(terms_.size());
  put(&count, sizeof(count));
  for (std::size_t i = 0; i < terms_.size(); ++i) {
    const auto len = static_cast<std::uint32_t>(terms_[i].size());
    put(&len, sizeof(len));
    put(terms_[i].data(), terms_[i].size());
    put(&idf_[i], sizeof(float));
  }
  put(vectors_.data(), vectors_.size() * sizeof(float));
  RAGFT_TRY_STATUS(env.write_file_atomic(dir / "ict.bin", bin));
  nlohmann::json j = {{"format_version", 1},      {"kind", "ict"},       {"config", options_.to_config()},
                      {"train_hash", train_hash_}, {"terms", terms_.size()}, {"model_id", model_id()}};
  return env.write_file_atomic(dir / "ict.json", j.dump(1) + "\n");
}

Result<std::unique_ptr<IctEmbedder>> IctEmbedder::load(const fs::path& dir) {
  Env& env = Env::posix();
  const fs::path json_path = dir / "ict.json", bin_path = dir / "ict.bin";
  auto corrupt = [](const fs::path& file, std::string_view what) {
    return make_error(ErrorCode::kCorrupt, "{}: {} (ict model)", file.string(), what);
  };
  auto text = env.read_file(json_path);
  if (!text.ok()) return corrupt(json_path, "missing or unreadable: " + text.error().message);
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format_version", 0) != 1 || j.value("kind", "") != "ict" ||
      !j.contains("config") || !j["config"].is_string() || !j.contains("train_hash") || !j["train_hash"].is_string()) {
    return corrupt(json_path, "not a version-1 ict model");
  }
  auto o = IctOptions::parse(j["config"].get<std::string>());
  if (!o.ok()) return corrupt(json_path, "config: " + o.error().message);
  std::unique_ptr<IctEmbedder> m(new IctEmbedder());
  m->options_ = *o;
  m->train_hash_ = j["train_hash"].get<std::string>();
  RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(o->analyzer));
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(ao));
  m->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));

  auto data = env.read_file(bin_path);
  if (!data.ok()) return corrupt(bin_path, "missing or unreadable");
  std::size_t pos = 0;
  auto get = [&](void* p, std::size_t n) {
    if (data->size() - pos < n) return false;
    if (n > 0) std::memcpy(p, data->data() + pos, n);
    pos += n;
    return true;
  };
  char magic[sizeof(kMagic)];
  std::uint32_t count = 0;
  if (!get(magic, sizeof(magic)) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0 || !get(&count, sizeof(count))) {
    return corrupt(bin_path, "bad header");
  }
  if ((data->size() - pos) / 8 < count) return corrupt(bin_path, "truncated");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t len = 0;
    float idf = 0;
    if (!get(&len, sizeof(len)) || data->size() - pos < len) return corrupt(bin_path, "truncated terms");
    std::string term(data->data() + pos, len);
    pos += len;
    if (!get(&idf, sizeof(idf)) || !std::isfinite(idf)) return corrupt(bin_path, "bad idf");
    if (!m->term_ids_.emplace(term, i).second) return corrupt(bin_path, "duplicate term");
    m->terms_.push_back(std::move(term));
    m->idf_.push_back(idf);
  }
  const std::size_t floats = static_cast<std::size_t>(count) * static_cast<std::size_t>(o->dim);
  if (data->size() - pos != floats * sizeof(float)) return corrupt(bin_path, "vector block has the wrong size");
  m->vectors_.resize(floats);
  get(m->vectors_.data(), floats * sizeof(float));
  return m;
}

}  // namespace ragft
