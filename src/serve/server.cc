#include "serve/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <iterator>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/log.h"
#include "serve/handlers.h"

namespace ragft::serve {

namespace {

struct Route {
  const char* method;  // GET, POST, PUT or DELETE
  // "{name}" is a path parameter: one segment, or the rest of the path when it is the last
  // thing in it (so a document id may hold slashes).
  const char* path;
  Reply (*handler)(const ServeContext&, const RequestContext&);
  bool authenticated = true;  // false: runs as the default identity without asking the Authenticator
};

// Every route of the server, in one place.
constexpr Route kRoutes[] = {
    {"GET", "/health", &handle_health, false},
    {"GET", "/v1/models", &handle_models},
    {"POST", "/v1/chat/completions", &handle_chat_completions},
    {"POST", "/v1/embeddings", &handle_embeddings},
    {"POST", "/v1/search", &handle_search},
    {"POST", "/v1/ask", &handle_ask},
    {"POST", "/v1/documents", &handle_documents_upsert},
    {"POST", "/v1/documents/delete", &handle_documents_delete},
    {"DELETE", "/v1/documents/{id}", &handle_document_delete},
    {"POST", "/v1/classify", &handle_classify},  // task_api.h
    {"POST", "/v1/extract", &handle_extract},    // task_api.h
    {"GET", "/metrics", &handle_metrics},
    {"GET", "/openapi.json", &handle_openapi, false},
    {"GET", "/", &handle_web_ui, false},    // the web page holds no data: no key to fetch it
    {"GET", "/ui", &handle_web_ui, false},
    {"GET", "/v1/documents/{id}", &handle_document_get},
    {"GET", "/v1/reports", &handle_reports_list},
    {"GET", "/v1/reports/{name}", &handle_report_json},
    {"GET", "/reports/{name}", &handle_report_html},
};

// The route's path as the regular expression httplib matches (the whole path), and the names of
// its parameters in order.
std::pair<std::string, std::vector<std::string>> path_pattern(std::string_view path) {
  std::string pattern;
  std::vector<std::string> names;
  std::size_t i = 0;
  while (i < path.size()) {
    const char c = path[i];
    if (c == '{') {
      const std::size_t close = path.find('}', i);
      names.emplace_back(path.substr(i + 1, close - i - 1));
      i = close + 1;
      pattern += i == path.size() ? "(.+)" : "([^/]+)";
      continue;
    }
    if (std::string_view(".+*?^$()[]|\\").find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
    ++i;
  }
  return {std::move(pattern), std::move(names)};
}

std::string route_list() {
  std::string out;
  for (const Route& r : kRoutes) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", r.method, r.path);
  }
  return out;
}

void write_reply(Reply reply, httplib::Response& res) {
  res.status = reply.status;
  if (reply.retry_after_s > 0) res.set_header("Retry-After", std::to_string(reply.retry_after_s));
  if (!reply.stream) {
    res.set_content(std::move(reply.body), reply.content_type.c_str());
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  auto produce = std::make_shared<decltype(reply.stream)>(std::move(reply.stream));
  res.set_chunked_content_provider(reply.content_type, [produce](std::size_t, httplib::DataSink& sink) {
    (*produce)([&sink](std::string_view bytes) { return sink.is_writable() && sink.write(bytes.data(), bytes.size()); });
    sink.done();
    return true;
  });
}

}  // namespace

Status ServeOptions::validate() const {
  auto bad = [](std::string_view field, std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument, "serve options: {} {}", field, why);
  };
  if (host.empty()) return bad("host", "is empty");
  if (port < 0 || port > 65535) return bad("port", fmt::format("={} must be in [0, 65535]", port));
  if (threads < 1 || threads > 1024) return bad("threads", fmt::format("={} must be in [1, 1024]", threads));
  if (max_body_bytes < 1024 || max_body_bytes > (std::size_t{1} << 30)) {
    return bad("max_body_bytes", fmt::format("={} must be in [1024, 1073741824]", max_body_bytes));
  }
  if (keep_alive_timeout_s < 1 || keep_alive_timeout_s > 300) {
    return bad("keep_alive_timeout_s", fmt::format("={} must be in [1, 300]", keep_alive_timeout_s));
  }
  if (!(rate_limit >= 0 && rate_limit <= 1e6)) return bad("rate_limit", fmt::format("={} must be in [0, 1e6]", rate_limit));
  if (!(rate_burst >= 0 && rate_burst <= 1e6)) return bad("rate_burst", fmt::format("={} must be in [0, 1e6]", rate_burst));
  if (search_concurrency < 0 || search_concurrency > 1024) {
    return bad("search_concurrency", fmt::format("={} must be in [0, 1024]", search_concurrency));
  }
  if (keep_alive_max_requests < 1 || keep_alive_max_requests > 1000000) {
    return bad("keep_alive_max_requests", fmt::format("={} must be in [1, 1000000]", keep_alive_max_requests));
  }
  if (limits.max_tokens < 1) return bad("limits.max_tokens", "must be >= 1");
  if (limits.max_k < 1) return bad("limits.max_k", "must be >= 1");
  if (limits.max_seconds < 1 || limits.max_seconds > 86400) {
    return bad("limits.max_seconds", fmt::format("={} must be in [1, 86400]", limits.max_seconds));
  }
  if (limits.max_messages < 1) return bad("limits.max_messages", "must be >= 1");
  if (limits.max_embedding_inputs < 1) return bad("limits.max_embedding_inputs", "must be >= 1");
  if (limits.max_documents < 1) return bad("limits.max_documents", "must be >= 1");
  if (limits.max_task_inputs < 1) return bad("limits.max_task_inputs", "must be >= 1");
  if (chat_model_id.empty() || embedding_model_id.empty()) return bad("chat_model_id/embedding_model_id", "is empty");
  return ok_status();
}

struct Server::Impl {
  ServeContext ctx;
  httplib::Server http;
  std::mutex mu;  // start/stop
  std::thread listener;
  int port = 0;
  int listen_fd = -1;  // the listening socket httplib made (set_socket_options below)
  bool started = false;
  bool stopped = false;
  std::atomic<bool> listen_returned{false};

