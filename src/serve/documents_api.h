// The wire format of the document write routes (httplib-free, so it is tested without sockets).
// Writes need an admin identity (an admin API key; without keys, a server running as the
// tenant's owner, i.e. without --as) and go to the identity's tenant; the server's Ingestor
// (ingestor.h) commits them: a 200 means the writes are durable in the store and every search
// that starts after it sees them.
//
// POST /v1/documents  {"documents": [{"id": string (required, <= 1024 bytes),
//                                     "text": string (required, non-empty),
//                                     "format": "txt" (default) | "md" | "html",
//                                     "title": string (default: the md/html title, else the id),
//                                     "metadata": {key: string value},
//                                     "acl": [group, ...] (default: everyone in the tenant),
//                                     "source": string (default "api:<id>")}, ...]}
//   -> {"object": "documents.write", "documents": [{"id", "status": "created" | "updated" |
//      "unchanged", "chunks"}], "seq", "indexed", "took_ms"}
//   All of a request's documents are written in one transaction: all or none. The same id twice
//   in one request is refused (400 naming the second).
// POST /v1/documents/delete {"ids": [string, ...]}
// DELETE /v1/documents/{id}
//   -> {"object": "documents.write", "documents": [{"id", "status": "deleted" | "not_found"}], "seq",
//      "indexed", "took_ms"}; DELETE of a missing id is a 404 (the batch route reports not_found).
//
// Field errors are 400s naming the field ("documents[3].metadata.lang"); more than
// ServeLimits::max_documents documents or ids -> 400 limit_exceeded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/chunker.h"
#include "serve/api_error.h"
#include "serve/ingestor.h"
#include "serve/limits.h"

namespace ragft::serve {

struct ParsedWrites {
  std::vector<DocumentWrite> writes;  // valid when !error
  std::optional<ApiError> error;
};

// Parses, loads (md/html through the ingest parsers) and chunks the documents of a POST
// /v1/documents body for `tenant`.
ParsedWrites parse_upsert_request(std::string_view body, const std::string& tenant, const ServeLimits& limits,
                                  const ChunkerOptions& chunker);
// The ids of a POST /v1/documents/delete body, as deletes in `tenant`.
ParsedWrites parse_delete_request(std::string_view body, const std::string& tenant, const ServeLimits& limits);

}  // namespace ragft::serve
