#include "evaluate/classification.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

TEST(ClassificationTest, HandComputed) {
  // gold:  a a a b b c
  // pred:  a a b b c c
  std::vector<std::string> gold = {"a", "a", "a", "b", "b", "c"};
  std::vector<std::string> pred = {"a", "a", "b", "b", "c", "c"};
  auto r = classification_report(gold, pred);
  ASSERT_EQ(r.labels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.n, 6u);
  // correct: positions 0, 1, 3, 5 -> 4/6
  EXPECT_DOUBLE_EQ(r.accuracy, 4.0 / 6.0);
  // a: TP 2, predicted 2, support 3 -> P 1, R 2/3, F1 = 2*1*(2/3)/(1+2/3) = (4/3)/(5/3) = 0.8
  EXPECT_DOUBLE_EQ(r.per_class[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(r.per_class[0].recall, 2.0 / 3.0);
  EXPECT_NEAR(r.per_class[0].f1, 0.8, 1e-12);
  // b: TP 1, predicted 2 (pos 2, 3), support 2 -> P 0.5, R 0.5, F1 0.5
  EXPECT_DOUBLE_EQ(r.per_class[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(r.per_class[1].recall, 0.5);
  EXPECT_DOUBLE_EQ(r.per_class[1].f1, 0.5);
  // c: TP 1, predicted 2 (pos 4, 5), support 1 -> P 0.5, R 1, F1 = 2*0.5/(1.5) = 2/3
  EXPECT_DOUBLE_EQ(r.per_class[2].precision, 0.5);
  EXPECT_DOUBLE_EQ(r.per_class[2].recall, 1.0);
  EXPECT_NEAR(r.per_class[2].f1, 2.0 / 3.0, 1e-12);
  // macro-F1 = (0.8 + 0.5 + 2/3) / 3 = 1.9666.../3 = 0.65555...
  EXPECT_NEAR(r.macro_f1, (0.8 + 0.5 + 2.0 / 3.0) / 3.0, 1e-12);
  // confusion rows gold, columns predicted
  std::vector<std::vector<std::size_t>> want = {{2, 1, 0}, {0, 1, 1}, {0, 0, 1}};
  EXPECT_EQ(r.confusion, want);
  EXPECT_EQ(r.per_class[1].support, 2u);
  EXPECT_EQ(r.per_class[2].predicted, 2u);
}

TEST(ClassificationTest, NeverPredictedAndExtraLabelsScoreZero) {
  // gold: x y ; pred: x x. y never predicted -> P 0 (zero division), R 0, F1 0.
  // x: TP 1, predicted 2, support 1 -> P 0.5, R 1, F1 2/3. Extra label z: F1 0.
  // macro over {x, y, z} = (2/3 + 0 + 0) / 3 = 2/9.
  auto r = classification_report({"x", "y"}, {"x", "x"}, {"z"});
  ASSERT_EQ(r.labels.size(), 3u);
  EXPECT_DOUBLE_EQ(r.per_class[1].precision, 0.0);
  EXPECT_DOUBLE_EQ(r.per_class[1].f1, 0.0);
  EXPECT_NEAR(r.macro_f1, 2.0 / 9.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
  auto j = r.to_json();
  EXPECT_EQ(j["confusion"][1][0], 1);
  EXPECT_EQ(j["per_class"][0]["label"], "x");
}

TEST(ClassificationTest, Empty) {
  auto r = classification_report({}, {});
  EXPECT_EQ(r.n, 0u);
  EXPECT_EQ(r.accuracy, 0.0);
  EXPECT_EQ(r.macro_f1, 0.0);
}

}  // namespace
}  // namespace ragft
