// What a route of the server is: a handler from a request (its identity, already resolved, and
// body) to a Reply. Handlers know nothing of HTTP libraries; server.cc adapts them to
// cpp-httplib and registers every route in one place (Server's route table).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serve/api_error.h"
#include "serve/identity.h"

namespace ragft::serve {

// Values of a route's path parameters ("/v1/documents/{id}": {"id", "docs/a.md"}), URL-decoded,
// in the order of the route's path.
using PathParams = std::vector<std::pair<std::string, std::string>>;

struct RequestContext {
  const Identity& identity;
  const RequestMeta& meta;
  const std::string& body;  // at most ServeOptions::max_body_bytes
  const PathParams& params = no_params();

  // The value of path parameter `name` ("" when the route has none of that name).
  std::string_view param(std::string_view name) const {
    for (const auto& [key, value] : params) {
      if (key == name) return value;
    }
    return {};
  }
  static const PathParams& no_params() {
    static const PathParams none;
    return none;
  }
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Set for a streamed reply (text/event-stream; status and content_type as above, body
  // ignored): called once after the headers are sent, it writes the body piece by piece through
  // `write`, which returns false once the client has gone (the producer then stops early).
  std::function<void(const std::function<bool(std::string_view)>& write)> stream;
  int retry_after_s = 0;  // > 0: sent as Retry-After (a 429 or 503)

  static Reply json(std::string body, int status = 200) { return Reply{status, "application/json", std::move(body), {}}; }
  static Reply error(const ApiError& e) { return Reply{e.status, "application/json", api_error_body(e), {}}; }
};

using Handler = std::function<Reply(const RequestContext&)>;

}  // namespace ragft::serve
