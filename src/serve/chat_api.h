// The OpenAI chat-completions wire format, as the server reads and writes it (httplib-free, so
// it is tested without sockets).
//
// Request (POST /v1/chat/completions), the fields read; any other field is ignored, as OpenAI's
// servers do:
//   model                  string, echoed in the response (the server has one chat model)
//   messages               [{role: system|developer|user|assistant, content: string | null |
//                          [{type:"text", text}]}], at least one; "developer" counts as system;
//                          tool/function roles and non-text parts -> 400 unsupported
//   max_completion_tokens, max_tokens   integer >= 1, at most ServeLimits::max_tokens (the
//                          former wins when both are given); neither -> the limit is sent
//   temperature [0, 2], top_p (0, 1], seed integer, stop string | [string] (each non-empty, at
//   most max_stop), n (only 1), stream bool, stream_options {include_usage bool},
//   response_format {type: text | json_object | json_schema, json_schema: {name, schema,
//                          strict}}: passed to the model (a model without JSON mode -> 400)
//   ragft                  the RAG extension (below)
//
// The ragft extension: "ragft": {"rag": true, "k": 5, "filter": {"lang": "en"}, "mode": "bm25"}
//   rag     bool (default false): answer the last user message from the workspace: retrieve as
//           the request's identity, then write the answer with the model (generate/llm_answer.h)
//   k       integer 1..max_k: chunks retrieved and given to the model (default: the server's
//           --llm-config chunks)
//   filter  object of string values: metadata equality filters, all must hold (they only narrow)
//   mode    "bm25" | "dense" | "hybrid" (dense and hybrid need the workspace's dense index)
//   Unknown keys -> 400 naming them; "tenant" and "principal" -> 400 (the identity comes from the
//   server, identity.h). k, filter and mode without rag=true -> 400.
//
// Errors name the field in OpenAI's JSON path form: "messages[2].content", "ragft.k".
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "generate/answer.h"
#include "generate/chat.h"
#include "retrieve/searcher.h"
#include "serve/api_error.h"
#include "serve/limits.h"

namespace ragft::serve {

struct RagRequest {
  std::optional<std::size_t> k;  // unset: the server's default
  std::vector<std::pair<std::string, std::string>> filter;
  SearchMode mode = SearchMode::kBm25;
};

struct ChatApiRequest {
  std::string model;            // as sent ("" when absent)
  ChatRequest chat;             // validated (ChatRequest::validate) and within the limits
  bool max_tokens_given = false;  // the request set max_tokens / max_completion_tokens
  bool stream = false;
  bool include_usage = false;   // stream_options.include_usage
  std::optional<RagRequest> rag;
};

// Either the parsed request or the 400 naming the field at fault.
struct ParsedChat {
  std::optional<ChatApiRequest> request;
  ApiError error;
};
ParsedChat parse_chat_request(std::string_view body, const ServeLimits& limits);

// A new response id, "chatcmpl-<24 hex digits>" (unique within the process, unpredictable).
std::string new_completion_id();

// The chat.completion object of a whole response. usage is null when the model reported none;
// finish_reason "" becomes "stop". `ragft` (when not null) is added as a top-level "ragft" field.
nlohmann::json completion_json(const std::string& id, std::time_t created, const std::string& model,
                               const ChatResponse& response, const nlohmann::json& ragft = nullptr);

// One "data: {chat.completion.chunk}\n\n" event. delta: {"role":"assistant","content":""} for the
// first chunk, {"content": text} after; `finish_reason` non-empty on the last choice chunk.
std::string chunk_event(const std::string& id, std::time_t created, const std::string& model,
                        const nlohmann::json& delta, std::string_view finish_reason = {},
                        const nlohmann::json& extra = nullptr);
// The usage-only chunk of stream_options.include_usage (choices: []).
std::string usage_event(const std::string& id, std::time_t created, const std::string& model, const ChatUsage& usage);
// "data: {"error": {...}}\n\n": a failure after the stream began (the client reads it as one).
std::string error_event(const ApiError& e);
inline constexpr std::string_view kDoneEvent = "data: [DONE]\n\n";

// The "ragft" field of a RAG response: {"citations": [{n, chunk_id, doc_id, title, source,
// char_start, char_end, page, quote}], "sentences": [{text, citations}], "abstained",
// "abstain_reason", "confidence", "called_model", "retrieved"}. citations: the sources given to
// the model that a kept sentence cites (a valid, supported [n]); "sources" lists every source.
nlohmann::json rag_extension_json(const Answer& answer, bool called_model, std::size_t retrieved);

nlohmann::json usage_json(const ChatUsage& usage);

}  // namespace ragft::serve
