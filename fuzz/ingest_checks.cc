// The checks of the ingest_<format> fuzz targets (fuzz/ingest_checks.h), compiled once for all.
#include "fuzz/ingest_checks.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "fuzz/fuzz_check.h"
#include "ingest/chunker.h"
#include "text/sentences.h"

namespace ragft::fuzz {

namespace {

constexpr std::uint64_t kMaxFileBytes = 1 << 20;

std::size_t count_words(std::string_view s) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : s) {
    const bool ws = is_ascii_space(c);
    words += !ws && !in_word;
    in_word = !ws;
  }
  return words;
}

// Spans of a splitter: non-empty, in order, disjoint, trimmed, covering every non-space byte.
void check_spans(std::string_view text, const std::vector<Span>& spans, const char* what) {
  const std::vector<bool> content = content_mask(text);
  std::vector<bool> covered(text.size(), false);
  std::uint32_t prev_end = 0;
  for (const Span& s : spans) {
    FUZZ_CHECK(s.start < s.end && s.end <= text.size(), what);
    FUZZ_CHECK(s.start >= prev_end, what);
    FUZZ_CHECK(space_len(text, s.start) == 0, what);
    FUZZ_CHECK(!is_ascii_space(text[s.end - 1]), what);
    for (std::uint32_t i = s.start; i < s.end; ++i) covered[i] = true;
    prev_end = s.end;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    FUZZ_CHECK(!content[i] || covered[i], fmt::format("{}: byte {} not covered", what, i));
  }
}

void check_chunks(const LoadedDocument& doc, const ChunkerOptions& options) {
  const std::string_view text = doc.text;
  const std::vector<ChunkSpan> chunks = chunk_text(doc, options);
  const std::vector<bool> content = content_mask(text);
  const bool blank = std::none_of(content.begin(), content.end(), [](bool b) { return b; });
  if (blank) {
    FUZZ_CHECK(chunks.empty(), "a blank text gives no chunks");
    return;
  }
  // Code points before each byte offset, counted here (not with the chunker's word tricks).
  std::vector<std::int64_t> chars_before(text.size() + 1, 0);
  for (std::size_t b = 0; b < text.size(); ++b) {
    chars_before[b + 1] = chars_before[b] + (is_continuation(text[b]) ? 0 : 1);
  }
  std::vector<bool> covered(text.size(), false);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const ChunkSpan& c = chunks[i];
    auto where = [&] {  // only formatted when a check fails
      return fmt::format("chunk {} [{}, {}) of {} bytes, {}", i, c.byte_start, c.byte_end,
                         text.size(), options.to_config());
    };
    FUZZ_CHECK(c.byte_start < c.byte_end && c.byte_end <= text.size(), where());
    FUZZ_CHECK(!is_ascii_space(text[c.byte_start]) && !is_ascii_space(text[c.byte_end - 1]),
               where());
    FUZZ_CHECK(on_code_point(text, c.byte_start) && on_code_point(text, c.byte_end), where());
    if (i > 0) {
      FUZZ_CHECK(c.byte_start > chunks[i - 1].byte_start, where());
      FUZZ_CHECK(c.byte_end > chunks[i - 1].byte_end, where());
    }
    const std::string_view span = text.substr(c.byte_start, c.byte_end - c.byte_start);
    FUZZ_CHECK(count_words(span) <= options.max_tokens, where());
    FUZZ_CHECK(c.char_start == chars_before[c.byte_start], where());
    FUZZ_CHECK(c.char_end == chars_before[c.byte_end], where());
    if (doc.page_starts.empty()) {
      FUZZ_CHECK(c.page == 0, where());
    } else {
      const auto after = std::upper_bound(doc.page_starts.begin(), doc.page_starts.end(),
                                          c.byte_start) - doc.page_starts.begin();
      FUZZ_CHECK(c.page == std::max<int>(1, static_cast<int>(after)), where());
    }
    for (std::uint32_t b = c.byte_start; b < c.byte_end; ++b) covered[b] = true;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    FUZZ_CHECK(!content[i] || covered[i],
               fmt::format("byte {} not in any chunk, {}", i, options.to_config()));
  }
}

