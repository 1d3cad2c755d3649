#include "decide/closed_book.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fasttext/fasttext.h>
#include <nlohmann/json.hpp>

#include "core/env.h"
#include "core/temp_file.h"
#include "train/fasttext_io.h"
#include "text/analyzer.h"

namespace ragft::decide {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLabelPrefix = "__label__";
constexpr const char* kMagic = "ragft-closed-book";
constexpr int kVersion = 1;

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string join(const std::vector<std::string_view>& words, std::size_t from, std::size_t to) {
  std::string s;
  for (std::size_t i = from; i < to; ++i) {
    if (!s.empty()) s += ' ';
    s += words[i];
  }
  return s;
}

// Sentences of `text` (split after . ! ? followed by a space), each cut into windows of at most
// `window` words (a short tail joins the previous window).
std::vector<std::string> sentence_windows(std::string_view text, int window) {
  std::vector<std::string_view> words = split_words(text);
  std::vector<std::string> out;
  std::size_t w = static_cast<std::size_t>(std::max(window, 1));
  std::size_t start = 0;
  auto flush = [&](std::size_t end) {
    for (std::size_t i = start; i < end; i += w) {
      std::size_t e = std::min(end, i + w);
      if (end - e > 0 && end - e < w / 3) e = end;  // fold a short tail into this window
      out.push_back(join(words, i, e));
      if (e == end) break;
    }
    start = end;
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    char last = words[i].back();
    if (last == '.' || last == '!' || last == '?') flush(i + 1);
  }
  if (start < words.size()) flush(words.size());
  return out;
}

template <typename T>
Status parse_int(std::string_view key, std::string_view v, T& out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return make_error(ErrorCode::kInvalidArgument, "closedbook config: {}={} is not an integer", key, v);
  }
  return ok_status();
}

// True if the fastText line holds a known word (getLine always appends the end-of-sentence
// token; n-gram bucket ids come after the words' ids).
bool has_known_word(const fasttext::Dictionary& dict, const std::vector<int32_t>& words) {
  int32_t eos = dict.getId(fasttext::Dictionary::EOS);
  for (int32_t w : words) {
    if (w >= 0 && w < dict.nwords() && w != eos) return true;
  }
  return false;
}

}  // namespace

std::string ClosedBookOptions::to_config() const {
  return fmt::format(
      "closedbook:pq={},window={},full={},qrep={},loss={},dim={},lr={},epochs={},ngrams={},bucket={},threads={},"
      "seed={},{}",
      pseudo_queries_per_doc, window, full_doc ? 1 : 0, query_repeat, loss, dim, lr, epochs, word_ngrams, bucket,
      threads, seed, analyzer);
}

Result<ClosedBookOptions> ClosedBookOptions::parse(std::string_view config) {
  constexpr std::string_view kPrefix = "closedbook:";
  if (config.substr(0, kPrefix.size()) != kPrefix) {
    return make_error(ErrorCode::kInvalidArgument, "closedbook config \"{}\" must start with \"{}\"", config, kPrefix);
  }
  std::string_view rest = config.substr(kPrefix.size());
  ClosedBookOptions o;
  std::size_t a = rest.find("analyzer:");
  if (a != std::string_view::npos) {
    o.analyzer = std::string(rest.substr(a));
    auto ao = AnalyzerOptions::parse(o.analyzer);
    if (!ao.ok()) return ao.take_error();
    rest = rest.substr(0, a);
  }
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument, "closedbook config: \"{}\" is not key=value", item);
    }
    std::string_view k = item.substr(0, eq), v = item.substr(eq + 1);
    if (k == "pq") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.pseudo_queries_per_doc));
    } else if (k == "window") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.window));
    } else if (k == "full") {
      int f = 0;
      RAGFT_TRY_STATUS(parse_int(k, v, f));
      o.full_doc = f != 0;
    } else if (k == "qrep") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.query_repeat));
    } else if (k == "loss") {
      o.loss = std::string(v);
    } else if (k == "dim") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.dim));
    } else if (k == "lr") {
      std::string s(v);
      char* end = nullptr;
      o.lr = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') return make_error(ErrorCode::kInvalidArgument, "closedbook config: lr={} is not a number", v);
    } else if (k == "epochs") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.epochs));
    } else if (k == "ngrams") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.word_ngrams));
    } else if (k == "bucket") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.bucket));
    } else if (k == "threads") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.threads));
    } else if (k == "seed") {
      RAGFT_TRY_STATUS(parse_int(k, v, o.seed));
    } else {
      return make_error(ErrorCode::kInvalidArgument, "closedbook config: unknown key \"{}\"", k);
    }
  }
  if (o.loss != "hs" && o.loss != "ova" && o.loss != "ns" && o.loss != "softmax") {
    return make_error(ErrorCode::kInvalidArgument, "closedbook config: loss={} (expected hs, ova, ns or softmax)", o.loss);
  }
  if (o.pseudo_queries_per_doc < 0 || o.window < 1 || o.query_repeat < 0 || o.dim < 1 || !(o.lr > 0) ||
      o.epochs < 1 || o.word_ngrams < 1 || o.bucket < 0 || o.threads < 0) {
    return make_error(ErrorCode::kInvalidArgument, "closedbook config: a value is out of range in \"{}\"", config);
  }
  return o;
}

