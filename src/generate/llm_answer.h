// RAG answers written by a language model: the retrieved chunks are numbered as sources in the
// prompt template (prompt.h), the model (chat.h: an OpenAI-compatible server today) answers
// citing them as [n], and the citations are read and checked (citations.h).
//
// Abstention, in order:
//   1. no chunk retrieved;
//   2. low retrieval confidence: the best chunk (title and text) covers less than
//      `min_retrieval` of the question's idf-weighted terms (question words such as "what"
//      excluded, as in the extractive answerer). The model is not called;
//   3. the model replies with the template's abstain text (e.g. NO_ANSWER);
//   4. with `require_citations`, no sentence keeps a valid, supported citation: the text is not
//      grounded in the sources (the raw reply and the issues are kept for inspection).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "generate/answer.h"
#include "generate/chat.h"
#include "generate/citations.h"
#include "generate/extractive.h"
#include "generate/prompt.h"
#include "retrieve/searcher.h"

namespace ragft {

struct LlmAnswerOptions {
  std::size_t chunks = 5;         // sources given to the model
  double min_retrieval = 0.3;     // abstain below this coverage of the question by the best chunk
  int max_tokens = 512;
  double temperature = 0;         // 0: greedy where the server honours it
  double min_citation_support = 0.3;  // CitationCheckOptions::min_support
  bool require_citations = true;

  // "llm:chunks=5,min_retrieval=0.3,max_tokens=512,temperature=0,cite_support=0.3,require_citations=1";
  // parse() accepts any subset; bad keys or values -> kInvalidArgument naming the key.
  std::string to_config() const;
  static Result<LlmAnswerOptions> parse(std::string_view config);
};

struct LlmAnswer {
  Answer answer;            // sources: every numbered chunk, as given to the model
  CitationReport citations;
  std::string raw;          // the model's reply ("" when it was not called)
  bool called_model = false;
  std::optional<ChatUsage> usage;
  double generation_ms = 0;
};

// `hits`: the retrieved chunks, best first (only the first options.chunks are used).
Result<LlmAnswer> answer_with_llm(Workspace& ws, const SearchRequest& request, std::vector<SearchHit> hits,
                                  const ChatModel& model, const PromptTemplate& prompt,
                                  const LlmAnswerOptions& options = {});

// The share of `q`'s idf weight whose terms appear in `text` (extractive.h question_terms), as
// answer_with_llm measures retrieval confidence. A question without such terms -> 0.
double question_coverage(Workspace& ws, const QuestionTerms& q, std::string_view text);

}  // namespace ragft