  RequestMeta meta_of(const httplib::Request& req) const {
    return RequestMeta{req.method, req.path, req.remote_addr, req.get_header_value("Authorization")};
  }

  Reply run(const Route& route, const std::vector<std::string>& param_names, const httplib::Request& req) const {
    const RequestMeta meta = meta_of(req);
    Identity identity = ctx.components.identity;
    if (ctx.components.authenticator && route.authenticated) {
      auto who = ctx.components.authenticator->authenticate(meta);
      if (!who.ok()) {
        const ErrorCode code = who.error().code;
        if (code == ErrorCode::kInvalidArgument || code == ErrorCode::kNotFound || code == ErrorCode::kCancelled) {
          return Reply::error(ApiError{401, who.error().message, "authentication_error", "", "invalid_api_key"});
        }
        return Reply::error(api_error_from(who.error(), ErrorSource::kServer, "authentication"));
      }
      identity = std::move(*who);
    }
    if (ctx.rate_limiter && !identity.key_id.empty()) {
      const double wait = ctx.rate_limiter->take(identity.key_id, RateLimiter::Clock::now());
      if (wait > 0) {
        Reply r = Reply::error(ApiError{429,
                                        fmt::format("rate limit: a key may make {} requests per second (bursts of {}); "
                                                    "retry in {:.1f} s",
                                                    ctx.rate_limiter->rate(), ctx.rate_limiter->burst(), wait),
                                        "rate_limit_error", "", "rate_limited"});
        r.retry_after_s = static_cast<int>(std::ceil(wait));
        return r;
      }
    }
    PathParams params;
    for (std::size_t i = 0; i < param_names.size() && i + 1 < req.matches.size(); ++i) {
      params.emplace_back(param_names[i], req.matches[static_cast<int>(i) + 1].str());
    }
    return route.handler(ctx, RequestContext{identity, meta, req.body, params});
  }