ClosedBookModel::ClosedBookModel() = default;
ClosedBookModel::~ClosedBookModel() = default;

std::vector<std::string> ClosedBookModel::pseudo_queries(const CorpusDoc& doc, const ClosedBookOptions& o) {
  std::vector<std::string> out;
  bool has_title = split_words(doc.title).size() > 0;
  if (has_title) out.push_back(doc.title);
  std::vector<std::string> sents = sentence_windows(doc.text, o.window);
  std::size_t want = o.pseudo_queries_per_doc == 0 ? sents.size()
                     : static_cast<std::size_t>(std::max(0, o.pseudo_queries_per_doc - (has_title ? 1 : 0)));
  if (want >= sents.size()) {
    for (auto& s : sents) out.push_back(std::move(s));
  } else if (want == 1) {
    out.push_back(std::move(sents.front()));
  } else if (want > 1) {
    // evenly spread over the text, first and last included
    for (std::size_t i = 0; i < want; ++i) {
      std::size_t idx = static_cast<std::size_t>(std::lround(static_cast<double>(i) * static_cast<double>(sents.size() - 1) /
                                                             static_cast<double>(want - 1)));
      out.push_back(sents[idx]);
    }
  }
  if (o.full_doc && !doc.text.empty()) out.push_back(doc.title.empty() ? doc.text : doc.title + " " + doc.text);
  return out;
}

std::string ClosedBookModel::normalize(std::string_view text) const {
  terms_.clear();
  analyzer_->terms(text, terms_);
  std::string s;
  for (const auto& t : terms_) {
    if (!s.empty()) s += ' ';
    s += t;
  }
  return s;
}

Status ClosedBookModel::map_labels() {
  auto dict = ft_->getDictionary();
  ft_to_ours_.assign(static_cast<std::size_t>(dict->nlabels()), -1);
  ours_to_ft_.assign(doc_ids_.size(), -1);
  for (int32_t i = 0; i < dict->nlabels(); ++i) {
    std::string name = dict->getLabel(i);
    int v = -1;
    std::string_view idx = std::string_view(name).substr(std::string_view(kLabelPrefix).size());
    auto [p, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), v);
    if (ec != std::errc() || v < 0 || static_cast<std::size_t>(v) >= doc_ids_.size()) {
      return make_error(ErrorCode::kCorrupt, "fastText label \"{}\" is not an index into the {} doc ids", name, doc_ids_.size());
    }
    ft_to_ours_[static_cast<std::size_t>(i)] = v;
    ours_to_ft_[static_cast<std::size_t>(v)] = i;
  }
  id_index_.clear();
  for (std::size_t i = 0; i < doc_ids_.size(); ++i) id_index_.emplace(doc_ids_[i], static_cast<int>(i));
  return ok_status();
}

