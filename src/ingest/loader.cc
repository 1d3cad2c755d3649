// load_file / load_bytes: whole-file checks, then dispatch to the format parsers.
#include "ingest/loader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/check.h"
#include "core/env.h"
#include "ingest/formats.h"

namespace ragft {

namespace fs = std::filesystem;
using namespace ingest_internal;

const char* format_name(Format f) {
  switch (f) {
    case Format::kTxt: return "txt";
    case Format::kMarkdown: return "md";
    case Format::kHtml: return "html";
    case Format::kPdf: return "pdf";
    case Format::kJsonl: return "jsonl";
    case Format::kCsv: return "csv";
  }
  return "unknown";
}

namespace {

std::string lower_ascii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Byte offset of the first invalid UTF-8 sequence, or npos when `s` is valid.
std::size_t first_invalid_utf8(std::string_view s) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    unsigned char c = b(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (n - i < len) return i;
    if (b(i + 1) < lo || b(i + 1) > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if ((b(i + k) & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

bool is_text_format(Format f) { return f != Format::kPdf; }

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  std::string n = lower_ascii(std::string(name));
  if (n == "txt" || n == "text") return Format::kTxt;
  if (n == "md" || n == "markdown") return Format::kMarkdown;
  if (n == "html" || n == "htm") return Format::kHtml;
  if (n == "pdf") return Format::kPdf;
  if (n == "jsonl" || n == "ndjson" || n == "jsonl.gz") return Format::kJsonl;
  if (n == "csv") return Format::kCsv;
  return std::nullopt;
}

std::optional<Format> detect_format(const fs::path& path) {
  std::string name = lower_ascii(path.filename().string());
  if (ends_with(name, ".jsonl.gz") || ends_with(name, ".ndjson.gz")) return Format::kJsonl;
  std::string ext = path.extension().string();
  if (ext.size() < 2) return std::nullopt;
  return parse_format(std::string_view(ext).substr(1));
}

Result<LoadResult> load_bytes(std::string_view bytes, Format format, std::string_view name,
                              const LoadOptions& options) {
  if (bytes.size() > options.max_file_bytes) {
    return make_error(ErrorCode::kResourceExhausted,
                      "{}: file is {} bytes, over the limit of {} bytes (raise max_file_bytes)",
                      name, bytes.size(), options.max_file_bytes);
  }
  if (bytes.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: empty file", name);
  if (format == Format::kPdf) return load_pdf(bytes, name);

  std::string inflated;
  if (format == Format::kJsonl && bytes.size() >= 2 &&
      static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b) {
    RAGFT_TRY(inflated, gunzip(bytes, name, options.max_file_bytes));
    bytes = inflated;
  }
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  if (is_blank(bytes)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: empty file (only whitespace)", name);
  }
  if (bytes.substr(0, 8192).find('\0') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: binary content (NUL byte in the first 8 KiB); not a {} file", name,
                      format_name(format));
  }
  // jsonl and csv sanitise invalid UTF-8 per record (with a warning) instead of failing the file.
  if (format != Format::kJsonl && format != Format::kCsv) {
    std::size_t bad = first_invalid_utf8(bytes);
    if (bad != std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: invalid UTF-8 at byte offset {}; convert the file to UTF-8", name,
                        bad);
    }
  }
  std::string text = normalize_newlines(bytes);
  RAGFT_CHECK(is_text_format(format));
  switch (format) {
    case Format::kTxt: return load_txt(text, name);
    case Format::kMarkdown: return load_markdown(text, name);
    case Format::kHtml: return load_html(text, name);
    case Format::kJsonl: return load_jsonl(text, name);
    case Format::kCsv: return load_csv(text, name, options);
    case Format::kPdf: break;
  }
  return make_error(ErrorCode::kInternal, "{}: unhandled format", name);
}

Result<LoadResult> load_file(const fs::path& path, const LoadOptions& options) {
  const std::string name = path.string();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return make_error(ErrorCode::kNotFound, "{}: no such file", name);
    }
    return make_error(ErrorCode::kIo, "{}: cannot stat: {}", name, std::strerror(errno));
  }
  auto format = detect_format(path);
  if (!format) {
    return make_error(ErrorCode::kUnsupported,
                      "{}: unknown file type (supported: .txt .md .html .pdf .jsonl .jsonl.gz "
                      ".ndjson .csv)",
                      name);
  }
  if (static_cast<std::uint64_t>(st.st_size) > options.max_file_bytes) {
    return make_error(ErrorCode::kResourceExhausted,
                      "{}: file is {} bytes, over the limit of {} bytes (raise max_file_bytes)",
                      name, static_cast<std::uint64_t>(st.st_size), options.max_file_bytes);
  }
  RAGFT_TRY(std::string bytes, Env::posix().read_file(path));
  return load_bytes(bytes, *format, name, options);
}

}  // namespace ragft
