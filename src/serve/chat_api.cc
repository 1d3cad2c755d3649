#include "serve/chat_api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>

#include <fmt/format.h>

namespace ragft::serve {

namespace {

using nlohmann::json;

// A field present and not null, else nullptr.
const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// An integer in [lo, hi] (a float with an integral value counts, as JSON does not tell them apart).
std::optional<ApiError> read_int(const json& v, const std::string& param, std::int64_t lo, std::int64_t hi,
                                 std::int64_t& out) {
  const JsonInt got = json_int64(v, out);
  if (got == JsonInt::kNotInteger) return wrong_type(param, "an integer", v);
  if (got == JsonInt::kOutOfRange || out < lo || out > hi) {
    return bad_request(param, fmt::format("{}={} must be in [{}, {}]", param, v.dump(), lo, hi), "out_of_range");
  }
  return std::nullopt;
}

std::optional<ApiError> read_message(const json& m, std::size_t i, ChatMessage& out, std::size_t& bytes) {
  const std::string at = fmt::format("messages[{}]", i);
  if (!m.is_object()) return wrong_type(at, "an object", m);
  const json* role = field(m, "role");
  if (!role) return bad_request(at + ".role", fmt::format("{}.role is required", at), "missing_field");
  if (!role->is_string()) return wrong_type(at + ".role", "a string", *role);
  const std::string& r = role->get_ref<const std::string&>();
  if (r == "system" || r == "developer") {
    out.role = ChatRole::kSystem;
  } else if (r == "user") {
    out.role = ChatRole::kUser;
  } else if (r == "assistant") {
    out.role = ChatRole::kAssistant;
  } else if (r == "tool" || r == "function") {
    return bad_request(at + ".role", fmt::format("{}.role \"{}\": tool calls are not supported by this server", at, r),
                       "unsupported");
  } else {
    return bad_request(at + ".role",
                       fmt::format("{}.role \"{}\" must be system, developer, user or assistant", at, r));
  }
  out.content.clear();
  const json* content = field(m, "content");
  if (!content) {
    if (out.role != ChatRole::kAssistant) {
      return bad_request(at + ".content", fmt::format("{}.content is required", at), "missing_field");
    }
  } else if (content->is_string()) {
    out.content = content->get<std::string>();
  } else if (content->is_array()) {
    for (std::size_t j = 0; j < content->size(); ++j) {
      const json& part = (*content)[j];
      const std::string pat = fmt::format("{}.content[{}]", at, j);
      if (!part.is_object()) return wrong_type(pat, "an object", part);
      const json* type = field(part, "type");
      if (!type || !type->is_string()) return bad_request(pat + ".type", pat + ".type must be a string", "invalid_type");
      if (*type != "text") {
        return bad_request(pat + ".type",
                           fmt::format("{}.type \"{}\": only text parts are supported", pat, type->get<std::string>()),
                           "unsupported");
      }
      const json* text = field(part, "text");
      if (!text || !text->is_string()) return bad_request(pat + ".text", pat + ".text must be a string", "invalid_type");
      out.content += text->get_ref<const std::string&>();
    }
  } else {
    return wrong_type(at + ".content", "a string, an array of text parts or null", *content);
  }
  bytes += out.content.size();
  return std::nullopt;
}

std::optional<ApiError> read_rag(const json& v, const ServeLimits& limits, std::optional<RagRequest>& out) {
  if (!v.is_object()) return wrong_type("ragft", "an object", v);
  bool rag = false;
  RagRequest r;
  bool narrowing = false;  // k, filter or mode given
  for (const auto& [key, value] : v.items()) {
    const std::string param = "ragft." + key;
    if (key == "rag") {
      if (!value.is_boolean()) return wrong_type(param, "a boolean", value);
      rag = value.get<bool>();
    } else if (key == "k") {
      std::int64_t k = 0;
      if (auto e = read_int(value, param, 1, static_cast<std::int64_t>(limits.max_k), k)) return e;
      r.k = static_cast<std::size_t>(k);
      narrowing = true;
    } else if (key == "filter") {
      if (!value.is_object()) return wrong_type(param, "an object of string values", value);
      for (const auto& [fk, fv] : value.items()) {
        if (!fv.is_string()) return wrong_type(param + "." + fk, "a string", fv);
        r.filter.emplace_back(fk, fv.get<std::string>());
      }
      narrowing = true;
    } else if (key == "mode") {
      if (!value.is_string()) return wrong_type(param, "a string", value);
      auto mode = parse_search_mode(value.get<std::string>());
      if (!mode.ok()) return bad_request(param, fmt::format("{}: {}", param, mode.error().message));
      r.mode = *mode;
      narrowing = true;
    } else if (key == "tenant" || key == "principal") {
      return bad_request(param,
                         fmt::format("{}: a request cannot choose whom it runs as; the identity comes from the "
                                     "server (its API key, or its --tenant/--as)",
                                     param),
                         "not_allowed");
    } else {
      return bad_request(param, fmt::format("unknown field {} (known: rag, k, filter, mode)", param), "unknown_field");
    }
  }
  if (!rag) {
    if (narrowing) return bad_request("ragft.rag", "ragft.k, ragft.filter and ragft.mode need \"rag\": true", "missing_field");
    return std::nullopt;
  }
  out = std::move(r);
  return std::nullopt;
}

std::optional<ApiError> read_response_format(const json& v, ChatRequest& chat) {
  if (!v.is_object()) return wrong_type("response_format", "an object", v);
  const json* type = field(v, "type");
  if (!type || !type->is_string()) return bad_request("response_format.type", "response_format.type must be a string", "invalid_type");
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "text") return std::nullopt;
  if (t == "json_object") {
    chat.json = true;
    return std::nullopt;
  }
  if (t != "json_schema") {
    return bad_request("response_format.type",
                       fmt::format("response_format.type \"{}\" must be text, json_object or json_schema", t));
  }
  const json* js = field(v, "json_schema");
  if (!js || !js->is_object()) {
    return bad_request("response_format.json_schema", "response_format.json_schema must be an object", "invalid_type");
  }
  const json* schema = field(*js, "schema");
  if (!schema || !schema->is_object()) {
    return bad_request("response_format.json_schema.schema", "response_format.json_schema.schema must be an object",
                       "invalid_type");
  }
  chat.json_schema = schema->dump();
  if (const json* name = field(*js, "name")) {
    if (!name->is_string()) return wrong_type("response_format.json_schema.name", "a string", *name);
    chat.json_schema_name = name->get<std::string>();
  }
  if (const json* strict = field(*js, "strict")) {
    if (!strict->is_boolean()) return wrong_type("response_format.json_schema.strict", "a boolean", *strict);
    chat.json_schema_strict = strict->get<bool>();
  }
  return std::nullopt;
}

// The first field ChatRequest::validate() complains about, as the request names it.
std::string validate_param(const std::string& message) {
  for (const char* f : {"temperature", "top_p", "json_schema_name", "json_schema", "messages", "max_tokens"}) {
    if (message.find(std::string(": ") + f) != std::string::npos) {
      const std::string s = f;
      if (s == "json_schema_name") return "response_format.json_schema.name";
      if (s == "json_schema") return "response_format.json_schema.schema";
      return s;
    }
  }
  if (message.find(": stop") != std::string::npos) return "stop";
  return {};
}

}  // namespace

