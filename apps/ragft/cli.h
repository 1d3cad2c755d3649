// Shared pieces of the `ragft` subcommands: global options, workspace opening, output helpers.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/result.h"
#include "decide/knowledge.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"
#include "train/progress.h"

namespace ragft::cli {

struct Globals {
  std::string data_dir;  // --data, RAGFT_DATA, or ./.ragft
  bool json = false;     // --json: machine-readable stdout
  std::string bm25_config = Bm25Options{}.to_config();
  std::string analyzer_config;  // empty: AnalyzerOptions defaults
  // Set by `index --embedder` / `eval retrieval --embedder`: configure the dense index.
  std::string embedder;
  std::string vectors = DenseOptions{}.vectors;
};

// Each subcommand registers itself; its callback sets `exit_code`.
void register_index(CLI::App& app, Globals& g, int& exit_code);
void register_search(CLI::App& app, Globals& g, int& exit_code);
void register_ask(CLI::App& app, Globals& g, int& exit_code);
void register_eval(CLI::App& app, Globals& g, int& exit_code);
void register_principal(CLI::App& app, Globals& g, int& exit_code);
void register_stats(CLI::App& app, Globals& g, int& exit_code);
// Task models (cmd_train.cc registers `train` and `predict` and dispatches by the manifest's task).
void register_train(CLI::App& app, Globals& g, int& exit_code);
void register_predict(CLI::App& app, Globals& g, int& exit_code);
void register_decide(CLI::App& app, Globals& g, int& exit_code);   // cmd_decide.cc
void register_profile(CLI::App& app, Globals& g, int& exit_code);  // cmd_profile.cc
void register_raft(CLI::App& app, Globals& g, int& exit_code);     // cmd_raft.cc: prompt, raft
void register_generate(CLI::App& app, Globals& g, int& exit_code);  // cmd_generate.cc
void register_serve(CLI::App& app, Globals& g, int& exit_code);    // cmd_serve.cc
void register_key(CLI::App& app, Globals& g, int& exit_code);      // cmd_key.cc
void register_train_classify(CLI::App* train, Globals& g, int& exit_code);  // cmd_classify.cc
void register_eval_classify(CLI::App* eval, Globals& g, int& exit_code);    // cmd_classify.cc
void register_train_extract(CLI::App* train, Globals& g, int& exit_code);   // cmd_extract.cc
void register_eval_extract(CLI::App* eval, Globals& g, int& exit_code);     // cmd_extract.cc
void register_train_rerank(CLI::App* train, Globals& g, int& exit_code);    // cmd_rerank.cc
void register_train_generate(CLI::App* train, Globals& g, int& exit_code);  // cmd_train_generate.cc
// `ragft predict MODEL [FILES]`: one prediction per input line (stdin when no files).
int predict_classify(const Globals& g, const std::filesystem::path& model, const std::vector<std::string>& files);
int predict_extract(const Globals& g, const std::filesystem::path& model, const std::vector<std::string>& files);

// Opens the workspace (catching up the index) or returns the error.
Result<Workspace> open_workspace(const Globals& g, const std::filesystem::path& dir = {});
Result<WorkspaceOptions> workspace_options(const Globals& g);

// Prints "error: <code>: <message>" to stderr and returns 1.
int report(const Error& e);

bool stderr_is_tty();
// Draws a one-line progress bar on stderr (only when it is a terminal).
void progress_bar(std::size_t done, std::size_t total, double seconds, const char* unit);
void progress_done();
// Draws training progress (epoch, step, loss, ETA) on stderr when it is a terminal.
void train_progress_bar(const TrainProgress& p);

// Hybrid fusion unless --fusion says otherwise: chosen on SciFact *train* queries with the ict
// embedder (weights 0.5..0.9 and RRF compared; docs/benchmarks.md). RRF (rrf:k=60) trailed
// BM25 alone there, because the corpus-trained dense list is much weaker than BM25's.
inline constexpr const char* kDefaultHybridFusion = "weighted:w=0.8|0.2";

// Options shared by search and ask: --tenant, --as, --where key=value, and the retrieval mode
// (--mode, --fusion, --candidates).
struct FilterArgs {
  std::string tenant = "default";
  std::string principal;
  std::vector<std::string> where;
  std::string mode = "bm25";
  std::string fusion = kDefaultHybridFusion;
  std::size_t candidates = 100;
  // --rerank / --reranker DIR: rerank BM25's documents with a retriever from `ragft train rerank`.
  bool rerank = false;
  std::string reranker;
};
// --embedder and --vectors, bound to the globals.
void add_dense_options(CLI::App* cmd, Globals& g);
void add_filter_options(CLI::App* cmd, FilterArgs& f);
Result<SearchRequest> make_request(const std::string& query, std::size_t k, const FilterArgs& f);

// Where `ragft train rerank` writes the trained retriever by default: <data>/models/reranker.
std::filesystem::path default_reranker_dir(const Globals& g);

// The workspace search and ask read, with the trained retriever when --rerank/--reranker asks
// for it (loaded first: unless --bm25 is given, BM25 then runs with the parameters the reranker
// was trained with).
struct Retrieval {
  std::optional<Workspace> ws;
  std::optional<decide::RerankedRetriever> reranker;
  std::filesystem::path reranker_dir;
};
Result<Retrieval> open_retrieval(const Globals& g, const FilterArgs& f);
// The hits of `request`: reranked when r has a reranker (then `info`, when given, gets a
// "reranker" object: dir, config, documents reranked and how many the model never saw; a
// warning goes to stderr when some were unknown to it).
Result<std::vector<SearchHit>> retrieve(Retrieval& r, const SearchRequest& request, nlohmann::json* info);

// Total size of the regular files under `dir` (0 when it cannot be listed).
std::uint64_t dir_bytes(const std::filesystem::path& dir);

// "a,b,,c" -> {"a","b","c"}
std::vector<std::string> split_list(const std::string& s);

}  // namespace ragft::cli
