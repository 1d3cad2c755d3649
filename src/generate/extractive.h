// Extractive answers: the best-supported sentences of the top retrieved chunks, each cited with
// the exact span it was taken from. No language model involved, so nothing is invented.
//
// Sentence support = (sum of idf of distinct query terms in the sentence) / (sum of idf of
// distinct query terms), i.e. idf-weighted query coverage in [0, 1], where the sentence's
// document title counts as part of the sentence. Candidates are ranked by support plus
// 0.1 x (chunk score / best chunk score). Question words (what, how, ...) do not count.
// The answer abstains when no sentence reaches min_support.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "generate/answer.h"
#include "retrieve/searcher.h"

namespace ragft {

struct ExtractiveOptions {
  std::size_t chunks = 5;         // top chunks to read
  std::size_t max_sentences = 3;  // sentences in the answer
  float min_support = 0.4f;       // best sentence coverage below this -> abstain
  float keep_ratio = 0.6f;        // further sentences need >= keep_ratio * best support
  // "extractive:chunks=5,max=3,min=0.4,keep=0.6"; round-trips.
  std::string to_config() const;
  static Result<ExtractiveOptions> parse(std::string_view config);
};

// The question's distinct analysed terms with their idf; question words (what, which, how, does,
// ...) are left out: they say what is asked, not what the answer contains. `total` is the sum of
// the weights (0 for a question with no such term). Shared by the extractive and LLM answerers.
struct QuestionTerms {
  std::unordered_map<std::string, float> idf;
  float total = 0;
};
QuestionTerms question_terms(Workspace& ws, std::string_view question);

// Retrieves with `request` (its k is replaced by options.chunks) and composes the answer.
Result<Answer> answer_extractive(Workspace& ws, const SearchRequest& request,
                                 const ExtractiveOptions& options = {});
// Composes the answer to request.query from hits retrieved elsewhere (e.g. reranked), best
// first; only the first options.chunks are read. The chunk-score tie-breaker is score / best
// score when every score is positive, else 1 / rank (a reranker's scores may be negative).
Result<Answer> answer_from_hits(Workspace& ws, const SearchRequest& request, std::vector<SearchHit> hits,
                                const ExtractiveOptions& options = {});

}  // namespace ragft
