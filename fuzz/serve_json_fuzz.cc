// libFuzzer target: the input is a request body, given to every JSON request parser of the
// server (chat completions, search, ask, embeddings, classify, extract, document upsert and
// delete) under small limits, so that each limit is reachable by small inputs. Checked, beyond
// "does not crash":
//   - a rejection is a 400 invalid_request_error with a non-empty UTF-8 message and a code, whose
//     error body (api_error_body) is JSON carrying the same message, param and code;
//   - a parsed request is within every limit and range its header promises (messages, bytes,
//     max_tokens, stop, temperature, top_p, k, inputs, documents, ids), its strings are valid
//     UTF-8, and a chat request is what a second parse of the same body gives;
//   - an upsert's documents (loaded and chunked through the ingest parsers) have unique ids
//     within the length limit, a title, the request's tenant, metadata of string values, and
//     chunks in order whose text is exactly their code-point span of the document text.
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "serve/api_error.h"
#include "serve/chat_api.h"
#include "serve/documents_api.h"
#include "serve/embeddings_api.h"
#include "serve/search_api.h"
#include "serve/task_api.h"

namespace {

using namespace ragft;
using namespace ragft::serve;

ServeLimits small_limits() {
  ServeLimits l;
  l.max_tokens = 100;
  l.max_messages = 4;
  l.max_input_bytes = 64;
  l.max_stop = 2;
  l.max_k = 5;
  l.max_embedding_inputs = 3;
  l.max_documents = 3;
  l.max_task_inputs = 3;
  return l;
}

void check_error(const ApiError& e, const char* route) {
  const std::string where = std::string(route) + ": " + e.message;
  FUZZ_CHECK(e.status == 400 && e.type == "invalid_request_error", where);
  FUZZ_CHECK(!e.message.empty() && is_valid_utf8(e.message), where);
  FUZZ_CHECK(!e.code.empty() && is_valid_utf8(e.param), where);
  const auto body = nlohmann::json::parse(api_error_body(e), nullptr, false);
  FUZZ_CHECK(body.is_object() && body.contains("error"), where);
  const auto& err = body["error"];
  FUZZ_CHECK(err.value("message", "") == e.message && err.value("code", "") == e.code, where);
  FUZZ_CHECK(e.param.empty() ? err["param"].is_null() : err["param"] == e.param, where);
}

void check_filter(const std::vector<std::pair<std::string, std::string>>& filter) {
  for (const auto& [k, v] : filter) FUZZ_CHECK(is_valid_utf8(k) && is_valid_utf8(v), "filter");
}

void check_chat(std::string_view body, const ServeLimits& l) {
  const ParsedChat p = parse_chat_request(body, l);
  if (!p.request) return check_error(p.error, "chat");
  const ChatApiRequest& r = *p.request;
  const ChatRequest& c = r.chat;
  FUZZ_CHECK(c.validate().ok(), "a parsed chat request fails validate()");
  FUZZ_CHECK(!c.messages.empty() && c.messages.size() <= l.max_messages, "messages");
  std::size_t bytes = 0;
  for (const ChatMessage& m : c.messages) {
    FUZZ_CHECK(is_valid_utf8(m.content), "message content");
    bytes += m.content.size();
  }
  FUZZ_CHECK(bytes <= l.max_input_bytes, "message bytes over the limit");
  FUZZ_CHECK(c.max_tokens >= 1 && c.max_tokens <= l.max_tokens, "max_tokens");
  FUZZ_CHECK(r.max_tokens_given || c.max_tokens == l.max_tokens, "max_tokens default");
  FUZZ_CHECK(c.stop.size() <= l.max_stop, "stop count");
  for (const auto& s : c.stop) FUZZ_CHECK(!s.empty() && is_valid_utf8(s), "stop");
  FUZZ_CHECK(!c.temperature || (*c.temperature >= 0 && *c.temperature <= 2), "temperature");
  FUZZ_CHECK(!c.top_p || (*c.top_p > 0 && *c.top_p <= 1), "top_p");
  FUZZ_CHECK(is_valid_utf8(r.model), "model");
  if (r.rag) {
    FUZZ_CHECK(!r.rag->k || (*r.rag->k >= 1 && *r.rag->k <= l.max_k), "ragft.k");
    check_filter(r.rag->filter);
    bool user = false;
    for (const ChatMessage& m : c.messages) user = user || m.role == ChatRole::kUser;
    FUZZ_CHECK(user, "a RAG request without a user message");
  }
  const ParsedChat again = parse_chat_request(body, l);
  FUZZ_CHECK(again.request && again.request->chat.messages.size() == c.messages.size() &&
                 again.request->chat.max_tokens == c.max_tokens && again.request->model == r.model,
             "a second parse differs");
}

void check_retrieval(std::string_view body, const ServeLimits& l, bool ask) {
  const char* route = ask ? "ask" : "search";
  const ParsedRetrieval p = ask ? parse_ask_request(body, l) : parse_search_request(body, l);
  if (!p.request) return check_error(p.error, route);
  const RetrievalApiRequest& r = *p.request;
  FUZZ_CHECK(r.query.find_first_not_of(" \t\r\n") != std::string::npos, "empty query accepted");
  FUZZ_CHECK(r.query.size() <= l.max_input_bytes && is_valid_utf8(r.query), "query");
  FUZZ_CHECK(!r.k || (*r.k >= 1 && *r.k <= l.max_k), "k");
  FUZZ_CHECK(ask || !r.llm, "llm on a search");
  check_filter(r.filter);
}

void check_embeddings(std::string_view body, const ServeLimits& l) {
  const ParsedEmbeddings p = parse_embeddings_request(body, l);
  if (!p.request) return check_error(p.error, "embeddings");
  const EmbeddingsApiRequest& r = *p.request;
  FUZZ_CHECK(!r.input.empty() && r.input.size() <= l.max_embedding_inputs, "input count");
  std::size_t bytes = 0;
  for (const auto& s : r.input) {
    FUZZ_CHECK(is_valid_utf8(s), "input");
    bytes += s.size();
  }
  FUZZ_CHECK(bytes <= l.max_input_bytes, "input bytes over the limit");
  FUZZ_CHECK(is_valid_utf8(r.model), "model");
  // The response for zero vectors of a small dimension must be JSON.
  const int dim = 3;
  const std::vector<float> vectors(r.input.size() * dim, 0.0f);
  const auto response = nlohmann::json::parse(embeddings_response(r, r.model, vectors, dim), nullptr, false);
  FUZZ_CHECK(response.is_object() && response["data"].size() == r.input.size(), "embeddings response");
}

void check_task(std::string_view body, const ServeLimits& l, bool classify) {
  const char* route = classify ? "classify" : "extract";
  const ParsedTask p = classify ? parse_classify_request(body, l) : parse_extract_request(body, l);
  if (!p.request) return check_error(p.error, route);
  const TaskApiRequest& r = *p.request;
  FUZZ_CHECK(!r.input.empty() && r.input.size() <= l.max_task_inputs, "input count");
  std::size_t bytes = 0;
  for (const auto& s : r.input) {
    FUZZ_CHECK(is_valid_utf8(s), "input");
    bytes += s.size();
  }
  FUZZ_CHECK(bytes <= l.max_input_bytes, "input bytes over the limit");
  FUZZ_CHECK(!r.model || (!r.model->empty() && is_valid_utf8(*r.model)), "model");
  FUZZ_CHECK(classify ? (!r.top_k || *r.top_k >= 1) : !r.top_k, "top_k");
}

constexpr std::size_t kMaxIdBytes = 1024;  // documents_api.h

void check_writes(std::string_view body, const ServeLimits& l) {
  const std::string tenant = "acme";
  ChunkerOptions chunker;
  chunker.target_tokens = 8;
  chunker.overlap_tokens = 2;
  chunker.max_tokens = 12;
  const ParsedWrites up = parse_upsert_request(body, tenant, l, chunker);
  if (up.error) {
    check_error(*up.error, "documents");
  } else {
    FUZZ_CHECK(!up.writes.empty() && up.writes.size() <= l.max_documents, "document count");
    std::unordered_set<std::string> ids;
    for (const DocumentWrite& w : up.writes) {
      FUZZ_CHECK(w.kind == DocumentWrite::Kind::kUpsert, "an upsert that is not one");
      const NewDocument& d = w.upsert.doc;
      FUZZ_CHECK(!d.ext_id.empty() && d.ext_id.size() <= kMaxIdBytes && is_valid_utf8(d.ext_id), "id");
      FUZZ_CHECK(ids.insert(d.ext_id).second, "duplicate id " + d.ext_id);
      FUZZ_CHECK(d.tenant == tenant, "tenant");
      FUZZ_CHECK(d.format == "txt" || d.format == "md" || d.format == "html", "format " + d.format);
      FUZZ_CHECK(!d.title.empty() && is_valid_utf8(d.title), "title");
      FUZZ_CHECK(!d.source.empty() && is_valid_utf8(d.source), "source");
      FUZZ_CHECK(is_valid_utf8(d.text), "text");
      for (const auto& g : d.acl) FUZZ_CHECK(!g.empty() && is_valid_utf8(g), "acl");
      const auto meta = nlohmann::json::parse(d.metadata_json, nullptr, false);
      FUZZ_CHECK(meta.is_object(), "metadata " + d.metadata_json);
      for (const auto& [k, v] : meta.items()) FUZZ_CHECK(v.is_string(), "metadata value of " + k);
      FUZZ_CHECK(!w.upsert.chunks.empty(), "a document without chunks");
      const auto chars = static_cast<std::int64_t>(char_offset(d.text, d.text.size()));
      for (std::size_t i = 0; i < w.upsert.chunks.size(); ++i) {
        const NewChunk& c = w.upsert.chunks[i];
        FUZZ_CHECK(c.char_start >= 0 && c.char_start < c.char_end && c.char_end <= chars, "chunk span");
        FUZZ_CHECK(i == 0 || c.char_start > w.upsert.chunks[i - 1].char_start, "chunks out of order");
        const std::size_t b = byte_offset(d.text, static_cast<std::size_t>(c.char_start));
        const std::size_t e = byte_offset(d.text, static_cast<std::size_t>(c.char_end));
        FUZZ_CHECK(c.text == d.text.substr(b, e - b), "chunk text is not its span of the document");
      }
    }
  }
  const ParsedWrites del = parse_delete_request(body, tenant, l);
  if (del.error) return check_error(*del.error, "documents/delete");
  FUZZ_CHECK(!del.writes.empty() && del.writes.size() <= l.max_documents, "id count");
  for (const DocumentWrite& w : del.writes) {
    FUZZ_CHECK(w.kind == DocumentWrite::Kind::kDelete && w.tenant == tenant, "a delete that is not one");
    FUZZ_CHECK(!w.ext_id.empty() && w.ext_id.size() <= kMaxIdBytes && is_valid_utf8(w.ext_id), "id");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = ragft::fuzz::as_view(data, size);
  const ServeLimits limits = small_limits();
  check_chat(body, limits);
  check_retrieval(body, limits, /*ask=*/false);
  check_retrieval(body, limits, /*ask=*/true);
  check_embeddings(body, limits);
  check_task(body, limits, /*classify=*/true);
  check_task(body, limits, /*classify=*/false);
  check_writes(body, limits);
  return 0;
}
