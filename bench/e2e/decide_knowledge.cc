// decide_knowledge: the trained arms of a knowledge bake-off on a BEIR dataset (default: the
// bundled SciFact) — the closed-book model (src/decide/closed_book.h) and the BM25 + reranker
// pipeline (src/decide/reranker.h) — against BM25 alone. One JSON line per measurement on
// stdout, progress on stderr. Wrapper: bench/e2e/decide_knowledge.sh (adds git sha, machine).
//
//   decide_knowledge [--dataset data/scifact] [--select] [--cb CONFIG] [--rr CONFIG]
//                    [--rr-cb none|pseudo|oof] [--cb-folds 3] [--threads N] [--seed 1]
//                    [--cb-grid "CONFIG;CONFIG..."] [--rr-grid "CONFIG;..."]
//
// --rr-cb: the reranker's closed-book feature. "oof" (default): the final reranker is trained on
// out-of-fold closed-book scores (--cb-folds models, each trained without a part of the
// training queries) and applied with the fine-tuned closed-book model; "pseudo": a model
// trained on pseudo-queries only; "none": lexical features only.
//
// --select: settings are chosen on the TRAIN qrels only. The closed-book grid trains on the
// documents plus 80% of the training queries and scores nDCG@10 on the other 20%; the reranker
// grid is 5-fold cross-validation over the training queries. Without --select: the final
// measurement — models trained on all training queries with the given configs, nDCG@10 on the
// test qrels, next to BM25's.
//
// BM25 is the project's own (Workspace + Bm25Index, default chunker/analyzer/bm25 settings),
// documents ranked by their best chunk, as `ragft eval retrieval` does.
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "decide/closed_book.h"
#include "decide/reranker.h"
#include "evaluate/metrics.h"
#include "evaluate/trec.h"
#include "ingest/sync.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"

namespace {

namespace fs = std::filesystem;
using namespace ragft;
using namespace ragft::decide;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double rss_mb(const char* field) {  // "VmRSS:" or "VmHWM:"
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(std::string(field).size())) / 1024.0;
  }
  return 0;
}

[[noreturn]] void die(const Error& e) {
  fmt::print(stderr, "error: {}\n", e.to_string());
  std::exit(1);
}

template <typename T>
T must(Result<T> r) {
  if (!r.ok()) die(r.error());
  return std::move(r).value();
}

std::vector<CorpusDoc> read_corpus(const fs::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) die(make_error(ErrorCode::kNotFound, "cannot open {}", path.string()));
  std::vector<CorpusDoc> docs;
  std::string buf;
  char chunk[1 << 16];
  auto handle = [&](std::string_view l) {
    if (l.find_first_not_of(" \t\r") == std::string_view::npos) return;
    auto j = nlohmann::json::parse(l);
    const auto& id = j.at("_id");
    docs.push_back({id.is_string() ? id.get<std::string>() : id.dump(), j.value("title", ""), j.at("text").get<std::string>()});
  };
  for (int n; (n = gzread(f, chunk, sizeof chunk)) > 0;) {
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0, nl;
    while ((nl = buf.find('\n', start)) != std::string::npos) {
      handle(std::string_view(buf).substr(start, nl - start));
      start = nl + 1;
    }
    buf.erase(0, start);
  }
  gzclose(f);
  handle(buf);
  return docs;
}

struct Data {
  std::vector<CorpusDoc> docs;
  std::unordered_map<std::string, const CorpusDoc*> by_id;
  std::map<std::string, std::string> query_text;
  Qrels train, test;
};