ParsedChat parse_chat_request(std::string_view body, const ServeLimits& limits) {
  ParsedChat out;
  auto fail = [&](ApiError e) {
    out.error = std::move(e);
    return out;
  };
  json j;
  if (auto e = parse_json_object(body, j)) return fail(std::move(*e));
  ChatApiRequest r;
  if (const json* model = field(j, "model")) {
    if (!model->is_string()) return fail(wrong_type("model", "a string", *model));
    r.model = model->get<std::string>();
  }
  const json* messages = field(j, "messages");
  if (!messages) return fail(bad_request("messages", "messages is required", "missing_field"));
  if (!messages->is_array()) return fail(wrong_type("messages", "an array", *messages));
  if (messages->empty()) return fail(bad_request("messages", "messages must hold at least one message"));
  if (messages->size() > limits.max_messages) {
    return fail(bad_request("messages", fmt::format("{} messages exceed the server's limit of {}", messages->size(),
                                                    limits.max_messages),
                            "limit_exceeded"));
  }
  std::size_t bytes = 0;
  r.chat.messages.resize(messages->size());
  for (std::size_t i = 0; i < messages->size(); ++i) {
    if (auto e = read_message((*messages)[i], i, r.chat.messages[i], bytes)) return fail(std::move(*e));
  }
  if (bytes > limits.max_input_bytes) {
    return fail(bad_request("messages",
                            fmt::format("the messages hold {} bytes of text, over the server's limit of {}", bytes,
                                        limits.max_input_bytes),
                            "limit_exceeded"));
  }
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (const json* v = field(j, name)) {
      std::int64_t n = 0;
      if (auto e = read_int(*v, name, 1, limits.max_tokens, n)) return fail(std::move(*e));
      r.chat.max_tokens = static_cast<int>(n);  // max_completion_tokens, read second, wins
      r.max_tokens_given = true;
    }
  }
  if (!r.max_tokens_given) r.chat.max_tokens = limits.max_tokens;
  if (const json* v = field(j, "temperature")) {
    if (!v->is_number()) return fail(wrong_type("temperature", "a number", *v));
    r.chat.temperature = v->get<double>();
  }
  if (const json* v = field(j, "top_p")) {
    if (!v->is_number()) return fail(wrong_type("top_p", "a number", *v));
    r.chat.top_p = v->get<double>();
  }
  if (const json* v = field(j, "seed")) {
    std::int64_t seed = 0;
    if (auto e = read_int(*v, "seed", INT64_MIN, INT64_MAX, seed)) return fail(std::move(*e));
    r.chat.seed = seed;
  }
  if (const json* v = field(j, "stop")) {
    if (v->is_string()) {
      r.chat.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      for (std::size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string()) return fail(wrong_type(fmt::format("stop[{}]", i), "a string", (*v)[i]));
        r.chat.stop.push_back((*v)[i].get<std::string>());
      }
    } else {
      return fail(wrong_type("stop", "a string or an array of strings", *v));
    }
    if (r.chat.stop.size() > limits.max_stop) {
      return fail(bad_request("stop", fmt::format("at most {} stop sequences", limits.max_stop), "limit_exceeded"));
    }
    for (std::size_t i = 0; i < r.chat.stop.size(); ++i) {
      if (r.chat.stop[i].empty()) return fail(bad_request(v->is_string() ? "stop" : fmt::format("stop[{}]", i), "a stop sequence is empty"));
    }
  }
  if (const json* v = field(j, "n")) {
    std::int64_t n = 0;
    if (auto e = read_int(*v, "n", 1, 1, n)) {
      e->message = "n: this server returns one choice; n must be 1";
      e->code = "unsupported";
      return fail(std::move(*e));
    }
  }
  if (const json* v = field(j, "stream")) {
    if (!v->is_boolean()) return fail(wrong_type("stream", "a boolean", *v));
    r.stream = v->get<bool>();
  }
  if (const json* v = field(j, "stream_options")) {
    if (!v->is_object()) return fail(wrong_type("stream_options", "an object", *v));
    if (const json* u = field(*v, "include_usage")) {
      if (!u->is_boolean()) return fail(wrong_type("stream_options.include_usage", "a boolean", *u));
      r.include_usage = u->get<bool>();
    }
  }
  if (const json* v = field(j, "response_format")) {
    if (auto e = read_response_format(*v, r.chat)) return fail(std::move(*e));
  }
  if (const json* v = field(j, "ragft")) {
    if (auto e = read_rag(*v, limits, r.rag)) return fail(std::move(*e));
  }
  if (Status s = r.chat.validate(); !s.ok()) {
    return fail(bad_request(validate_param(s.error().message), s.error().message));
  }
  if (r.rag) {
    const bool has_user = std::any_of(r.chat.messages.begin(), r.chat.messages.end(),
                                      [](const ChatMessage& m) { return m.role == ChatRole::kUser; });
    if (!has_user) return fail(bad_request("messages", "a RAG request needs a user message (the question)"));
  }
  out.request = std::move(r);
  return out;
}

