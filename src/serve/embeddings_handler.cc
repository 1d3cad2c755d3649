// POST /v1/embeddings, GET /health, GET /v1/models (the task models: task_api.h).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "serve/embeddings_api.h"
#include "serve/handlers.h"
#include "serve/openapi.h"
#include "serve/task_api.h"
#include "serve/workspace_pool.h"

namespace ragft::serve {

Reply handle_embeddings(const ServeContext& ctx, const RequestContext& req) {
  const std::shared_ptr<Embedder>& embedder = ctx.components.embedder;
  if (!embedder) {
    return Reply::error(bad_request("model",
                                    "this server has no embedder; start `ragft serve` with --embedder CONFIG, or "
                                    "with --data DIR of a workspace that has a dense index",
                                    "no_model"));
  }
  ParsedEmbeddings parsed = parse_embeddings_request(req.body, ctx.options.limits);
  if (!parsed.request) return Reply::error(parsed.error);
  const EmbeddingsApiRequest& request = *parsed.request;
  std::vector<float> vectors;
  if (Status s = embedder->embed(request.input, request.role, vectors); !s.ok()) {
    return Reply::error(api_error_from(s.error(), ErrorSource::kUpstream, "embedder"));
  }
  const int dim = embedder->dim();
  if (dim <= 0 || vectors.size() != request.input.size() * static_cast<std::size_t>(dim)) {
    return Reply::error(api_error_from(
        make_error(ErrorCode::kInternal, "the embedder returned {} floats for {} texts of dimension {}",
                   vectors.size(), request.input.size(), dim),
        ErrorSource::kUpstream, "embedder"));
  }
  if (request.dimensions && *request.dimensions != dim) {
    return Reply::error(bad_request(
        "dimensions", fmt::format("dimensions={}: this embedder's vectors have {} dimensions", *request.dimensions, dim),
        "unsupported"));
  }
  const std::string model = request.model.empty() ? ctx.options.embedding_model_id : request.model;
  return Reply::json(embeddings_response(request, model, vectors, dim));
}

Reply handle_health(const ServeContext& ctx, const RequestContext&) {
  nlohmann::json j = {{"status", "ok"},
                      {"chat", ctx.components.chat != nullptr},
                      {"embeddings", ctx.components.embedder != nullptr},
                      {"workspace", ctx.components.workspaces != nullptr}};
  return Reply::json(j.dump());
}

Reply handle_metrics(const ServeContext& ctx, const RequestContext& req) {
  if (ctx.components.authenticator && !req.identity.admin) {
    return Reply::error(ApiError{403, "/metrics needs an admin key (ragft key create --admin)", "permission_error", "",
                                 "admin_required"});
  }
  const double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started_at).count();
  std::string text = ctx.metrics ? ctx.metrics->render(uptime) : "";
  if (ctx.search_slots) {
    text += "# HELP ragft_search_slots_waiting Searches waiting for one of the search slots now.\n";
    text += "# TYPE ragft_search_slots_waiting gauge\n";
    text += fmt::format("ragft_search_slots_waiting {}\n", ctx.search_slots->waiting());
  }
  const ChunkTermsCache* cache =
      ctx.components.workspaces ? ctx.components.workspaces->options().chunk_terms_cache.get() : nullptr;
  if (cache != nullptr) {
    const ChunkTermsCache::Stats st = cache->stats();
    text += "# HELP ragft_highlight_cache_lookups_total Search hits looked up in the highlight cache, by result.\n";
    text += "# TYPE ragft_highlight_cache_lookups_total counter\n";
    text += fmt::format("ragft_highlight_cache_lookups_total{{result=\"hit\"}} {}\n", st.hits);
    text += fmt::format("ragft_highlight_cache_lookups_total{{result=\"miss\"}} {}\n", st.misses);
    text += "# HELP ragft_highlight_cache_bytes Memory the highlight cache's entries hold (approximate).\n";
    text += "# TYPE ragft_highlight_cache_bytes gauge\n";
    text += fmt::format("ragft_highlight_cache_bytes {}\n", st.bytes);
    text += "# HELP ragft_highlight_cache_entries Chunks the highlight cache holds.\n";
    text += "# TYPE ragft_highlight_cache_entries gauge\n";
    text += fmt::format("ragft_highlight_cache_entries {}\n", st.entries);
  }
  return Reply{200, "text/plain; version=0.0.4; charset=utf-8", std::move(text), {}};
}

Reply handle_openapi(const ServeContext& ctx, const RequestContext&) {
  return Reply::json(openapi_document(ctx.options).dump());
}

Reply handle_models(const ServeContext& ctx, const RequestContext&) {
  using nlohmann::json;
  json data = json::array();
  const auto created = static_cast<std::int64_t>(ctx.started);
  if (ctx.components.chat) {
    data.push_back({{"id", ctx.options.chat_model_id},
                    {"object", "model"},
                    {"created", created},
                    {"owned_by", "ragft"},
                    {"ragft", {{"kind", "chat"}, {"config", ctx.components.chat->config()}}}});
  }
  if (ctx.components.embedder) {
    data.push_back({{"id", ctx.options.embedding_model_id},
                    {"object", "model"},
                    {"created", created},
                    {"owned_by", "ragft"},
                    {"ragft",
                     {{"kind", "embeddings"},
                      {"config", ctx.components.embedder->config()},
                      {"model_id", ctx.components.embedder->model_id()},
                      {"dim", ctx.components.embedder->dim()}}}});
  }
  if (ctx.components.task_models) {
    for (const TaskModelInfo& m : ctx.components.task_models->models()) data.push_back(task_model_json(m, created));
  }
  return Reply::json(json{{"object", "list"}, {"data", std::move(data)}}.dump(-1, ' ', false,
                                                                             json::error_handler_t::replace));
}

}  // namespace ragft::serve
