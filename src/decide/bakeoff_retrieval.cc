// The knowledge-task bake-off (see bakeoff.h): baseline, BM25 RAG, closed-book fine-tuned model,
// BM25 + trained reranker; and its freshness experiment (part of the corpus held back, then
// added the way each arm adds knowledge).
#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "decide/bakeoff.h"
#include "decide/cache.h"
#include "decide/closed_book.h"
#include "decide/knowledge.h"
#include "decide/profile.h"
#include "decide/reranker.h"
#include "evaluate/metrics.h"
#include "evaluate/trec.h"
#include "ingest/sync.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"

namespace ragft::decide {

namespace fs = std::filesystem;

namespace {

constexpr int kCacheVersion = 1;

void say(const BakeoffOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}




nlohmann::json interval_json(const Interval& q) { return {{"value", q.value}, {"ci_low", q.low}, {"ci_high", q.high}}; }

std::vector<double> pick(const std::vector<double>& v, const std::vector<std::size_t>& idx) {
  std::vector<double> out;
  for (std::size_t i : idx) out.push_back(v[i]);
  return out;
}

// Writes the documents not in `held` and then, when `with_held`, the held ones after them (new
// knowledge arrives as new records: the existing records keep their lines, so a sync sees them
// unchanged).
Status write_jsonl(const fs::path& p, const std::vector<CorpusDoc>& docs, const std::unordered_set<std::string>& held,
                   bool with_held) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  auto write = [&](const CorpusDoc& d) {
    out << nlohmann::json{{"_id", d.id}, {"title", d.title}, {"text", d.text}}.dump() << '\n';
  };
  for (const auto& d : docs) {
    if (!held.count(d.id)) write(d);
  }
  if (with_held) {
    for (const auto& d : docs) {
      if (held.count(d.id)) write(d);
    }
  }
  if (!out) return make_error(ErrorCode::kIo, "cannot write {}", p.string());
  return ok_status();
}

struct Settings {
  Bm25Options bm25;
  ClosedBookOptions closed_book;
  RerankerOptions reranker;
};

// BM25 k1/b chosen by nDCG@10 on the training queries (the index does not change: k1 and b
// are query-time parameters).
Result<Bm25Options> tune_bm25(const fs::path& ws_dir, Corpus& c, const QuerySet& train, const BakeoffOptions& o) {
  Bm25Options best = c.ws->index().options();
  if (train.queries.empty()) return best;
  double best_score = -1;
  for (float k1 : {0.9f, 1.2f, 1.5f}) {
    for (float b : {0.3f, 0.5f, 0.75f}) {
      Bm25Options bo;
      bo.k1 = k1;
      bo.b = b;
      RAGFT_TRY(Workspace ws, open_ws(ws_dir, bo));
      c.ws = std::make_unique<Workspace>(std::move(ws));
      double sum = 0;
      for (std::size_t i = 0; i < train.queries.size(); ++i) sum += ndcg(bm25_docs(c, train.queries[i].text, kDepth), train.judged[i]);
      double score = sum / train.queries.size();
      if (score > best_score + 1e-9) best_score = score, best = bo;
    }
  }
  say(o, fmt::format("  {} chosen on the training queries (nDCG@10 {:.3f})", best.to_config(), best_score));
  RAGFT_TRY(Workspace ws, open_ws(ws_dir, best));
  c.ws = std::make_unique<Workspace>(std::move(ws));
  return best;
}

// The retrieval modes the RAG arm chooses from on the training queries: BM25, dense, and
// hybrids of the two (weighted fusion at several BM25 shares, and RRF).
constexpr const char* kRagEmbedder = "ict";
constexpr std::pair<double, double> kHybridWeights[] = {{0.5, 0.5}, {0.6, 0.4}, {0.7, 0.3}, {0.8, 0.2}, {0.9, 0.1}};

std::string rag_mode_label(const SearchRequest& r) {
  if (r.mode == SearchMode::kHybrid) return fmt::format("hybrid {}", r.fusion.to_config());
  return search_mode_name(r.mode);
}

struct RagChoice {
  SearchRequest how;               // mode and fusion
  nlohmann::json validation;       // label -> mean nDCG@10 on the training queries
  std::optional<DenseOptions> dense;  // set when the chosen mode needs the dense index
  double dense_seconds = 0;        // training the embedder and embedding the corpus
};

// Scores each mode by mean nDCG@10 on the training queries and keeps the best (BM25 on ties).
// Without training queries, or when the dense index cannot be built, BM25.
Result<RagChoice> choose_rag_mode(const fs::path& ws_dir, Corpus& c, const QuerySet& train, const Bm25Options& bm25,
                                  const BakeoffOptions& o) {
  RagChoice choice;
  if (train.queries.empty()) return choice;
  DenseOptions dense;
  dense.embedder = kRagEmbedder;
  say(o, fmt::format("building a dense index ({}) to compare retrieval modes on the training queries", dense.embedder));
  Stopwatch w;
  auto ws = open_ws(ws_dir, bm25, dense);
  if (!ws.ok()) {
    say(o, fmt::format("  dense index unavailable ({}); RAG uses BM25", ws.error().message));
    return choice;
  }
  c.ws = std::make_unique<Workspace>(std::move(*ws));
  choice.dense_seconds = w.seconds();
  std::vector<SearchRequest> modes(2);
  modes[1].mode = SearchMode::kDense;
  for (const auto& [bm25_weight, dense_weight] : kHybridWeights) {
    SearchRequest h;
    h.mode = SearchMode::kHybrid;
    h.fusion.method = Fusion::kWeighted;
    h.fusion.weights = {bm25_weight, dense_weight};
    modes.push_back(h);
  }
  SearchRequest rrf;
  rrf.mode = SearchMode::kHybrid;
  modes.push_back(rrf);  // FusionOptions' default: RRF, k = 60
  double best = -1;
  for (const SearchRequest& m : modes) {
    double sum = 0;
    for (std::size_t i = 0; i < train.queries.size(); ++i) {
      sum += ndcg(ranked_docs(c, m, train.queries[i].text, kDepth), train.judged[i]);
    }
    const double score = sum / static_cast<double>(train.queries.size());
    choice.validation[rag_mode_label(m)] = score;
    if (score > best + 1e-9) best = score, choice.how = m;
  }
  if (choice.how.mode != SearchMode::kBm25) choice.dense = dense;
  say(o, fmt::format("  {} chosen on the training queries (nDCG@10 {:.3f}; bm25 {:.3f})", rag_mode_label(choice.how),
                     best, choice.validation["bm25"].get<double>()));
  return choice;
}


}  // namespace