  void register_routes() {
    for (std::size_t i = 0; i < std::size(kRoutes); ++i) {
      const Route& route = kRoutes[i];
      auto [pattern, names] = path_pattern(route.path);
      auto handler = [this, &route, i, names = std::move(names)](const httplib::Request& req, httplib::Response& res) {
        const auto t0 = std::chrono::steady_clock::now();
        ctx.metrics->begin();
        Reply reply = run(route, names, req);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ctx.metrics->record(i, reply.status, seconds);
        ctx.metrics->end();
        log::debug("event=serve_request method={} path={} status={} ms={:.2f}", route.method, route.path, reply.status,
                   seconds * 1e3);
        write_reply(std::move(reply), res);
      };
      const std::string_view method = route.method;
      if (method == "GET") {
        http.Get(pattern, handler);
      } else if (method == "POST") {
        http.Post(pattern, handler);
      } else if (method == "PUT") {
        http.Put(pattern, handler);
      } else {
        http.Delete(pattern, handler);
      }
    }
    // Responses httplib makes itself (no route, body too large, unparsable request) get the
    // OpenAI error shape; replies the handlers wrote are left alone.
    http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                       httplib::Response& res) {
      if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
      ApiError e;
      e.status = res.status;
      switch (res.status) {
        case 404:
          e.message = fmt::format("no route {} {} (routes: {})", req.method, req.path, route_list());
          e.code = "unknown_route";
          break;
        case 413:
          e.message = fmt::format("the request body is larger than the server's limit of {} bytes (--max-body)",
                                  ctx.options.max_body_bytes);
          e.code = "body_too_large";
          break;
        default:
          e.message = fmt::format("the request could not be read (HTTP {})", res.status);
          e.code = "bad_request";
          if (res.status >= 500) e.type = "server_error";
      }
      res.set_content(api_error_body(e), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      log::error("event=serve_exception path={} what=\"{}\"", req.path, what);
      res.status = 500;
      res.set_content(api_error_body(ApiError{500, "internal error: " + what, "server_error", "", "internal_error"}),
                      "application/json");
    });
  }
};

std::vector<std::pair<std::string, std::string>> Server::routes() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& r : kRoutes) out.emplace_back(r.method, r.path);
  return out;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::make(ServeOptions options, ServeComponents components) {
  RAGFT_TRY_STATUS(options.validate());
  auto impl = std::make_unique<Impl>();
  impl->ctx.options = std::move(options);
  impl->ctx.components = std::move(components);
  impl->ctx.started = std::time(nullptr);
  impl->ctx.started_at = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, std::string>> names;
  for (const Route& r : kRoutes) names.emplace_back(r.method, r.path);
  impl->ctx.metrics = std::make_shared<ServeMetrics>(std::move(names));
  const ServeOptions& o = impl->ctx.options;
  const std::size_t slots = o.search_concurrency > 0 ? static_cast<std::size_t>(o.search_concurrency)
                                                     : std::max<std::size_t>(2, 2 * std::thread::hardware_concurrency());
  impl->ctx.search_slots = std::make_shared<SearchSlots>(slots);
  if (o.rate_limit > 0) {
    impl->ctx.rate_limiter =
        std::make_shared<RateLimiter>(o.rate_limit, o.rate_burst > 0 ? o.rate_burst : std::max(1.0, o.rate_limit));
  }
  const int threads = o.threads;
  impl->http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  impl->http.set_payload_max_length(o.max_body_bytes);
  impl->http.set_keep_alive_timeout(o.keep_alive_timeout_s);
  impl->http.set_keep_alive_max_count(static_cast<std::size_t>(o.keep_alive_max_requests));
  impl->http.set_tcp_nodelay(true);
  // httplib's own options (SO_REUSEADDR), and the socket kept so start() can raise its backlog.
  impl->http.set_socket_options([fd = &impl->listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    *fd = sock;
  });
  impl->register_routes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started) return make_error(ErrorCode::kInvalidArgument, "the server was started already");
  const ServeOptions& o = impl_->ctx.options;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
    if (port <= 0) return make_error(ErrorCode::kIo, "cannot listen on {}: no free port, or a bad host", o.host);
  } else if (!impl_->http.bind_to_port(o.host, port)) {
    return make_error(ErrorCode::kIo, "cannot listen on {}:{} (port in use, or a bad host)", o.host, port);
  }
  // httplib listens with a backlog of 5: connections arriving together beyond that had their SYN
  // dropped and retried a second later (a load test's p99). Listening again only sets the backlog.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  impl_->port = port;
  impl_->started = true;
  impl_->listener = std::thread([this] {
    impl_->http.listen_after_bind();
    impl_->listen_returned = true;
  });
  // stop() before the listen loop runs would be lost (httplib's stop() acts on a running server).
  while (!impl_->http.is_running() && !impl_->listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  log::info("event=serve_listen host={} port={} threads={}", o.host, port, o.threads);
  return ok_status();
}

int Server::port() const {
  std::lock_guard lock(impl_->mu);
  return impl_->started ? impl_->port : 0;
}

void Server::stop() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  // Closes the listening socket; listen_after_bind() then waits for its task queue to drain
  // (the requests in flight finish) and returns.
  impl_->http.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
  log::info("event=serve_stopped port={}", impl_->port);
}

}  // namespace ragft::serve