// BM25 over a workspace built in a temp dir; documents ranked by their best chunk.
class Bm25 {
 public:
  explicit Bm25(const fs::path& corpus) {
    dir_ = fs::temp_directory_path() / fmt::format("ragft-decide-knowledge-{}", ::getpid());
    fs::remove_all(dir_);
    auto t0 = Clock::now();
    ws_ = std::make_unique<Workspace>(must(Workspace::open(dir_)));
    must(sync_paths(ws_->store(), {corpus}, SyncOptions{}));
    must(ws_->catch_up());
    build_s_ = since(t0);
    std::unordered_map<DocId, std::string> ext;
    for (const auto& s : must(ws_->store().list_sources("default"))) ext[s.id] = s.ext_id;
    Status st = ws_->store().for_each_chunk([&](const ChunkRecord& c, const ChunkAccess&) {
      chunk_doc_[c.id] = ext[c.doc_id];
      return ok_status();
    });
    if (!st.ok()) die(st.error());
  }
  ~Bm25() {
    ws_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::vector<RunEntry> search(const std::string& q, std::size_t depth) {
    AnalyzedQuery aq = analyze_query(ws_->analyzer(), q);
    std::vector<RunEntry> out;
    std::set<std::string> seen;
    for (const ScoredChunk& h : ws_->index().search(aq.terms, depth * 3, FilterSpec{})) {
      const std::string& doc = chunk_doc_[h.id];
      if (!seen.insert(doc).second) continue;
      out.push_back({doc, h.score});
      if (out.size() >= depth) break;
    }
    return out;
  }
  double build_seconds() const { return build_s_; }

 private:
  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
  std::unordered_map<ChunkId, std::string> chunk_doc_;
  double build_s_ = 0;
};

double ndcg10(const Run& run, const Qrels& qrels) {
  EvalResult r = evaluate(run, qrels, {MetricSpec{"ndcg_cut", 10}});
  return r.mean.empty() ? 0.0 : r.mean[0];
}

std::vector<TrainQuery> train_queries(const Data& d, const std::vector<std::string>& qids) {
  std::vector<TrainQuery> out;
  for (const auto& qid : qids) {
    TrainQuery q{d.query_text.at(qid), {}};
    for (const auto& [doc, rel] : d.train.at(qid)) {
      if (rel >= 1) q.relevant_doc_ids.push_back(doc);
    }
    out.push_back(std::move(q));
  }
  return out;
}

Qrels subset(const Qrels& q, const std::vector<std::string>& qids) {
  Qrels out;
  for (const auto& id : qids) out[id] = q.at(id);
  return out;
}

Run closed_book_run(const ClosedBookModel& m, const Data& d, const std::vector<std::string>& qids) {
  Run run;
  for (const auto& qid : qids) run[qid] = m.rank(d.query_text.at(qid), 100);
  return run;
}

struct Lists {
  std::vector<std::string> qids;
  std::vector<std::pair<std::string, std::vector<Candidate>>> lists;
  std::vector<std::map<std::string, int>> judgments;
  Run bm25;
};

Lists make_lists(Bm25& bm25, const Data& d, const Qrels& qrels, std::size_t depth) {
  Lists l;
  for (const auto& [qid, judged] : qrels) {
    const std::string& text = d.query_text.at(qid);
    std::vector<RunEntry> hits = bm25.search(text, depth);
    std::vector<Candidate> cands;
    for (const auto& h : hits) {
      const CorpusDoc* doc = d.by_id.at(h.doc_id);
      cands.push_back({h.doc_id, h.score, doc->title, doc->text});
    }
    l.qids.push_back(qid);
    l.lists.emplace_back(text, std::move(cands));
    l.judgments.push_back(judged);
    l.bm25[qid] = std::move(hits);
  }
  return l;
}

void print(nlohmann::json j) { fmt::print("{}\n", j.dump()); std::fflush(stdout); }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      if (i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

const char* kDefaultCbGrid =
    "closedbook:loss=hs;closedbook:loss=ova;closedbook:loss=ns;"
    "closedbook:pq=4;closedbook:pq=0;closedbook:full=0;closedbook:qrep=3;"
    "closedbook:epochs=50;closedbook:dim=128;closedbook:lr=1;closedbook:ngrams=2";
const char* kDefaultRrGrid =
    "rerank:loss=pairwise;rerank:loss=pointwise;rerank:loss=pairwise,l2=0.01;rerank:loss=pointwise,l2=0.01;"
    "rerank:loss=pairwise,depth=20;rerank:loss=pairwise,depth=100";

}  // namespace

int main(int argc, char** argv) {
  fs::path ds = "data/scifact";
  bool select = false;
  std::string cb_config = ClosedBookOptions{}.to_config(), rr_config = RerankerOptions{}.to_config();
  std::string rr_cb = "oof";  // none | pseudo | oof (select: a comma-separated list)
  int cb_folds = 3;
  std::string cb_grid = kDefaultCbGrid, rr_grid = kDefaultRrGrid;
  int threads = 0;
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(make_error(ErrorCode::kInvalidArgument, "{} needs a value", a));
      return argv[++i];
    };
    if (a == "--dataset") ds = next();
    else if (a == "--select") select = true;
    else if (a == "--cb") cb_config = next();
    else if (a == "--rr") rr_config = next();
    else if (a == "--rr-cb") rr_cb = next();
    else if (a == "--cb-folds") cb_folds = std::stoi(next());
    else if (a == "--cb-grid") cb_grid = next();
    else if (a == "--rr-grid") rr_grid = next();
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--seed") seed = std::stoull(next());
    else die(make_error(ErrorCode::kInvalidArgument, "unknown argument {}", a));
  }
  auto cb_opts_of = [&](const std::string& c) {
    ClosedBookOptions o = must(ClosedBookOptions::parse(c));
    if (threads > 0) o.threads = threads;
    return o;
  };

  Data d;
  auto t0 = Clock::now();
  d.docs = read_corpus(ds / "corpus.jsonl.gz");
  for (const auto& doc : d.docs) d.by_id[doc.id] = &doc;
  for (const auto& q : must(read_queries(ds / "queries.jsonl"))) d.query_text[q.id] = q.text;
  d.train = must(read_qrels(ds / "qrels" / "train.tsv"));
  d.test = must(read_qrels(ds / "qrels" / "test.tsv"));
  Bm25 bm25(ds / "corpus.jsonl.gz");
  fmt::print(stderr, "loaded {} docs, {} train / {} test queries; bm25 workspace {:.1f} s ({:.1f} s total)\n",
             d.docs.size(), d.train.size(), d.test.size(), bm25.build_seconds(), since(t0));

  std::vector<std::string> train_ids;
  for (const auto& [qid, _] : d.train) train_ids.push_back(qid);
  std::vector<std::string> test_ids;
  for (const auto& [qid, _] : d.test) test_ids.push_back(qid);
  const std::size_t max_depth = 100;
  Lists train_lists = make_lists(bm25, d, d.train, max_depth);
  Lists test_lists = make_lists(bm25, d, d.test, max_depth);
  print({{"arm", "bm25"}, {"split", "train"}, {"ndcg@10", ndcg10(train_lists.bm25, d.train)}});
  print({{"arm", "bm25"}, {"split", "test"}, {"ndcg@10", ndcg10(test_lists.bm25, d.test)},
         {"index_s", bm25.build_seconds()}});

  const std::vector<TrainQuery> all_train_queries = train_queries(d, train_ids);
  std::vector<std::vector<std::string>> train_cand_ids;
  for (const auto& [q, cands] : train_lists.lists) {
    std::vector<std::string> ids;
    for (const auto& c : cands) ids.push_back(c.doc_id);
    train_cand_ids.push_back(std::move(ids));
  }
  // A closed-book model trained on pseudo-queries only (it has seen no training query).
  std::unique_ptr<ClosedBookModel> cb_pseudo;
  auto get_cb_pseudo = [&]() -> const ClosedBookModel* {
    if (!cb_pseudo) {
      ClosedBookOptions o = cb_opts_of(cb_config);
      cb_pseudo = must(ClosedBookModel::train(d.docs, {}, o));
      print({{"arm", "closed_book_pseudo_only"}, {"config", o.to_config()}, {"train_s", cb_pseudo->train_info().seconds},
             {"split", "test"}, {"ndcg@10", ndcg10(closed_book_run(*cb_pseudo, d, test_ids), d.test)}});
    }
    return cb_pseudo.get();
  };
  // Closed-book probabilities of every training list's candidates: "pseudo" from the
  // pseudo-only model, "oof" out of fold (cb_folds models, each without a part of the queries).
  auto train_cb_scores = [&](const std::string& variant, double* seconds) {
    auto t1 = Clock::now();
    std::vector<std::vector<float>> scores;
    if (variant == "pseudo") {
      const ClosedBookModel* m = get_cb_pseudo();
      for (std::size_t i = 0; i < train_lists.lists.size(); ++i) scores.push_back(m->score(train_lists.lists[i].first, train_cand_ids[i]));
    } else {
      scores = must(ClosedBookModel::cross_fit_scores(d.docs, all_train_queries, train_cand_ids, cb_opts_of(cb_config), cb_folds));
    }
    *seconds = since(t1);
    return scores;
  };

  if (select) {
    // Closed book: 80/20 split of the training queries.
    std::vector<std::string> shuffled = train_ids;
    std::mt19937_64 rng(seed);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::size_t cut = shuffled.size() * 4 / 5;
    std::vector<std::string> fit(shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(cut));
    std::vector<std::string> held(shuffled.begin() + static_cast<std::ptrdiff_t>(cut), shuffled.end());
    Qrels held_qrels = subset(d.train, held);
    if (cb_grid != "none") {
      for (const auto& c : split(cb_grid, ';')) {
        ClosedBookOptions o = cb_opts_of(c);
        double rss0 = rss_mb("VmRSS:");
        auto m = must(ClosedBookModel::train(d.docs, train_queries(d, fit), o));
        double rss1 = rss_mb("VmRSS:");
        print({{"select", "closed_book"}, {"config", o.to_config()}, {"train_s", m->train_info().seconds},
               {"examples", m->train_info().examples}, {"rss_delta_mb", rss1 - rss0},
               {"heldout_ndcg@10", ndcg10(closed_book_run(*m, d, held), held_qrels)}, {"heldout_queries", held.size()}});
      }
    }
    // Reranker: 5-fold cross-validation over the training lists, for each closed-book variant.
    for (const auto& variant : split(rr_cb, ',')) {
      std::vector<std::vector<float>> scores;
      double cb_s = 0;
      const ClosedBookModel* cb = nullptr;
      if (variant != "none") {
        scores = train_cb_scores(variant, &cb_s);
        cb = get_cb_pseudo();  // a placeholder when the scores are out of fold: they are always given
      }
      for (const auto& c : split(rr_grid, ';')) {
        RerankerOptions o = must(RerankerOptions::parse(c));
        Run rr_run;
        std::vector<std::size_t> folds(train_lists.qids.size());
        for (std::size_t i = 0; i < folds.size(); ++i) folds[i] = i % 5;
        std::mt19937_64 frng(seed);
        std::shuffle(folds.begin(), folds.end(), frng);
        double secs = 0;
        for (std::size_t f = 0; f < 5; ++f) {
          std::vector<std::pair<std::string, std::vector<Candidate>>> lists;
          std::vector<std::map<std::string, int>> judg;
          std::vector<std::vector<float>> fold_scores;
          for (std::size_t i = 0; i < folds.size(); ++i) {
            if (folds[i] == f) continue;
            lists.push_back(train_lists.lists[i]);
            judg.push_back(train_lists.judgments[i]);
            if (cb) fold_scores.push_back(scores[i]);
          }
          auto t1 = Clock::now();
          auto rr = must(Reranker::train(lists, judg, cb, o, cb ? &fold_scores : nullptr));
          secs += since(t1);
          for (std::size_t i = 0; i < folds.size(); ++i) {
            if (folds[i] != f) continue;
            const auto& [q, cands] = train_lists.lists[i];
            rr_run[train_lists.qids[i]] = cb ? rr->rerank(q, cands, scores[i]) : rr->rerank(q, cands);
          }
        }
        print({{"select", "reranker"}, {"config", o.to_config()}, {"closed_book", variant},
               {"cv_ndcg@10", ndcg10(rr_run, d.train)}, {"bm25_cv_ndcg@10", ndcg10(train_lists.bm25, d.train)},
               {"train_s_per_fold", secs / 5}, {"closed_book_scores_s", cb_s}});
      }
    }
    return 0;
  }

  // Final: closed book on all training queries, tested on the test qrels.
  ClosedBookOptions cbo = cb_opts_of(cb_config);
  double rss0 = rss_mb("VmRSS:");
  auto full = must(ClosedBookModel::train(d.docs, all_train_queries, cbo));
  double rss1 = rss_mb("VmRSS:");
  {
    auto t1 = Clock::now();
    Run run = closed_book_run(*full, d, test_ids);
    double per_query_ms = since(t1) * 1000.0 / static_cast<double>(test_ids.size());
    fs::path saved = fs::temp_directory_path() / fmt::format("ragft-decide-knowledge-model-{}", ::getpid());
    std::uintmax_t model_bytes = 0;
    if (full->save(saved).ok()) {
      for (const auto& e : fs::directory_iterator(saved)) model_bytes += e.file_size();
    }
    fs::remove_all(saved);
    print({{"arm", "fine_tuned"}, {"model_bytes", model_bytes}, {"model", "closed_book"}, {"config", cbo.to_config()}, {"split", "test"},
           {"ndcg@10", ndcg10(run, d.test)}, {"train_s", full->train_info().seconds}, {"examples", full->train_info().examples},
           {"labels", full->labels()}, {"rss_delta_mb", rss1 - rss0}, {"peak_rss_mb", rss_mb("VmHWM:")},
           {"rank_ms_per_query", per_query_ms}, {"train_queries", train_ids.size()}});
  }
  // Final: reranker trained on all training lists; the closed-book feature per --rr-cb.
  {
    double cb_s = 0;
    std::vector<std::vector<float>> scores;
    const ClosedBookModel* cb = nullptr;
    if (rr_cb == "pseudo") {
      cb = get_cb_pseudo();
    } else if (rr_cb == "oof") {
      scores = train_cb_scores("oof", &cb_s);
      cb = full.get();  // test-time feature: the fine-tuned model itself
    }
    RerankerOptions o = must(RerankerOptions::parse(rr_config));
    auto t1 = Clock::now();
    auto rr = must(Reranker::train(train_lists.lists, train_lists.judgments, cb, o, scores.empty() ? nullptr : &scores));
    double train_s = since(t1);
    Run run;
    auto t2 = Clock::now();
    for (std::size_t i = 0; i < test_lists.qids.size(); ++i) {
      run[test_lists.qids[i]] = rr->rerank(test_lists.lists[i].first, test_lists.lists[i].second);
    }
    double per_query_ms = since(t2) * 1000.0 / static_cast<double>(test_lists.qids.size());
    nlohmann::json w = nlohmann::json::object();
    for (const auto& [name, v] : rr->weights()) w[name] = v;
    print({{"arm", "fine_tuned_rag"}, {"model", "bm25+reranker"}, {"config", o.to_config()},
           {"closed_book_feature", rr_cb}, {"cb_folds", cb_folds}, {"split", "test"}, {"ndcg@10", ndcg10(run, d.test)},
           {"bm25_ndcg@10", ndcg10(test_lists.bm25, d.test)}, {"train_s", train_s}, {"closed_book_scores_s", cb_s},
           {"rerank_ms_per_query", per_query_ms}, {"weights", w}});
  }
  return 0;
}
