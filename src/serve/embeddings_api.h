// The OpenAI embeddings wire format, as the server reads and writes it (httplib-free).
//
// Request (POST /v1/embeddings): input (a string or an array of strings; at most
// ServeLimits::max_embedding_inputs strings and max_input_bytes bytes together; token-id arrays
// -> 400 unsupported), model (string, echoed), encoding_format ("float", the default, or "base64":
// the little-endian float32 bytes, base64-encoded, as OpenAI sends them), dimensions (accepted
// only when equal to the embedder's), user (ignored), and the extension "ragft": {"role":
// "query" | "document"} (default "document"; models with instruction prefixes embed the roles
// differently, embed/embedder.h). Other fields are ignored.
//
// Response: {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...]}],
// "model", "usage": {"prompt_tokens", "total_tokens"}}. The vectors are the embedder's own,
// L2-normalised (an empty string gets the zero vector). usage counts whitespace-separated words,
// an approximation: the embedders do not report tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embed/embedder.h"
#include "serve/api_error.h"
#include "serve/limits.h"

namespace ragft::serve {

struct EmbeddingsApiRequest {
  std::vector<std::string> input;
  std::string model;          // as sent ("" when absent)
  bool base64 = false;
  std::optional<long long> dimensions;
  EmbedRole role = EmbedRole::kDocument;
};

struct ParsedEmbeddings {
  std::optional<EmbeddingsApiRequest> request;
  ApiError error;  // the 400 naming the field, when request is empty
};
ParsedEmbeddings parse_embeddings_request(std::string_view body, const ServeLimits& limits);

// The response body for `vectors` (request.input.size() rows of `dim` floats).
std::string embeddings_response(const EmbeddingsApiRequest& request, const std::string& model,
                                const std::vector<float>& vectors, int dim);

// Standard base64 (RFC 4648, with padding) of `bytes`.
std::string base64_encode(std::string_view bytes);

}  // namespace ragft::serve
