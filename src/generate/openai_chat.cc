#include "generate/openai_chat.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "http/openai_http.h"
#include "http/sse_parser.h"

namespace ragft {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSuffix = "/chat/completions";

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

constexpr std::string_view kWhat = "openai chat";

std::string request_body(const std::string& model, const ChatRequest& r, bool stream) {
  json messages = json::array();
  for (const ChatMessage& m : r.messages) {
    messages.push_back({{"role", chat_role_name(m.role)}, {"content", m.content}});
  }
  json j = {{"model", model}, {"messages", std::move(messages)}, {"n", 1}, {"stream", stream}};
  if (stream) j["stream_options"] = {{"include_usage", true}};
  if (r.max_tokens > 0) j["max_tokens"] = r.max_tokens;
  if (r.temperature) j["temperature"] = *r.temperature;
  if (r.top_p) j["top_p"] = *r.top_p;
  if (!r.stop.empty()) j["stop"] = r.stop;
  if (r.seed) j["seed"] = *r.seed;
  if (!r.json_schema.empty()) {
    j["response_format"] = {
        {"type", "json_schema"},
        {"json_schema",
         {{"name", r.json_schema_name}, {"schema", json::parse(r.json_schema)}, {"strict", r.json_schema_strict}}}};
  } else if (r.json) {
    j["response_format"] = {{"type", "json_object"}};
  }
  // Invalid UTF-8 becomes U+FFFD rather than failing the request.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Error corrupt(std::string_view what) { return make_error(ErrorCode::kCorrupt, "bad response: {}", what); }

// What a response says so far, from a chat.completion object or chat.completion.chunk events.
struct Accumulated {
  std::string text;
  std::string finish_reason;
  std::string model;
  std::optional<ChatUsage> usage;
  bool done = false;  // "data: [DONE]" was seen
};

// The fields every response shape shares: model, usage, an in-band error.
Status read_common(const json& j, const std::string& key, bool event, Accumulated& acc) {
  if (!j.is_object()) return corrupt(fmt::format("{} is not a JSON object", event ? "an event" : "the body"));
  if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
    return make_error(ErrorCode::kIo, "the server reported an error{}: {}", event ? " mid-stream" : "",
                      openai_server_message(json{{"error", *e}}.dump(), key));
  }
  if (auto m = j.find("model"); m != j.end() && m->is_string()) acc.model = m->get<std::string>();
  if (auto u = j.find("usage"); u != j.end() && !u->is_null()) {
    if (!u->is_object()) return corrupt("\"usage\" is not an object");
    ChatUsage usage;
    auto count = [&](const char* name, std::int64_t& out) -> Status {
      auto v = u->find(name);
      if (v == u->end() || v->is_null()) return ok_status();
      if (!v->is_number_integer() || v->get<std::int64_t>() < 0) {
        return corrupt(fmt::format("usage.{} is not a count", name));
      }
      out = v->get<std::int64_t>();
      return ok_status();
    };
    RAGFT_TRY_STATUS(count("prompt_tokens", usage.prompt_tokens));
    RAGFT_TRY_STATUS(count("completion_tokens", usage.completion_tokens));
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    RAGFT_TRY_STATUS(count("total_tokens", usage.total_tokens));
    acc.usage = usage;
  }
  return ok_status();
}

Status read_finish_reason(const json& choice, std::string_view where, Accumulated& acc) {
  auto f = choice.find("finish_reason");
  if (f == choice.end() || f->is_null()) return ok_status();
  if (!f->is_string()) return corrupt(fmt::format("{}.finish_reason is not a string", where));
  acc.finish_reason = f->get<std::string>();
  return ok_status();
}

// A whole chat.completion object.
Status read_completion(const json& j, const std::string& key, Accumulated& acc) {
  RAGFT_TRY_STATUS(read_common(j, key, /*event=*/false, acc));
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return corrupt("no \"choices\"");
  const json& c = (*choices)[0];
  if (!c.is_object()) return corrupt("choices[0] is not an object");
  auto message = c.find("message");
  if (message == c.end() || !message->is_object()) return corrupt("choices[0] has no \"message\" object");
  auto content = message->find("content");
  if (content != message->end() && !content->is_null()) {
    if (!content->is_string()) return corrupt("choices[0].message.content is not a string");
    acc.text = content->get<std::string>();
  }
  return read_finish_reason(c, "choices[0]", acc);
}

// One chat.completion.chunk: its text delta for choice 0 goes to `delta`.
Status read_chunk(const json& j, const std::string& key, Accumulated& acc, std::string& delta) {
  delta.clear();
  RAGFT_TRY_STATUS(read_common(j, key, /*event=*/true, acc));
  auto choices = j.find("choices");
  if (choices == j.end() || choices->is_null()) return ok_status();  // e.g. a usage-only chunk
  if (!choices->is_array()) return corrupt("an event's \"choices\" is not an array");
  for (const json& c : *choices) {
    if (!c.is_object()) return corrupt("an event's choice is not an object");
    if (auto i = c.find("index"); i != c.end() && !(i->is_number_integer() && i->get<std::int64_t>() == 0)) continue;
    if (auto d = c.find("delta"); d != c.end() && d->is_object()) {
      if (auto content = d->find("content"); content != d->end() && !content->is_null()) {
        if (!content->is_string()) return corrupt("an event's delta.content is not a string");
        delta += content->get_ref<const std::string&>();
      }
    }
    RAGFT_TRY_STATUS(read_finish_reason(c, "an event's choice", acc));
  }
  return ok_status();
}

bool looks_like_sse(std::string_view body) {
  const std::size_t at = body.find_first_not_of(" \t\r\n");
  if (at == std::string_view::npos) return false;
  body.remove_prefix(at);
  return body.starts_with("data:") || body.starts_with(": ") || body.starts_with("event:");
}

// Reads a response body as it arrives, event stream or JSON, for complete() and stream().
class ChatSink final : public BodySink {
 public:
  // `on_delta` is null for complete(): nothing is delivered, so nothing is committed.
  ChatSink(const ChatDeltaFn* on_delta, std::string key, Clock::time_point start)
      : on_delta_(on_delta), key_(std::move(key)), start_(start) {}

