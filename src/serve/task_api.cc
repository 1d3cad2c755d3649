#include "serve/task_api.h"

#include <algorithm>

#include <fmt/format.h>

namespace ragft::serve {

namespace {

using nlohmann::json;

ParsedTask parse(std::string_view body, const ServeLimits& limits, bool classify) {
  ParsedTask out;
  auto fail = [&](ApiError e) {
    out.error = std::move(e);
    return out;
  };
  json j;
  if (auto e = parse_json_object(body, j)) return fail(std::move(*e));
  const char* known = classify ? "model, input, top_k" : "model, input";
  TaskApiRequest r;
  bool has_input = false;
  for (const auto& [key, value] : j.items()) {
    if (key == "model") {
      if (value.is_null()) continue;
      if (!value.is_string()) return fail(wrong_type(key, "a string", value));
      if (value.get_ref<const std::string&>().empty()) return fail(bad_request("model", "model is empty"));
      r.model = value.get<std::string>();
    } else if (key == "input") {
      if (value.is_string()) {
        r.input.push_back(value.get<std::string>());
      } else if (value.is_array()) {
        if (value.empty()) return fail(bad_request("input", "input must hold at least one string"));
        if (value.size() > limits.max_task_inputs) {
          return fail(bad_request(
              "input", fmt::format("{} inputs exceed the server's limit of {}", value.size(), limits.max_task_inputs),
              "limit_exceeded"));
        }
        r.input.reserve(value.size());
        for (std::size_t i = 0; i < value.size(); ++i) {
          if (!value[i].is_string()) return fail(wrong_type(fmt::format("input[{}]", i), "a string", value[i]));
          r.input.push_back(value[i].get<std::string>());
        }
      } else if (value.is_null()) {
        continue;  // reported as missing below
      } else {
        return fail(wrong_type("input", "a string or an array of strings", value));
      }
      has_input = true;
    } else if (classify && key == "top_k") {
      if (value.is_null()) continue;
      if (value.is_number_unsigned()) {
        const auto k = value.get<std::uint64_t>();
        if (k < 1) return fail(bad_request("top_k", "top_k=0 must be at least 1", "out_of_range"));
        r.top_k = static_cast<std::size_t>(std::min<std::uint64_t>(k, SIZE_MAX));
      } else if (value.is_number_integer()) {
        return fail(bad_request("top_k", fmt::format("top_k={} must be at least 1", value.get<std::int64_t>()),
                                "out_of_range"));
      } else {
        return fail(wrong_type("top_k", "an integer", value));
      }
    } else {
      return fail(bad_request(key, fmt::format("unknown field {} (known: {})", key, known), "unknown_field"));
    }
  }
  if (!has_input) return fail(bad_request("input", "input is required", "missing_field"));
  std::size_t bytes = 0;
  for (const auto& s : r.input) bytes += s.size();
  if (bytes > limits.max_input_bytes) {
    return fail(bad_request(
        "input", fmt::format("the input holds {} bytes, over the server's limit of {}", bytes, limits.max_input_bytes),
        "limit_exceeded"));
  }
  out.request = std::move(r);
  return out;
}

}  // namespace

ParsedTask parse_classify_request(std::string_view body, const ServeLimits& limits) {
  return parse(body, limits, /*classify=*/true);
}

ParsedTask parse_extract_request(std::string_view body, const ServeLimits& limits) {
  return parse(body, limits, /*classify=*/false);
}

json classification_json(const Prediction& p, std::size_t index, std::size_t top_k) {
  const std::size_t n = top_k == 0 ? p.labels.size() : std::min(top_k, p.labels.size());
  json labels = json::array();
  for (std::size_t i = 0; i < n; ++i) labels.push_back({{"label", p.labels[i].label}, {"score", p.labels[i].score}});
  json out = {{"object", "classification"}, {"index", index}};
  if (!p.labels.empty()) {
    out["label"] = p.labels.front().label;
    out["score"] = p.labels.front().score;
  } else {
    out["label"] = nullptr;
    out["score"] = nullptr;
  }
  out["labels"] = std::move(labels);
  return out;
}

json extraction_json(const ExtractedText& t, std::size_t index) {
  json entities = json::array();
  for (const auto& e : t.entities) {
    entities.push_back({{"text", e.text},
                        {"type", e.type},
                        {"char_start", e.char_start},
                        {"char_end", e.char_end},
                        {"token_start", e.token_start},
                        {"token_end", e.token_end}});
  }
  return {{"object", "extraction"},
          {"index", index},
          {"tokens", t.tokens},
          {"tags", t.tags},
          {"entities", std::move(entities)}};
}

json task_model_json(const TaskModelInfo& m, std::int64_t created) {
  return {{"id", m.name},
          {"object", "model"},
          {"created", created},
          {"owned_by", "ragft"},
          {"ragft_task", m.task},
          {"ragft", {{"kind", m.task}, {"model_kind", m.kind}, {"labels", m.labels}, {"config", m.config}}}};
}

}  // namespace ragft::serve
