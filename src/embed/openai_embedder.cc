#include "embed/openai_embedder.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
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

constexpr std::string_view kKind = "openai";
constexpr int kMaxBatch = 2048;          // OpenAI's limit on inputs per request
constexpr int kMaxTimeoutMs = 600000;
constexpr int kMaxRetries = 20;
constexpr int kMaxBackoffArgMs = 60000;  // largest backoff_ms accepted
constexpr int kMaxDim = 65536;
constexpr std::int64_t kBackoffCapMs = 30000;
constexpr std::int64_t kRetryAfterCapMs = 60000;
constexpr std::size_t kMaxServerMessage = 500;

Error bad_option(std::string_view config, std::string_view key, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "openai embedder config \"{}\": {} {}", config, key, why);
}

Result<int> parse_int(std::string_view config, std::string_view key, std::string_view val, int lo, int hi) {
  int v = 0;
  const auto [ptr, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
  if (val.empty() || ec != std::errc() || ptr != val.data() + val.size() || v < lo || v > hi) {
    return make_error(ErrorCode::kInvalidArgument,
                      "openai embedder config \"{}\": {}=\"{}\" must be an integer in [{}, {}]", config, key, val, lo,
                      hi);
  }
  return v;
}

bool is_control_or_space(char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }

// "http://host:port/v1" -> origin "http://host:port", path "/v1" (trailing '/' dropped).
struct UrlParts {
  std::string origin;
  std::string path;
};

// The problem with `url`, or an empty string when it is acceptable.
std::string url_problem(std::string_view url, UrlParts* parts) {
  std::string_view rest;
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
  rest = url.substr(scheme.size());
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
    std::string_view after = authority.substr(close + 1);
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

std::string strip_trailing_slashes(std::string url) {
  while (url.size() > 1 && url.back() == '/' && !url.ends_with("://")) url.pop_back();
  return url;
}

// Replaces every occurrence of the API key in `s`.
std::string redact(std::string s, const std::string& key) {
  if (key.empty()) return s;
  for (std::size_t at = s.find(key); at != std::string::npos; at = s.find(key, at)) {
    s.replace(at, key.size(), "[redacted]");
    at += 10;
  }
  return s;
}

// The server's explanation from an error body: OpenAI {"error":{"message":...}}, Ollama
// {"error":"..."}, FastAPI {"detail":"..."}, {"message":"..."}; else the start of the body.
std::string server_message(const std::string& body, const std::string& key) {
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
  msg = redact(std::move(msg), key);
  if (msg.size() > kMaxServerMessage) msg = msg.substr(0, kMaxServerMessage) + "...";
  return msg;
}

// Retry-After in seconds (capped), or -1 when absent or not a number of seconds.
std::int64_t retry_after_ms(const httplib::Response& res) {
  std::string v = res.get_header_value("Retry-After");
  const auto b = v.find_first_not_of(" \t");
  if (b == std::string::npos) return -1;
  const auto e = v.find_last_not_of(" \t");
  std::string_view s(v.data() + b, e - b + 1);
  std::int64_t sec = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), sec);
  if (ec != std::errc() || ptr != s.data() + s.size() || sec < 0) return -1;
  return std::min(sec, kRetryAfterCapMs / 1000) * 1000;
}

