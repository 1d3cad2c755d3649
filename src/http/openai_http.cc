#include "http/openai_http.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "core/log.h"

namespace ragft {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kBackoffCapMs = 30000;
constexpr std::int64_t kRetryAfterCapMs = 60000;
constexpr std::size_t kMaxServerMessage = 500;
constexpr std::size_t kMaxErrorBody = 64 * 1024;  // of a non-2xx body kept for its message

bool is_control_or_space(char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }

// "http://host:port/v1" -> origin "http://host:port", path "/v1" (trailing '/' dropped).
struct UrlParts {
  std::string origin;
  std::string path;
};

std::string url_problem(std::string_view url, UrlParts* parts) {
  std::string_view scheme;
  if (url.starts_with("http://")) {
    scheme = "http://";
  } else if (url.starts_with("https://")) {
    scheme = "https://";
  } else {
    return "must start with http:// or https://";
  }
  for (char c : url) {
    if (is_control_or_space(c)) return "must not contain whitespace or control characters";
    if (c == ',' || c == '?' || c == '#') return fmt::format("must not contain '{}'", c);
  }
  const std::string_view rest = url.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (authority.empty()) return "has no host";
  if (authority.find('@') != std::string_view::npos) return "must not hold user info (use key_env for the key)";
  std::string_view port;
  if (authority.front() == '[') {  // [IPv6]:port
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return "has a malformed [IPv6] host";
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "has a malformed [IPv6] host";
      port = after.substr(1);
      if (port.empty()) return "has an empty port";
    }
  } else {
    const std::size_t colon = authority.find(':');
    if (colon == 0) return "has no host";
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return "has an empty port";
    }
  }
  if (!port.empty()) {
    int p = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535) {
      return fmt::format("has a bad port \"{}\"", port);
    }
  }
  if (parts) {
    parts->origin = std::string(scheme) + std::string(authority);
    parts->path = std::string(path);
  }
  return {};
}

// Retry-After in seconds (capped), or -1 when absent or not a number of seconds.
std::int64_t retry_after_ms(const httplib::Response& res) {
  const std::string v = res.get_header_value("Retry-After");
  const auto b = v.find_first_not_of(" \t");
  if (b == std::string::npos) return -1;
  const auto e = v.find_last_not_of(" \t");
  const std::string_view s(v.data() + b, e - b + 1);
  std::int64_t sec = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), sec);
  if (ec != std::errc() || ptr != s.data() + s.size() || sec < 0) return -1;
  return std::min(sec, kRetryAfterCapMs / 1000) * 1000;
}

bool is_2xx(int status) { return status >= 200 && status < 300; }

// Collects the whole body (post() without a sink).
class StringSink final : public BodySink {
 public:
  void begin(std::string_view) override { body_.clear(); }
  bool data(std::string_view bytes) override {
    body_.append(bytes);
    return true;
  }
  Status end() override { return ok_status(); }
  Error take_error() override { return make_error(ErrorCode::kInternal, "string sink never stops"); }
  bool committed() const override { return false; }
  std::string take() { return std::move(body_); }

 private:
  std::string body_;
};

}  // namespace

std::string openai_url_problem(std::string_view url) { return url_problem(url, nullptr); }

std::string openai_model_problem(std::string_view model) {
  if (model.empty()) return "is required";
  for (char c : model) {
    if (c == ',' || c == '#' || is_control_or_space(c)) {
      return "must not contain ',', '#', whitespace or control characters";
    }
  }
  return {};
}

std::string openai_key_env_problem(std::string_view key_env) {
  for (std::size_t i = 0; i < key_env.size(); ++i) {
    const char c = key_env[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
      return "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*) or empty";
    }
  }
  return {};
}

std::string OpenAiEndpoint::endpoint_config() const {
  return fmt::format("url={},model={},timeout_ms={},retries={},backoff_ms={},key_env={}", url, model, timeout_ms, retries,
                     backoff_ms, key_env);
}

OpenAiHttpOptions OpenAiEndpoint::http_options(std::string label) const {
  OpenAiHttpOptions h;
  h.label = std::move(label);
  h.url = url;
  h.timeout_ms = timeout_ms;
  h.retries = retries;
  h.backoff_ms = backoff_ms;
  h.key_env = key_env;
  return h;
}

Error openai_config_error(std::string_view what, std::string_view config, std::string_view key, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "{} config \"{}\": {} {}", what, config, key, why);
}

