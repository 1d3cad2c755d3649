// CSV parser (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes).
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/utf8.h"
#include "ingest/formats.h"

namespace ragft::ingest_internal {

namespace {

struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;       // 1-based line where the record starts
  bool unterminated = false;  // a quoted field ran to the end of the input
};

// Splits LF-terminated text into records. Blank lines are skipped.
std::vector<CsvRecord> split_records(std::string_view text, char delim) {
  std::vector<CsvRecord> records;
  std::size_t i = 0, line = 1;
  const std::size_t n = text.size();
  while (i < n) {
    if (text[i] == '\n') {  // blank line
      ++i;
      ++line;
      continue;
    }
    CsvRecord rec;
    rec.line = line;
    std::string field;
    bool done = false;
    while (!done) {
      if (i < n && text[i] == '"') {
        ++i;
        bool closed = false;
        while (i < n) {
          char c = text[i++];
          if (c == '"') {
            if (i < n && text[i] == '"') {
              field.push_back('"');
              ++i;
            } else {
              closed = true;
              break;
            }
          } else {
            if (c == '\n') ++line;
            field.push_back(c);
          }
        }
        if (!closed) rec.unterminated = true;
        // Characters after the closing quote, before the delimiter, are kept (lenient).
        while (i < n && text[i] != delim && text[i] != '\n') field.push_back(text[i++]);
      } else {
        while (i < n && text[i] != delim && text[i] != '\n') field.push_back(text[i++]);
      }
      rec.fields.push_back(std::move(field));
      field.clear();
      if (i < n && text[i] == delim) {
        ++i;
      } else {
        if (i < n) {  // '\n'
          ++i;
          ++line;
        }
        done = true;
      }
    }
    records.push_back(std::move(rec));
  }
  return records;
}

std::string list_columns(const std::vector<std::string>& header) {
  std::string s;
  for (const auto& h : header) {
    if (!s.empty()) s += ", ";
    s += '"' + h + '"';
  }
  return s;
}

}  // namespace

Result<LoadResult> load_csv(std::string_view text, std::string_view name,
                            const LoadOptions& options) {
  std::vector<CsvRecord> records = split_records(text, options.csv_delimiter);
  if (records.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: empty file", name);
  std::vector<std::string> header = std::move(records[0].fields);
  for (auto& h : header) h = sanitize_utf8(trim(h));
  auto find_col = [&](const std::string& col) -> int {
    for (std::size_t k = 0; k < header.size(); ++k) {
      if (header[k] == col) return static_cast<int>(k);
    }
    return -1;
  };
  int id_col = -1;
  if (!options.csv_id_column.empty()) {
    id_col = find_col(options.csv_id_column);
    if (id_col < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: no id column \"{}\" in the header; available columns: {} (choose one "
                        "with the csv id column option, or leave it empty to number rows)",
                        name, options.csv_id_column, list_columns(header));
    }
  }
  int text_col = find_col(options.csv_text_column);
  if (text_col < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: no text column \"{}\" in the header; available columns: {}", name,
                      options.csv_text_column, list_columns(header));
  }
  int title_col = options.csv_title_column.empty() ? -1 : find_col(options.csv_title_column);

  LoadResult result;
  std::unordered_set<std::string> ids;
  std::string first_problem;
  auto warn = [&](std::size_t line, std::string reason) {
    std::string w = fmt::format("{}:{}: {}", name, line, reason);
    if (first_problem.empty()) first_problem = w;
    result.warnings.push_back(std::move(w));
  };
  std::size_t row = 0;
  for (std::size_t r = 1; r < records.size(); ++r) {
    CsvRecord& rec = records[r];
    ++row;
    if (rec.unterminated) {
      warn(rec.line, "unterminated quoted field; record skipped");
      continue;
    }
    if (rec.fields.size() != header.size()) {
      warn(rec.line, fmt::format("{} field(s), the header has {}; record skipped",
                                 rec.fields.size(), header.size()));
      continue;
    }
    bool bad_utf8 = false;
    for (auto& f : rec.fields) {
      if (!is_valid_utf8(f)) {
        f = sanitize_utf8(f);
        bad_utf8 = true;
      }
    }
    if (bad_utf8) warn(rec.line, "invalid UTF-8 replaced with U+FFFD");
    LoadedDocument doc;
    doc.ext_id = id_col >= 0 ? std::string(trim(rec.fields[id_col])) : std::to_string(row);
    if (doc.ext_id.empty()) {
      warn(rec.line, "empty id; record skipped");
      continue;
    }
    doc.text = std::move(rec.fields[text_col]);
    if (title_col >= 0) doc.title = std::move(rec.fields[title_col]);
    if (is_blank(doc.text) && is_blank(doc.title)) {
      warn(rec.line, "empty text and title; record skipped");
      continue;
    }
    if (!ids.insert(doc.ext_id).second) {
      warn(rec.line, fmt::format("duplicate id \"{}\"; record skipped", doc.ext_id));
      continue;
    }
    nlohmann::json meta = nlohmann::json::object();
    for (std::size_t k = 0; k < header.size(); ++k) {
      const int kk = static_cast<int>(k);
      if (kk == id_col || kk == text_col || kk == title_col) continue;
      meta[header[k]] = std::move(rec.fields[k]);
    }
    doc.metadata_json = meta.dump();
    result.documents.push_back(std::move(doc));
  }
  if (result.documents.empty()) {
    return make_error(
        ErrorCode::kInvalidArgument, "{}: no valid row in {} data row(s){}{}", name, row,
        first_problem.empty() ? "" : " (first: ", first_problem.empty() ? "" : first_problem + ")");
  }
  return result;
}

}  // namespace ragft::ingest_internal