class OpenAiEmbedder final : public Embedder {
 public:
  OpenAiEmbedder(OpenAiEmbedderOptions o, UrlParts url)
      : o_(std::move(o)),
        endpoint_(o_.url + "/embeddings"),
        path_(url.path + "/embeddings"),
        client_(url.origin),
        dim_(o_.dim) {
    const auto timeout = std::chrono::milliseconds(o_.timeout_ms);
    client_.set_connection_timeout(timeout);
    client_.set_read_timeout(timeout);
    client_.set_write_timeout(timeout);
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);  // else Nagle and delayed ACKs stall each small request
    client_.set_follow_location(false);
  }

  bool valid() const { return client_.is_valid(); }

  int dim() const override { return dim_.load(); }
  std::string model_id() const override { return fmt::format("openai:{}#{}#dim={}", o_.url, o_.model, dim()); }
  std::string config() const override { return o_.to_config(); }

  Status embed(const std::vector<std::string>& texts, EmbedRole role, std::vector<float>& out) override {
    out.clear();
    if (texts.empty()) return ok_status();
    std::string key;
    if (!o_.key_env.empty()) {
      if (const char* k = std::getenv(o_.key_env.c_str())) key = k;
    }
    std::vector<std::size_t> sent;  // rows that are not empty strings
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (!texts[i].empty()) sent.push_back(i);
    }
    int d = dim_.load();
    if (sent.empty() && d == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "openai embedder {}: every text is empty and the vector size is not known yet (give dim= or "
                        "embed a non-empty text first)",
                        endpoint_);
    }
    if (d > 0) out.assign(texts.size() * static_cast<std::size_t>(d), 0.0f);
    std::vector<float> rows;
    const auto batch = static_cast<std::size_t>(o_.batch);
    for (std::size_t b = 0; b < sent.size(); b += batch) {
      const std::size_t count = std::min(batch, sent.size() - b);
      json input = json::array();
      for (std::size_t k = 0; k < count; ++k) input.push_back(texts[sent[b + k]]);
      const json req = {{"model", o_.model}, {"input", std::move(input)}, {"encoding_format", "float"}};
      // Invalid UTF-8 becomes U+FFFD rather than failing the whole batch.
      const std::string body = req.dump(-1, ' ', false, json::error_handler_t::replace);
      RAGFT_TRY(std::string response, post(body, key));
      int row_dim = 0;
      RAGFT_TRY_STATUS(decode(response, count, rows, row_dim));
      RAGFT_TRY_STATUS(check_dim(row_dim));
      if (d == 0) {
        d = row_dim;
        out.assign(texts.size() * static_cast<std::size_t>(d), 0.0f);
      }
      for (std::size_t k = 0; k < count; ++k) {
        std::copy_n(rows.data() + k * static_cast<std::size_t>(d), d,
                    out.data() + sent[b + k] * static_cast<std::size_t>(d));
      }
    }
    l2_normalize_rows(out.data(), texts.size(), d);
    return ok_status();
  }

 private:
  // Learns the dimension from the first valid response, then holds every response to it.
  Status check_dim(int row_dim) {
    std::lock_guard lock(mu_);
    const int d = dim_.load();
    if (d == 0) {
      dim_.store(row_dim);
      return ok_status();
    }
    if (row_dim != d) {
      return make_error(ErrorCode::kInvalidArgument,
                        "openai embedder {}: model {} returned vectors of size {} but dim={} ({}); check the model "
                        "and dim",
                        endpoint_, o_.model, row_dim, d,
                        o_.dim > 0 ? "given in the config" : "learnt from an earlier response");
    }
    return ok_status();
  }

  // POSTs `body`, retrying transient failures; the body of the 2xx response.
  Result<std::string> post(const std::string& body, const std::string& key) {
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    const int attempts = o_.retries + 1;
    std::string last;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      std::int64_t wait_ms = -1;
      {
        std::lock_guard lock(mu_);
        httplib::Result res = client_.Post(path_, headers, body, "application/json");
        if (!res) {
          const httplib::Error e = res.error();
          if (e == httplib::Error::SSLServerVerification || e == httplib::Error::SSLLoadingCerts) {
            return make_error(ErrorCode::kIo, "openai embedder {}: TLS failure ({}); not retried", endpoint_,
                              httplib::to_string(e));
          }
          last = fmt::format("{} error", httplib::to_string(e));
        } else if (res->status >= 200 && res->status < 300) {
          return std::move(res->body);
        } else if (res->status == 429 || res->status >= 500) {
          last = fmt::format("HTTP {}: {}", res->status, server_message(res->body, key));
          wait_ms = retry_after_ms(*res);
        } else {
          std::string hint;
          if (res->status == 401 || res->status == 403) {
            hint = key.empty() ? fmt::format(" (no key was sent: ${} is not set)",
                                             o_.key_env.empty() ? std::string("key_env") : o_.key_env)
                               : fmt::format(" (check the key in ${})", o_.key_env);
          }
          return make_error(res->status == 404 ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                            "openai embedder {}: HTTP {}: {}{}", endpoint_, res->status,
                            server_message(res->body, key), hint);
        }
      }
      if (attempt == attempts) break;
      if (wait_ms < 0) {
        wait_ms = o_.backoff_ms;
        for (int i = 1; i < attempt && wait_ms < kBackoffCapMs; ++i) wait_ms *= 2;
        wait_ms = std::min(wait_ms, kBackoffCapMs);
      }
      log::warn("openai embed retry: endpoint={} attempt={}/{} failure=\"{}\" wait_ms={}", endpoint_, attempt,
                attempts, last, wait_ms);
      if (wait_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
    return make_error(ErrorCode::kIo, "openai embedder {}: {} attempt(s) failed; last failure: {}", endpoint_, attempts,
                      last);
  }

  // Parses a response to `count` inputs into `rows` (count x row_dim, by "index").
  Status decode(const std::string& body, std::size_t count, std::vector<float>& rows, int& row_dim) const {
    auto corrupt = [&](std::string_view what) {
      return make_error(ErrorCode::kCorrupt, "openai embedder {}: bad response: {}", endpoint_, what);
    };
    try {
      const json j = json::parse(body);
      auto data = j.is_object() ? j.find("data") : j.end();
      if (!j.is_object() || data == j.end() || !data->is_array()) return corrupt("no \"data\" array");
      if (data->size() != count) return corrupt(fmt::format("{} embeddings for {} inputs", data->size(), count));
      std::vector<char> seen(count, 0);
      row_dim = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const json& item = (*data)[i];
        if (!item.is_object()) return corrupt(fmt::format("data[{}] is not an object", i));
        auto idx = item.find("index");
        if (idx == item.end() || !idx->is_number_integer()) {
          return corrupt(fmt::format("data[{}] has no integer \"index\"", i));
        }
        const auto index = idx->get<std::int64_t>();
        if (index < 0 || static_cast<std::uint64_t>(index) >= count) {
          return corrupt(fmt::format("data[{}].index={} is out of range for {} inputs", i, index, count));
        }
        if (seen[index]) return corrupt(fmt::format("index {} appears twice", index));
        seen[index] = 1;
        auto emb = item.find("embedding");
        if (emb == item.end() || !emb->is_array()) {
          return corrupt(fmt::format("data[{}].embedding is not an array of numbers{}", i,
                                     emb != item.end() && emb->is_string() ? " (base64? encoding_format=float ignored)"
                                                                           : ""));
        }
        if (emb->empty() || emb->size() > static_cast<std::size_t>(kMaxDim)) {
          return corrupt(fmt::format("data[{}].embedding has {} values", i, emb->size()));
        }
        const int n = static_cast<int>(emb->size());
        if (row_dim == 0) {
          row_dim = n;
          rows.assign(count * static_cast<std::size_t>(n), 0.0f);
        } else if (n != row_dim) {
          return corrupt(fmt::format("data[{}].embedding has {} values, an earlier one {}", i, n, row_dim));
        }
        float* row = rows.data() + static_cast<std::size_t>(index) * static_cast<std::size_t>(n);
        for (int k = 0; k < n; ++k) {
          const json& v = (*emb)[k];
          if (!v.is_number()) return corrupt(fmt::format("data[{}].embedding[{}] is not a number", i, k));
          const auto f = static_cast<float>(v.get<double>());
          if (!std::isfinite(f)) return corrupt(fmt::format("data[{}].embedding[{}] is not finite", i, k));
          row[k] = f;
        }
      }
    } catch (const json::exception& e) {
      return corrupt(fmt::format("not JSON ({})", e.what()));
    }
    return ok_status();
  }

  const OpenAiEmbedderOptions o_;
  const std::string endpoint_;  // for messages: url + "/embeddings"
  const std::string path_;      // the request path on the origin
  std::mutex mu_;               // guards client_ and the first store to dim_
  httplib::Client client_;
  std::atomic<int> dim_;
};

}  // namespace

