// ragft eval retrieval: index a corpus, run its queries, score the run against qrels with
// trec_eval's definitions, and time top-10 queries.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "core/hash.h"
#include "evaluate/latency.h"
#include "evaluate/metrics.h"
#include "evaluate/trec.h"
#include "decide/knowledge.h"
#include "ingest/sync.h"

namespace ragft::cli {

namespace {
struct EvalArgs {
  std::vector<std::string> corpus;
  std::string queries, qrels;
  std::string workspace;
  std::string run_out, per_query_out;
  std::string chunk = ChunkerOptions{}.to_config();
  std::size_t depth = 100;
  int repeat = 3;
  std::string mode = "bm25";
  std::string fusion = kDefaultHybridFusion;
  std::size_t candidates = 100;
  std::string rerank;       // reranker config; empty: no reranking
  std::string train_qrels;  // judgments the reranker learns from
  std::string reranker;     // a saved retriever (ragft train rerank) to evaluate
};

int run_eval(const Globals& g, const EvalArgs& a) {
  auto chunker = ChunkerOptions::parse(a.chunk);
  if (!chunker.ok()) return report(chunker.error());
  auto queries = read_queries(a.queries);
  if (!queries.ok()) return report(queries.error());
  auto qrels = read_qrels(a.qrels);
  if (!qrels.ok()) return report(qrels.error());
  auto mode = parse_search_mode(a.mode);
  if (!mode.ok()) return report(mode.error());
  auto fusion = FusionOptions::parse(a.fusion);
  if (!fusion.ok()) return report(fusion.error());

  // One cached workspace per (corpus, chunker, analyzer): re-runs only re-check the files.
  std::filesystem::path dir = a.workspace;
  if (dir.empty()) {
    std::string key = chunker->to_config() + "|" + g.analyzer_config;
    for (const auto& c : a.corpus) key += "|" + std::filesystem::absolute(c).string();
    dir = std::filesystem::path(g.data_dir) / "eval" / content_hash(key).substr(0, 16);
  }
  auto opened = open_workspace(g, dir);
  if (!opened.ok()) return report(opened.error());
  decide::Corpus corpus;  // owns the workspace; used by the reranker
  corpus.ws = std::make_unique<Workspace>(std::move(*opened));
  Workspace* ws = corpus.ws.get();
  SyncOptions so;
  so.chunker = *chunker;
  std::vector<std::filesystem::path> paths(a.corpus.begin(), a.corpus.end());
  auto synced = sync_paths(ws->store(), paths, so);
  if (!synced.ok()) return report(synced.error());
  auto caught = ws->catch_up();
  if (!caught.ok()) return report(caught.error());

  // chunk -> document external id (and, for the reranker, the documents themselves)
  Status maps = decide::load_maps(corpus, /*with_docs=*/!a.rerank.empty() || !a.reranker.empty());
  if (!maps.ok()) return report(maps.error());

  Run run;
  std::vector<double> latencies_ms;
  std::optional<decide::RerankedRetriever> reranked;
  if (!a.reranker.empty()) {
    if (!a.rerank.empty()) {
      return report(make_error(ErrorCode::kInvalidArgument, "give --rerank (train one here) or --reranker (a saved one), not both"));
    }
    if (*mode != SearchMode::kBm25) {
      return report(make_error(ErrorCode::kInvalidArgument, "--reranker re-ranks BM25 candidates; drop --mode {}", a.mode));
    }
    auto loaded = decide::RerankedRetriever::load(a.reranker);
    if (!loaded.ok()) return report(loaded.error());
    if (loaded->bm25_config != ws->index().options().to_config()) {
      fmt::print(stderr, "warning: the reranker was trained with {}, this run uses {} (pass --bm25 {})\n",
                 loaded->bm25_config, ws->index().options().to_config(), loaded->bm25_config);
    }
    reranked = std::move(*loaded);
  }
  if (!a.rerank.empty()) {
    if (*mode != SearchMode::kBm25) {
      return report(make_error(ErrorCode::kInvalidArgument, "--rerank re-ranks BM25 candidates; drop --mode {}", a.mode));
    }
    if (a.train_qrels.empty()) {
      return report(make_error(ErrorCode::kInvalidArgument, "--rerank needs --train-qrels: the judgments it learns from"));
    }
    auto ro = decide::RerankerOptions::parse(a.rerank == "rerank" ? "rerank:" : a.rerank);
    if (!ro.ok()) return report(ro.error());
    auto train_qrels = read_qrels(a.train_qrels);
    if (!train_qrels.ok()) return report(train_qrels.error());
    for (const auto& [qid, judged] : *train_qrels) {
      if (qrels->count(qid)) {
        return report(make_error(ErrorCode::kInvalidArgument,
                                 "query {} is judged in both --train-qrels and --qrels; the reranker must not learn "
                                 "from the queries it is measured on",
                                 qid));
      }
    }
    decide::QuerySet train = decide::judged_queries(*queries, *train_qrels);
    decide::ClosedBookOptions cbo;
    cbo.threads = 1;  // reproducible
    fmt::print(stderr, "training the reranker on {} queries ...\n", train.queries.size());
    auto trained = decide::RerankedRetriever::train(corpus, train, cbo, *ro);
    if (!trained.ok()) return report(trained.error());
    reranked = std::move(*trained);
  }
  FilterSpec all;
  SearchRequest request;
  request.mode = *mode;
  request.fusion = *fusion;
  request.candidates = a.candidates;
  for (const QueryRecord& q : *queries) {
    if (!qrels->count(q.id)) continue;
    if (reranked) {
      std::vector<RunEntry> ranked = reranked->rank(corpus, q.text);
      if (ranked.size() > a.depth) ranked.resize(a.depth);
      run[q.id] = std::move(ranked);
      for (int r = 0; r < a.repeat; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        auto top = reranked->rank(corpus, q.text);
        latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      continue;
    }
    request.query = q.text;
    // Documents are ranked by their best chunk; fetch extra chunks so `depth` documents remain.
    request.k = a.depth * 3;
    auto ranked = rank_chunks(*ws, request, all);
    if (!ranked.ok()) {
      // A query without searchable words ranks nothing under BM25; any other failure stops.
      if (ranked.error().code != ErrorCode::kInvalidArgument || request.mode != SearchMode::kBm25) {
        return report(ranked.error());
      }
      ranked = std::vector<ScoredChunk>{};
    }
    run[q.id] = decide::best_chunk_per_doc(corpus, *ranked, a.depth);
    request.k = 10;
    for (int r = 0; r < a.repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      auto top = rank_chunks(*ws, request, all);
      auto t1 = std::chrono::steady_clock::now();
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      if (top.ok() && top->size() > 10) {
        return report(make_error(ErrorCode::kInternal, "top-10 returned {}", top->size()));
      }
    }
  }
  EvalResult result = evaluate(run, *qrels);
  if (!a.run_out.empty()) {
    std::ofstream out(a.run_out);
    write_run(out, run, "ragft");
    if (!out) return report(make_error(ErrorCode::kIo, "cannot write run file {}", a.run_out));
  }
  if (!a.per_query_out.empty()) {
    std::ofstream out(a.per_query_out);
    out << "query";
    for (const auto& m : result.metrics) out << '\t' << m.label();
    out << '\n';
    for (const auto& [qid, values] : result.per_query) {
      out << qid;
      for (double v : values) out << '\t' << fmt::format("{:.4f}", v);
      out << '\n';
    }
    if (!out) return report(make_error(ErrorCode::kIo, "cannot write {}", a.per_query_out));
  }
  nlohmann::json metrics;
  for (std::size_t i = 0; i < result.metrics.size(); ++i) metrics[result.metrics[i].label()] = result.mean[i];
  nlohmann::json latency = {{"k", 10},
                            {"samples", latencies_ms.size()},
                            {"p50_ms", percentile(latencies_ms, 0.50)},
                            {"p95_ms", percentile(latencies_ms, 0.95)},
                            {"p99_ms", percentile(latencies_ms, 0.99)}};
  IndexStats is = ws->index().stats();
  nlohmann::json config = {{"bm25", ws->index().options().to_config()},
                           {"analyzer", ws->analyzer().options().to_config()},
                           {"chunker", chunker->to_config()}};
  if (*mode != SearchMode::kBm25) {
    auto dense = ws->load_dense();  // loaded by the first query; loads here when there was none
    if (!dense.ok()) return report(dense.error());
    if (*dense != nullptr) config["dense"] = (*dense)->config();
  }
  if (*mode == SearchMode::kHybrid) config["fusion"] = fusion->to_config();
  if (reranked) config["rerank"] = reranked->options.to_config();
  if (g.json) {
    nlohmann::json out = {{"metrics", metrics},
                          {"queries", result.queries},
                          {"latency", latency},
                          {"mode", a.mode},
                          {"config", config},
                          {"index", {{"chunks", is.live_chunks}, {"bytes", is.bytes_on_disk},
                                     {"segments", is.segments}, {"build_seconds", caught->seconds},
                                     {"dense_seconds", caught->dense_seconds},
                                     {"dense_embedded", caught->dense_embedded}}},
                          {"workspace", dir.string()}};
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("queries evaluated: {} (of {} in the qrels)\n", result.queries, qrels->size());
  for (std::size_t i = 0; i < result.metrics.size(); ++i) {
    fmt::print("{:<12} {:.4f}\n", result.metrics[i].label(), result.mean[i]);
  }
  fmt::print("top-10 latency: p50 {:.3f} ms, p95 {:.3f} ms, p99 {:.3f} ms ({} samples, single thread)\n",
             latency["p50_ms"].get<double>(), latency["p95_ms"].get<double>(), latency["p99_ms"].get<double>(),
             latencies_ms.size());
  fmt::print("mode: {}\n", a.mode);
  for (const auto& [key, value] : config.items()) fmt::print("{}: {}\n", key, value.get<std::string>());
  return 0;
}
}  // namespace

void register_eval(CLI::App& app, Globals& g, int& exit_code) {
  CLI::App* eval = app.add_subcommand("eval", "Measure quality");
  eval->require_subcommand(1);
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = eval->add_subcommand(
      "retrieval", "Retrieval quality (nDCG@10, recall@100, MRR@10, MAP@100) on a BEIR/TREC dataset");
  cmd->add_option("--corpus", a->corpus, "Corpus file(s) or folder(s): BEIR corpus.jsonl[.gz], or any "
                                         "format `ragft index` reads")->required();
  cmd->add_option("--queries", a->queries, "Queries: BEIR queries.jsonl or TSV qid<TAB>text")->required();
  cmd->add_option("--qrels", a->qrels, "Judgments: BEIR qrels TSV or TREC qrels")->required();
  cmd->add_option("--workspace", a->workspace, "Workspace for the corpus (default: cached under --data/eval)");
  cmd->add_option("--run", a->run_out, "Write the TREC run file here");
  cmd->add_option("--per-query", a->per_query_out, "Write per-query metrics (TSV) here");
  cmd->add_option("--chunk", a->chunk, "Chunker config")->capture_default_str();
  cmd->add_option("--depth", a->depth, "Documents retrieved per query")->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--repeat", a->repeat, "Timed top-10 repetitions per query")->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_option("--mode", a->mode, "Retrieval: bm25, dense or hybrid (dense needs --embedder)")->capture_default_str();
  cmd->add_option("--fusion", a->fusion, "Hybrid fusion: rrf:k=60 or weighted:w=BM25|DENSE")->capture_default_str();
  cmd->add_option("--candidates", a->candidates, "Hybrid: candidates taken from each list")->capture_default_str()
      ->check(CLI::Range(1, 10000));
  add_dense_options(cmd, g);
  cmd->add_option("--rerank", a->rerank,
                  "Re-rank BM25's top documents with a model trained on --train-qrels (config "
                  "rerank:depth=100,loss=pairwise,...; `rerank` for the defaults)");
  cmd->add_option("--train-qrels", a->train_qrels, "Judgments the reranker learns from (not the --qrels queries)");
  cmd->add_option("--reranker", a->reranker, "Evaluate a retriever saved by `ragft train rerank` (a directory)");
  cmd->callback([&g, &exit_code, a] { exit_code = run_eval(g, *a); });
  register_eval_classify(eval, g, exit_code);
  register_eval_extract(eval, g, exit_code);
}

}  // namespace ragft::cli
