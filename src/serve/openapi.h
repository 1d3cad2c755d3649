// The OpenAPI 3.1 description of `ragft serve` (GET /openapi.json, no key needed): every route
// of the server's table with its request and response shapes, the limits of this server's
// options, and the bearer-key security scheme. tests/serve checks that its paths are exactly
// the server's routes.
#pragma once

#include <nlohmann/json.hpp>

#include "serve/server.h"

namespace ragft::serve {

nlohmann::json openapi_document(const ServeOptions& options);

}  // namespace ragft::serve