  void begin(std::string_view content_type) override {
    std::string ct(content_type.substr(0, content_type.find(';')));
    std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return std::tolower(c); });
    sse_ = ct == "text/event-stream";
    parser_.reset();
    acc_ = {};
    body_.clear();
    error_.reset();
  }

  bool data(std::string_view bytes) override {
    if (!sse_) {
      body_.append(bytes);
      return true;
    }
    return feed(bytes);
  }

  Status end() override {
    if (!sse_) {
      if (looks_like_sse(body_)) {
        sse_ = true;
        if (!feed(body_)) return take_error();
      } else {
        try {
          RAGFT_TRY_STATUS(read_completion(json::parse(body_), key_, acc_));
        } catch (const json::exception& e) {
          return corrupt(fmt::format("not JSON ({})", e.what()));
        }
        streamed_ = false;
        if (!acc_.text.empty() && !deliver(acc_.text, /*append=*/false)) return take_error();
        return ok_status();
      }
    }
    streamed_ = true;
    if (!parser_.finish([this](const SseEvent& e) { return event(e); })) return take_error();
    if (!acc_.done && acc_.finish_reason.empty()) {
      return make_error(ErrorCode::kIo, "the event stream ended before \"data: [DONE]\" ({} bytes of text received)",
                        acc_.text.size());
    }
    return ok_status();
  }

  Error take_error() override {
    if (!error_) return make_error(ErrorCode::kInternal, "the chat response reader stopped without a reason");
    Error e = std::move(*error_);
    error_.reset();
    return e;
  }

  bool committed() const override { return delivered_; }

  ChatResponse response() {
    ChatResponse r;
    r.text = std::move(acc_.text);
    r.finish_reason = std::move(acc_.finish_reason);
    r.model = std::move(acc_.model);
    r.usage = acc_.usage;
    r.streamed = streamed_;
    r.latency_ms = ms_since(start_);
    r.first_delta_ms = first_delta_ms_ >= 0 ? first_delta_ms_ : r.latency_ms;
    return r;
  }

 private:
  bool feed(std::string_view bytes) {
    if (parser_.feed(bytes, [this](const SseEvent& e) { return event(e); })) return true;
    if (parser_.overflowed()) {
      error_ = make_error(ErrorCode::kResourceExhausted, "an event of the stream is longer than 16 MiB");
    }
    return false;
  }

  // One server-sent event; false (with error_ set) stops the stream.
  bool event(const SseEvent& e) {
    if (acc_.done || e.data.empty()) return true;  // nothing counts after [DONE]; "data:" alone is a ping
    if (e.data == "[DONE]") {
      acc_.done = true;
      return true;
    }
    if (e.type == "error") {
      error_ = make_error(ErrorCode::kIo, "the server reported an error mid-stream: {}",
                          openai_server_message(e.data, key_));
      return false;
    }
    try {
      Status s = read_chunk(json::parse(e.data), key_, acc_, delta_);
      if (!s.ok()) {
        error_ = s.take_error();
        return false;
      }
    } catch (const json::exception& ex) {
      error_ = corrupt(fmt::format("an event is not JSON ({}): {}", ex.what(),
                                   OpenAiHttp::redact(e.data.substr(0, 200), key_)));
      return false;
    }
    return delta_.empty() || deliver(delta_, /*append=*/true);
  }

  bool deliver(const std::string& text, bool append) {
    if (append) acc_.text += text;
    if (!on_delta_) return true;
    if (first_delta_ms_ < 0) first_delta_ms_ = ms_since(start_);
    delivered_ = true;
    if (!(*on_delta_)(text)) {
      error_ = make_error(ErrorCode::kCancelled, "cancelled by the caller after {} bytes of text", acc_.text.size());
      return false;
    }
    return true;
  }

  const ChatDeltaFn* on_delta_;
  const std::string key_;
  const Clock::time_point start_;
  SseParser parser_;
  Accumulated acc_;
  std::string body_;   // a response that is not an event stream, whole
  std::string delta_;  // scratch
  std::optional<Error> error_;
  bool sse_ = false;
  bool streamed_ = false;
  bool delivered_ = false;
  double first_delta_ms_ = -1;
};

