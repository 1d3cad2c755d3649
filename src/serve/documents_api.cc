#include "serve/documents_api.h"

#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ingest/loader.h"

namespace ragft::serve {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxIdBytes = 1024;

std::optional<ApiError> check_id(const std::string& param, const json& value) {
  if (!value.is_string()) return wrong_type(param, "a string", value);
  const auto& id = value.get_ref<const std::string&>();
  if (id.empty()) return bad_request(param, fmt::format("{} is empty", param));
  if (id.size() > kMaxIdBytes) {
    return bad_request(param, fmt::format("{} is {} bytes, over the limit of {}", param, id.size(), kMaxIdBytes),
                       "limit_exceeded");
  }
  return std::nullopt;
}

// One element of "documents" -> an upsert of `tenant`.
std::optional<ApiError> parse_document(const json& d, const std::string& at, const std::string& tenant,
                                       const ChunkerOptions& chunker, DocumentWrite& out) {
  if (!d.is_object()) return wrong_type(at, "an object", d);
  const json* text = nullptr;
  Format format = Format::kTxt;
  NewDocument base;
  base.tenant = tenant;
  json metadata = json::object();
  std::vector<std::string> acl;
  bool has_id = false;
  for (const auto& [key, value] : d.items()) {
    const std::string param = at + "." + key;
    if (key == "id") {
      if (auto e = check_id(param, value)) return e;
      base.ext_id = value.get<std::string>();
      has_id = true;
    } else if (key == "text") {
      if (!value.is_string()) return wrong_type(param, "a string", value);
      text = &value;
    } else if (key == "format") {
      if (!value.is_string()) return wrong_type(param, "a string", value);
      const auto f = parse_format(value.get<std::string>());
      if (!f || (*f != Format::kTxt && *f != Format::kMarkdown && *f != Format::kHtml)) {
        return bad_request(param, fmt::format("{} is \"{}\"; the API takes txt, md or html (index pdf, jsonl and csv "
                                              "files with `ragft index`)",
                                              param, value.get<std::string>()));
      }
      format = *f;
    } else if (key == "title") {
      if (!value.is_string()) return wrong_type(param, "a string", value);
      base.title = value.get<std::string>();
    } else if (key == "source") {
      if (!value.is_string()) return wrong_type(param, "a string", value);
      base.source = value.get<std::string>();
    } else if (key == "metadata") {
      if (!value.is_object()) return wrong_type(param, "an object of string values", value);
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) return wrong_type(param + "." + mk, "a string", mv);
      }
      metadata = value;
    } else if (key == "acl") {
      if (!value.is_array()) return wrong_type(param, "an array of group names", value);
      for (std::size_t i = 0; i < value.size(); ++i) {
        const json& g = value[i];
        const std::string gp = fmt::format("{}[{}]", param, i);
        if (!g.is_string()) return wrong_type(gp, "a string", g);
        if (g.get_ref<const std::string&>().empty()) return bad_request(gp, fmt::format("{} is empty", gp));
        acl.push_back(g.get<std::string>());
      }
    } else if (key == "tenant") {
      return bad_request(param, fmt::format("{}: documents are written to the tenant of the API key", param),
                         "not_allowed");
    } else {
      return bad_request(param,
                         fmt::format("unknown field {} (known: id, text, format, title, metadata, acl, source)", param),
                         "unknown_field");
    }
  }
  if (!has_id) return bad_request(at + ".id", fmt::format("{}.id is required", at), "missing_field");
  if (text == nullptr) return bad_request(at + ".text", fmt::format("{}.text is required", at), "missing_field");
  const std::string text_param = at + ".text";
  auto loaded = load_bytes(text->get_ref<const std::string&>(), format, text_param);
  if (!loaded.ok()) return bad_request(text_param, loaded.error().message);
  if (loaded->documents.size() != 1) {
    return bad_request(text_param, fmt::format("{} holds no document text", text_param));
  }
  LoadedDocument& doc = loaded->documents.front();
  doc.metadata_json = metadata.dump();
  doc.acl = std::move(acl);
  if (base.source.empty()) base.source = fmt::format("api:{}", base.ext_id);
  base.format = format_name(format);
  if (base.title.empty() && doc.title.empty()) base.title = base.ext_id;
  auto prepared = prepare_document(std::move(doc), std::move(base), chunker);
  if (!prepared.ok()) return bad_request(text_param, fmt::format("{}: {}", text_param, prepared.error().message));
  out.kind = DocumentWrite::Kind::kUpsert;
  out.upsert = std::move(*prepared);
  return std::nullopt;
}

// The array under `field` of a body that must hold only that field.
std::optional<ApiError> body_array(std::string_view body, const char* field, std::size_t max, json& j,
                                   const json*& array) {
  if (auto e = parse_json_object(body, j)) return e;
  array = nullptr;
  for (const auto& [key, value] : j.items()) {
    if (key != field) {
      return bad_request(key, fmt::format("unknown field {} (known: {})", key, field), "unknown_field");
    }
    if (!value.is_array()) return wrong_type(key, "an array", value);
    array = &value;
  }
  if (array == nullptr) return bad_request(field, fmt::format("{} is required", field), "missing_field");
  if (array->empty()) return bad_request(field, fmt::format("{} is empty", field));
  if (array->size() > max) {
    return bad_request(field, fmt::format("{} holds {} entries, over the limit of {} per request", field,
                                          array->size(), max),
                       "limit_exceeded");
  }
  return std::nullopt;
}

}  // namespace

ParsedWrites parse_upsert_request(std::string_view body, const std::string& tenant, const ServeLimits& limits,
                                  const ChunkerOptions& chunker) {
  ParsedWrites out;
  json j;
  const json* docs = nullptr;
  if (auto e = body_array(body, "documents", limits.max_documents, j, docs)) {
    out.error = std::move(e);
    return out;
  }
  std::unordered_set<std::string> seen;
  out.writes.resize(docs->size());
  for (std::size_t i = 0; i < docs->size(); ++i) {
    const std::string at = fmt::format("documents[{}]", i);
    if (auto e = parse_document((*docs)[i], at, tenant, chunker, out.writes[i])) {
      out.error = std::move(e);
      return out;
    }
    if (!seen.insert(out.writes[i].upsert.doc.ext_id).second) {
      out.error = bad_request(at + ".id", fmt::format("{}.id \"{}\" appears earlier in this request", at,
                                                      out.writes[i].upsert.doc.ext_id));
      return out;
    }
  }
  return out;
}

ParsedWrites parse_delete_request(std::string_view body, const std::string& tenant, const ServeLimits& limits) {
  ParsedWrites out;
  json j;
  const json* ids = nullptr;
  if (auto e = body_array(body, "ids", limits.max_documents, j, ids)) {
    out.error = std::move(e);
    return out;
  }
  for (std::size_t i = 0; i < ids->size(); ++i) {
    if (auto e = check_id(fmt::format("ids[{}]", i), (*ids)[i])) {
      out.error = std::move(e);
      return out;
    }
    DocumentWrite w;
    w.kind = DocumentWrite::Kind::kDelete;
    w.tenant = tenant;
    w.ext_id = (*ids)[i].get<std::string>();
    out.writes.push_back(std::move(w));
  }
  return out;
}

}  // namespace ragft::serve
