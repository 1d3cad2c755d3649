// ragft search "query": ranked chunks with ids, titles, scores and highlighted snippets.
#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "retrieve/searcher.h"
#include "serve/search_api.h"

namespace ragft::cli {

void add_filter_options(CLI::App* cmd, FilterArgs& f) {
  cmd->add_option("--tenant", f.tenant, "Tenant to search")->capture_default_str();
  cmd->add_option("--as", f.principal, "Search as this principal (only documents its groups may read)");
  cmd->add_option("--where", f.where, "Metadata equality filter key=value (repeatable)")->allow_extra_args(false);
  cmd->add_option("--mode", f.mode, "Retrieval: bm25, dense or hybrid (dense needs `ragft index --embedder`)")
      ->capture_default_str();
  cmd->add_option("--fusion", f.fusion, "Hybrid fusion: rrf:k=60 or weighted:w=BM25|DENSE")->capture_default_str();
  cmd->add_option("--candidates", f.candidates, "Hybrid: candidates taken from each list")
      ->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_flag("--rerank", f.rerank,
                "Rerank BM25's documents with the retriever trained by `ragft train rerank` (<data>/models/reranker)");
  cmd->add_option("--reranker", f.reranker, "Trained retriever directory to rerank with (implies --rerank)");
}

std::filesystem::path default_reranker_dir(const Globals& g) {
  return std::filesystem::path(g.data_dir) / "models" / "reranker";
}

Result<Retrieval> open_retrieval(const Globals& g, const FilterArgs& f) {
  Retrieval r;
  Globals opened = g;
  if (f.rerank || !f.reranker.empty()) {
    if (f.mode != "bm25") {
      return make_error(ErrorCode::kInvalidArgument, "--rerank re-ranks BM25 candidates; drop --mode {}", f.mode);
    }
    r.reranker_dir = f.reranker.empty() ? default_reranker_dir(g) : std::filesystem::path(f.reranker);
    auto loaded = decide::RerankedRetriever::load(r.reranker_dir);
    if (!loaded.ok()) {
      if (loaded.error().code != ErrorCode::kNotFound) return loaded.error();
      return make_error(ErrorCode::kNotFound, "{}; train one with `ragft train rerank --queries Q --qrels R`",
                        loaded.error().message);
    }
    r.reranker = std::move(*loaded);
    // The reranker's BM25 features were measured with these parameters.
    if (g.bm25_config == Bm25Options{}.to_config()) opened.bm25_config = r.reranker->bm25_config;
  }
  RAGFT_TRY(Workspace ws, open_workspace(opened));
  if (r.reranker && ws.analyzer().options().to_config() != r.reranker->analyzer_config) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the reranker in {} was trained on a workspace analysed with {}, this one uses {}; retrain it here",
                      r.reranker_dir.string(), r.reranker->analyzer_config, ws.analyzer().options().to_config());
  }
  r.ws.emplace(std::move(ws));
  return r;
}

Result<std::vector<SearchHit>> retrieve(Retrieval& r, const SearchRequest& request, nlohmann::json* info) {
  if (!r.reranker) return search(*r.ws, request);
  decide::RerankServeStats stats;
  RAGFT_TRY(std::vector<SearchHit> hits, r.reranker->search(*r.ws, request, &stats));
  if (stats.unknown_to_model > 0) {
    fmt::print(stderr,
               "warning: {} of the {} reranked documents were added after the reranker was trained (its "
               "closed-book feature has never seen them); retrain with `ragft train rerank`\n",
               stats.unknown_to_model, stats.candidates);
  }
  if (info) {
    (*info)["reranker"] = {{"dir", r.reranker_dir.string()},
                           {"config", r.reranker->options.to_config()},
                           {"bm25", r.ws->index().options().to_config()},
                           {"reranked", stats.candidates},
                           {"unknown_to_model", stats.unknown_to_model}};
  }
  return hits;
}

Result<SearchRequest> make_request(const std::string& query, std::size_t k, const FilterArgs& f) {
  SearchRequest r;
  r.query = query;
  r.k = k;
  r.tenant = f.tenant;
  if (!f.principal.empty()) r.principal = f.principal;
  RAGFT_TRY(r.mode, parse_search_mode(f.mode));
  RAGFT_TRY(r.fusion, FusionOptions::parse(f.fusion));
  r.candidates = f.candidates;
  for (const auto& w : f.where) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(ErrorCode::kInvalidArgument, "--where \"{}\": expected key=value", w);
    }
    r.metadata.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return r;
}

namespace {
struct SearchArgs {
  std::string query;
  std::size_t k = 10;
  FilterArgs filter;
};

int run_search(const Globals& g, const SearchArgs& a) {
  auto req = make_request(a.query, a.k, a.filter);
  if (!req.ok()) return report(req.error());
  auto opened = open_retrieval(g, a.filter);
  if (!opened.ok()) return report(opened.error());
  Workspace* ws = &*opened->ws;
  nlohmann::json out = {{"query", a.query}, {"mode", search_mode_name(req->mode)},
                        {"bm25", ws->index().options().to_config()}, {"hits", nlohmann::json::array()}};
  auto hits = retrieve(*opened, *req, &out);
  if (!hits.ok()) return report(hits.error());
  if (g.json) {
    if (req->mode != SearchMode::kBm25) out["dense"] = ws->dense()->config();
    if (req->mode == SearchMode::kHybrid) out["fusion"] = req->fusion.to_config();
    for (const auto& h : *hits) out["hits"].push_back(serve::search_hit_json(h));
    fmt::print("{}\n", out.dump());
    return 0;
  }
  if (hits->empty()) fmt::print("no results\n");
  for (const auto& h : *hits) {
    fmt::print("{:>2}. {:.3f}  {}{}\n", h.rank, h.score, h.ext_id, h.title.empty() ? "" : "  " + h.title);
    fmt::print("    chars {}-{}{}  {}\n", h.char_start, h.char_end,
               h.page ? fmt::format(" p.{}", h.page) : "", h.snippet);
  }
  return 0;
}
}  // namespace

void register_search(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<SearchArgs>();
  CLI::App* cmd = app.add_subcommand("search", "Ranked chunks for a query (BM25, dense or hybrid; optionally reranked)");
  cmd->add_option("query", a->query, "The query")->required();
  cmd->add_option("-k", a->k, "Number of results")->capture_default_str()->check(CLI::Range(1, 10000));
  add_filter_options(cmd, a->filter);
  cmd->callback([&g, &exit_code, a] { exit_code = run_search(g, *a); });
}

}  // namespace ragft::cli
