// An Embedder over an OpenAI-compatible embeddings endpoint (OpenAI, llama.cpp server, vLLM,
// Ollama): POST {url}/embeddings with {"model": M, "input": [texts], "encoding_format": "float"}
// over http:// or https:// (system CA store, certificates verified).
//
//   openai:url=http://127.0.0.1:8080/v1,model=NAME,batch=64,timeout_ms=30000,retries=3,
//          backoff_ms=200,key_env=OPENAI_API_KEY,dim=0
//
// - At most `batch` texts per request; each returned vector is placed by its "index" field (the
//   server may answer out of order). Vectors are L2-normalised (embedder.h).
// - An empty string is not sent (OpenAI rejects it): it gets the zero vector. If every text of a
//   call is empty while dim() is still unknown -> kInvalidArgument (nothing says the row size).
// - API key: "Authorization: Bearer $<key_env>" when that environment variable is set and
//   non-empty; it is read on each embed() call. The key never appears in config(), model_id(),
//   logs or error messages (server messages that echo it are redacted).
// - Retries: connection failures, timeouts, HTTP 429 and 5xx are retried up to `retries` times
//   after the first attempt, waiting backoff_ms, 2*backoff_ms, 4*... (at most 30 s), or the
//   server's Retry-After in seconds (at most 60 s) when present. When they run out -> kIo naming
//   the endpoint, the number of attempts and the last failure.
// - Other HTTP failures fail at once, with the server's message ({"error":{"message":...}} and
//   the common variants): 404 -> kNotFound, other 4xx/3xx -> kInvalidArgument; TLS certificate
//   failures -> kIo without retry.
// - A malformed response (not JSON, wrong number of items, missing/duplicate/out-of-range
//   "index", an embedding that is not an array of finite numbers, rows of different lengths)
//   -> kCorrupt naming the endpoint and what was wrong. A row length different from dim (given,
//   or learnt from an earlier response) -> kInvalidArgument. Neither is retried.
// - Dimension: with dim=0, make_openai_embedder() makes no network call and dim() is 0 until
//   the first valid response, which fixes it for the embedder's lifetime. model_id() includes
//   the dim, so it changes once, from "#dim=0" to the learnt value: give dim= (or embed once)
//   before keying a cache by model_id().
// - embed() is thread-safe: concurrent calls send their requests on separate keep-alive
//   connections from a pool; backoff waits hold none. The role is ignored (the API has no
//   query/document notion).
// The HTTP side (key, retries, error mapping, connections) is http/openai_http.h, shared with
// the chat client (generate/openai_chat.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "embed/embedder.h"
#include "http/openai_http.h"

namespace ragft {

// The endpoint (http/openai_http.h OpenAiEndpoint: url, model, timeout_ms 30000, retries 3,
// backoff_ms 200, key_env) and the embedder's own keys.
struct OpenAiEmbedderOptions : OpenAiEndpoint {
  int batch = 64;           // texts per request, 1..2048
  int dim = 0;              // expected vector size, 0..65536; 0: learnt from the first response

  // "openai:url=U,model=M,batch=64,timeout_ms=30000,retries=3,backoff_ms=200,key_env=E,dim=0"
  // (every key, in this order); round-trips through parse(). Never holds the key itself.
  std::string to_config() const;
  // Accepts the keys above in any order, each at most once; url and model are required.
  // A kind other than "openai", unknown or repeated keys, missing url/model, non-integer or
  // out-of-range values and a bad url -> kInvalidArgument naming the key.
  static Result<OpenAiEmbedderOptions> parse(std::string_view config);
  // The checks parse() makes, for options built in code.
  Status validate() const;
};

// Builds the embedder without any network call. Bad options -> kInvalidArgument.
Result<std::unique_ptr<Embedder>> make_openai_embedder(std::string_view config);
Result<std::unique_ptr<Embedder>> make_openai_embedder(const OpenAiEmbedderOptions& options);

}  // namespace ragft