std::string OpenAiEmbedderOptions::to_config() const {
  return fmt::format("openai:url={},model={},batch={},timeout_ms={},retries={},backoff_ms={},key_env={},dim={}", url,
                     model, batch, timeout_ms, retries, backoff_ms, key_env, dim);
}

Status OpenAiEmbedderOptions::validate() const {
  const std::string config = to_config();
  if (url.empty()) return bad_option(config, "url", "is required (e.g. url=http://127.0.0.1:8080/v1)");
  if (std::string why = url_problem(url, nullptr); !why.empty()) {
    return bad_option(config, "url", fmt::format("\"{}\" {}", url, why));
  }
  if (model.empty()) return bad_option(config, "model", "is required");
  for (char c : model) {
    if (c == ',' || c == '#' || is_control_or_space(c)) {
      return bad_option(config, "model", "must not contain ',', '#', whitespace or control characters");
    }
  }
  for (std::size_t i = 0; i < key_env.size(); ++i) {
    const char c = key_env[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
      return bad_option(config, "key_env", "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*) or empty");
    }
  }
  auto range = [&](std::string_view key, int v, int lo, int hi) -> Status {
    if (v < lo || v > hi) return bad_option(config, key, fmt::format("={} must be in [{}, {}]", v, lo, hi));
    return ok_status();
  };
  RAGFT_TRY_STATUS(range("batch", batch, 1, kMaxBatch));
  RAGFT_TRY_STATUS(range("timeout_ms", timeout_ms, 1, kMaxTimeoutMs));
  RAGFT_TRY_STATUS(range("retries", retries, 0, kMaxRetries));
  RAGFT_TRY_STATUS(range("backoff_ms", backoff_ms, 0, kMaxBackoffArgMs));
  RAGFT_TRY_STATUS(range("dim", dim, 0, kMaxDim));
  return ok_status();
}

