// Sentence and paragraph segmentation over UTF-8 text, by byte spans. Handles common
// abbreviations (e.g., i.e., et al., Dr., Fig., decimals like 3.5) so they do not end sentences.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace ragft {

struct Span {
  std::uint32_t start = 0;  // byte offset
  std::uint32_t end = 0;    // one past the last byte
};

// Both functions accept any bytes (text shorter than 4 GiB); whitespace is ASCII or Unicode
// spaces. Spans are never empty and, together, cover every non-whitespace byte exactly once.

// Sentences of `text`, trimmed of surrounding whitespace, in order, non-overlapping.
std::vector<Span> split_sentences(std::string_view text);
// Paragraphs: runs of text separated by one or more blank lines, trimmed.
std::vector<Span> split_paragraphs(std::string_view text);

}  // namespace ragft
