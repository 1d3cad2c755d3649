// JSON Lines parser (BEIR corpus records and ragft records) and gzip decompression.
#include <zlib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/utf8.h"
#include "core/lines.h"
#include "ingest/formats.h"

namespace ragft::ingest_internal {

Result<std::string> gunzip(std::string_view data, std::string_view name, std::uint64_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return make_error(ErrorCode::kInternal, "{}: zlib inflateInit2 failed", name);
  }
  std::string out;
  std::size_t produced = 0;
  std::size_t consumed = 0;
  int rc = Z_OK;
  while (true) {
    if (out.size() - produced < (1u << 16)) {
      out.resize(
          std::max<std::size_t>(out.size() * 2, std::max<std::size_t>(data.size() * 4, 1u << 20)));
    }
    const std::size_t in_chunk = std::min<std::size_t>(data.size() - consumed, 1u << 30);
    const std::size_t out_chunk = std::min<std::size_t>(out.size() - produced, 1u << 30);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + consumed));
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out_chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (produced > max_bytes) {
      inflateEnd(&zs);
      return make_error(ErrorCode::kResourceExhausted,
                        "{}: decompressed size over the limit of {} bytes (raise max_file_bytes)",
                        name, max_bytes);
    }
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members: continue with the next one, if any.
      std::string_view rest = data.substr(consumed);
      if (rest.size() >= 2 && static_cast<unsigned char>(rest[0]) == 0x1f &&
          static_cast<unsigned char>(rest[1]) == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_out > 0) {  // no progress possible: input ran out
      inflateEnd(&zs);
      return make_error(ErrorCode::kCorrupt, "{}: truncated gzip data after {} input bytes", name,
                        consumed);
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string msg = zs.msg != nullptr ? zs.msg : "error";
      inflateEnd(&zs);
      return make_error(ErrorCode::kCorrupt, "{}: damaged gzip data ({})", name, msg);
    }
  }
  out.resize(produced);
  inflateEnd(&zs);
  return out;
}

namespace {

// Returns the reason the record is rejected, or empty when `doc` was filled in.
std::string parse_record(const nlohmann::json& j, std::size_t line_no, LoadedDocument& doc) {
  if (!j.is_object()) return "not a JSON object";
  auto text = j.find("text");
  if (text == j.end()) return "missing field \"text\"";
  if (!text->is_string()) return "field \"text\" is not a string";
  doc.text = text->get<std::string>();
  auto title = j.find("title");
  if (title != j.end() && !title->is_null()) {
    if (!title->is_string()) return "field \"title\" is not a string";
    doc.title = title->get<std::string>();
  }
  auto id = j.find("_id");
  if (id == j.end()) id = j.find("id");
  if (id == j.end() || id->is_null()) {
    doc.ext_id = std::to_string(line_no);
  } else if (id->is_string()) {
    doc.ext_id = id->get<std::string>();
  } else if (id->is_number_integer()) {
    doc.ext_id = id->dump();
  } else {
    return "field \"id\" is not a string or an integer";
  }
  if (doc.ext_id.empty()) return "empty id";
  auto acl = j.find("acl");
  if (acl != j.end() && !acl->is_null()) {
    if (!acl->is_array()) return "field \"acl\" is not an array of strings";
    for (const auto& a : *acl) {
      if (!a.is_string()) return "field \"acl\" is not an array of strings";
      doc.acl.push_back(a.get<std::string>());
    }
  }
  auto meta = j.find("metadata");
  if (meta != j.end() && !meta->is_null()) {
    if (!meta->is_object()) return "field \"metadata\" is not an object";
    doc.metadata_json = meta->dump();
  }
  if (is_blank(doc.text) && is_blank(doc.title)) return "empty text and title";
  if (doc.text.find('\r') != std::string::npos) doc.text = normalize_newlines(doc.text);
  return {};
}

}  // namespace

Result<LoadResult> load_jsonl(std::string_view text, std::string_view name) {
  LoadResult result;
  std::unordered_set<std::string> ids;
  std::size_t line_no = 0;
  std::size_t records = 0;
  std::string first_problem;
  auto warn = [&](std::string reason) {
    std::string w = fmt::format("{}:{}: {}", name, line_no, reason);
    if (first_problem.empty()) first_problem = w;
    result.warnings.push_back(std::move(w));
  };
  LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    line_no = lines.line_no();
    if (is_blank(line)) continue;
    ++records;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() && !is_valid_utf8(line)) {
      // The parser rejects invalid UTF-8 in strings: keep the record, with U+FFFD.
      warn("invalid UTF-8 replaced with U+FFFD");
      j = nlohmann::json::parse(sanitize_utf8(line), nullptr, /*allow_exceptions=*/false);
    }
    if (j.is_discarded()) {
      warn("not valid JSON");
      continue;
    }
    LoadedDocument doc;
    std::string problem;
    try {
      problem = parse_record(j, line_no, doc);
    } catch (const std::exception& e) {
      problem = e.what();
    }
    if (!problem.empty()) {
      warn(problem + "; record skipped");
      continue;
    }
    if (!ids.insert(doc.ext_id).second) {
      warn(fmt::format("duplicate id \"{}\"; record skipped", doc.ext_id));
      continue;
    }
    result.documents.push_back(std::move(doc));
  }
  if (result.documents.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: no valid record in {} line(s) (first: {})",
                      name, records, first_problem);
  }
  return result;
}

}  // namespace ragft::ingest_internal
