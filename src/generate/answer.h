// Answers with citations. The Answer type is what every generator fills: today the extractive
// composer (extractive.h); later LLM backends, whose [n] markers are validated against sources.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"

namespace ragft {

// One numbered source: an exact span of a stored document.
struct Citation {
  int n = 0;                    // the [n] used in the answer, from 1
  ChunkId chunk_id = 0;
  std::string doc_ext_id;
  std::string title;
  std::string source;
  std::int64_t char_start = 0;  // code points into the document text, [start, end)
  std::int64_t char_end = 0;
  int page = 0;                 // 1-based PDF page, 0 when not paged
  std::string quote;            // the document text in that span
};

struct AnswerSentence {
  std::string text;
  std::vector<int> citations;  // the [n]s supporting it
};

struct Answer {
  std::string question;
  std::vector<AnswerSentence> sentences;
  std::vector<Citation> sources;
  bool abstained = false;
  std::string abstain_reason;  // why no answer was given
  float confidence = 0;        // 0..1: query-term coverage of the best supporting sentence
  std::string generator;       // config string of what produced it, e.g. "extractive:max=3"

  // "sentence [1] sentence [2]" (or the abstention message).
  std::string text() const;
};

}  // namespace ragft
