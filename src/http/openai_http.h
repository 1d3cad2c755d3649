// The HTTP side shared by the clients of OpenAI-compatible APIs (embed/openai_embedder.h,
// generate/openai_chat.h; servers: OpenAI, llama.cpp server, vLLM, Ollama): checks of the base
// URL and key variable, the API key, a pool of keep-alive connections, the retry loop, and the
// mapping of HTTP failures to Errors. cpp-httplib stays inside openai_http.cc.
//
// post(suffix, body) sends POST {url}{suffix} with a JSON body over http:// or https:// (system
// CA store, certificates verified; redirects are not followed).
// - API key: "Authorization: Bearer $<key_env>" when that environment variable is set and
//   non-empty; it is read on each post(). The key never appears in an error or log message
//   (server messages that echo it are redacted).
// - Retries: connection failures, timeouts, HTTP 429 and 5xx are retried up to `retries` times
//   after the first attempt, waiting backoff_ms, 2*backoff_ms, 4*... (at most 30 s), or the
//   server's Retry-After in seconds (at most 60 s) when present. When they run out -> kIo
//   "<label> <endpoint>: N attempt(s) failed; last failure: ..." (a timeout reads "timed out:
//   nothing received for T ms").
// - Other HTTP failures fail at once with the server's message ({"error":{"message":...}},
//   Ollama's {"error":"..."}, {"detail":...}, {"message":...}, else the start of the body):
//   404 -> kNotFound, other 4xx and 3xx -> kInvalidArgument (401/403 say whether a key was
//   sent); TLS certificate failures -> kIo without retry.
// - Timeouts: timeout_ms bounds connecting and each wait for the next bytes (not the whole
//   response), so a stream may run longer as long as it keeps sending.
//
// Thread-safe: concurrent post() calls each take an idle keep-alive connection from a pool (or
// open a new one) and put it back afterwards; at most max_idle idle connections are kept.
// Backoff waits hold no connection.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ragft {

// Checks of config values shared by the OpenAI-compatible clients: each returns what is wrong as
// a phrase to follow the value (e.g. "must start with http:// or https://"), or "" when fine.
// url: http:// or https://, a host, an optional port and path; no user info, query, fragment,
// comma or whitespace.
std::string openai_url_problem(std::string_view url);
// model: non-empty; no ',', '#', whitespace or control characters (it goes into config strings
// and model ids).
std::string openai_model_problem(std::string_view model);
// key_env: an environment variable name ([A-Za-z_][A-Za-z0-9_]*), or empty (never send a key).
std::string openai_key_env_problem(std::string_view key_env);
// `url` without trailing '/' (the scheme's "//" stays).
std::string strip_trailing_slashes(std::string url);

// Limits shared by the clients' options.
inline constexpr int kOpenAiMaxTimeoutMs = 600000;
inline constexpr int kOpenAiMaxRetries = 20;
inline constexpr int kOpenAiMaxBackoffMs = 60000;

struct OpenAiHttpOptions {
  std::string label = "openai";   // names the client in errors and logs, e.g. "openai embedder"
  std::string url;                // base URL up to the API version, e.g. "http://127.0.0.1:8080/v1"
  int timeout_ms = 30000;         // connect, read and write timeouts (each), 1..600000
  int retries = 3;                // retries after the first attempt, 0..20
  int backoff_ms = 200;           // first retry wait (then doubled, at most 30 s), 0..60000
  std::string key_env;            // variable holding the API key; empty: never send one
  std::size_t max_idle = 16;      // idle keep-alive connections kept for reuse
};

// The endpoint settings every OpenAI-compatible client's config string carries; the clients'
// option structs (OpenAiChatOptions, OpenAiEmbedderOptions) derive from it and set their own
// defaults for the timeouts.
struct OpenAiEndpoint {
  // Base URL up to and including the API version, e.g. "http://127.0.0.1:8080/v1" or
  // "https://api.openai.com/v1" (openai_url_problem's rules). Trailing '/' are dropped.
  std::string url;
  std::string model;        // sent as "model"; required (openai_model_problem's rules)
  int timeout_ms = 30000;   // connect, read and write timeouts (each), 1..600000
  int retries = 3;          // retries after the first attempt, 0..20
  int backoff_ms = 200;     // first retry wait (then doubled, at most 30 s), 0..60000
  // Environment variable holding the API key ([A-Za-z_][A-Za-z0-9_]*, or empty: never send one).
  std::string key_env = "OPENAI_API_KEY";

