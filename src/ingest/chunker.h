// Structure-aware chunking with exact offsets. Splits at headings first, then paragraphs, then
// sentences, packing units up to a target length in tokens (whitespace-separated words) with an
// overlap of whole sentences; a single sentence longer than max_tokens is cut at word boundaries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ingest/loader.h"

namespace ragft {

struct ChunkerOptions {
  std::uint32_t target_tokens = 256;
  std::uint32_t overlap_tokens = 32;   // carried over as whole trailing sentences
  std::uint32_t max_tokens = 384;      // hard cap per chunk
  // Config string, round-trips: "chunk:target=256,overlap=32,max=384". parse() fills unstated
  // keys from the target (overlap = target/8, max = target*3/2) and rejects target 0,
  // overlap >= target and max < target with kInvalidArgument.
  std::string to_config() const;
  static Result<ChunkerOptions> parse(std::string_view config);
};

struct ChunkSpan {
  std::uint32_t byte_start = 0;  // into LoadedDocument::text
  std::uint32_t byte_end = 0;
  std::int64_t char_start = 0;   // code points
  std::int64_t char_end = 0;
  int page = 0;                  // 1-based page of byte_start when page_starts given, else 0
};

// Chunks of `doc.text`, in order, covering every non-blank part of it. Never empty spans.
// An empty or all-whitespace text gives no chunks (whitespace as text/sentences.h has it:
// ASCII and Unicode spaces, so a text of NBSPs too). Each span is trimmed of ASCII whitespace and
// holds at most max_tokens words. `options` must be valid (as parse() accepts): invalid ones are
// a bug (CHECK). Thread-safe.
std::vector<ChunkSpan> chunk_text(const LoadedDocument& doc, const ChunkerOptions& options);

}  // namespace ragft
