// The wire format of POST /v1/search and POST /v1/ask (httplib-free, so it is tested without
// sockets). Both retrieve as the request's identity (identity.h): the tenant's documents, and
// with a principal only those its groups may read, filtered inside the index (retrieve/
// searcher.h), exactly as `ragft search --as` and `ragft ask --as` do.
//
// POST /v1/search  {"query": string, "k": 1..max_k (default 10, capped at max_k),
//                   "mode": "bm25" | "dense" | "hybrid" (default bm25),
//                   "filter": {key: string value}: metadata equality, all must hold}
//   -> {"object": "search.result", "query", "mode", "hits": [{"rank", "score", "doc_id", "title",
//      "source", "chunk_id", "char_start", "char_end", "page", "snippet", "highlights"}],
//      "took_ms"}; hits are what `ragft --json search` prints (search_hit_json).
// POST /v1/ask     {"question": string, "k", "mode", "filter" as above (k default: the
//                   server's chunks for the answer), "llm": bool (default false: extractive;
//                   true: the server's chat model writes the answer, its [n] citations checked)}
//   -> what `ragft --json ask` prints (answer_json): {"question", "answer", "abstained",
//      "confidence", "sentences": [{"text", "citations"}], "sources": [{"n", "doc_id", "title",
//      "source", "chunk_id", "char_start", "char_end", "page", "quote"}], "generator"}, plus "llm"
//      (llm_info_json) when the model was asked, plus "took_ms".
//
// Unknown fields -> 400 unknown_field naming them; "tenant", "principal", "as", "groups" -> 400
// not_allowed (the identity comes from the server or the API key); a missing or empty query ->
// 400 naming it; query bytes over ServeLimits::max_input_bytes -> 400 limit_exceeded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "generate/answer.h"
#include "generate/llm_answer.h"
#include "retrieve/searcher.h"
#include "serve/api_error.h"
#include "serve/limits.h"

namespace ragft::serve {

struct RetrievalApiRequest {
  std::string query;              // "query" of a search, "question" of an ask
  std::optional<std::size_t> k;   // unset: the route's default
  SearchMode mode = SearchMode::kBm25;
  std::vector<std::pair<std::string, std::string>> filter;
  bool llm = false;               // ask only
};

struct ParsedRetrieval {
  std::optional<RetrievalApiRequest> request;
  ApiError error;
};
ParsedRetrieval parse_search_request(std::string_view body, const ServeLimits& limits);
ParsedRetrieval parse_ask_request(std::string_view body, const ServeLimits& limits);

// One hit as `ragft --json search` prints it.
nlohmann::json search_hit_json(const SearchHit& hit);
// The body POST /v1/search answers: {"hits": [search_hit_json of each], "mode", "object":
// "search.result", "query", "took_ms"}, byte for byte what nlohmann's compact dump of that object
// writes (keys sorted, UTF-8 kept, invalid UTF-8 replaced by U+FFFD), written directly without a
// JSON tree (the tree cost more than the search on small corpora).
std::string search_result_body(std::string_view query, SearchMode mode, const std::vector<SearchHit>& hits,
                               double took_ms);
// An answer as `ragft --json ask` prints it (without "llm" and "reranker").
nlohmann::json answer_json(const Answer& answer);
// The "llm" field of `ragft --json ask --llm`: {"called", "raw", "citations_read",
// "citations_valid", "issues": [{"sentence", "n", "message"}], "generation_ms", "usage"?}.
nlohmann::json llm_info_json(const LlmAnswer& written);

}  // namespace ragft::serve