Result<nlohmann::json> profile_retrieval(const Project& p, const BakeoffOptions& o) {
  RAGFT_TRY(auto all_queries, read_queries(p.data.queries));
  RAGFT_TRY(Qrels eval_qrels, read_qrels(p.data.eval_qrels));
  QuerySet eval = judged_queries(all_queries, eval_qrels);
  RAGFT_TRY(Workspace ws, synced_corpus(p.data.corpus, o.cache_dir, o.log));
  RAGFT_TRY(CorpusProfile cp, profile_corpus(ws.store()));
  return nlohmann::json{{"corpus", cp.to_json()}, {"labeled", nullptr},
                        {"eval", profile_eval(eval.queries.size(), "queries").to_json()}};
}

Result<Bakeoff> run_retrieval_bakeoff(const Project& p, const BakeoffOptions& o) {
  const DataSpec& d = p.data;
  const BakeoffSpec& b = p.bakeoff;
  RAGFT_TRY(auto all_queries, read_queries(d.queries));
  RAGFT_TRY(Qrels eval_qrels, read_qrels(d.eval_qrels));
  Qrels train_qrels;
  if (!d.train_qrels.empty()) {
    RAGFT_TRY(train_qrels, read_qrels(d.train_qrels));
  }
  QuerySet eval = judged_queries(all_queries, eval_qrels);
  QuerySet train = judged_queries(all_queries, train_qrels);
  if (eval.queries.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "data.eval_qrels: no query of {} has a relevant judgment in {}",
                      d.queries.string(), d.eval_qrels.string());
  }

  // Inputs that determine every arm.
  nlohmann::json inputs = {{"v", kCacheVersion}, {"task", "retrieval"}, {"seed", b.seed}, {"bootstrap", b.bootstrap_samples}};
  RAGFT_TRY(inputs["corpus"], corpus_hashes_of(p.data.corpus));
  RAGFT_TRY(inputs["queries"], input_hash(d.queries));
  RAGFT_TRY(inputs["eval_qrels"], input_hash(d.eval_qrels));
  if (!d.train_qrels.empty()) {
    RAGFT_TRY(inputs["train_qrels"], input_hash(d.train_qrels));
  }
  Settings s;
  s.closed_book.seed = b.seed;
  s.closed_book.threads = 1;  // reproducible for a seed (fastText's threads race), and no slower on 2 cores
  s.reranker.seed = b.seed;
  fs::path ws_dir = corpus_dir(o.cache_dir, inputs["corpus"]);

  Bakeoff out;
  out.metric = {{"name", "ndcg_cut_10"}, {"label", "nDCG@10"}, {"higher_is_better", true}};
  out.labeled_examples = 0;
  for (const auto& j : train.judged) {
    for (const auto& [doc, rel] : j) *out.labeled_examples += rel >= 1;
  }

  // The corpus, indexed (RAG's build cost, measured on the first run; later runs re-check files).
  say(o, fmt::format("indexing the corpus into {}", ws_dir.string()));
  Corpus c;
  reset_peak_rss();
  RAGFT_TRY(Workspace ws0, open_ws(ws_dir, Bm25Options{}));
  c.ws = std::make_unique<Workspace>(std::move(ws0));
  RAGFT_TRY(double index_seconds, sync_into(*c.ws, d.corpus));
  double index_mb = peak_rss_mb();
  RAGFT_TRY_STATUS(load_maps(c, true));
  RAGFT_TRY(CorpusProfile cp, profile_corpus(c.ws->store()));
  out.measured_change = cp.change.as_change_frequency;
  out.profile = {{"corpus", cp.to_json()}, {"labeled", nullptr}, {"eval", profile_eval(eval.queries.size(), "queries").to_json()}};

  std::map<std::string, std::string> configs = {
      {"baseline", "popularity:train_qrels"},
      {"rag", fmt::format("best of bm25, dense {} and hybrids (weighted, rrf) on the training queries; bm25 k1, b "
                          "chosen there too",
                          kRagEmbedder)},
      {"fine_tuned", s.closed_book.to_config()},
      {"fine_tuned_rag", fmt::format("bm25;{};{};folds={}", s.reranker.to_config(), s.closed_book.to_config(), kFolds)}};
  Project project = p;  // the arms this data allows
  auto& arms = project.bakeoff.arms;
  if (train.queries.empty() && std::find(arms.begin(), arms.end(), "fine_tuned_rag") != arms.end()) {
    say(o, "fine_tuned_rag: skipped (needs data.train_qrels to train the reranker)");
    arms.erase(std::find(arms.begin(), arms.end(), "fine_tuned_rag"));
  }
  ArmLedger ledger(project, o, inputs, configs);
  auto wanted = [&](const std::string& id) { return ledger.wanted(id); };
  auto missing = [&](const std::string& id) { return ledger.missing(id); };
  nlohmann::json fk = inputs;
  fk["freshness"] = b.freshness;
  for (const auto& [arm, config] : configs) fk["configs"][arm] = config;
  const std::string fresh_key = Cache::key(fk);
  std::optional<nlohmann::json> fresh_cached;
  if (b.freshness > 0) fresh_cached = ledger.cache().get("freshness", fresh_key);
  const bool run_fresh = b.freshness > 0 && !fresh_cached && wanted("rag");

  out.cached_arms = ledger.load();
  auto finish = [&](ArmResult a) {
    set_quality(a, b.bootstrap_samples, b.seed);
    return ledger.finish(std::move(a));
  };
  auto run_queries = [&](ArmResult& a, const std::function<std::vector<RunEntry>(const std::string&)>& rank) {
    a.per_item.clear();
    a.latency_ms.clear();
    for (std::size_t i = 0; i < eval.queries.size(); ++i) {
      Stopwatch w;
      std::vector<RunEntry> r = rank(eval.queries[i].text);
      a.latency_ms.push_back(w.ms());
      a.per_item.push_back(ndcg(std::move(r), eval.judged[i]));
    }
  };

  if (missing("baseline")) {
    ArmResult a;
    a.id = "baseline";
    a.name = "most-judged documents (no corpus access at query time)";
    a.config = configs["baseline"];
    std::map<std::string, int> popularity;
    for (const auto& j : train.judged) {
      for (const auto& [doc, rel] : j) popularity[doc] += rel >= 1;
    }
    std::vector<RunEntry> top;
    for (const auto& [doc, n] : popularity) top.push_back({doc, static_cast<double>(n)});
    sort_like_trec_eval(top);
    if (top.size() > kDepth) top.resize(kDepth);
    run_queries(a, [&](const std::string&) { return top; });
    a.note = train.queries.empty() ? "no training judgments: an empty ranking" : "the same ranking for every query";
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }

  Bm25Options bm25 = c.ws->index().options();
  if (missing("rag") || missing("fine_tuned_rag") ||
      run_fresh) {
    Stopwatch w;
    RAGFT_TRY(bm25, tune_bm25(ws_dir, c, train, o));
    index_seconds += w.seconds();
  }
  RagChoice rag;
  if (missing("rag") || run_fresh) {
    reset_peak_rss();
    RAGFT_TRY(rag, choose_rag_mode(ws_dir, c, train, bm25, o));
    index_mb = std::max(index_mb, peak_rss_mb());
  }
  if (missing("rag")) {
    ArmResult a;
    a.id = "rag";
    const bool dense = rag.how.mode != SearchMode::kBm25;
    a.name = rag.how.mode == SearchMode::kBm25    ? "BM25 over the chunked corpus"
             : rag.how.mode == SearchMode::kDense ? "dense retrieval over the chunked corpus"
                                                  : "hybrid BM25 + dense retrieval over the chunked corpus";
    a.config = rag_mode_label(rag.how) + ";" + bm25.to_config() + "," + c.ws->analyzer().options().to_config();
    std::string dense_config;
    if (dense) {
      RAGFT_TRY(DenseIndex * index, c.ws->load_dense());
      if (index != nullptr) dense_config = index->config();
      a.config += ";" + dense_config;
    }
    a.capabilities = {true, true, "incremental"};
    run_queries(a, [&](const std::string& q) { return ranked_docs(c, rag.how, q, kDepth); });
    a.build_seconds = index_seconds + (dense ? rag.dense_seconds : 0.0);
    a.peak_mb = index_mb;
    a.disk_bytes = directory_bytes(ws_dir);
    a.note = fmt::format("{} chosen on the training queries; documents ranked by their best chunk; cites exact spans "
                         "(ragft ask)",
                         rag_mode_label(rag.how));
    a.extra["bm25"] = bm25.to_config();
    a.extra["mode"] = rag_mode_label(rag.how);
    if (!rag.validation.is_null()) a.extra["validation_ndcg@10"] = rag.validation;
    if (dense) a.extra["dense"] = dense_config;
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }

  std::unique_ptr<ClosedBookModel> cb;
  double cb_seconds = 0, cb_mb = 0;
  bool need_rr = missing("fine_tuned_rag") || (run_fresh && wanted("fine_tuned_rag"));
  auto need_cb = [&] {
    return missing("fine_tuned") || (run_fresh && wanted("fine_tuned")) || need_rr;
  };
  if (need_cb()) {
    say(o, fmt::format("training the closed-book model on {} documents and {} training queries", c.docs.size(),
                       train.queries.size()));
    reset_peak_rss();
    Stopwatch w;
    RAGFT_TRY(cb, ClosedBookModel::train(c.docs, train_queries(train, {}, c.doc_index), s.closed_book));
    cb_seconds = w.seconds();
    cb_mb = peak_rss_mb();
  }
  if (missing("fine_tuned")) {
    ArmResult a;
    a.id = "fine_tuned";
    a.name = "closed-book model (question -> document id, fastText)";
    a.config = configs["fine_tuned"];
    a.capabilities = {false, false, "retrain"};
    run_queries(a, [&](const std::string& q) { return cb->rank(q, kDepth); });
    a.build_seconds = cb_seconds;
    a.peak_mb = cb_mb;
    fs::path dir = o.cache_dir / "models" / "closed_book";
    RAGFT_TRY_STATUS(cb->save(dir));
    a.disk_bytes = directory_bytes(dir);
    a.note = "trained on the training questions plus pseudo-queries from every document; no corpus at query time";
    RAGFT_TRY_STATUS(finish(std::move(a)));
  }

  std::unique_ptr<Reranker> rr;
  double rr_seconds = 0, rr_mb = 0;
  if (need_rr) {
    say(o, fmt::format("training the reranker on {} training queries ({} out-of-fold closed-book models for its "
                       "closed-book feature)",
                       train.queries.size(), kFolds));
    reset_peak_rss();
    Stopwatch w;
    RAGFT_TRY(rr, train_reranker(c, train, *cb, s.closed_book, s.reranker));
    rr_seconds = w.seconds();
    rr_mb = peak_rss_mb();
    ArmResult a;
    a.id = "fine_tuned_rag";
    a.name = "BM25 + reranker trained on the judgments, closed-book score as a feature";
    a.config = bm25.to_config() + ";" + configs["fine_tuned_rag"];
    // Cites the documents it ranks; the closed-book feature is a model of the whole corpus, so
    // per-document access control does not hold for what it learned.
    a.capabilities = {true, false, "retrain"};
    run_queries(a, [&](const std::string& q) { return rr->rerank(q, candidates(c, q, s.reranker.depth)); });
    a.build_seconds = index_seconds + cb_seconds + rr_seconds;
    a.peak_mb = std::max({index_mb, cb_mb, rr_mb});
    // Saved for serving: ragft search|ask --reranker DIR.
    const fs::path model_dir = o.cache_dir / "models" / "fine_tuned_rag";
    RerankedRetriever served{std::move(cb), std::move(rr), s.reranker, bm25.to_config(),
                             c.ws->analyzer().options().to_config(), train.queries.size(), c.docs.size()};
    RAGFT_TRY_STATUS(served.save(model_dir));
    cb = std::move(served.closed_book);
    rr = std::move(served.reranker);
    a.extra["model"] = fs::absolute(model_dir).string();
    a.disk_bytes = directory_bytes(ws_dir) + directory_bytes(model_dir);
    std::string weights;
    for (const auto& [name, wgt] : rr->weights()) weights += fmt::format("{}{} {:.2f}", weights.empty() ? "" : ", ", name, wgt);
    a.note = "weights: " + weights;
    if (missing("fine_tuned_rag")) RAGFT_TRY_STATUS(finish(std::move(a)));
  }

  out.arms = ledger.take();
  out.comparisons = compare_arms(out.arms, b.bootstrap_samples, b.seed);

  // Freshness: a share of the documents held back as "new knowledge".
  if (fresh_cached) {
    out.freshness = *fresh_cached;
    say(o, "freshness: cached");
  } else if (run_fresh) {
    std::unordered_set<std::string> held;
    for (const auto& doc : c.docs) {
      if (static_cast<double>(hash64(doc.id, b.seed) % 1000000) / 1e6 < b.freshness) held.insert(doc.id);
    }
    std::vector<std::size_t> slice;
    for (std::size_t i = 0; i < eval.queries.size(); ++i) {
      for (const auto& [doc, rel] : eval.judged[i]) {
        if (rel >= 1 && held.count(doc)) {
          slice.push_back(i);
          break;
        }
      }
    }
    nlohmann::json fr = {
        {"description", fmt::format("{} of {} documents ({:.0f}%) held back as new knowledge; measured on the {} eval "
                                    "queries with a relevant document among them",
                                    held.size(), c.docs.size(), 100 * b.freshness, slice.size())},
        {"new_items", slice.size()},
        {"arms", nlohmann::json::array()}};
    say(o, "freshness: " + fr["description"].get<std::string>());
    fs::path fdir = o.cache_dir / "freshness";
    std::error_code ec;
    fs::remove_all(fdir, ec);
    fs::create_directories(fdir, ec);
    fs::path jsonl = fdir / "corpus.jsonl";
    RAGFT_TRY_STATUS(write_jsonl(jsonl, c.docs, held, false));
    Corpus before;
    RAGFT_TRY(Workspace fws, open_ws(fdir / "workspace", bm25, rag.dense));
    before.ws = std::make_unique<Workspace>(std::move(fws));
    RAGFT_TRY(double ignored, sync_into(*before.ws, {jsonl}));
    (void)ignored;
    RAGFT_TRY_STATUS(load_maps(before, true));
    auto slice_ndcg = [&](const std::function<std::vector<RunEntry>(const std::string&)>& rank) {
      std::vector<double> v;
      for (std::size_t i : slice) v.push_back(ndcg(rank(eval.queries[i].text), eval.judged[i]));
      return v;
    };
    std::vector<double> rag_before =
        slice_ndcg([&](const std::string& q) { return ranked_docs(before, rag.how, q, kDepth); });
    std::vector<double> rr_before, cb_before;
    if (cb) {
      std::vector<CorpusDoc> kept;
      for (const auto& doc : c.docs) {
        if (!held.count(doc.id)) kept.push_back(doc);
      }
      say(o, "freshness: training the closed-book model without the held-back documents");
      RAGFT_TRY(auto cb0, ClosedBookModel::train(kept, train_queries(train, held, before.doc_index), s.closed_book));
      cb_before = slice_ndcg([&](const std::string& q) { return cb0->rank(q, kDepth); });
      if (rr) {
        rr_before = slice_ndcg(
            [&](const std::string& q) { return rerank_with(*rr, *cb0, q, candidates(before, q, s.reranker.depth)); });
      }
    }
    // The update: RAG adds the documents to its index incrementally (ragft's sync skips the
    // unchanged ones); the closed-book model trains again on everything.
    RAGFT_TRY_STATUS(write_jsonl(jsonl, c.docs, held, true));
    RAGFT_TRY(double update_seconds, sync_into(*before.ws, {jsonl}));
    RAGFT_TRY_STATUS(load_maps(before, true));
    std::vector<double> rag_after =
        slice_ndcg([&](const std::string& q) { return ranked_docs(before, rag.how, q, kDepth); });
    auto row = [&](const std::string& id, const std::string& update, double seconds, const std::vector<double>& bef,
                   const std::vector<double>& aft) {
      fr["arms"].push_back({{"id", id},
                            {"update", update},
                            {"time_to_fresh_s", seconds},
                            {"before", interval_json(bootstrap_mean(bef, b.bootstrap_samples, 0.95, b.seed))},
                            {"after", interval_json(bootstrap_mean(aft, b.bootstrap_samples, 0.95, b.seed))}});
    };
    row("rag", rag.dense ? "incremental index (new chunks embedded)" : "incremental index", update_seconds, rag_before,
        rag_after);
    auto arm_items = [&](const std::string& id) -> const std::vector<double>* {
      for (const auto& a : out.arms) {
        if (a.id == id) return &a.per_item;
      }
      return nullptr;
    };
    if (cb && arm_items("fine_tuned")) {
      row("fine_tuned", "retrain", cb_seconds, cb_before, pick(*arm_items("fine_tuned"), slice));
    }
    if (rr && !rr_before.empty()) {
      std::vector<double> rr_after =
          slice_ndcg([&](const std::string& q) { return rr->rerank(q, candidates(before, q, s.reranker.depth)); });
      row("fine_tuned_rag", "incremental index + retrain the closed-book feature", update_seconds + cb_seconds,
          rr_before, rr_after);
    }
    fs::remove_all(fdir, ec);
    out.freshness = fr;
    RAGFT_TRY_STATUS(ledger.cache().put("freshness", fresh_key, out.freshness));
  }
  return out;
}

}  // namespace ragft::decide
