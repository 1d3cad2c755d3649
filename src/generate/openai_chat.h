// A ChatModel over an OpenAI-compatible chat-completions endpoint (OpenAI, llama.cpp server,
// vLLM, Ollama; docs/generation.md): POST {url}/chat/completions.
//
//   openai:url=http://127.0.0.1:8080/v1,model=NAME,timeout_ms=120000,retries=3,backoff_ms=500,
//          key_env=OPENAI_API_KEY
//
// Request body: {"model", "messages":[{"role","content"}], "n":1, "stream", and those of
// max_tokens, temperature, top_p, stop, seed, response_format the ChatRequest sets}; stream()
// adds "stream":true and "stream_options":{"include_usage":true}.
//
// Responses:
// - complete() reads a chat.completion object: choices[0].message.content (null -> ""),
//   choices[0].finish_reason, model, usage. A body in server-sent events is read as stream()
//   reads it (some servers stream regardless).
// - stream() reads text/event-stream "data: {chat.completion.chunk}" events: each
//   choices[0].delta.content is passed to on_delta as it arrives; finish_reason, model and usage
//   (the last chunk of include_usage, with empty choices) are kept. "data: [DONE]" ends the
//   stream; one that ends without it and without a finish_reason is incomplete (kIo). Comments
//   (": keep-alive"), CRLF or CR line ends, and events split anywhere are fine
//   (http/sse_parser.h). A server that ignores "stream" and answers with one JSON object has
//   its text delivered as one delta (ChatResponse::streamed is then false).
// - {"error":...} inside a 200 response or an event stream (or an "event: error") -> kIo with
//   the server's message, retried like a 5xx while no text was delivered. Not JSON, no
//   choices, a choice or field of the wrong type -> kCorrupt naming the endpoint and what was
//   wrong, not retried.
//
// Failures, retries, timeouts and the API key are those of http/openai_http.h, with these
// additions for stream(): a failure before any text reached on_delta is retried like any other;
// once text was delivered, a broken or incomplete stream is kIo and not retried. on_delta
// returning false closes the connection and stream() returns kCancelled. Error messages name
// the endpoint, never the key. timeout_ms bounds each wait for the next bytes: a non-streamed
// answer must arrive within it (stream, or raise it, for long answers from a slow server).
//
// Thread-safe: concurrent calls use separate keep-alive connections from a pool.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "generate/chat.h"
#include "http/openai_http.h"

namespace ragft {

// The endpoint (http/openai_http.h OpenAiEndpoint: url, model, timeout_ms, retries, backoff_ms,
// key_env) with the chat client's defaults: a 120 s timeout (a long answer may take a while
// before its first byte) and a 500 ms first backoff. url examples: "http://127.0.0.1:8080/v1"
// (llama.cpp, vLLM), "http://127.0.0.1:11434/v1" (Ollama), "https://api.openai.com/v1".
struct OpenAiChatOptions : OpenAiEndpoint {
  OpenAiChatOptions() {
    timeout_ms = 120000;
    backoff_ms = 500;
  }

  // "openai:url=U,model=M,timeout_ms=120000,retries=3,backoff_ms=500,key_env=E" (every key, in
  // this order); round-trips through parse(). Never holds the key itself.
  std::string to_config() const;
  // Accepts the keys above in any order, each at most once; url and model are required. A kind
  // other than "openai", unknown or repeated keys, missing url/model, non-integer or
  // out-of-range values and a bad url -> kInvalidArgument naming the key.
  static Result<OpenAiChatOptions> parse(std::string_view config);
  // The checks parse() makes, for options built in code.
  Status validate() const;
};

// Builds the client without any network call. Bad options -> kInvalidArgument.
Result<std::unique_ptr<ChatModel>> make_openai_chat(std::string_view config);
Result<std::unique_ptr<ChatModel>> make_openai_chat(const OpenAiChatOptions& options);

}  // namespace ragft
