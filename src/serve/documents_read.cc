// GET /v1/documents/{id} (documents_read.h): a document as the request's identity may read it.
#include "serve/documents_read.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/utf8.h"
#include "index/access.h"
#include "retrieve/searcher.h"
#include "serve/handlers.h"

namespace ragft::serve {

using nlohmann::json;

Result<std::optional<DocumentRecord>> read_document_as(Store& store, const Identity& identity,
                                                       const std::string& ext_id) {
  // The identity as retrieval resolves it (an unknown principal fails here, as its searches do).
  SearchRequest as;
  as.tenant = identity.tenant;
  as.principal = identity.principal;
  RAGFT_TRY(FilterSpec filter, make_filter(store, as));
  RAGFT_TRY(std::optional<DocumentRecord> doc, store.find(identity.tenant, ext_id));
  if (!doc) return std::optional<DocumentRecord>();
  // The document's access class, tested as the index tests each chunk's.
  AccessClass cls{doc->tenant, doc->acl};
  std::sort(cls.acl.begin(), cls.acl.end());
  cls.acl.erase(std::unique(cls.acl.begin(), cls.acl.end()), cls.acl.end());
  if (!compile_filter(filter, {cls}).class_admitted(0)) return std::optional<DocumentRecord>();
  return doc;
}

json document_json(const DocumentRecord& doc) {
  json metadata = json::parse(doc.metadata_json, nullptr, /*allow_exceptions=*/false);
  if (!metadata.is_object()) metadata = json::object();
  const auto length = static_cast<std::int64_t>(char_offset(doc.text, doc.text.size()));
  json out = {{"object", "document"}, {"id", doc.ext_id},     {"title", doc.title},
              {"source", doc.source}, {"format", doc.format}, {"version", doc.version},
              {"metadata", std::move(metadata)}, {"text", doc.text}, {"char_length", length}};
  if (!doc.page_starts.empty()) {
    json pages = json::array();
    for (std::size_t i = 0; i < doc.page_starts.size(); ++i) {
      const std::int64_t end = i + 1 < doc.page_starts.size() ? doc.page_starts[i + 1] : length;
      pages.push_back({{"page", i + 1}, {"char_start", doc.page_starts[i]}, {"char_end", end}});
    }
    out["pages"] = std::move(pages);
  }
  return out;
}

Reply handle_document_get(const ServeContext& ctx, const RequestContext& req) {
  if (!ctx.components.workspaces) {
    return Reply::error(bad_request("", "this server has no workspace to read documents from; start `ragft serve` "
                                    "with --data DIR holding an indexed workspace",
                                    "no_workspace"));
  }
  const std::string id(req.param("id"));
  auto lease = ctx.components.workspaces->acquire();
  if (!lease.ok()) return Reply::error(api_error_from(lease.error(), ErrorSource::kServer, "workspace"));
  auto doc = read_document_as((*lease)->store(), req.identity, id);
  if (!doc.ok()) return Reply::error(api_error_from(doc.error(), ErrorSource::kServer, "document"));
  if (!*doc) {
    // One answer for missing, another tenant's and ACL-refused documents alike.
    return Reply::error(ApiError{404, fmt::format("no document '{}' that this identity may read", id),
                                 "invalid_request_error", "id", "document_not_found"});
  }
  return Reply::json(document_json(**doc).dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace ragft::serve
