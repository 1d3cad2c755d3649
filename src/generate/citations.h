// Reading a generated answer's [n] citations and checking them against the numbered sources the
// model was given (the LLM answerer, and RAFT data checks).
//
// Markers: "[1]", "[1, 2]", "[1][3]", "[1-3]" (a range), anywhere in the text. The answer is
// split into sentences (text/sentences.h); markers belong to the sentence they appear in, and a
// sentence made only of markers (the model wrote "... claim. [2]") gives its markers to the one
// before it. The sentence text is kept without its markers.
//
// Checks, per citation:
//   - exists: its number is one of the sources';
//   - supports: the cited source's text (title included) contains at least `min_support` of the
//     sentence's content terms (Analyzer terms: stemmed, stopwords dropped); a sentence with no
//     content term is supported by any existing source.
// A citation failing either check is dropped from the sentence and reported as an issue; a
// sentence left with no citation is reported as unsupported (it stays in the answer).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "generate/answer.h"
#include "text/analyzer.h"

namespace ragft {

struct CitationCheckOptions {
  double min_support = 0.3;
};

struct CitationIssue {
  enum class Kind { kUnknownSource, kUnsupported, kUncitedSentence };
  Kind kind = Kind::kUnknownSource;
  std::size_t sentence = 0;  // index into Answer::sentences
  int n = 0;                 // the citation concerned (0 for kUncitedSentence)
  std::string message;
};

struct CitationReport {
  std::size_t citations = 0;  // markers read (a range counts each number)
  std::size_t valid = 0;      // existed and supported (kept)
  std::vector<CitationIssue> issues;
};

// Fills answer.sentences from `text` (answer.sources must hold the numbered sources, Citation::n
// as given to the model, Citation::quote their text). Returns what the checks found.
CitationReport read_citations(std::string_view text, Answer& answer, Analyzer& analyzer,
                              const CitationCheckOptions& options = {});

// The [n] numbers of `text`, in order of appearance (ranges expanded; at most 1000 per marker).
std::vector<int> citation_numbers(std::string_view text);

}  // namespace ragft