Result<std::unique_ptr<ClosedBookModel>> ClosedBookModel::train(const std::vector<CorpusDoc>& docs,
                                                                const std::vector<TrainQuery>& queries,
                                                                const ClosedBookOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  if (docs.empty()) return make_error(ErrorCode::kInvalidArgument, "closed-book training needs documents");
  RAGFT_TRY(ClosedBookOptions checked, ClosedBookOptions::parse(o.to_config()));
  std::unique_ptr<ClosedBookModel> m(new ClosedBookModel());
  m->options_ = checked;
  RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(checked.analyzer));
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(ao));
  m->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));

  std::unordered_map<std::string, int> index;
  m->doc_ids_.reserve(docs.size());
  for (const auto& d : docs) {
    if (!index.emplace(d.id, static_cast<int>(m->doc_ids_.size())).second) {
      return make_error(ErrorCode::kInvalidArgument, "closed-book training: doc id \"{}\" appears twice", d.id);
    }
    m->doc_ids_.push_back(d.id);
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    std::string label = fmt::format("{}{} ", kLabelPrefix, i);
    for (const auto& pq : pseudo_queries(docs[i], checked)) {
      std::string text = m->normalize(pq);
      if (text.empty()) continue;
      lines.push_back(label + text);
    }
  }
  m->info_.pseudo_queries = lines.size();
  for (const auto& q : queries) {
    std::string labels;
    for (const auto& id : q.relevant_doc_ids) {
      auto it = index.find(id);
      if (it == index.end()) {
        return make_error(ErrorCode::kInvalidArgument, "closed-book training: query \"{}\" is relevant to doc \"{}\", "
                          "which is not in the corpus", q.text.substr(0, 60), id);
      }
      labels += fmt::format("{}{} ", kLabelPrefix, it->second);
    }
    std::string text = m->normalize(q.text);
    if (labels.empty() || text.empty()) continue;
    for (int r = 0; r < checked.query_repeat; ++r) lines.push_back(labels + text);
  }
  if (lines.empty()) return make_error(ErrorCode::kInvalidArgument, "closed-book training: no text to train on");
  // fastText reads the file in order; shuffle so every epoch mixes documents and queries.
  std::mt19937_64 rng(checked.seed);
  std::shuffle(lines.begin(), lines.end(), rng);
  std::string file;
  for (const auto& l : lines) {
    file += l;
    file += '\n';
  }
  m->info_.examples = lines.size();
  lines.clear();
  lines.shrink_to_fit();
  RAGFT_TRY(TempFile tmp, TempFile::write(file, "ragft-closedbook-"));
  file.clear();
  file.shrink_to_fit();

  fasttext::Args args;
  args.input = tmp.path().string();
  args.model = fasttext::model_name::sup;
  args.loss = checked.loss == "hs"    ? fasttext::loss_name::hs
              : checked.loss == "ova" ? fasttext::loss_name::ova
              : checked.loss == "ns"  ? fasttext::loss_name::ns
                                      : fasttext::loss_name::softmax;
  args.minCount = 1;
  args.minCountLabel = 0;
  args.lr = checked.lr;
  args.dim = checked.dim;
  args.epoch = checked.epochs;
  args.wordNgrams = checked.word_ngrams;
  args.minn = 0;
  args.maxn = 0;
  args.bucket = checked.word_ngrams > 1 ? checked.bucket : 0;
  args.thread = checked.threads > 0 ? checked.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  args.seed = static_cast<int>(checked.seed & 0x7fffffff);
  args.verbose = 0;
  args.label = kLabelPrefix;
  m->ft_ = std::make_unique<fasttext::FastText>();
  try {
    m->ft_->train(args);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "fastText training failed: {}", e.what());
  }
  RAGFT_TRY_STATUS(m->map_labels());
  m->info_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

std::vector<RunEntry> ClosedBookModel::rank(std::string_view query, std::size_t k) const {
  std::vector<RunEntry> out;
  if (k == 0) return out;
  std::istringstream in(normalize(query) + "\n");
  std::vector<int32_t> words, labels;
  ft_->getDictionary()->getLine(in, words, labels);
  if (!has_known_word(*ft_->getDictionary(), words)) return out;
  fasttext::Predictions preds;
  int32_t kk = static_cast<int32_t>(std::min<std::size_t>(k, doc_ids_.size()));
  ft_->predict(kk, words, preds, 0.0f);
  for (const auto& [logp, id] : preds) {
    out.push_back({doc_ids_[static_cast<std::size_t>(ft_to_ours_[static_cast<std::size_t>(id)])], std::exp(logp)});
  }
  std::sort(out.begin(), out.end(), [](const RunEntry& a, const RunEntry& b) {
    return a.score != b.score ? a.score > b.score : a.doc_id < b.doc_id;
  });
  return out;
}

std::vector<float> ClosedBookModel::all_probabilities(std::string_view query) const {
  std::istringstream in(normalize(query) + "\n");
  std::vector<int32_t> words, labels;
  ft_->getDictionary()->getLine(in, words, labels);
  if (!has_known_word(*ft_->getDictionary(), words)) return {};
  fasttext::Predictions preds;
  ft_->predict(-1, words, preds, 0.0f);
  std::vector<float> p(ft_to_ours_.size(), 0.0f);
  for (const auto& [logp, id] : preds) p[static_cast<std::size_t>(id)] = std::exp(logp);
  return p;
}

