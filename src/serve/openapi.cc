#include "serve/openapi.h"

namespace ragft::serve {

namespace {

using nlohmann::json;

json ref(const char* name) { return {{"$ref", std::string("#/components/schemas/") + name}}; }

json json_body(const json& schema) { return {{"required", true}, {"content", {{"application/json", {{"schema", schema}}}}}}; }

json json_response(const char* description, const json& schema) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
}

json html_response(const char* description) {
  return {{"description", description}, {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}};
}

json with_path_param(json op, const char* name, const char* description) {
  op["parameters"] = json::array({json{{"name", name},
                                       {"in", "path"},
                                       {"required", true},
                                       {"description", description},
                                       {"schema", {{"type", "string"}}}}});
  return op;
}

json errors() {
  const json e = json_response("an OpenAI-style error naming the field", ref("Error"));
  return {{"400", e}, {"401", e}, {"413", e}, {"429", json_response("the key's rate limit (--rate-limit; code rate_limited, "
                                                                    "a Retry-After header)",
                                                                    ref("Error"))},
          {"500", e}, {"502", e}};
}

json operation(const char* summary, const json& responses, const json& body = nullptr, bool secured = true) {
  json op = {{"summary", summary}, {"responses", responses}};
  if (!body.is_null()) op["requestBody"] = json_body(body);
  if (!secured) op["security"] = json::array();
  return op;
}

json with_errors(json ok) {
  const json all = errors();  // named: items() of a temporary would outlive it
  for (const auto& [code, r] : all.items()) ok[code] = r;
  return ok;
}

// ... and the 504 of a model call past the time limit (--max-seconds).
json with_model_errors(json ok) {
  ok = with_errors(std::move(ok));
  ok["504"] = json_response("the chat model did not finish within the time limit (code timeout)", ref("Error"));
  return ok;
}

}  // namespace

