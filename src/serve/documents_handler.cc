// POST /v1/documents, POST /v1/documents/delete and DELETE /v1/documents/{id}
// (documents_api.h): parsed and chunked on the request thread, committed by the Ingestor.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "serve/documents_api.h"
#include "serve/handlers.h"
#include "serve/ingestor.h"

namespace ragft::serve {

namespace {

using nlohmann::json;

// Writes need an admin key; without keys, a server running as the tenant's owner (no --as).
std::optional<ApiError> need_writer(const ServeContext& ctx, const RequestContext& req) {
  if (!ctx.components.ingestor) {
    return bad_request("", "this server has no workspace to write to; start `ragft serve` with --data DIR", "no_workspace");
  }
  if (ctx.components.authenticator ? req.identity.admin : !req.identity.principal) return std::nullopt;
  return ApiError{403,
                  ctx.components.authenticator
                      ? "document writes need an admin key (ragft key create --admin)"
                      : "document writes need the tenant's owner: this server runs every request as a principal (--as)",
                  "permission_error", "", "admin_required"};
}

Reply run_writes(const ServeContext& ctx, std::vector<DocumentWrite> writes, bool missing_is_404) {
  const auto t0 = std::chrono::steady_clock::now();
  auto written = ctx.components.ingestor->write(std::move(writes));
  if (!written.ok()) return Reply::error(api_error_from(written.error(), ErrorSource::kServer, "write"));
  json docs = json::array();
  for (const WriteOutcome& o : written->outcomes) {
    json d = {{"id", o.ext_id}, {"status", o.status}};
    if (o.status != "deleted" && o.status != "not_found") d["chunks"] = o.chunks;
    docs.push_back(std::move(d));
  }
  if (missing_is_404 && written->outcomes.size() == 1 && written->outcomes[0].status == "not_found") {
    return Reply::error(ApiError{404, fmt::format("no document \"{}\" in this tenant", written->outcomes[0].ext_id),
                                 "invalid_request_error", "id", "not_found"});
  }
  json out = {{"object", "documents.write"},
              {"documents", std::move(docs)},
              {"seq", written->seq},
              {"indexed", written->indexed},
              {"took_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()}};
  return Reply::json(out.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

Reply handle_documents_upsert(const ServeContext& ctx, const RequestContext& req) {
  if (auto e = need_writer(ctx, req)) return Reply::error(*e);
  ParsedWrites parsed = parse_upsert_request(req.body, req.identity.tenant, ctx.options.limits, ctx.components.chunker);
  if (parsed.error) return Reply::error(*parsed.error);
  return run_writes(ctx, std::move(parsed.writes), false);
}

Reply handle_documents_delete(const ServeContext& ctx, const RequestContext& req) {
  if (auto e = need_writer(ctx, req)) return Reply::error(*e);
  ParsedWrites parsed = parse_delete_request(req.body, req.identity.tenant, ctx.options.limits);
  if (parsed.error) return Reply::error(*parsed.error);
  return run_writes(ctx, std::move(parsed.writes), false);
}

Reply handle_document_delete(const ServeContext& ctx, const RequestContext& req) {
  if (auto e = need_writer(ctx, req)) return Reply::error(*e);
  DocumentWrite w;
  w.kind = DocumentWrite::Kind::kDelete;
  w.tenant = req.identity.tenant;
  w.ext_id = std::string(req.param("id"));
  std::vector<DocumentWrite> writes;
  writes.push_back(std::move(w));
  return run_writes(ctx, std::move(writes), true);
}

}  // namespace ragft::serve
