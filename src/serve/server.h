// The OpenAI-compatible HTTP server behind `ragft serve` (docs/serve.md):
//
//   GET  /health                 {"status":"ok","chat":bool,"embeddings":bool,"workspace":bool}
//   GET  /v1/models              the chat model, the embedder and the task models, as OpenAI
//                                lists models
//   POST /v1/chat/completions    chat_api.h (plain, streamed, or RAG with the ragft extension)
//   POST /v1/embeddings          embeddings_api.h
//   POST /v1/search              search_api.h: ranked chunks as the request's identity
//   POST /v1/ask                 search_api.h: an answer with checked citations (as `ragft ask`)
//   POST /v1/documents           documents_api.h: upsert documents (admin), durable when answered
//   POST /v1/documents/delete    documents_api.h: delete documents by id (admin)
//   DELETE /v1/documents/{id}    documents_api.h: delete one document (admin)
//   POST /v1/classify            task_api.h: a served classifier's labels (as `ragft predict`)
//   POST /v1/extract             task_api.h: a served extractor's entities (as `ragft predict`)
//   GET  /metrics                metrics.h: Prometheus text (an admin key when keys are on)
//   GET  /openapi.json           openapi.h: this list as an OpenAPI 3.1 description (no key)
//   GET  / and /ui               web_ui.h: the web page (search, ask, cited spans, reports; no key)
//   GET  /v1/documents/{id}      documents_read.h: a document as the request's identity may read it
//   GET  /v1/reports             reports.h: the decide reports under --reports (admin key when keys are on)
//   GET  /v1/reports/{name}      reports.h: a report's report.json
//   GET  /reports/{name}         reports.h: a report's report.html (text/html)
//
// Every non-2xx answer is an OpenAI error object (api_error.h), including unknown routes (404),
// bodies over max_body_bytes (413) and exceptions (500). Each request is resolved to an Identity
// first (identity.h): the Authenticator's, or ServeComponents::identity for every request. GET
// /health, GET /openapi.json and the web page (GET /, /ui) are not authenticated (they run as
// ServeComponents::identity and read nothing of a workspace).
//
// Threads: `threads` request threads serve connections (HTTP/1.1 keep-alive; a connection holds
// its thread while open: idle for at most keep_alive_timeout_s, for at most
// keep_alive_max_requests requests). A connection beyond `threads` waits, accepted, until a
// thread is free, so `threads` should be at least the clients' connections (a load test's 64
// included: the default). The listen backlog is SOMAXCONN. A streamed chat
// completion runs the model on one more thread of its own, so the first bytes can be awaited
// before the status is sent (an error before any text is a proper 4xx/5xx) and a client that
// goes away cancels generation.
//
// stop(): stops accepting connections, lets the requests in flight finish (streams included),
// closes idle keep-alive connections within keep_alive_timeout_s, and joins every thread.
// start(), stop() and port() are thread-safe; the components are shared with the request
// threads (ChatModel and Embedder are thread-safe by contract; workspaces are leased; task
// models are thread-safe: task_models.h).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "embed/embedder.h"
#include "generate/chat.h"
#include "generate/extractive.h"
#include "generate/llm_answer.h"
#include "generate/prompt.h"
#include "ingest/chunker.h"
#include "serve/identity.h"
#include "serve/limits.h"
#include "serve/workspace_pool.h"

namespace ragft::serve {

class Ingestor;  // ingestor.h
class TaskModels;  // task_models.h

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                // 0: a free port, which port() reports after start()
  int threads = 64;               // request threads, 1..1024 (idle ones cost only their stacks)
  std::size_t max_body_bytes = std::size_t{4} << 20;  // larger bodies -> 413, 1 KiB..1 GiB
  int keep_alive_timeout_s = 5;   // idle keep-alive connections are closed after this, 1..300
  // A keep-alive connection is closed after this many requests (the client reconnects), so a
  // connection waiting for a thread gets one eventually; 1..1000000. (httplib's own default, 5,
  // made a load test reconnect every fifth request.)
  int keep_alive_max_requests = 1000;
  // POST /v1/search requests that retrieve at once; the others wait, in arrival order
  // (search_slots.h). 0: twice the hardware threads. 0..1024.
  int search_concurrency = 0;
  // Requests per second each API key may make (rate_limit.h; bursts of rate_burst); beyond it
  // -> 429 rate_limited with Retry-After. 0: no limit. Requests without a key are not limited.
  double rate_limit = 0;
  double rate_burst = 0;  // 0: max(1, rate_limit)
  ServeLimits limits;
  // The ids /v1/models lists and responses report when a request names no model (a request's
  // "model" is echoed back; the server has one chat model and one embedder, whatever it names).
  std::string chat_model_id = "ragft";
  std::string embedding_model_id = "ragft-embed";
  // Decide reports served read-only (reports.h); empty: none (the report routes answer 400).
  std::filesystem::path reports_dir;

  // Out-of-range values -> kInvalidArgument naming the field.
  Status validate() const;
};

struct ServeComponents {
  std::shared_ptr<const ChatModel> chat;     // null: chat completions answer 400 (no model)
  std::shared_ptr<Embedder> embedder;        // null: embeddings answer 400 (no embedder)
  std::shared_ptr<WorkspacePool> workspaces; // null: RAG requests answer 400 (no workspace)
  PromptTemplate prompt = PromptTemplate::default_template();  // for RAG answers
  LlmAnswerOptions answer;                   // RAG answers; chunks is the default ragft.k
  ExtractiveOptions extractive;              // /v1/ask without llm; chunks is its default k
  // The write path (ingestor.h): null -> document writes answer 400 (no workspace). Make it on
  // the same pool as `workspaces`, so searches see the writes.
  std::shared_ptr<Ingestor> ingestor;
  ChunkerOptions chunker;                    // how written documents are chunked
  // Trained classifiers and extractors (task_models.h); null or empty: /v1/classify and
  // /v1/extract answer 400 (no model).
  std::shared_ptr<const TaskModels> task_models;
  // null: every request runs as `identity`. Else it resolves every request but GET /health.
  std::shared_ptr<const Authenticator> authenticator;
  Identity identity;
};

class Server {
 public:
  // Checks the options; binds nothing yet.
  static Result<std::unique_ptr<Server>> make(ServeOptions options, ServeComponents components);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port and serves on background threads. A port in use or a bad host -> kIo
  // naming the address; a second start() -> kInvalidArgument.
  Status start();
  // The bound port (after start()), else 0.
  int port() const;
  // See above. Idempotent; returns when every request thread has finished.
  void stop();
  // (method, path) of every route, in the route table's order.
  static std::vector<std::pair<std::string, std::string>> routes();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft::serve
