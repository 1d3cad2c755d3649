// GET /v1/documents/{id}: one stored document, as the request's identity may read it (the
// route the web page uses to show a cited span in its document). httplib-free, so it is tested
// without sockets.
//
//   -> {"object": "document", "id", "title", "source", "format", "version",
//       "metadata": {key: value}, "text", "char_length", "pages"?: [{"page", "char_start",
//       "char_end"}]}
//
// `text` is the normalised text every offset of the API refers to (search hits, ask sources,
// chat citations): char_start/char_end count code points into it, and char_length is its length
// in code points. "pages" is present for paged (PDF) documents only: each page's span, 1-based.
// The document's ACL and content hash are not shown.
//
// Who may read what is retrieval's rule, reused rather than re-derived: the identity is resolved
// by make_filter (retrieve/searcher.h: the tenant, and with a principal its groups plus
// "user:<name>") and the document's (tenant, ACL) is tested by compile_filter (index/access.h),
// exactly as the index tests a chunk. A document of another tenant, one whose ACL admits none of
// the principal's groups, and a missing one are all the same "not found": the reply says nothing
// of whether the id exists.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "serve/identity.h"
#include "store/store.h"

namespace ragft::serve {

// The document `ext_id` of the identity's tenant when the identity may read it; nullopt when it
// does not exist or may not be read (alike). An unknown principal -> kNotFound naming it (as a
// search by that identity); store failures as the store reports them.
Result<std::optional<DocumentRecord>> read_document_as(Store& store, const Identity& identity,
                                                       const std::string& ext_id);

// The response body above. Invalid UTF-8 never reaches it (the store holds normalised text);
// metadata that is not a JSON object is shown as {}.
nlohmann::json document_json(const DocumentRecord& doc);

}  // namespace ragft::serve
