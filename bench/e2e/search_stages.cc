// The CPU cost of POST /v1/search's stages on one thread, without HTTP: where a search request's
// time goes on a workspace, so a change to the request path can be measured stage by stage.
//
//   search_stages --data WS --queries queries.jsonl [--qrels test.tsv] [--k 10] [--repeat 5]
//
// Every query (those in the qrels when given) runs `repeat` times, one after another, on one
// Workspace. Stages, each timed with std::chrono::steady_clock around the same calls the
// server's handler makes (serve/search_handler.cc):
//   parse   parse_search_request on the JSON body {"query": ..., "k": K}
//   rank    rank_chunks: the query analysed, the filter made, BM25 top-k (no store reads)
//   store   the ranked chunks read with their documents (Store::get_chunks_with_documents)
//   search  search(): rank, plus the hits joined with the store and their snippets/highlights
//           (so search - rank - store is about the snippets and highlights)
//   json    the response body written (search_result_body, as the handler does)
// One JSON line: per stage the mean and p50/p99 in µs, plus "request_us" = parse + search + json
// (the handler's work; HTTP excluded), and "requests_per_core_s" = 1e6 / that mean.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evaluate/latency.h"
#include "evaluate/trec.h"
#include "retrieve/searcher.h"
#include "serve/search_api.h"

using namespace ragft;

namespace {

struct Args {
  std::string data, queries, qrels;
  std::size_t k = 10;
  int repeat = 5;
};

int fail(const Error& e) {
  fmt::print(stderr, "error: {}\n", e.to_string());
  return 1;
}

int usage() {
  fmt::print(stderr, "usage: search_stages --data WS --queries queries.jsonl [--qrels test.tsv] [--k 10] "
                     "[--repeat 5]\n");
  return 2;
}

double us_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json summary(const std::vector<double>& samples) {
  double sum = 0;
  for (double s : samples) sum += s;
  const double mean = samples.empty() ? 0 : sum / static_cast<double>(samples.size());
  auto r = [](double x) { return std::round(x * 10) / 10; };
  return {{"mean_us", r(mean)}, {"p50_us", r(percentile(samples, 0.5))}, {"p99_us", r(percentile(samples, 0.99))}};
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string v = argv[++i];
    if (arg == "--data") {
      a.data = v;
    } else if (arg == "--queries") {
      a.queries = v;
    } else if (arg == "--qrels") {
      a.qrels = v;
    } else if (arg == "--k") {
      a.k = std::stoul(v);
    } else if (arg == "--repeat") {
      a.repeat = std::stoi(v);
    } else {
      return usage();
    }
  }
  if (a.data.empty() || a.queries.empty() || a.repeat < 1 || a.k < 1) return usage();

  auto queries = read_queries(a.queries);
  if (!queries.ok()) return fail(queries.error());
  std::vector<std::string> texts;
  if (!a.qrels.empty()) {
    auto qrels = read_qrels(a.qrels);
    if (!qrels.ok()) return fail(qrels.error());
    for (const auto& q : *queries) {
      if (qrels->count(q.id)) texts.push_back(q.text);
    }
  } else {
    for (const auto& q : *queries) texts.push_back(q.text);
  }
  auto ws = Workspace::open(a.data);
  if (!ws.ok()) return fail(ws.error());

  const serve::ServeLimits limits;
  std::vector<double> parse_us, rank_us, store_us, search_us, json_us, request_us;
  std::size_t hits_total = 0;
  for (int rep = 0; rep < a.repeat; ++rep) {
    for (const std::string& text : texts) {
      const std::string body = nlohmann::json{{"query", text}, {"k", a.k}}.dump();
      auto t0 = std::chrono::steady_clock::now();
      serve::ParsedRetrieval parsed = serve::parse_search_request(body, limits);
      const double parse = us_since(t0);
      if (!parsed.request) {
        fmt::print(stderr, "error: the body {} was refused: {}\n", body, parsed.error.message);
        return 1;
      }
      SearchRequest request;
      request.query = parsed.request->query;
      request.k = *parsed.request->k;

      t0 = std::chrono::steady_clock::now();
      auto filter = make_filter(ws->store(), request);
      if (!filter.ok()) return fail(filter.error());
      auto ranked = rank_chunks(*ws, request, *filter);
      if (!ranked.ok()) return fail(ranked.error());
      rank_us.push_back(us_since(t0));

      std::vector<ChunkId> ids;
      for (const ScoredChunk& c : *ranked) ids.push_back(c.id);
      t0 = std::chrono::steady_clock::now();
      auto rows = ws->store().get_chunks_with_documents(ids);
      if (!rows.ok()) return fail(rows.error());
      store_us.push_back(us_since(t0));

      t0 = std::chrono::steady_clock::now();
      auto hits = search(*ws, request);
      if (!hits.ok()) return fail(hits.error());
      const double searched = us_since(t0);
      hits_total += hits->size();

      t0 = std::chrono::steady_clock::now();
      const std::string dumped = serve::search_result_body(request.query, SearchMode::kBm25, *hits, 0.0);
      const double json = us_since(t0);
      if (dumped.empty()) return 1;

      parse_us.push_back(parse);
      search_us.push_back(searched);
      json_us.push_back(json);
      request_us.push_back(parse + searched + json);
    }
  }
  double request_sum = 0;
  for (double s : request_us) request_sum += s;
  const double request_mean = request_sum / static_cast<double>(request_us.size());
  nlohmann::json line = {{"bench", "search_stages"},
                         {"data", a.data},
                         {"queries", texts.size()},
                         {"repeat", a.repeat},
                         {"k", a.k},
                         {"hits_per_query", static_cast<double>(hits_total) / static_cast<double>(request_us.size())},
                         {"parse", summary(parse_us)},
                         {"rank", summary(rank_us)},
                         {"store", summary(store_us)},
                         {"search", summary(search_us)},
                         {"json", summary(json_us)},
                         {"request", summary(request_us)},
                         {"requests_per_core_s", std::round(1e6 / request_mean)}};
  fmt::print("{}\n", line.dump());
  return 0;
}