Result<int> openai_config_int(std::string_view what, std::string_view config, std::string_view key,
                              std::string_view value, int lo, int hi) {
  int v = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || v < lo || v > hi) {
    return openai_config_error(what, config, key, fmt::format("must be an integer in [{}, {}], got \"{}\"", lo, hi, value));
  }
  return v;
}

Status validate_openai_endpoint(std::string_view what, std::string_view config, const OpenAiEndpoint& e) {
  if (e.url.empty()) return openai_config_error(what, config, "url", "is required (e.g. url=http://127.0.0.1:8080/v1)");
  if (std::string why = openai_url_problem(e.url); !why.empty()) {
    return openai_config_error(what, config, "url", fmt::format("\"{}\" {}", e.url, why));
  }
  if (e.model.empty()) return openai_config_error(what, config, "model", "is required");
  if (std::string why = openai_model_problem(e.model); !why.empty()) return openai_config_error(what, config, "model", why);
  if (std::string why = openai_key_env_problem(e.key_env); !why.empty()) {
    return openai_config_error(what, config, "key_env", why);
  }
  auto range = [&](std::string_view key, int v, int lo, int hi) -> Status {
    if (v < lo || v > hi) return openai_config_error(what, config, key, fmt::format("must be in [{}, {}], got {}", lo, hi, v));
    return ok_status();
  };
  RAGFT_TRY_STATUS(range("timeout_ms", e.timeout_ms, 1, kOpenAiMaxTimeoutMs));
  RAGFT_TRY_STATUS(range("retries", e.retries, 0, kOpenAiMaxRetries));
  RAGFT_TRY_STATUS(range("backoff_ms", e.backoff_ms, 0, kOpenAiMaxBackoffMs));
  return ok_status();
}

Status parse_openai_config(std::string_view what, std::string_view config, OpenAiEndpoint& e,
                           const std::function<Result<bool>(const std::string& key, const std::string& value)>& own,
                           std::string_view known_keys) {
  if (config != "openai" && !config.starts_with("openai:")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} config \"{}\" must start with \"openai:\" (e.g. openai:url=http://127.0.0.1:8080/v1,model=NAME)",
                      what, config);
  }
  RAGFT_TRY(auto items, config_items(config, "openai"));
  std::vector<std::string> given;
  for (const auto& [key, value] : items) {
    if (std::find(given.begin(), given.end(), key) != given.end()) {
      return openai_config_error(what, config, key, "is given twice");
    }
    given.push_back(key);
    if (key == "url") {
      if (std::string why = openai_url_problem(value); !why.empty()) {
        return openai_config_error(what, config, key, fmt::format("\"{}\" {}", value, why));
      }
      e.url = strip_trailing_slashes(value);
    } else if (key == "model") {
      e.model = value;
    } else if (key == "timeout_ms") {
      RAGFT_TRY(e.timeout_ms, openai_config_int(what, config, key, value, 1, kOpenAiMaxTimeoutMs));
    } else if (key == "retries") {
      RAGFT_TRY(e.retries, openai_config_int(what, config, key, value, 0, kOpenAiMaxRetries));
    } else if (key == "backoff_ms") {
      RAGFT_TRY(e.backoff_ms, openai_config_int(what, config, key, value, 0, kOpenAiMaxBackoffMs));
    } else if (key == "key_env") {
      e.key_env = value;
    } else {
      RAGFT_TRY(bool taken, own(key, value));
      if (!taken) {
        return make_error(ErrorCode::kInvalidArgument, "{} config \"{}\": unknown key \"{}\" (known: {})", what, config,
                          key, known_keys);
      }
    }
  }
  return validate_openai_endpoint(what, config, e);
}

std::string strip_trailing_slashes(std::string url) {
  while (url.size() > 1 && url.back() == '/' && !url.ends_with("://")) url.pop_back();
  return url;
}

std::string OpenAiHttp::redact(std::string s, const std::string& key) {
  if (key.empty()) return s;
  for (std::size_t at = s.find(key); at != std::string::npos; at = s.find(key, at)) {
    s.replace(at, key.size(), "[redacted]");
    at += 10;
  }
  return s;
}