json openapi_document(const ServeOptions& o) {
  const ServeLimits& l = o.limits;
  const json filter = {{"type", "object"},
                       {"additionalProperties", {{"type", "string"}}},
                       {"description", "metadata equality filters, all must hold"}};
  const json mode = {{"type", "string"}, {"enum", {"bm25", "dense", "hybrid"}}, {"default", "bm25"}};
  const json k = {{"type", "integer"}, {"minimum", 1}, {"maximum", l.max_k}};
  json schemas = {
      {"Error",
       {{"type", "object"},
        {"required", {"error"}},
        {"properties",
         {{"error",
           {{"type", "object"},
            {"properties",
             {{"message", {{"type", "string"}}},
              {"type", {{"type", "string"}}},
              {"param", {{"type", {"string", "null"}}, {"description", "the request field at fault"}}},
              {"code", {{"type", {"string", "null"}}}}}}}}}}}},
      {"ChatCompletionRequest",
       {{"type", "object"},
        {"required", {"messages"}},
        {"properties",
         {{"model", {{"type", "string"}}},
          {"messages",
           {{"type", "array"},
            {"minItems", 1},
            {"maxItems", l.max_messages},
            {"items",
             {{"type", "object"},
              {"required", {"role", "content"}},
              {"properties",
               {{"role", {{"type", "string"}, {"enum", {"system", "developer", "user", "assistant"}}}},
                {"content", {{"type", {"string", "array", "null"}}}}}}}}}},
          {"max_tokens", {{"type", "integer"}, {"minimum", 1}, {"maximum", l.max_tokens}}},
          {"max_completion_tokens", {{"type", "integer"}, {"minimum", 1}, {"maximum", l.max_tokens}}},
          {"temperature", {{"type", "number"}, {"minimum", 0}, {"maximum", 2}}},
          {"top_p", {{"type", "number"}, {"exclusiveMinimum", 0}, {"maximum", 1}}},
          {"stop", {{"type", {"string", "array"}}, {"maxItems", l.max_stop}}},
          {"seed", {{"type", "integer"}}},
          {"stream", {{"type", "boolean"}}},
          {"response_format", {{"type", "object"}}},
          {"ragft",
           {{"type", "object"},
            {"description", "ragft's extension: answer from the workspace, citing it"},
            {"properties", {{"rag", {{"type", "boolean"}}}, {"k", k}, {"filter", filter}, {"mode", mode}}}}}}}}},
      {"SearchRequest",
       {{"type", "object"},
        {"required", {"query"}},
        {"additionalProperties", false},
        {"properties", {{"query", {{"type", "string"}, {"minLength", 1}}}, {"k", k}, {"mode", mode}, {"filter", filter}}}}},
      {"AskRequest",
       {{"type", "object"},
        {"required", {"question"}},
        {"additionalProperties", false},
        {"properties",
         {{"question", {{"type", "string"}, {"minLength", 1}}},
          {"k", k},
          {"mode", mode},
          {"filter", filter},
          {"llm", {{"type", "boolean"}, {"default", false}}}}}}},
      {"DocumentsRequest",
       {{"type", "object"},
        {"required", {"documents"}},
        {"additionalProperties", false},
        {"properties",
         {{"documents",
           {{"type", "array"},
            {"minItems", 1},
            {"maxItems", l.max_documents},
            {"items",
             {{"type", "object"},
              {"required", {"id", "text"}},
              {"additionalProperties", false},
              {"properties",
               {{"id", {{"type", "string"}, {"minLength", 1}, {"maxLength", 1024}}},
                {"text", {{"type", "string"}, {"minLength", 1}}},
                {"format", {{"type", "string"}, {"enum", {"txt", "md", "html"}}, {"default", "txt"}}},
                {"title", {{"type", "string"}}},
                {"source", {{"type", "string"}}},
                {"metadata", filter},
                {"acl", {{"type", "array"}, {"items", {{"type", "string"}, {"minLength", 1}}}}}}}}}}}}}}},
      {"DeleteDocumentsRequest",
       {{"type", "object"},
        {"required", {"ids"}},
        {"additionalProperties", false},
        {"properties",
         {{"ids", {{"type", "array"}, {"minItems", 1}, {"maxItems", l.max_documents}, {"items", {{"type", "string"}}}}}}}}},
      {"Document",
       {{"type", "object"},
        {"required", {"object", "id", "title", "source", "format", "metadata", "text", "char_length"}},
        {"properties",
         {{"object", {{"type", "string"}, {"const", "document"}}},
          {"id", {{"type", "string"}}},
          {"title", {{"type", "string"}}},
          {"source", {{"type", "string"}}},
          {"format", {{"type", "string"}}},
          {"version", {{"type", "integer"}}},
          {"metadata", {{"type", "object"}}},
          {"text", {{"type", "string"}}},
          {"char_length", {{"type", "integer"}, {"description", "code points"}}},
          {"pages",
           {{"type", "array"},
            {"description", "paged (PDF) documents only"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"page", {{"type", "integer"}}},
                {"char_start", {{"type", "integer"}}},
                {"char_end", {{"type", "integer"}}}}}}}}}}}}},
      {"Object", {{"type", "object"}}},
  };
  json input = {{"oneOf", json::array({json{{"type", "string"}},
                                       json{{"type", "array"},
                                            {"items", {{"type", "string"}}},
                                            {"maxItems", l.max_embedding_inputs}}})}};
  json embed_ext = {{"type", "object"},
                    {"properties", {{"role", {{"type", "string"}, {"enum", {"query", "document"}}}}}}};
  schemas["EmbeddingsRequest"] = {
      {"type", "object"},
      {"required", {"input"}},
      {"properties",
       {{"model", {{"type", "string"}}},
        {"input", input},
        {"encoding_format", {{"type", "string"}, {"enum", {"float", "base64"}}}},
        {"ragft", embed_ext}}}};
  const json task_input = {{"oneOf", json::array({json{{"type", "string"}},
                                                   json{{"type", "array"},
                                                        {"items", {{"type", "string"}}},
                                                        {"minItems", 1},
                                                        {"maxItems", l.max_task_inputs}}})}};
  const json task_model = {{"type", "string"},
                           {"description", "a served model's name (GET /v1/models); optional when one of the task is served"}};
  schemas["ClassifyRequest"] = {
      {"type", "object"},
      {"required", {"input"}},
      {"additionalProperties", false},
      {"properties",
       {{"model", task_model},
        {"input", task_input},
        {"top_k", {{"type", "integer"}, {"minimum", 1}, {"description", "labels per input (default: all)"}}}}}};
  schemas["ExtractRequest"] = {{"type", "object"},
                               {"required", {"input"}},
                               {"additionalProperties", false},
                               {"properties", {{"model", task_model}, {"input", task_input}}}};
  json task_errors = with_errors({{"200", json_response("a list, one item per input", ref("Object"))}});
  task_errors["404"] = json_response("no served model of that name", ref("Error"));
  json paths = json{
      {"/health", {{"get", operation("Liveness and which components are loaded", {{"200", json_response("ok", ref("Object"))}},
                                     nullptr, false)}}},
      {"/openapi.json",
       {{"get", operation("This description", {{"200", json_response("OpenAPI 3.1", ref("Object"))}}, nullptr, false)}}},
      {"/metrics",
       {{"get", operation("Prometheus metrics (an admin key when keys are on)",
                          with_errors({{"200", {{"description", "Prometheus text format 0.0.4"},
                                                {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}},
                                       {"403", json_response("not an admin key", ref("Error"))}}))}}},
      {"/v1/models", {{"get", operation("The chat model, the embedder and the task models", with_errors({{"200", json_response("a list", ref("Object"))}}))}}},
      {"/v1/chat/completions",
       {{"post", operation("OpenAI chat completions: whole, streamed (text/event-stream), or RAG with the ragft field",
                           with_model_errors({{"200", json_response("chat.completion, or chat.completion.chunk events when streamed",
                                                              ref("Object"))}}),
                           ref("ChatCompletionRequest"))}}},
      {"/v1/embeddings",
       {{"post", operation("OpenAI embeddings", with_errors({{"200", json_response("a list of embeddings", ref("Object"))}}),
                           ref("EmbeddingsRequest"))}}},
      {"/v1/search",
       {{"post", operation("Ranked chunks as the key's identity (as `ragft --json search`)",
                           with_errors({{"200", json_response("search.result", ref("Object"))}}), ref("SearchRequest"))}}},
      {"/v1/ask",
       {{"post", operation("An answer with cited source spans (as `ragft --json ask`)",
                           with_model_errors({{"200", json_response("the answer", ref("Object"))}}), ref("AskRequest"))}}},
      {"/v1/classify",
       {{"post", operation("Labels and scores from a served classifier (as `ragft --json predict`)", task_errors,
                           ref("ClassifyRequest"))}}},
      {"/v1/extract",
       {{"post", operation("Entities with code-point offsets from a served extractor (as `ragft --json predict`)",
                           task_errors, ref("ExtractRequest"))}}},
      {"/", {{"get", operation("The web page: search, ask with clickable citations, decide reports (no key)",
                               {{"200", html_response("one self-contained HTML page")}}, nullptr, false)}}},
      {"/ui", {{"get", operation("The web page (as GET /)", {{"200", html_response("one self-contained HTML page")}},
                                 nullptr, false)}}},
      {"/v1/documents/{id}",
       {{"get", with_path_param(operation("A document as the key's identity may read it (text, title, source, "
                                          "metadata; offsets are code points into text)",
                                          with_errors({{"200", json_response("a document", ref("Document"))},
                                                       {"404", json_response("no such document readable by this "
                                                                             "identity (the same for all three)",
                                                                             ref("Error"))}})),
                                "id", "the document's id (it may hold slashes)")}}},
      {"/v1/reports",
       {{"get", operation("The decide reports under --reports (an admin key when keys are on)",
                          with_errors({{"200", json_response("a list", ref("Object"))},
                                       {"403", json_response("not an admin key", ref("Error"))}}))}}},
      {"/v1/reports/{name}",
       {{"get", with_path_param(operation("A decide report's report.json, as is (an admin key when keys are on)",
                                          with_errors({{"200", json_response("the report", ref("Object"))},
                                                       {"403", json_response("not an admin key", ref("Error"))},
                                                       {"404", json_response("no such report", ref("Error"))}})),
                                "name", "a report's name from GET /v1/reports")}}},
      {"/reports/{name}",
       {{"get", with_path_param(operation("A decide report's report.html, as is (an admin key when keys are on)",
                                          with_errors({{"200", html_response("the report page")},
                                                       {"403", json_response("not an admin key", ref("Error"))},
                                                       {"404", json_response("no such report", ref("Error"))}})),
                                "name", "a report's name from GET /v1/reports")}}},
  };
  const json admin_errors = {{"403", json_response("not an admin key", ref("Error"))}};
  auto writes = [&](json responses) {
    responses.update(admin_errors);
    return with_errors(std::move(responses));
  };
  paths["/v1/documents"] = {
      {"post", operation("Upsert documents into the key's tenant (admin); durable and searchable when answered",
                         writes({{"200", json_response("documents.write", ref("Object"))}}), ref("DocumentsRequest"))}};
  paths["/v1/documents/delete"] = {
      {"post", operation("Delete documents of the key's tenant by id (admin)",
                         writes({{"200", json_response("documents.write", ref("Object"))}}), ref("DeleteDocumentsRequest"))}};
  json delete_one = operation("Delete one document of the key's tenant (admin)",
                              writes({{"200", json_response("documents.write", ref("Object"))},
                                      {"404", json_response("no such document", ref("Error"))}}));
  delete_one["parameters"] = {{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}};
  paths["/v1/documents/{id}"]["delete"] = delete_one;
  return {{"openapi", "3.1.0"},
          {"info",
           {{"title", "ragft serve"},
            {"version", "1"},
            {"description", "OpenAI-compatible chat and embeddings, retrieval with per-document ACLs, and trained "
                            "classifiers and extractors (docs/serve.md)"}}},
          {"servers", {{{"url", "/"}}}},
          {"security", {{{"bearer", json::array()}}}},
          {"components",
           {{"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"description", "an API key from `ragft key create`"}}}}},
            {"schemas", schemas}}},
          {"paths", paths}};
}

}  // namespace ragft::serve