std::vector<float> ClosedBookModel::score(std::string_view query, const std::vector<std::string>& doc_ids) const {
  std::vector<float> out(doc_ids.size(), 0.0f);
  std::vector<float> p = all_probabilities(query);
  if (p.empty()) return out;
  for (std::size_t i = 0; i < doc_ids.size(); ++i) {
    auto it = id_index_.find(doc_ids[i]);
    if (it == id_index_.end()) continue;
    int ft = ours_to_ft_[static_cast<std::size_t>(it->second)];
    if (ft >= 0) out[i] = p[static_cast<std::size_t>(ft)];
  }
  return out;
}

Result<std::vector<std::vector<float>>> ClosedBookModel::cross_fit_scores(
    const std::vector<CorpusDoc>& docs, const std::vector<TrainQuery>& queries,
    const std::vector<std::vector<std::string>>& candidate_ids, const ClosedBookOptions& o, int folds) {
  if (folds < 2) return make_error(ErrorCode::kInvalidArgument, "closed-book cross-fitting needs at least 2 folds, not {}", folds);
  if (candidate_ids.size() != queries.size()) {
    return make_error(ErrorCode::kInvalidArgument, "closed-book cross-fitting: {} queries but {} candidate lists",
                      queries.size(), candidate_ids.size());
  }
  std::vector<std::size_t> fold(queries.size());
  for (std::size_t i = 0; i < fold.size(); ++i) fold[i] = i % static_cast<std::size_t>(folds);
  std::mt19937_64 rng(o.seed);
  std::shuffle(fold.begin(), fold.end(), rng);
  std::vector<std::vector<float>> out(queries.size());
  for (std::size_t f = 0; f < static_cast<std::size_t>(folds); ++f) {
    std::vector<TrainQuery> fit;
    for (std::size_t i = 0; i < queries.size(); ++i) {
      if (fold[i] != f) fit.push_back(queries[i]);
    }
    RAGFT_TRY(auto m, train(docs, fit, o));
    for (std::size_t i = 0; i < queries.size(); ++i) {
      if (fold[i] == f) out[i] = m->score(queries[i].text, candidate_ids[i]);
    }
  }
  return out;
}

Status ClosedBookModel::save(const fs::path& dir) const {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  RAGFT_TRY_STATUS(save_fasttext_model(*ft_, dir));
  nlohmann::json j = {{"magic", kMagic},
                      {"version", kVersion},
                      {"config", options_.to_config()},
                      {"examples", info_.examples},
                      {"pseudo_queries", info_.pseudo_queries},
                      {"train_seconds", info_.seconds},
                      {"doc_ids", doc_ids_}};
  return Env::posix().write_file_atomic(dir / "closed_book.json", j.dump());
}

Result<std::unique_ptr<ClosedBookModel>> ClosedBookModel::load(const fs::path& dir) {
  fs::path meta = dir / "closed_book.json";
  std::error_code ec;
  if (!fs::exists(meta, ec)) return make_error(ErrorCode::kNotFound, "{} does not exist (closed-book model)", meta.string());
  RAGFT_TRY(std::string text, Env::posix().read_file(meta));
  std::unique_ptr<ClosedBookModel> m(new ClosedBookModel());
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("magic", "") != kMagic || j.value("version", 0) != kVersion) {
      return make_error(ErrorCode::kCorrupt, "{}: not a version {} closed-book model", meta.string(), kVersion);
    }
    auto o = ClosedBookOptions::parse(j.at("config").get<std::string>());
    if (!o.ok()) return make_error(ErrorCode::kCorrupt, "{}: config: {}", meta.string(), o.error().message);
    m->options_ = *o;
    m->doc_ids_ = j.at("doc_ids").get<std::vector<std::string>>();
    m->info_.examples = j.value("examples", std::size_t{0});
    m->info_.pseudo_queries = j.value("pseudo_queries", std::size_t{0});
    m->info_.seconds = j.value("train_seconds", 0.0);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: {}", meta.string(), e.what());
  }
  RAGFT_TRY(AnalyzerOptions ao, AnalyzerOptions::parse(m->options_.analyzer));
  RAGFT_TRY(Analyzer analyzer, Analyzer::create(ao));
  m->analyzer_ = std::make_unique<Analyzer>(std::move(analyzer));
  fs::path bin = dir / "model.bin";
  if (!fs::exists(bin, ec)) return make_error(ErrorCode::kCorrupt, "{} is missing (closed-book model)", bin.string());
  m->ft_ = std::make_unique<fasttext::FastText>();
  try {
    m->ft_->loadModel(bin.string());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "cannot load {}: {}", bin.string(), e.what());
  }
  RAGFT_TRY_STATUS(m->map_labels());
  return m;
}

}  // namespace ragft::decide