class OpenAiChat final : public ChatModel {
 public:
  OpenAiChat(OpenAiChatOptions o, std::unique_ptr<OpenAiHttp> http) : o_(std::move(o)), http_(std::move(http)) {}

  std::string config() const override { return o_.to_config(); }

  Result<ChatResponse> complete(const ChatRequest& request) const override { return run(request, nullptr); }

  Result<ChatResponse> stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const override {
    return run(request, &on_delta);
  }

 private:
  Result<ChatResponse> run(const ChatRequest& request, const ChatDeltaFn* on_delta) const {
    const Clock::time_point start = Clock::now();
    if (Status s = request.validate(); !s.ok()) {
      Error e = s.take_error();
      return make_error(e.code, "openai chat {}: {}", http_->endpoint(kSuffix), e.message);
    }
    const bool stream = on_delta != nullptr;
    const std::string body = request_body(o_.model, request, stream);
    ChatSink sink(on_delta, http_->api_key(), start);
    PostStats stats;
    RAGFT_TRY_STATUS(
        http_->post(kSuffix, body, sink, stream ? "text/event-stream" : "application/json", &stats));
    ChatResponse r = sink.response();
    r.attempts = stats.attempts;
    return r;
  }

  const OpenAiChatOptions o_;
  const std::unique_ptr<OpenAiHttp> http_;
};

}  // namespace

std::string OpenAiChatOptions::to_config() const { return "openai:" + endpoint_config(); }

Status OpenAiChatOptions::validate() const { return validate_openai_endpoint(kWhat, to_config(), *this); }

Result<OpenAiChatOptions> OpenAiChatOptions::parse(std::string_view config) {
  OpenAiChatOptions o;
  RAGFT_TRY_STATUS(parse_openai_config(kWhat, config, o, [](const std::string&, const std::string&) -> Result<bool> { return false; },
                                       "url, model, timeout_ms, retries, backoff_ms, key_env"));
  return o;
}

Result<std::unique_ptr<ChatModel>> make_openai_chat(const OpenAiChatOptions& options) {
  OpenAiChatOptions o = options;
  o.url = strip_trailing_slashes(o.url);
  RAGFT_TRY_STATUS(o.validate());
  RAGFT_TRY(std::unique_ptr<OpenAiHttp> http, OpenAiHttp::make(o.http_options(std::string(kWhat))));
  return std::unique_ptr<ChatModel>(std::make_unique<OpenAiChat>(std::move(o), std::move(http)));
}

Result<std::unique_ptr<ChatModel>> make_openai_chat(std::string_view config) {
  RAGFT_TRY(const OpenAiChatOptions o, OpenAiChatOptions::parse(config));
  return make_openai_chat(o);
}

}  // namespace ragft