std::string openai_server_message(const std::string& body, const std::string& key) {
  std::string msg;
  try {
    const json j = json::parse(body);
    if (j.is_object()) {
      auto e = j.find("error");
      if (e != j.end() && e->is_object() && e->contains("message") && (*e)["message"].is_string()) {
        msg = (*e)["message"].get<std::string>();
      } else if (e != j.end() && e->is_string()) {
        msg = e->get<std::string>();
      } else if (j.contains("message") && j["message"].is_string()) {
        msg = j["message"].get<std::string>();
      } else if (j.contains("detail") && j["detail"].is_string()) {
        msg = j["detail"].get<std::string>();
      }
    }
  } catch (const json::exception&) {
  }
  if (msg.empty()) msg = body;
  for (char& c : msg) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!msg.empty() && msg.back() == ' ') msg.pop_back();
  if (msg.empty()) return "(empty body)";
  msg = OpenAiHttp::redact(std::move(msg), key);
  if (msg.size() > kMaxServerMessage) msg = msg.substr(0, kMaxServerMessage) + "...";
  return msg;
}

struct OpenAiHttp::Impl {
  OpenAiHttpOptions o;
  UrlParts url;
  std::mutex mu;  // guards idle
  std::vector<std::unique_ptr<httplib::Client>> idle;

  std::unique_ptr<httplib::Client> new_client() const {
    auto c = std::make_unique<httplib::Client>(url.origin);
    const auto timeout = std::chrono::milliseconds(o.timeout_ms);
    c->set_connection_timeout(timeout);
    c->set_read_timeout(timeout);
    c->set_write_timeout(timeout);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);  // else Nagle and delayed ACKs stall each small request
    c->set_follow_location(false);
    return c;
  }

  std::unique_ptr<httplib::Client> acquire() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    return new_client();
  }

  void release(std::unique_ptr<httplib::Client> c) {
    std::unique_lock lock(mu);
    if (idle.size() < o.max_idle) idle.push_back(std::move(c));
    lock.unlock();  // a surplus client closes its connection outside the lock
  }
};

OpenAiHttp::OpenAiHttp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OpenAiHttp::~OpenAiHttp() = default;

Result<std::unique_ptr<OpenAiHttp>> OpenAiHttp::make(OpenAiHttpOptions o) {
  o.url = strip_trailing_slashes(std::move(o.url));
  auto bad = [&](std::string_view field, std::string why) {
    return make_error(ErrorCode::kInvalidArgument, "{}: {} {}", o.label, field, why);
  };
  auto impl = std::make_unique<Impl>();
  if (o.url.empty()) return bad("url", "is required (e.g. url=http://127.0.0.1:8080/v1)");
  if (std::string why = url_problem(o.url, &impl->url); !why.empty()) {
    return bad("url", fmt::format("\"{}\" {}", o.url, why));
  }
  if (std::string why = openai_key_env_problem(o.key_env); !why.empty()) return bad("key_env", why);
  if (o.timeout_ms < 1 || o.timeout_ms > kOpenAiMaxTimeoutMs) {
    return bad("timeout_ms", fmt::format("={} must be in [1, {}]", o.timeout_ms, kOpenAiMaxTimeoutMs));
  }
  if (o.retries < 0 || o.retries > kOpenAiMaxRetries) {
    return bad("retries", fmt::format("={} must be in [0, {}]", o.retries, kOpenAiMaxRetries));
  }
  if (o.backoff_ms < 0 || o.backoff_ms > kOpenAiMaxBackoffMs) {
    return bad("backoff_ms", fmt::format("={} must be in [0, {}]", o.backoff_ms, kOpenAiMaxBackoffMs));
  }
  impl->o = std::move(o);
  auto probe = impl->new_client();
  if (!probe->is_valid()) {
    return make_error(ErrorCode::kUnsupported, "{} {}: this build cannot open that url (https without TLS?)",
                      impl->o.label, impl->o.url);
  }
  impl->release(std::move(probe));
  return std::unique_ptr<OpenAiHttp>(new OpenAiHttp(std::move(impl)));
}

std::string OpenAiHttp::endpoint(std::string_view suffix) const { return impl_->o.url + std::string(suffix); }

std::string OpenAiHttp::api_key() const {
  if (impl_->o.key_env.empty()) return {};
  const char* k = std::getenv(impl_->o.key_env.c_str());
  return k ? std::string(k) : std::string();
}

Result<std::string> OpenAiHttp::post(std::string_view suffix, const std::string& body, PostStats* stats) const {
  StringSink sink;
  RAGFT_TRY_STATUS(post(suffix, body, sink, {}, stats));
  return sink.take();
}

