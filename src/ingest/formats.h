// Internal to the ingest module: one parser per format, plus the text helpers they share.
// load_bytes() (loader.cc) runs the whole-file checks (size, empty, binary, UTF-8, BOM, line
// endings) before calling these, so the text parsers receive valid UTF-8 with LF line endings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ingest/loader.h"

namespace ragft::ingest_internal {

// Parsers. `name` is used in messages; `text` is valid UTF-8 with LF endings and no BOM
// (except for load_pdf, which takes the raw file bytes, and load_jsonl/load_csv, which take
// text that may hold invalid UTF-8 in places: they sanitise per record and warn).
Result<LoadResult> load_txt(std::string_view text, std::string_view name);
Result<LoadResult> load_markdown(std::string_view text, std::string_view name);
Result<LoadResult> load_html(std::string_view text, std::string_view name);
Result<LoadResult> load_pdf(std::string_view bytes, std::string_view name);
Result<LoadResult> load_jsonl(std::string_view text, std::string_view name);
Result<LoadResult> load_csv(std::string_view text, std::string_view name,
                            const LoadOptions& options);

// Decompresses gzip data (one or more members). Output over `max_bytes` -> kResourceExhausted;
// damaged data -> kCorrupt.
Result<std::string> gunzip(std::string_view data, std::string_view name, std::uint64_t max_bytes);

// CRLF and lone CR -> LF.
std::string normalize_newlines(std::string_view s);
// True for the ASCII whitespace bytes (space, \t, \n, \v, \f, \r).
inline bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_blank(std::string_view s);
std::string_view trim(std::string_view s);

// Builds a document text from paragraphs joined by "\n\n", tracking heading starts.
class ParagraphWriter {
 public:
  // Appends a paragraph (trimmed; blank ones are dropped). Returns false when dropped.
  bool add(std::string_view paragraph, bool is_heading = false);
  std::string& text() { return text_; }
  std::vector<std::uint32_t>& heading_starts() { return heading_starts_; }

 private:
  std::string text_;
  std::vector<std::uint32_t> heading_starts_;
};

}  // namespace ragft::ingest_internal