Result<OpenAiEmbedderOptions> OpenAiEmbedderOptions::parse(std::string_view config) {
  if (config != kKind && !config.starts_with("openai:")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "openai embedder config \"{}\" must start with \"openai:\" (e.g. "
                      "openai:url=http://127.0.0.1:8080/v1,model=NAME)",
                      config);
  }
  RAGFT_TRY(auto items, config_items(config, kKind));
  OpenAiEmbedderOptions o;
  std::vector<std::string> given;
  for (const auto& [key, value] : items) {
    if (std::find(given.begin(), given.end(), key) != given.end()) return bad_option(config, key, "is given twice");
    given.push_back(key);
    if (key == "url") {
      if (std::string why = url_problem(value, nullptr); !why.empty()) {
        return bad_option(config, key, fmt::format("\"{}\" {}", value, why));
      }
      o.url = strip_trailing_slashes(value);
    } else if (key == "model") {
      o.model = value;
    } else if (key == "batch") {
      RAGFT_TRY(o.batch, parse_int(config, key, value, 1, kMaxBatch));
    } else if (key == "timeout_ms") {
      RAGFT_TRY(o.timeout_ms, parse_int(config, key, value, 1, kMaxTimeoutMs));
    } else if (key == "retries") {
      RAGFT_TRY(o.retries, parse_int(config, key, value, 0, kMaxRetries));
    } else if (key == "backoff_ms") {
      RAGFT_TRY(o.backoff_ms, parse_int(config, key, value, 0, kMaxBackoffArgMs));
    } else if (key == "key_env") {
      o.key_env = value;
    } else if (key == "dim") {
      RAGFT_TRY(o.dim, parse_int(config, key, value, 0, kMaxDim));
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "openai embedder config \"{}\": unknown key \"{}\" (known: url, model, batch, timeout_ms, "
                        "retries, backoff_ms, key_env, dim)",
                        config, key);
    }
  }
  if (o.url.empty()) return bad_option(config, "url", "is required (e.g. url=http://127.0.0.1:8080/v1)");
  if (o.model.empty()) return bad_option(config, "model", "is required");
  RAGFT_TRY_STATUS(o.validate());
  return o;
}

Result<std::unique_ptr<Embedder>> make_openai_embedder(const OpenAiEmbedderOptions& options) {
  OpenAiEmbedderOptions o = options;
  o.url = strip_trailing_slashes(o.url);
  RAGFT_TRY_STATUS(o.validate());
  UrlParts parts;
  url_problem(o.url, &parts);
  auto e = std::make_unique<OpenAiEmbedder>(std::move(o), std::move(parts));
  if (!e->valid()) {
    return make_error(ErrorCode::kUnsupported, "openai embedder {}: this build cannot open that url (https without TLS?)",
                      e->config());
  }
  return std::unique_ptr<Embedder>(std::move(e));
}

Result<std::unique_ptr<Embedder>> make_openai_embedder(std::string_view config) {
  RAGFT_TRY(const OpenAiEmbedderOptions o, OpenAiEmbedderOptions::parse(config));
  return make_openai_embedder(o);
}

}  // namespace ragft