Status OpenAiHttp::post(std::string_view suffix, const std::string& body, BodySink& sink, std::string_view accept,
                        PostStats* stats) const {
  Impl& m = *impl_;
  const OpenAiHttpOptions& o = m.o;
  const std::string key = api_key();
  const std::string endpoint = this->endpoint(suffix);
  const std::string path = m.url.path + std::string(suffix);
  auto failed = [&](ErrorCode code, std::string what) {
    return make_error(code, "{} {}: {}", o.label, endpoint, redact(std::move(what), key));
  };
  const int attempts = o.retries + 1;
  std::string last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (stats) stats->attempts = attempt;
    // One attempt's state, written by httplib's callbacks on this thread.
    int status = -1;
    bool began = false;    // a 2xx response reached the sink
    bool stopped = false;  // the sink stopped the transfer
    std::string error_body;
    Clock::time_point last_activity = Clock::now();

    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.body = body;
    req.headers.emplace("Content-Type", "application/json");
    if (!accept.empty()) req.headers.emplace("Accept", std::string(accept));
    if (!key.empty()) req.headers.emplace("Authorization", "Bearer " + key);
    req.response_handler = [&](const httplib::Response& r) {
      last_activity = Clock::now();
      status = r.status;
      if (is_2xx(status)) {
        began = true;
        sink.begin(r.get_header_value("Content-Type"));
      }
      return true;
    };
    req.content_receiver = [&](const char* p, std::size_t n, std::uint64_t, std::uint64_t) {
      last_activity = Clock::now();
      if (!is_2xx(status)) {
        if (error_body.size() < kMaxErrorBody) error_body.append(p, std::min(n, kMaxErrorBody - error_body.size()));
        return true;  // read it all, so the connection stays usable
      }
      if (!sink.data(std::string_view(p, n))) {
        stopped = true;
        return false;
      }
      return true;
    };

    std::int64_t wait_ms = -1;
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    auto client = m.acquire();
    const bool sent = client->send(req, res, err);
    m.release(std::move(client));
    if (status < 0 && res.status > 0) status = res.status;  // a response without a body (e.g. 204)

    if (stopped) {
      Error e = sink.take_error();
      if (e.code != ErrorCode::kIo || sink.committed()) return failed(e.code, std::move(e.message));
      last = std::move(e.message);
    } else if (!sent) {
      if (err == httplib::Error::SSLServerVerification || err == httplib::Error::SSLLoadingCerts) {
        return failed(ErrorCode::kIo, fmt::format("TLS failure ({}); not retried", httplib::to_string(err)));
      }
      const auto quiet_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_activity).count();
      last = quiet_ms * 100 >= static_cast<std::int64_t>(o.timeout_ms) * 95
                 ? fmt::format("timed out: nothing received for {} ms ({} error)", o.timeout_ms,
                               httplib::to_string(err))
                 : fmt::format("{} error", httplib::to_string(err));
      if (began && sink.committed()) {
        return failed(ErrorCode::kIo,
                      fmt::format("the response broke off ({}) after part of it was delivered; not retried", last));
      }
    } else if (is_2xx(status)) {
      if (!began) sink.begin(res.get_header_value("Content-Type"));
      Status s = sink.end();
      if (s.ok()) return s;
      if (s.error().code != ErrorCode::kIo || sink.committed()) {
        Error e = s.take_error();
        return failed(e.code, std::move(e.message));
      }
      last = s.error().message;
    } else if (status == 429 || status >= 500) {
      last = fmt::format("HTTP {}: {}", status, openai_server_message(error_body, key));
      wait_ms = retry_after_ms(res);
    } else {
      std::string hint;
      if (status == 401 || status == 403) {
        hint = key.empty() ? fmt::format(" (no key was sent: ${} is not set)",
                                         o.key_env.empty() ? std::string("key_env") : o.key_env)
                           : fmt::format(" (check the key in ${})", o.key_env);
      }
      return failed(status == 404 ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                    fmt::format("HTTP {}: {}{}", status, openai_server_message(error_body, key), hint));
    }
    last = redact(std::move(last), key);
    if (attempt == attempts) break;
    if (wait_ms < 0) {
      wait_ms = o.backoff_ms;
      for (int i = 1; i < attempt && wait_ms < kBackoffCapMs; ++i) wait_ms *= 2;
      wait_ms = std::min(wait_ms, kBackoffCapMs);
    }
    log::warn("{} retry: endpoint={} attempt={}/{} failure=\"{}\" wait_ms={}", o.label, endpoint, attempt, attempts,
              last, wait_ms);
    if (wait_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  }
  return failed(ErrorCode::kIo, fmt::format("{} attempt(s) failed; last failure: {}", attempts, last));
}

}  // namespace ragft
