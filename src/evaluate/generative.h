// Metrics for generated answers: exact match and token F1 against reference answers (SQuAD v1.1
// definitions), citation precision and recall against gold evidence spans (e.g. SciFact's
// rationale sentences), format validity against a JSON schema, and abstention.
//
// Answer normalisation (SQuAD's official script): lowercase (ASCII and, via utf8proc, other
// scripts), remove punctuation (ASCII punctuation and Unicode category P*), remove the articles
// "a", "an", "the" as whole words, and collapse whitespace. Tokens are the whitespace-separated
// words of the normalised text.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace ragft {

std::string normalize_answer(std::string_view text);

// 1 when the normalised prediction equals a normalised reference, else 0 (no references: 0).
double exact_match(std::string_view prediction, const std::vector<std::string>& references);
// Token-level F1 between the prediction's and a reference's normalised tokens (bags: a token
// counts min(times in prediction, times in reference)), the best over references. Both empty ->
// 1, one empty -> 0; no references -> 0.
double token_f1(std::string_view prediction, const std::vector<std::string>& references);

// A span of a document: [start, end) in code points of its text.
struct EvidenceSpan {
  std::string doc_id;
  std::int64_t start = 0;
  std::int64_t end = 0;
};

struct CitationScore {
  std::size_t cited = 0;        // cited spans
  std::size_t supported = 0;    // of which overlap a gold span of the same document
  std::size_t gold = 0;         // gold spans
  std::size_t found = 0;        // of which overlapped by a cited span
  // supported / cited; with no citation, 1 when there is no gold evidence either, else 0.
  double precision() const;
  // found / gold; 1 when there is no gold evidence.
  double recall() const;
};
// Overlap means at least one shared code point of the same document. Spans with end <= start
// overlap nothing.
CitationScore score_citations(const std::vector<EvidenceSpan>& cited, const std::vector<EvidenceSpan>& gold);

// Validates `value` against a JSON schema (draft 2020-12 / OpenAI structured-output subset):
// type (one name or a list; "integer" accepts whole numbers), enum, const, properties, required,
// additionalProperties (boolean or schema), items (schema), minItems, maxItems, minLength,
// maxLength (code points), pattern (ECMAScript, searched anywhere), minimum, maximum,
// exclusiveMinimum, exclusiveMaximum (numbers), anyOf, oneOf, allOf, $defs with local
// "#/$defs/NAME" $ref. Annotations (title, description, default, examples, $schema, $id,
// format, strict, name) are ignored. The first violation -> kInvalidArgument naming its JSON
// pointer path and the keyword; an unsupported keyword or a malformed schema -> kUnsupported
// naming it.
Status validate_json_schema(const nlohmann::json& value, const nlohmann::json& schema);
// `text` (surrounding whitespace allowed, nothing else) parsed as JSON and validated; text that
// is not JSON -> kInvalidArgument "not JSON: ...".
Status validate_json_text(std::string_view text, const nlohmann::json& schema);

// One generated answer with what it is judged against.
struct GenerativeItem {
  std::string prediction;               // the answer text ("" when abstained)
  bool abstained = false;
  std::vector<std::string> references;  // reference answers; empty: EM/F1 not scored
  bool answerable = true;               // false: the right behaviour is to abstain
  std::vector<EvidenceSpan> cited;      // what the answer cites
  std::vector<EvidenceSpan> gold;       // gold evidence; empty: citations not scored
};

struct GenerativeSummary {
  std::size_t items = 0;
  std::size_t abstained = 0;
  double abstention_rate = 0;     // abstained / items
  // Answerable items: EM and F1 over those with references (an abstention scores 0); citation
  // precision over answered ones with gold evidence, recall over all with gold evidence (an
  // abstention finds nothing). Unscored metrics are NaN with count 0.
  double exact_match = 0, token_f1 = 0;
  std::size_t scored_answers = 0;
  double citation_precision = 0, citation_recall = 0;
  std::size_t scored_precision = 0, scored_recall = 0;
  // Unanswerable items: share abstained (NaN with none).
  double correct_abstention = 0;
  std::size_t unanswerable = 0;
  // With a schema: share of answered items whose prediction is valid JSON for it (NaN without).
  double format_valid = 0;
  std::size_t scored_format = 0;
};

// Means over `items` as described above; `schema` null: format not scored.
GenerativeSummary summarize_generative(const std::vector<GenerativeItem>& items,
                                       const nlohmann::json& schema = nullptr);

}  // namespace ragft
