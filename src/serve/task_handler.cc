// POST /v1/classify and POST /v1/extract (task_api.h): the served task models (task_models.h) on
// the request's inputs, by the same calls as `ragft predict`.
#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "serve/handlers.h"
#include "serve/task_api.h"
#include "serve/task_models.h"

namespace ragft::serve {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

struct TaskRoute {
  const char* task;      // "classify" / "extract"
  const char* what;      // "classification" / "extraction"
  const char* trainer;   // how such a model is made
  const char* other;     // the other task's route
};
constexpr TaskRoute kClassify{"classify", "classification", "ragft train classify", "/v1/extract"};
constexpr TaskRoute kExtract{"extract", "extraction", "ragft train extract", "/v1/classify"};

// The served model the request names (or the only one of the task), else the error to answer.
std::variant<std::string, ApiError> resolve_model(const TaskModels* models, const TaskRoute& route,
                                                  const std::optional<std::string>& requested) {
  const std::vector<std::string> names = models ? models->names(route.task) : std::vector<std::string>{};
  if (requested) {
    const TaskModelInfo* m = models ? models->find(*requested) : nullptr;
    if (!m) {
      return ApiError{404,
                      fmt::format("model {} is not served here ({} models: {}; GET /v1/models lists them)", *requested,
                                  route.what, names.empty() ? "none" : joined(names)),
                      "invalid_request_error", "model", "model_not_found"};
    }
    if (m->task != route.task) {
      return bad_request("model",
                         fmt::format("model {} is a {} model; send it to POST {}", *requested, m->task, route.other),
                         "wrong_task");
    }
    return *requested;
  }
  if (names.size() == 1) return names.front();
  return bad_request("model",
                     fmt::format("model is required: this server serves {} {} models ({})", names.size(), route.what,
                                 joined(names)),
                     "missing_field");
}

std::optional<ApiError> need_models(const TaskModels* models, const TaskRoute& route) {
  if (models && !models->names(route.task).empty()) return std::nullopt;
  return bad_request("model",
                     fmt::format("this server serves no {} model; start `ragft serve` with --model NAME=DIR, DIR being "
                                 "a model directory from `{}`",
                                 route.what, route.trainer),
                     "no_model");
}

template <typename Run>
Reply handle_task(const ServeContext& ctx, const TaskRoute& route, const ParsedTask& parsed, Run run) {
  const auto t0 = std::chrono::steady_clock::now();
  const TaskModels* models = ctx.components.task_models.get();
  if (auto e = need_models(models, route)) return Reply::error(*e);
  if (!parsed.request) return Reply::error(parsed.error);
  const TaskApiRequest& r = *parsed.request;
  auto name = resolve_model(models, route, r.model);
  if (auto* e = std::get_if<ApiError>(&name)) return Reply::error(*e);
  const std::string& model = std::get<std::string>(name);
  json data = json::array();
  if (auto s = run(*models, model, r, data); !s.ok()) {
    return Reply::error(api_error_from(s.error(), ErrorSource::kServer, fmt::format("model {}", model)));
  }
  json out = {{"object", "list"}, {"model", model}, {"data", std::move(data)}, {"took_ms", ms_since(t0)}};
  return Reply::json(dump(out));
}

}  // namespace

Reply handle_classify(const ServeContext& ctx, const RequestContext& req) {
  return handle_task(ctx, kClassify, parse_classify_request(req.body, ctx.options.limits),
                     [](const TaskModels& m, const std::string& model, const TaskApiRequest& r, json& data) -> Status {
                       RAGFT_TRY(std::vector<Prediction> predictions, m.classify(model, r.input));
                       for (std::size_t i = 0; i < predictions.size(); ++i) {
                         data.push_back(classification_json(predictions[i], i, r.top_k.value_or(0)));
                       }
                       return ok_status();
                     });
}

Reply handle_extract(const ServeContext& ctx, const RequestContext& req) {
  return handle_task(ctx, kExtract, parse_extract_request(req.body, ctx.options.limits),
                     [](const TaskModels& m, const std::string& model, const TaskApiRequest& r, json& data) -> Status {
                       RAGFT_TRY(std::vector<ExtractedText> extracted, m.extract(model, r.input));
                       for (std::size_t i = 0; i < extracted.size(); ++i) data.push_back(extraction_json(extracted[i], i));
                       return ok_status();
                     });
}

}  // namespace ragft::serve
