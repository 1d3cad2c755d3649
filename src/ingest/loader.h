// Format loaders: bytes of a file -> documents with normalised UTF-8 text and structure hints.
// Supported: txt, md (cmark), html (gumbo; script/style/nav/header/footer/aside stripped),
// pdf (poppler-cpp; page starts kept), jsonl (BEIR corpus {_id,title,text,metadata} and
// {id,title,text,acl,metadata}), csv (chosen id/text/title columns), and .jsonl.gz.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

enum class Format { kTxt, kMarkdown, kHtml, kPdf, kJsonl, kCsv };

const char* format_name(Format f);  // "txt", "md", "html", "pdf", "jsonl", "csv"
// By extension (.txt .text .md .markdown .html .htm .pdf .jsonl .jsonl.gz .ndjson .csv);
// nullopt when unknown.
std::optional<Format> detect_format(const std::filesystem::path& path);
std::optional<Format> parse_format(std::string_view name);

struct LoadOptions {
  std::uint64_t max_file_bytes = 1ull << 30;  // larger files fail with kResourceExhausted
  // csv: column names (header row required). Empty id column: the row number is the id.
  std::string csv_id_column = "id";
  std::string csv_text_column = "text";
  std::string csv_title_column = "title";  // optional: missing column -> empty titles
  char csv_delimiter = ',';
};

struct LoadedDocument {
  std::string ext_id;  // for single-document formats: empty (the caller uses the path)
  std::string title;   // md: first heading; html: <title> or first <h1>; pdf: metadata title
  std::string text;    // valid UTF-8; \n\n separates paragraphs and headings
  std::string metadata_json = "{}";
  std::vector<std::string> acl;
  // Byte offsets into `text` where a heading starts (chunker prefers to break there).
  std::vector<std::uint32_t> heading_starts;
  // Byte offsets into `text` where each PDF page starts (page n starts at page_starts[n-1]).
  std::vector<std::uint32_t> page_starts;
};

struct LoadResult {
  std::vector<LoadedDocument> documents;
  // Record-level problems in multi-record files ("line 12: missing field text"); the file
  // itself still loads.
  std::vector<std::string> warnings;
};

// Loads a file. Whole-file problems are errors whose message names the file and the reason:
// empty file (kInvalidArgument), binary content (kInvalidArgument), invalid UTF-8
// (kInvalidArgument, with the byte offset), truncated/damaged PDF (kCorrupt), over
// max_file_bytes (kResourceExhausted, checked before reading), unreadable (kIo / kNotFound).
// Also: unknown extension (kUnsupported), md/html without any visible text (kInvalidArgument),
// encrypted PDF or PDF without a text layer (kUnsupported). jsonl and csv do not fail on
// invalid UTF-8: the record's bad bytes become U+FFFD and a warning names the line.
// ext_id when a record has none: the line number (jsonl without _id/id), or the data row number
// (csv with an empty csv_id_column).
Result<LoadResult> load_file(const std::filesystem::path& path, const LoadOptions& options = {});
// Same, from bytes already read; `name` is used in messages.
Result<LoadResult> load_bytes(std::string_view bytes, Format format, std::string_view name,
                              const LoadOptions& options = {});

}  // namespace ragft