void check_document(const LoadedDocument& doc, Format format) {
  const std::string_view text = doc.text;
  FUZZ_CHECK(is_valid_utf8(text), "document text is not UTF-8");
  FUZZ_CHECK(is_valid_utf8(doc.title), "document title is not UTF-8");
  FUZZ_CHECK(text.size() <= UINT32_MAX, "text over 4 GiB");
  for (std::size_t i = 0; i < doc.heading_starts.size(); ++i) {
    const std::uint32_t h = doc.heading_starts[i];
    FUZZ_CHECK(h < text.size() && !is_ascii_space(text[h]), fmt::format("heading start {}", h));
    FUZZ_CHECK(i == 0 || h > doc.heading_starts[i - 1], "heading starts not ascending");
  }
  for (std::size_t i = 0; i < doc.page_starts.size(); ++i) {
    const std::uint32_t p = doc.page_starts[i];
    FUZZ_CHECK(p <= text.size(), fmt::format("page start {}", p));
    FUZZ_CHECK(i == 0 || p >= doc.page_starts[i - 1], "page starts not ascending");
  }
  FUZZ_CHECK(format == Format::kPdf || doc.page_starts.empty(), "page starts outside a PDF");
  const auto meta = nlohmann::json::parse(doc.metadata_json, nullptr, false);
  FUZZ_CHECK(meta.is_object(), "metadata_json is not a JSON object: " + doc.metadata_json);
  for (const std::string& a : doc.acl) FUZZ_CHECK(is_valid_utf8(a), "acl entry is not UTF-8");

  check_spans(text, split_paragraphs(text), "paragraphs");
  check_spans(text, split_sentences(text), "sentences");
  check_chunks(doc, ChunkerOptions{});
  ChunkerOptions small;
  small.target_tokens = 6;
  small.overlap_tokens = 2;
  small.max_tokens = 9;
  check_chunks(doc, small);
}

void check_load(const Result<LoadResult>& r, Format format) {
  if (!r.ok()) {
    const ErrorCode code = r.error().code;
    FUZZ_CHECK(code == ErrorCode::kInvalidArgument || code == ErrorCode::kCorrupt ||
                   code == ErrorCode::kUnsupported || code == ErrorCode::kResourceExhausted,
               "undocumented error code: " + r.error().message);
    FUZZ_CHECK(is_valid_utf8(r.error().message), "error message is not UTF-8");
    return;
  }
  FUZZ_CHECK(!r->documents.empty(), "a successful load without documents");
  const bool multi = format == Format::kJsonl || format == Format::kCsv;
  FUZZ_CHECK(multi || r->documents.size() == 1, "several documents from a single-document format");
  std::unordered_set<std::string> ids;
  for (const LoadedDocument& doc : r->documents) {
    if (multi) {
      FUZZ_CHECK(!doc.ext_id.empty() && is_valid_utf8(doc.ext_id), "bad record id");
      FUZZ_CHECK(ids.insert(doc.ext_id).second, "duplicate record id " + doc.ext_id);
    } else {
      FUZZ_CHECK(doc.ext_id.empty(), "an id from a single-document format");
    }
    check_document(doc, format);
  }
  for (const std::string& w : r->warnings) FUZZ_CHECK(is_valid_utf8(w), "warning is not UTF-8");
}

}  // namespace

void fuzz_load(std::string_view bytes, Format format, const LoadOptions& options) {
  LoadOptions o = options;
  o.max_file_bytes = kMaxFileBytes;
  check_load(load_bytes(bytes, format, fmt::format("fuzz.{}", format_name(format)), o), format);
}

}  // namespace ragft::fuzz
