// POST /v1/search and POST /v1/ask (search_api.h): retrieval and answers as the request's
// identity, on a leased workspace, by the same calls as `ragft search` and `ragft ask`.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "generate/extractive.h"
#include "serve/deadline_chat.h"
#include "serve/handlers.h"
#include "serve/search_api.h"

namespace ragft::serve {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::optional<ApiError> need_workspace(const ServeContext& ctx) {
  if (ctx.components.workspaces) return std::nullopt;
  return bad_request("", "this server has no workspace to retrieve from; start `ragft serve` with --data DIR "
                     "holding an indexed workspace",
                     "no_workspace");
}

// The SearchRequest of `r` as the request's identity: the body never names the identity.
SearchRequest search_request_of(const RetrievalApiRequest& r, std::size_t k, const Identity& identity) {
  SearchRequest s;
  s.query = r.query;
  s.k = k;
  s.tenant = identity.tenant;
  s.principal = identity.principal;
  s.metadata = r.filter;
  s.mode = r.mode;
  return s;
}

// A retrieval error as the request names its fields: a bad query (no searchable terms, no dense
// index) is the caller's to fix.
ApiError retrieval_error(const Error& e, const char* text_field, SearchMode mode) {
  ApiError out = api_error_from(e, ErrorSource::kServer, "retrieval");
  if (out.status == 400) out.param = mode == SearchMode::kBm25 ? text_field : "mode";
  return out;
}

}  // namespace

Reply handle_search(const ServeContext& ctx, const RequestContext& req) {
  const auto t0 = std::chrono::steady_clock::now();
  if (auto e = need_workspace(ctx)) return Reply::error(*e);
  ParsedRetrieval parsed = parse_search_request(req.body, ctx.options.limits);
  if (!parsed.request) return Reply::error(parsed.error);
  const RetrievalApiRequest& r = *parsed.request;
  const SearchRequest request =
      search_request_of(r, r.k.value_or(std::min<std::size_t>(10, ctx.options.limits.max_k)), req.identity);
  SearchSlots::Hold slot(*ctx.search_slots);  // search_slots.h: a few searches at a time
  auto lease = ctx.components.workspaces->acquire();
  if (!lease.ok()) return Reply::error(api_error_from(lease.error(), ErrorSource::kServer, "workspace"));
  auto hits = search(**lease, request);
  if (!hits.ok()) return Reply::error(retrieval_error(hits.error(), "query", r.mode));
  return Reply::json(search_result_body(r.query, r.mode, *hits, ms_since(t0)));
}

Reply handle_ask(const ServeContext& ctx, const RequestContext& req) {
  const auto t0 = std::chrono::steady_clock::now();
  if (auto e = need_workspace(ctx)) return Reply::error(*e);
  ParsedRetrieval parsed = parse_ask_request(req.body, ctx.options.limits);
  if (!parsed.request) return Reply::error(parsed.error);
  const RetrievalApiRequest& r = *parsed.request;
  const ServeComponents& c = ctx.components;
  if (r.llm && !c.chat) {
    return Reply::error(bad_request("llm",
                                    "this server has no chat model for llm=true; start `ragft serve` with --llm, or "
                                    "ask for an extractive answer (llm=false)",
                                    "no_model"));
  }
  const std::size_t default_k = r.llm ? c.answer.chunks : c.extractive.chunks;
  const SearchRequest request =
      search_request_of(r, r.k.value_or(std::min(default_k, ctx.options.limits.max_k)), req.identity);
  auto lease = c.workspaces->acquire();
  if (!lease.ok()) return Reply::error(api_error_from(lease.error(), ErrorSource::kServer, "workspace"));
  auto hits = search(**lease, request);
  if (!hits.ok()) return Reply::error(retrieval_error(hits.error(), "question", r.mode));
  json out;
  if (r.llm) {
    LlmAnswerOptions options = c.answer;
    options.chunks = request.k;
    options.max_tokens = std::min(options.max_tokens, ctx.options.limits.max_tokens);
    const DeadlineChat limited(*c.chat, model_deadline(ctx));
    auto written = answer_with_llm(**lease, request, std::move(*hits), limited, c.prompt, options);
    if (!written.ok()) return Reply::error(model_error(ctx, written.error(), limited.timed_out()));
    out = answer_json(written->answer);
    out["llm"] = llm_info_json(*written);
  } else {
    ExtractiveOptions options = c.extractive;
    options.chunks = request.k;
    auto answer = answer_from_hits(**lease, request, std::move(*hits), options);
    if (!answer.ok()) return Reply::error(api_error_from(answer.error(), ErrorSource::kServer, "answer"));
    out = answer_json(*answer);
  }
  out["took_ms"] = ms_since(t0);
  return Reply::json(dump(out));
}

}  // namespace ragft::serve
