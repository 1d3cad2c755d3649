// ragft train rerank: the "fine-tuned retriever" of decide's fine_tuned_rag arm (a closed-book
// model plus a reranker over BM25's documents, decide/knowledge.h), trained on the workspace's
// documents and the user's judgments, and saved for `ragft search|ask --rerank`.
#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "decide/arm.h"
#include "evaluate/trec.h"

namespace ragft::cli {

namespace {
struct TrainRerankArgs {
  std::string queries, qrels;
  std::string out;
  std::string config = decide::RerankerOptions{}.to_config();
  int threads = 1;
};

int run_train_rerank(const Globals& g, const TrainRerankArgs& a) {
  auto options = decide::RerankerOptions::parse(a.config);
  if (!options.ok()) return report(options.error());
  auto queries = read_queries(a.queries);
  if (!queries.ok()) return report(queries.error());
  auto qrels = read_qrels(a.qrels);
  if (!qrels.ok()) return report(qrels.error());
  auto opened = open_workspace(g);
  if (!opened.ok()) return report(opened.error());
  decide::Corpus corpus;
  corpus.ws = std::make_unique<Workspace>(std::move(*opened));
  Status maps = decide::load_maps(corpus, /*with_docs=*/true);
  if (!maps.ok()) return report(maps.error());
  if (corpus.docs.empty()) {
    return report(make_error(ErrorCode::kInvalidArgument, "the workspace {} has no documents; run `ragft index` first",
                             g.data_dir));
  }
  decide::QuerySet train = decide::judged_queries(*queries, *qrels);
  if (train.queries.empty()) {
    return report(make_error(ErrorCode::kInvalidArgument,
                             "no query in {} has a relevant judgment in {} (query ids must match)", a.queries, a.qrels));
  }
  decide::ClosedBookOptions cbo;
  cbo.threads = a.threads;
  fmt::print(stderr, "training the reranker on {} judged queries over {} documents ...\n", train.queries.size(),
             corpus.docs.size());
  decide::Stopwatch watch;
  auto trained = decide::RerankedRetriever::train(corpus, train, cbo, *options);
  if (!trained.ok()) return report(trained.error());
  const double seconds = watch.seconds();
  const std::filesystem::path out = a.out.empty() ? default_reranker_dir(g) : std::filesystem::path(a.out);
  Status saved = trained->save(out);
  if (!saved.ok()) return report(saved.error());
  nlohmann::json weights = nlohmann::json::object();
  for (const auto& [name, w] : trained->reranker->weights()) weights[name] = w;
  if (g.json) {
    nlohmann::json j = {{"model", out.string()},
                        {"config", trained->options.to_config()},
                        {"bm25", trained->bm25_config},
                        {"train_queries", trained->train_query_count},
                        {"documents", trained->doc_count},
                        {"seconds", seconds},
                        {"weights", weights}};
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("trained on {} queries over {} documents in {:.1f} s\n", trained->train_query_count, trained->doc_count,
             seconds);
  std::string w;  // in feature order
  for (const auto& [name, value] : trained->reranker->weights()) w += fmt::format("{}{} {:.2f}", w.empty() ? "" : ", ", name, value);
  fmt::print("weights: {}\nsaved to {}\nuse it: ragft search --rerank \"...\" (or --reranker {})\n", w, out.string(),
             out.string());
  return 0;
}
}  // namespace

void register_train_rerank(CLI::App* train, Globals& g, int& exit_code) {
  auto a = std::make_shared<TrainRerankArgs>();
  CLI::App* cmd = train->add_subcommand(
      "rerank", "Train the retriever of the fine-tuned + RAG arm (closed-book model + reranker over BM25) on "
                "the workspace's documents and your judgments, for search/ask --rerank");
  cmd->add_option("--queries", a->queries, "Queries: BEIR queries.jsonl or TSV qid<TAB>text")->required();
  cmd->add_option("--qrels", a->qrels, "Judgments: BEIR qrels TSV or TREC qrels (keep your test queries out)")
      ->required();
  cmd->add_option("--out", a->out, "Model directory (default: <data>/models/reranker)");
  cmd->add_option("--config", a->config, "Reranker config")->capture_default_str();
  cmd->add_option("--threads", a->threads, "fastText threads for the closed-book model (1 is reproducible)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  cmd->callback([&g, &exit_code, a] { exit_code = run_train_rerank(g, *a); });
}

}  // namespace ragft::cli
