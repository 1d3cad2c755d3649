// Chat completion with a language model: the request and response types and the ChatModel
// interface that LM backends implement (today openai_chat.h: OpenAI, llama.cpp server, vLLM,
// Ollama). The answerer builds a ChatRequest from a question and retrieved sources and turns the
// ChatResponse into an Answer (answer.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

enum class ChatRole { kSystem, kUser, kAssistant };

// "system", "user", "assistant".
const char* chat_role_name(ChatRole role);

struct ChatMessage {
  ChatRole role = ChatRole::kUser;
  std::string content;  // UTF-8; invalid bytes are sent as U+FFFD
};

// One completion request. Unset optional fields are not sent, so the server's defaults apply.
struct ChatRequest {
  std::vector<ChatMessage> messages;  // at least one
  int max_tokens = 0;                 // > 0: at most this many generated tokens; 0: not sent
  std::optional<double> temperature;  // [0, 2]
  std::optional<double> top_p;        // (0, 1]
  std::vector<std::string> stop;      // stop sequences, each non-empty (OpenAI allows 4)
  std::optional<std::int64_t> seed;   // best-effort determinism where the server supports it
  // JSON mode: response_format {"type":"json_object"}. OpenAI requires the word "JSON" in a
  // message with it.
  bool json = false;
  // Structured output: when non-empty, the text of a JSON schema object, sent as
  // response_format {"type":"json_schema","json_schema":{"name":json_schema_name,
  // "schema":<schema>,"strict":json_schema_strict}} (implies JSON; `json` is then not needed).
  // OpenAI's strict mode wants "additionalProperties":false and every property required.
  std::string json_schema;
  std::string json_schema_name = "response";  // [A-Za-z0-9_-]{1,64}
  bool json_schema_strict = true;

  // Empty messages, out-of-range values, an empty stop string, a schema that is not a JSON
  // object or a bad schema name -> kInvalidArgument naming the field.
  Status validate() const;
};

struct ChatUsage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
};

struct ChatResponse {
  std::string text;                // the generated message (content of choice 0)
  std::string finish_reason;       // "stop", "length", "content_filter", ...; "" when not given
  std::optional<ChatUsage> usage;  // when the server reported it
  std::string model;               // as the server names it ("" when not given)
  double latency_ms = 0;           // the whole call: first request to last byte, retries included
  double first_delta_ms = 0;       // stream(): call start to the first delivered text; else latency_ms
  int attempts = 0;                // requests sent (1 + retries)
  bool streamed = false;           // the server answered with server-sent events
};

// Receives the text of a streamed response piece by piece, as it arrives (never an empty piece).
// Returning false cancels the request: the connection is closed and stream() returns kCancelled.
using ChatDeltaFn = std::function<bool(std::string_view delta)>;

// A language model behind a chat-completion API. Implementations are thread-safe: complete()
// and stream() may run concurrently.
class ChatModel {
 public:
  virtual ~ChatModel() = default;
  // The config string that made it (round-trips; never holds a secret).
  virtual std::string config() const = 0;
  // The whole response at once.
  virtual Result<ChatResponse> complete(const ChatRequest& request) const = 0;
  // Streams the text to `on_delta` as it is generated, then returns the whole response (its
  // text is the concatenation of the deltas). A failure after some text was delivered is
  // returned as an error and not retried, so a caller never sees text twice.
  virtual Result<ChatResponse> stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const = 0;
};

}  // namespace ragft