  // "url=U,model=M,timeout_ms=T,retries=R,backoff_ms=B,key_env=E" as a client writes them.
  std::string endpoint_config() const;
  // The HTTP options for a client named `label`.
  OpenAiHttpOptions http_options(std::string label) const;
};

// kInvalidArgument "<what> config \"<config>\": <key> <why>" (what: "openai chat", ...).
Error openai_config_error(std::string_view what, std::string_view config, std::string_view key, std::string_view why);
// An integer option value in [lo, hi], else openai_config_error naming the key and the range.
Result<int> openai_config_int(std::string_view what, std::string_view config, std::string_view key,
                              std::string_view value, int lo, int hi);

// Parses "openai:key=value,..." (or just "openai") for the client `what`: the prefix, repeated
// keys, the six endpoint keys into `e`; any other key goes to `own`, which returns false for a
// key it does not know (-> an error listing `known_keys`). Then url and model are required and
// the endpoint is validated. Every error is kInvalidArgument naming the key.
Status parse_openai_config(std::string_view what, std::string_view config, OpenAiEndpoint& e,
                           const std::function<Result<bool>(const std::string& key, const std::string& value)>& own,
                           std::string_view known_keys);
// The endpoint's checks for options built in code (`config`: their to_config(), for messages).
Status validate_openai_endpoint(std::string_view what, std::string_view config, const OpenAiEndpoint& e);


// Receives the body of a 2xx response while it arrives (post() with a sink). The messages of
// its errors do not name the endpoint: post() prefixes "<label> <endpoint>: ".
class BodySink {
 public:
  virtual ~BodySink() = default;
  // A 2xx response began, with this Content-Type ("" when absent). Called again when a retried
  // attempt gets a 2xx: it must drop whatever the earlier attempt left.
  virtual void begin(std::string_view content_type) = 0;
  // The next bytes of the body, split anywhere. false stops the transfer (the connection is
  // closed); take_error() then says why.
  virtual bool data(std::string_view bytes) = 0;
  // The body ended; ok_status() makes post() succeed.
  //
  // A sink error (take_error() after data() returned false, or end()'s) of code kIo (an
  // incomplete body, a failure the server reported in it) is retried like a broken connection
  // while committed() is false; any other error is post()'s result at once.
  virtual Status end() = 0;
  // Why data() returned false.
  virtual Error take_error() = 0;
  // True once part of the body was handed on irrevocably (e.g. text shown to a user): a failure
  // after that is not retried.
  virtual bool committed() const = 0;
};

// What a post() did, for callers that report it.
struct PostStats {
  int attempts = 0;  // requests sent (1 + retries made)
};

class OpenAiHttp {
 public:
  // Checks the options (label aside: url, timeout_ms, retries, backoff_ms, key_env; trailing
  // '/' of the url are dropped) -> kInvalidArgument naming the field; a url this build cannot
  // open (https without TLS) -> kUnsupported. Makes no network call.
  static Result<std::unique_ptr<OpenAiHttp>> make(OpenAiHttpOptions options);
  ~OpenAiHttp();
  OpenAiHttp(const OpenAiHttp&) = delete;
  OpenAiHttp& operator=(const OpenAiHttp&) = delete;

  // POSTs `body` (JSON) to {url}{suffix}; the body of the 2xx response.
  Result<std::string> post(std::string_view suffix, const std::string& body, PostStats* stats = nullptr) const;
  // The same, delivering the 2xx body to `sink` as it arrives; `accept` is sent as the Accept
  // header when non-empty (e.g. "text/event-stream").
  Status post(std::string_view suffix, const std::string& body, BodySink& sink, std::string_view accept = {},
              PostStats* stats = nullptr) const;

  // "{url}{suffix}", as errors name it.
  std::string endpoint(std::string_view suffix) const;
  // The API key now in $key_env ("" when unset or key_env is empty), and `s` with every
  // occurrence of that key replaced by "[redacted]".
  std::string api_key() const;
  static std::string redact(std::string s, const std::string& key);

 private:
  struct Impl;
  explicit OpenAiHttp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The server's explanation in an error body ({"error":{"message":...}} and the variants above),
// on one line, at most 500 bytes, with `key` redacted; "(empty body)" when there is none.
std::string openai_server_message(const std::string& body, const std::string& key);

}  // namespace ragft
