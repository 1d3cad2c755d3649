// Generative metrics checked against hand-computed values (SQuAD v1.1 definitions).
#include "evaluate/generative.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ragft {
namespace {

TEST(GenerativeMetricsTest, NormalisationFollowsSquad) {
  EXPECT_EQ(normalize_answer("The  Eiffel Tower!"), "eiffel tower");
  EXPECT_EQ(normalize_answer("an apple, a pear and THE plum."), "apple pear and plum");
  EXPECT_EQ(normalize_answer("don't"), "dont");         // punctuation removed, not a separator
  EXPECT_EQ(normalize_answer("Théâtre «Odéon»"), "théâtre odéon");  // Unicode lowercase and P*
  EXPECT_EQ(normalize_answer("theater"), "theater");    // articles only as whole words
  EXPECT_EQ(normalize_answer("  \t\n"), "");
}

TEST(GenerativeMetricsTest, ExactMatchAndTokenF1ByHand) {
  EXPECT_EQ(exact_match("the Eiffel tower", {"Eiffel Tower."}), 1.0);
  EXPECT_EQ(exact_match("Eiffel", {"Eiffel Tower"}), 0.0);
  EXPECT_EQ(exact_match("x", {}), 0.0);
  // pred {paris, france}, ref {paris}: common 1, P = 1/2, R = 1, F1 = 2/3.
  EXPECT_NEAR(token_f1("Paris, France", {"Paris"}), 2.0 / 3.0, 1e-12);
  // Bags: pred {a1 b b}, ref {b c}: common min(2,1)=1 for b; P = 1/3, R = 1/2, F1 = 0.4.
  EXPECT_NEAR(token_f1("x b b", {"b c"}), 0.4, 1e-12);
  // Best over references.
  EXPECT_NEAR(token_f1("blue whale", {"orca", "the blue whale"}), 1.0, 1e-12);
  EXPECT_EQ(token_f1("", {""}), 1.0);
  EXPECT_EQ(token_f1("something", {"the"}), 0.0);  // the reference normalises to nothing
}

TEST(GenerativeMetricsTest, CitationPrecisionAndRecallBySpanOverlap) {
  std::vector<EvidenceSpan> gold = {{"d1", 0, 50}, {"d1", 100, 150}, {"d2", 10, 20}};
  std::vector<EvidenceSpan> cited = {{"d1", 40, 60},    // overlaps gold 0
                                     {"d1", 60, 100},   // touches neither (ends where gold 1 starts)
                                     {"d3", 10, 20},    // another document
                                     {"d2", 19, 25}};   // overlaps gold 2 by one code point
  CitationScore s = score_citations(cited, gold);
  EXPECT_EQ(s.cited, 4u);
  EXPECT_EQ(s.supported, 2u);
  EXPECT_EQ(s.gold, 3u);
  EXPECT_EQ(s.found, 2u);
  EXPECT_DOUBLE_EQ(s.precision(), 0.5);
  EXPECT_DOUBLE_EQ(s.recall(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(score_citations({}, gold).precision(), 0.0);
  EXPECT_DOUBLE_EQ(score_citations({}, {}).precision(), 1.0);
  EXPECT_DOUBLE_EQ(score_citations(cited, {}).recall(), 1.0);
  EXPECT_EQ(score_citations({{"d1", 5, 5}}, gold).supported, 0u);  // an empty span overlaps nothing
}

TEST(GenerativeMetricsTest, JsonSchemaValidationNamesThePathAndKeyword) {
  const auto schema = nlohmann::json::parse(R"({
    "type": "object",
    "properties": {
      "verdict": {"enum": ["SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO"]},
      "confidence": {"type": "number", "minimum": 0, "maximum": 1},
      "citations": {"type": "array", "items": {"type": "integer", "exclusiveMinimum": 0}, "maxItems": 3},
      "note": {"type": ["string", "null"], "maxLength": 5, "pattern": "^[a-z]*$"},
      "span": {"$ref": "#/$defs/span"}
    },
    "required": ["verdict", "citations"],
    "additionalProperties": false,
    "$defs": {"span": {"type": "object", "properties": {"start": {"type": "integer"}}, "required": ["start"]}}
  })");
  EXPECT_TRUE(validate_json_text(R"( {"verdict":"SUPPORT","citations":[1,2],"confidence":0.5} )", schema).ok());
  EXPECT_TRUE(validate_json_text(R"({"verdict":"SUPPORT","citations":[],"note":null,"span":{"start":3.0}})", schema).ok());
  auto expect_fail = [&](const char* text, const char* where) {
    Status st = validate_json_text(text, schema);
    ASSERT_FALSE(st.ok()) << text;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(st.error().message.find(where), std::string::npos) << st.error().message;
  };
  expect_fail(R"({"verdict":"MAYBE","citations":[]})", "/verdict fails \"enum\"");
  expect_fail(R"({"verdict":"SUPPORT"})", "\"required\": property \"citations\"");
  expect_fail(R"({"verdict":"SUPPORT","citations":[0]})", "/citations/0 fails \"exclusiveMinimum\"");
  expect_fail(R"({"verdict":"SUPPORT","citations":[1.5]})", "/citations/0 fails \"type\"");
  expect_fail(R"({"verdict":"SUPPORT","citations":[1,2,3,4]})", "/citations fails \"maxItems\"");
  expect_fail(R"({"verdict":"SUPPORT","citations":[],"extra":1})", "\"extra\" is not allowed");
  expect_fail(R"({"verdict":"SUPPORT","citations":[],"note":"ABC"})", "/note fails \"pattern\"");
  expect_fail(R"({"verdict":"SUPPORT","citations":[],"note":"abcdef"})", "/note fails \"maxLength\"");
  expect_fail(R"({"verdict":"SUPPORT","citations":[],"span":{}})", "/span fails \"required\"");
  expect_fail(R"({"verdict":"SUPPORT","citations":[],"confidence":2})", "/confidence fails \"maximum\"");
  expect_fail("```json\n{}\n```", "not JSON");
  Status unsupported = validate_json_schema(1, nlohmann::json::parse(R"({"not": {"type": "string"}})"));
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.error().code, ErrorCode::kUnsupported);
  const auto one_of = nlohmann::json::parse(R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})");
  EXPECT_TRUE(validate_json_schema(1.5, one_of).ok());
  EXPECT_FALSE(validate_json_schema(2, one_of).ok());  // both alternatives match
}

