// PDF parser (poppler-cpp): text of each page in reading order, pages joined by "\n\n".
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <memory>
#include <mutex>

#include "core/utf8.h"
#include "ingest/formats.h"

namespace ragft::ingest_internal {

namespace {

void silence_poppler() {
  static std::once_flag once;
  std::call_once(
      once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

std::string to_string(const poppler::ustring& u) {
  poppler::byte_array bytes = u.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

// Page text cleaned up: valid UTF-8, LF endings, no form feeds, runs of spaces collapsed,
// at most one blank line in a row, trimmed.
std::string clean_page_text(std::string_view raw) {
  std::string s = normalize_newlines(sanitize_utf8(raw));
  std::string out;
  out.reserve(s.size());
  int newlines = 0;
  bool pending_space = false;
  for (char c : s) {
    if (c == '\n' || c == '\f') {
      ++newlines;
      pending_space = false;
      continue;
    }
    if (is_space(c)) {
      pending_space = true;
      continue;
    }
    if (!out.empty()) {
      if (newlines > 0) {
        out.append(newlines > 1 ? "\n\n" : "\n");
      } else if (pending_space) {
        out.push_back(' ');
      }
    }
    newlines = 0;
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

Result<LoadResult> load_pdf(std::string_view bytes, std::string_view name) {
  silence_poppler();
  if (bytes.size() < 5 || bytes.substr(0, 5) != "%PDF-") {
    return make_error(ErrorCode::kCorrupt, "{}: not a PDF file (no %PDF- header)", name);
  }
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
    return make_error(ErrorCode::kResourceExhausted, "{}: PDF over 2 GiB is not supported", name);
  }
  try {
    std::unique_ptr<poppler::document> doc(
        poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
    if (!doc) {
      return make_error(ErrorCode::kCorrupt,
                        "{}: damaged or truncated PDF (the parser could not open it)", name);
    }
    if (doc->is_locked()) {
      return make_error(ErrorCode::kUnsupported,
                        "{}: encrypted PDF (password protected); decrypt it first", name);
    }
    const int pages = doc->pages();
    if (pages <= 0) {
      return make_error(ErrorCode::kCorrupt, "{}: damaged PDF (no pages)", name);
    }
    LoadResult result;
    LoadedDocument out;
    for (int i = 0; i < pages; ++i) {
      std::unique_ptr<poppler::page> page(doc->create_page(i));
      std::string text;
      if (page) {
        text = clean_page_text(
            to_string(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
      }
      if (!text.empty() && !out.text.empty()) out.text += "\n\n";
      out.page_starts.push_back(static_cast<std::uint32_t>(out.text.size()));
      out.text += text;
    }
    if (is_blank(out.text)) {
      return make_error(ErrorCode::kUnsupported,
                        "{}: no extractable text in {} page(s) (scanned PDF? OCR is not supported)",
                        name, pages);
    }
    out.title = std::string(trim(sanitize_utf8(to_string(doc->info_key("Title")))));
    result.documents.push_back(std::move(out));
    return result;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: damaged PDF ({})", name, e.what());
  }
}

}  // namespace ragft::ingest_internal
