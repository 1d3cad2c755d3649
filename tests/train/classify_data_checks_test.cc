#include <gtest/gtest.h>

#include "train/data_checks.h"

namespace ragft {
namespace {

Dataset make(std::vector<std::pair<std::string, std::string>> rows) {
  Dataset d;
  std::size_t line = 1;
  for (auto& [text, label] : rows) d.examples.push_back(Example{text, {label}, line++});
  return d;
}

TEST(ClassifyDataChecksTest, NormalizeText) {
  EXPECT_EQ(normalize_text("  Hello\t  World \n"), "hello world");
  EXPECT_EQ(normalize_text("ÉTÉ x"), "ÉtÉ x");  // only ASCII is lowercased
}

TEST(ClassifyDataChecksTest, CountsAndRareLabels) {
  Dataset d = make({{"a1", "A"}, {"a2", "A"}, {"a3", "A"}, {"b1", "B"}, {"c1", "C"}});
  DataCheckOptions o;
  o.min_per_class = 2;
  auto r = check_data(d, nullptr, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->examples, 5u);
  EXPECT_EQ(r->label_counts.at("A"), 3u);
  EXPECT_EQ(r->label_counts.at("B"), 1u);
  EXPECT_EQ(r->rare_labels, (std::vector<std::string>{"B", "C"}));
  EXPECT_EQ(r->exact_duplicates.count, 0u);
  EXPECT_FALSE(r->to_json().contains("leakage"));
}

TEST(ClassifyDataChecksTest, ExactDuplicatesAndConflicts) {
  Dataset d = make({{"The cat sat", "A"},
                    {"the  cat sat ", "A"},  // exact duplicate after normalisation, same label
                    {"THE CAT SAT", "B"},    // duplicate with a conflicting label
                    {"a dog", "B"}});
  auto r = check_data(d, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exact_duplicates.count, 2u);
  EXPECT_EQ(r->conflicting_labels.count, 1u);
  EXPECT_EQ(r->conflicting_labels.samples[0]["lines"], nlohmann::json({1, 3}));
  EXPECT_EQ(r->near_duplicates.count, 0u);
  auto j = r->to_json();
  EXPECT_EQ(j["exact_duplicates"]["count"], 2);
  EXPECT_NE(r->to_text().find("2 exact duplicates"), std::string::npos);
}

TEST(ClassifyDataChecksTest, NearDuplicatesShareAnalysedTerms) {
  // Punctuation and stemming differ only: "Cats, running!" and "cat running" analyse alike
  // (english stemmer, snowball stopwords), but the normalised texts differ.
  Dataset d = make({{"Cats, running!", "A"}, {"cat running", "A"}, {"the cats run", "B"}, {"dogs", "B"}});
  auto r = check_data(d, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exact_duplicates.count, 0u);
  EXPECT_EQ(r->near_duplicates.count, 2u);  // line 2 and line 3 ("the" is a stopword; run/running stem alike)
  EXPECT_EQ(r->near_duplicates.samples[0]["lines"], nlohmann::json({1, 2}));
}

TEST(ClassifyDataChecksTest, Leakage) {
  Dataset train = make({{"what is the capital of france", "LOC"}, {"who wrote hamlet", "HUM"}});
  Dataset eval = make({{"Who  wrote Hamlet", "HUM"}, {"when was rome founded", "NUM"}, {"x", "A"}, {"y", "A"}});
  auto r = check_data(train, &eval);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->leakage.count, 1u);
  auto j = r->to_json();
  EXPECT_DOUBLE_EQ(j["leakage"]["fraction"].get<double>(), 0.25);  // 1 of 4 eval examples
  EXPECT_EQ(j["leakage"]["samples"][0]["lines"], nlohmann::json({2, 1}));
}

}  // namespace
}  // namespace ragft