TEST(GenerativeMetricsTest, SummaryAveragesWhatEachItemCanScore) {
  std::vector<GenerativeItem> items(4);
  items[0].prediction = "Paris";
  items[0].references = {"Paris"};
  items[0].cited = {{"d1", 0, 10}};
  items[0].gold = {{"d1", 5, 15}, {"d2", 0, 5}};  // precision 1, recall 1/2
  items[1].abstained = true;
  items[1].references = {"Lyon"};
  items[1].gold = {{"d3", 0, 5}};                 // recall 0, no precision
  items[2].prediction = "Paris, France";
  items[2].references = {"Paris"};                // F1 2/3, EM 0; no gold
  items[3].abstained = true;
  items[3].answerable = false;                    // abstaining was right
  GenerativeSummary s = summarize_generative(items);
  EXPECT_EQ(s.items, 4u);
  EXPECT_EQ(s.abstained, 2u);
  EXPECT_DOUBLE_EQ(s.abstention_rate, 0.5);
  EXPECT_EQ(s.scored_answers, 3u);
  EXPECT_DOUBLE_EQ(s.exact_match, 1.0 / 3.0);
  EXPECT_NEAR(s.token_f1, (1.0 + 0.0 + 2.0 / 3.0) / 3.0, 1e-12);
  EXPECT_EQ(s.scored_precision, 1u);
  EXPECT_DOUBLE_EQ(s.citation_precision, 1.0);
  EXPECT_EQ(s.scored_recall, 2u);
  EXPECT_DOUBLE_EQ(s.citation_recall, 0.25);
  EXPECT_EQ(s.unanswerable, 1u);
  EXPECT_DOUBLE_EQ(s.correct_abstention, 1.0);
  EXPECT_TRUE(std::isnan(s.format_valid));
  auto with_schema = summarize_generative(items, nlohmann::json::parse(R"({"type": "string"})"));
  EXPECT_EQ(with_schema.scored_format, 2u);
  EXPECT_DOUBLE_EQ(with_schema.format_valid, 0.0);  // "Paris" is not JSON text
}

}  // namespace
}  // namespace ragft