std::string new_completion_id() {
  static const std::uint64_t salt = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  static std::atomic<std::uint64_t> counter{0};
  const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  // splitmix64 of (salt + n): distinct for distinct n, not guessable from a previous id.
  std::uint64_t z = salt + n * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return fmt::format("chatcmpl-{:016x}{:08x}", z, static_cast<std::uint32_t>(n));
}

json usage_json(const ChatUsage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.total_tokens}};
}

json completion_json(const std::string& id, std::time_t created, const std::string& model,
                     const ChatResponse& response, const json& ragft) {
  json choice = {{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", response.text}}},
                 {"logprobs", nullptr},
                 {"finish_reason", response.finish_reason.empty() ? "stop" : response.finish_reason}};
  json out = {{"id", id},
              {"object", "chat.completion"},
              {"created", static_cast<std::int64_t>(created)},
              {"model", model},
              {"choices", json::array({std::move(choice)})},
              {"usage", response.usage ? usage_json(*response.usage) : json(nullptr)}};
  if (!ragft.is_null()) out["ragft"] = ragft;
  return out;
}

namespace {
std::string event(const json& j) {
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}
}  // namespace

std::string chunk_event(const std::string& id, std::time_t created, const std::string& model, const json& delta,
                        std::string_view finish_reason, const json& extra) {
  json choice = {{"index", 0},
                 {"delta", delta},
                 {"logprobs", nullptr},
                 {"finish_reason", finish_reason.empty() ? json(nullptr) : json(std::string(finish_reason))}};
  json out = {{"id", id},
              {"object", "chat.completion.chunk"},
              {"created", static_cast<std::int64_t>(created)},
              {"model", model},
              {"choices", json::array({std::move(choice)})}};
  if (!extra.is_null()) out["ragft"] = extra;
  return event(out);
}

std::string usage_event(const std::string& id, std::time_t created, const std::string& model, const ChatUsage& usage) {
  return event({{"id", id},
                {"object", "chat.completion.chunk"},
                {"created", static_cast<std::int64_t>(created)},
                {"model", model},
                {"choices", json::array()},
                {"usage", usage_json(usage)}});
}

std::string error_event(const ApiError& e) { return "data: " + api_error_body(e) + "\n\n"; }

json rag_extension_json(const Answer& answer, bool called_model, std::size_t retrieved) {
  std::set<int> cited;
  json sentences = json::array();
  for (const auto& s : answer.sentences) {
    sentences.push_back({{"text", s.text}, {"citations", s.citations}});
    if (!answer.abstained) cited.insert(s.citations.begin(), s.citations.end());
  }
  json sources = json::array(), citations = json::array();
  for (const auto& c : answer.sources) {
    json one = {{"n", c.n},           {"chunk_id", c.chunk_id},     {"doc_id", c.doc_ext_id},
                {"title", c.title},   {"source", c.source},         {"char_start", c.char_start},
                {"char_end", c.char_end}, {"page", c.page},         {"quote", c.quote}};
    if (cited.count(c.n)) citations.push_back(one);
    sources.push_back(std::move(one));
  }
  return {{"citations", std::move(citations)},
          {"sources", std::move(sources)},
          {"sentences", std::move(sentences)},
          {"abstained", answer.abstained},
          {"abstain_reason", answer.abstain_reason},
          {"confidence", answer.confidence},
          {"called_model", called_model},
          {"retrieved", retrieved}};
}

}  // namespace ragft::serve
