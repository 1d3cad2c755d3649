// The server's route handlers (server.h lists the routes; the wire formats are chat_api.h and
// embeddings_api.h). Each is a plain function of the server's context and one request, so a new
// route is a handler here plus one line in server.cc's route table.
#pragma once

#include <chrono>
#include <ctime>
#include <memory>

#include "serve/api_error.h"
#include "serve/metrics.h"
#include "serve/rate_limit.h"
#include "serve/route.h"
#include "serve/search_slots.h"
#include "serve/server.h"

namespace ragft::serve {

// What every handler may use: read-only after start (the components are thread-safe or leased).
struct ServeContext {
  ServeOptions options;
  ServeComponents components;
  std::time_t started = 0;  // "created" of /v1/models
  std::shared_ptr<ServeMetrics> metrics;  // GET /metrics
  std::chrono::steady_clock::time_point started_at{};
  std::shared_ptr<SearchSlots> search_slots;  // POST /v1/search; options.search_concurrency slots
  std::shared_ptr<RateLimiter> rate_limiter;  // null: options.rate_limit is 0
};

Reply handle_health(const ServeContext& ctx, const RequestContext& req);
Reply handle_models(const ServeContext& ctx, const RequestContext& req);
Reply handle_chat_completions(const ServeContext& ctx, const RequestContext& req);
Reply handle_embeddings(const ServeContext& ctx, const RequestContext& req);
Reply handle_search(const ServeContext& ctx, const RequestContext& req);  // search_api.h
Reply handle_ask(const ServeContext& ctx, const RequestContext& req);     // search_api.h
Reply handle_documents_upsert(const ServeContext& ctx, const RequestContext& req);  // documents_api.h; admin
Reply handle_documents_delete(const ServeContext& ctx, const RequestContext& req);  // documents_api.h; admin
Reply handle_document_delete(const ServeContext& ctx, const RequestContext& req);   // documents_api.h; admin
Reply handle_classify(const ServeContext& ctx, const RequestContext& req);  // task_api.h
Reply handle_extract(const ServeContext& ctx, const RequestContext& req);   // task_api.h
Reply handle_metrics(const ServeContext& ctx, const RequestContext& req);  // metrics.h; admin key when keys are on
Reply handle_openapi(const ServeContext& ctx, const RequestContext& req);  // openapi.h
Reply handle_web_ui(const ServeContext& ctx, const RequestContext& req);   // web_ui.h: GET / and /ui
Reply handle_document_get(const ServeContext& ctx, const RequestContext& req);  // documents_read.h
Reply handle_reports_list(const ServeContext& ctx, const RequestContext& req);  // reports.h; admin key when keys are on
Reply handle_report_json(const ServeContext& ctx, const RequestContext& req);   // reports.h
Reply handle_report_html(const ServeContext& ctx, const RequestContext& req);   // reports.h

// A request's chat model calls (chat_handler.cc): the deadline options.limits.max_seconds from
// now (deadline_chat.h), and the error of a failed call: 504 "timeout" when the deadline
// stopped it, else the upstream error.
std::chrono::steady_clock::time_point model_deadline(const ServeContext& ctx);
ApiError model_error(const ServeContext& ctx, const Error& e, bool timed_out);

}  // namespace ragft::serve
