// Who a request runs as, and the seam where authentication plugs in.
//
// Every request of the server is resolved to an Identity before its route runs; retrieval then
// sees exactly what that identity may read (the tenant's documents, and with a principal only
// those whose ACL admits one of its groups: retrieve/searcher.h). A request body can never name
// or widen its identity: the ragft request extension has no tenant or principal field
// (chat_api.h rejects them).
//
// Without an Authenticator every request runs as the server's default identity, which `ragft
// serve` takes from --tenant/--as exactly as `ragft search` and `ragft ask` do (tenant "default",
// no principal: the workspace's owner). With API keys (api_keys.h) each request runs as its key's
// tenant and principal; the principal's groups are read from the store at each search.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace ragft::serve {

struct Identity {
  std::string tenant = "default";
  // nullopt: the workspace's owner (every document of the tenant, as the CLI without --as).
  // Otherwise a principal of the store's principals table, resolved at each search (unknown ->
  // the request fails with 404).
  std::optional<std::string> principal;
  // An admin key (api_keys.h). Carried for the admin routes to come; it widens no retrieval.
  bool admin = false;
  // The API key's public lookup id ("" without a key): what rate limits count by.
  std::string key_id;
};

// What an Authenticator may look at: the request line and the headers it needs (the server
// copies them from the HTTP request; never logged).
struct RequestMeta {
  std::string method;         // "GET", "POST"
  std::string path;           // "/v1/chat/completions"
  std::string remote_addr;
  std::string authorization;  // the Authorization header ("" when absent)
};

// Resolves the identity of each request. Implementations are thread-safe (called concurrently
// from the request threads). An error refuses the request: kInvalidArgument, kNotFound and
// kCancelled -> 401 (authentication_error, the error's message); any other code -> 500.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<Identity> authenticate(const RequestMeta& request) const = 0;
};

}  // namespace ragft::serve
