// ragft serve: an OpenAI-compatible HTTP server (src/serve/server.h, docs/serve.md) over the
// chat model (--llm), an embedder (--embedder, or the workspace's dense one), the workspace
// for RAG answers and trained classifiers/extractors (--model NAME=DIR). Runs until SIGINT or
// SIGTERM, then drains the requests in flight.
#include <pthread.h>
#include <signal.h>

#include <cstdio>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "generate/local_chat.h"
#include "serve/api_keys.h"
#include "serve/ingestor.h"
#include "serve/server.h"
#include "serve/task_models.h"
#include "train/embedders.h"

namespace ragft::cli {

namespace {

struct ServeArgs {
  serve::ServeOptions options;
  std::string llm;
  std::string embedder;
  std::string prompt;
  std::string llm_config = LlmAnswerOptions{}.to_config();
  std::string tenant = "default";
  std::string principal;
  std::size_t max_body = serve::ServeOptions{}.max_body_bytes;
  bool require_key = false;
  bool create = false;
  std::string chunk = ChunkerOptions{}.to_config();
  std::vector<std::string> models;  // --model NAME=DIR
  std::size_t model_copies = serve::TaskModelOptions{}.classifier_copies;
  std::string reports;
  std::size_t highlight_cache_mb = 64;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// API keys are on when the workspace has ever had one (a revoked last key does not open the
// server up again) or when --require-key asks for them.
Result<std::shared_ptr<const serve::Authenticator>> key_authenticator(const std::filesystem::path& data,
                                                                      bool have_workspace, bool require_key) {
  if (!have_workspace) {
    if (require_key) {
      return make_error(ErrorCode::kNotFound, "--require-key: API keys live in the workspace's store, and {} has none",
                        data.string());
    }
    return std::shared_ptr<const serve::Authenticator>();
  }
  RAGFT_TRY(Store store, Store::open(data / "store.db"));
  RAGFT_TRY(std::vector<ApiKeyRecord> keys, store.list_api_keys());
  if (keys.empty() && !require_key) return std::shared_ptr<const serve::Authenticator>();
  RAGFT_TRY(std::unique_ptr<serve::ApiKeyAuthenticator> auth, serve::ApiKeyAuthenticator::open(data / "store.db"));
  if (auth->valid_keys() == 0) {
    fmt::print(stderr, "note: API keys are required and none is valid yet: every request but /health gets 401 until "
                       "`ragft key create` makes one\n");
  }
  return std::shared_ptr<const serve::Authenticator>(std::move(auth));
}

int run_serve(const Globals& g, ServeArgs a) {
  serve::ServeComponents c;
  a.options.max_body_bytes = a.max_body;
  auto llm_options = LlmAnswerOptions::parse(a.llm_config);
  if (!llm_options.ok()) return report(llm_options.error());
  c.answer = *llm_options;
  if (!a.prompt.empty()) {
    auto loaded = PromptTemplate::load(a.prompt);
    if (!loaded.ok()) return report(loaded.error());
    c.prompt = std::move(*loaded);
  }
  c.identity.tenant = a.tenant;
  if (!a.principal.empty()) c.identity.principal = a.principal;
  if (!a.llm.empty()) {
    auto made = make_chat_model(a.llm);
    if (!made.ok()) return report(made.error());
    c.chat = std::shared_ptr<const ChatModel>(std::move(*made));
  }
  const std::filesystem::path data(g.data_dir);
  auto ws_options = workspace_options(g);
  if (!ws_options.ok()) return report(ws_options.error());
  auto chunker = ChunkerOptions::parse(a.chunk);
  if (!chunker.ok()) return report(chunker.error());
  c.chunker = *chunker;
  if (a.create) {
    // An empty workspace to fill through POST /v1/documents.
    auto made = Workspace::open(data, *ws_options);
    if (!made.ok()) return report(made.error());
  }
  if (a.highlight_cache_mb > 0) {
    ws_options->chunk_terms_cache = std::make_shared<ChunkTermsCache>(a.highlight_cache_mb << 20);
  }
  auto pool = serve::WorkspacePool::open(data, *ws_options);
  if (pool.ok()) {
    c.workspaces = std::move(*pool);
    if (c.identity.principal) {
      // An unknown principal would fail every RAG request: say so now.
      auto lease = c.workspaces->acquire();
      if (!lease.ok()) return report(lease.error());
      auto p = (*lease)->store().get_principal(c.identity.tenant, *c.identity.principal);
      if (!p.ok()) return report(p.error());
      if (!p->has_value()) {
        return report(make_error(ErrorCode::kNotFound, "--as {}: no such principal in tenant {}; add it with "
                                 "`ragft principal add {} --groups ...`",
                                 *c.identity.principal, c.identity.tenant, *c.identity.principal));
      }
    }
  } else if (pool.error().code == ErrorCode::kNotFound) {
    fmt::print(stderr, "note: {}; RAG requests and document writes will be refused (or start with --create)\n",
               pool.error().message);
  } else {
    return report(pool.error());
  }
  if (!a.embedder.empty()) {
    EmbedderContext context;
    // Naming the workspace's embedder config loads the model its vectors were made with.
    context.model_dir = Workspace::dense_model_dir(data);
    context.training_texts = [&a]() -> Result<std::vector<std::string>> {
      return make_error(ErrorCode::kNotFound,
                        "--embedder {} has no trained model in this workspace; train it with `ragft index "
                        "--embedder {}` first",
                        a.embedder, a.embedder);
    };
    auto made = make_embedder(a.embedder, context);
    if (!made.ok()) return report(made.error());
    c.embedder = std::shared_ptr<Embedder>(std::move(*made));
  } else if (c.workspaces) {
    auto made = serve::open_workspace_embedder(data, *ws_options);
    if (made.ok()) {
      c.embedder = std::move(*made);
    } else if (made.error().code == ErrorCode::kNotFound) {
      fmt::print(stderr, "note: {}; /v1/embeddings will be refused\n", made.error().message);
    } else {
      return report(made.error());
    }
  }
  if (!a.models.empty()) {
    std::vector<serve::TaskModelSpec> specs;
    for (const auto& m : a.models) {
      auto spec = serve::parse_task_model_spec(m);
      if (!spec.ok()) return report(spec.error());
      if (spec->name == a.options.chat_model_id || spec->name == a.options.embedding_model_id) {
        return report(make_error(ErrorCode::kInvalidArgument,
                                 "--model {}: the name {} is the chat model's or the embedder's id in /v1/models; "
                                 "name it with NAME=DIR",
                                 m, spec->name));
      }
      specs.push_back(std::move(*spec));
    }
    serve::TaskModelOptions task_options;
    task_options.classifier_copies = a.model_copies;
    auto loaded = serve::TaskModels::load(specs, task_options);
    if (!loaded.ok()) return report(loaded.error());
    for (const auto& m : (*loaded)->models()) {
      fmt::print(stderr, "ragft serve: model {} ({} {}, {} labels) on POST /v1/{}\n", m.name, m.task, m.kind,
                 m.labels.size(), m.task);
    }
    c.task_models = std::move(*loaded);
  }
  if (!a.reports.empty()) {
    std::error_code ec;
    a.options.reports_dir = a.reports;
    if (!std::filesystem::is_directory(a.options.reports_dir, ec)) {
      return report(make_error(ErrorCode::kNotFound, "--reports {}: no such directory (give the --out directory of "
                               "`ragft decide`, or one holding several)",
                               a.reports));
    }
  }
  if (!c.chat) fmt::print(stderr, "note: no --llm: /v1/chat/completions will be refused\n");
  auto auth = key_authenticator(data, c.workspaces != nullptr, a.require_key);
  if (!auth.ok()) return report(auth.error());
  c.authenticator = std::move(*auth);
  if (c.authenticator) {
    fmt::print(stderr, "ragft serve: API keys required (Authorization: Bearer rk_...); each request runs as its key's "
                       "tenant and principal{}\n",
               a.principal.empty() && a.tenant == "default" ? "" : " (--tenant/--as are not used)");
  } else if (!is_loopback(a.options.host)) {
    fmt::print(stderr, "warning: listening on {} without API keys: anyone who can reach it reads tenant {} as {}; "
                       "make keys with `ragft key create` or pass --require-key\n",
               a.options.host, c.identity.tenant, c.identity.principal.value_or("its owner"));
  }

  // SIGINT and SIGTERM are taken by sigwait below, on this thread; every thread the server
  // starts inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (c.workspaces) {
    // The writer thread starts after the signal mask is set, so it inherits it.
    auto ingestor = serve::Ingestor::start(c.workspaces);
    if (!ingestor.ok()) return report(ingestor.error());
    c.ingestor = std::move(*ingestor);
  }
  const std::string host = a.options.host;
  const int threads = a.options.threads;
  auto server = serve::Server::make(std::move(a.options), std::move(c));
  if (!server.ok()) return report(server.error());
  if (Status s = (*server)->start(); !s.ok()) return report(s.error());
  const int port = (*server)->port();
  const std::string url = fmt::format("http://{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host, port);
  if (g.json) {
    fmt::print("{}\n", nlohmann::json({{"url", url}, {"host", host}, {"port", port}, {"threads", threads}}).dump());
  } else {
    fmt::print("ragft serve: listening on {} (OpenAI base URL {}/v1, web page {}/)\n", url, url, url);
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  fmt::print(stderr, "ragft serve: {}: finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->stop();
  return 0;
}

}  // namespace

void register_serve(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "OpenAI-compatible HTTP server: /v1/chat/completions (plain or RAG), /v1/embeddings, /v1/search, /v1/ask, "
      "/v1/classify, /v1/extract, /v1/documents, /v1/models, /health, and a web page at / (search, ask with citations, "
      "decide reports)");
  cmd->add_option("--host", a->options.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", a->options.port, "Port (0: a free one, printed)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--llm", a->llm,
                  "Chat model: openai:url=http://127.0.0.1:8080/v1,model=NAME or local:path=DIR (none: chat is refused)");
  cmd->add_option("--embedder", a->embedder,
                  "Embedder for /v1/embeddings (default: the workspace's dense index embedder, if any)");
  cmd->add_option("--threads", a->options.threads,
                  "Request threads; a keep-alive connection holds one while open, so give at least the clients' "
                  "connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--search-concurrency", a->options.search_concurrency,
                  "Searches that run at once, the others waiting in arrival order (0: twice the hardware threads)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--highlight-cache-mb", a->highlight_cache_mb,
                  "Memory for the analysed words of recent hits, so highlighting them again is cheap (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--rate-limit", a->options.rate_limit,
                  "Requests per second each API key may make, beyond it 429 (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--rate-burst", a->options.rate_burst,
                  "Requests a key may make at once before --rate-limit applies (0: the rate, at least 1)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--max-seconds", a->options.limits.max_seconds,
                  "Seconds a request may spend in the chat model before it is stopped (504)")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--keep-alive-requests", a->options.keep_alive_max_requests,
                  "Requests a keep-alive connection may make before the server closes it")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-body", a->max_body, "Largest request body in bytes (larger: 413)")
      ->capture_default_str()->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  cmd->add_option("--max-tokens", a->options.limits.max_tokens,
                  "Largest max_tokens a request may ask for (also sent when a request gives none)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--tenant", a->tenant, "Tenant every request retrieves from")->capture_default_str();
  cmd->add_option("--as", a->principal, "Principal every request retrieves as (default: the workspace owner)");
  cmd->add_flag("--create", a->create, "Create an empty workspace in --data when there is none (to fill with POST /v1/documents)");
  cmd->add_option("--chunk", a->chunk, "How documents written through the API are chunked (as `ragft index --chunk`)")
      ->capture_default_str();
  cmd->add_flag("--require-key", a->require_key,
                "Require an API key on every request but /health (on anyway once the workspace has a key: `ragft key`)");
  cmd->add_option("--model", a->models,
                  "A trained model to serve (repeatable): NAME=DIR or DIR (named after its last component), DIR from "
                  "`ragft train classify` (POST /v1/classify) or `ragft train extract` (POST /v1/extract)");
  cmd->add_option("--model-copies", a->model_copies,
                  "Copies of each classifier loaded for concurrent requests (a classifier serves one request at a time)")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  cmd->add_option("--reports", a->reports,
                  "Directory of decide reports to serve read-only (GET /v1/reports, /reports/NAME; the web page's "
                  "Reports tab): one `ragft decide --out` directory, or one holding several");
  cmd->add_option("--prompt", a->prompt, "Prompt template file for RAG answers (default: `ragft prompt`)");
  cmd->add_option("--llm-config", a->llm_config, "RAG answer options (chunks is the default ragft.k)")
      ->capture_default_str();
  cmd->callback([&g, &exit_code, a] { exit_code = run_serve(g, *a); });
}

}  // namespace ragft::cli
