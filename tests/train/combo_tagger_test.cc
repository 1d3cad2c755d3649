// The tagger combination rules, rule choice on validation data, and persistence, with two
// retrieval taggers as sub-models (torch-free; the neural pairing is in tests/train_neural).
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "apps/test_util.h"
#include "evaluate/conlleval.h"
#include "train/extract_test_util.h"
#include "train/combo_tagger.h"
#include "train/knn_tagger.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using Tags = std::vector<std::string>;

TaggedSentence sent(const std::string& s) { return testing::tagged(s); }

TEST(ComboRules, CombineTags) {
  const Tags a = {"B-per", "I-per", "O", "O", "O", "B-loc"};
  const Tags b = {"O", "B-org", "I-org", "O", "B-loc", "B-loc"};
  EXPECT_EQ(combine_tags(ComboRule::kFirst, a, b), a);
  EXPECT_EQ(combine_tags(ComboRule::kSecond, a, b), b);
  // b's org overlaps a's person: dropped; b's loc at 4 is on free tokens: added.
  EXPECT_EQ(combine_tags(ComboRule::kFill, a, b), (Tags{"B-per", "I-per", "O", "O", "B-loc", "B-loc"}));
  // Swapped: a's person overlaps b's org: dropped; nothing else of a is free.
  EXPECT_EQ(combine_tags(ComboRule::kFill2, a, b), (Tags{"O", "B-org", "I-org", "O", "B-loc", "B-loc"}));
  EXPECT_EQ(combine_tags(ComboRule::kAgree, a, b), (Tags{"O", "O", "O", "O", "O", "B-loc"}));
  // IOB1-style input comes out as canonical BIO.
  EXPECT_EQ(combine_tags(ComboRule::kFirst, {"I-per", "I-per"}, {"O", "O"}), (Tags{"B-per", "I-per"}));
  EXPECT_TRUE(combine_tags(ComboRule::kFill, {}, {}).empty());
}

TEST(ComboOptions, ConfigRoundTripsAndRejectsBadInput) {
  for (ComboRule r : kComboRules) {
    ComboTaggerOptions o;
    o.rule = r;
    auto p = ComboTaggerOptions::parse(o.to_config());
    ASSERT_TRUE(p.ok()) << o.to_config();
    EXPECT_EQ(*p, o);
  }
  EXPECT_EQ(ComboTaggerOptions{}.to_config(), "tagger-combo:rule=fill");
  for (const char* bad : {"tagger-combo:rule=vote", "tagger-combo:weight=1", "tagger-combo:rule"}) {
    auto r = ComboTaggerOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

class ComboTaggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("ragft-combo-tagger-");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Two gazetteer-only taggers that each know half of the entities.
  static std::pair<std::unique_ptr<Extractor>, std::unique_ptr<Extractor>> halves() {
    KnnTaggerOptions o;
    o.k = 0;
    auto a = KnnTagger::build({sent("Obama/B-person spoke"), sent("in Kenya/B-location")}, o);
    auto b = KnnTagger::build({sent("Microsoft/B-corporation said"), sent("my iPhone/B-product")}, o);
    EXPECT_TRUE(a.ok() && b.ok());
    return {std::move(*a), std::move(*b)};
  }
  static std::vector<TaggedSentence> validation() {
    return {sent("Obama/B-person bought an iPhone/B-product"), sent("Microsoft/B-corporation in Kenya/B-location"),
            sent("nothing here")};
  }
  fs::path dir_;
};

TEST_F(ComboTaggerTest, ChoosesTheBestRuleOnValidation) {
  auto [a, b] = halves();
  ComboTaggerSelection sel;
  auto combo = ComboTagger::choose(std::move(a), std::move(b), validation(), &sel);
  ASSERT_TRUE(combo.ok()) << combo.error().to_string();
  // Each half finds half of the entities; filling one with the other finds all of them.
  EXPECT_DOUBLE_EQ(sel.per_rule["first"]["recall"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(sel.per_rule["second"]["recall"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(sel.per_rule["agree"]["recall"].get<double>(), 0.0);
  EXPECT_EQ(sel.chosen.rule, ComboRule::kFill);  // ties with fill2: the earlier rule
  EXPECT_DOUBLE_EQ(sel.validation_f1, 1.0);
  EXPECT_EQ((*combo)->record().metrics["validation"]["rule"], "fill");
  EXPECT_EQ((*combo)->labels(), (Tags{"corporation", "location", "person", "product"}));
  EXPECT_EQ((*combo)->predict_text("Obama and Microsoft").tags, (Tags{"B-person", "O", "B-corporation"}));
  EXPECT_TRUE((*combo)->predict({}).empty());
}

TEST_F(ComboTaggerTest, SaveLoadRoundTripAndMissingSubModel) {
  auto [a, b] = halves();
  ComboTaggerOptions o;
  o.rule = ComboRule::kFill2;
  auto combo = ComboTagger::make(std::move(a), std::move(b), o);
  ASSERT_TRUE(combo.ok());
  ASSERT_TRUE((*combo)->save(dir_).ok());
  auto loaded = load_extractor(dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->kind(), "tagger-combo");
  EXPECT_EQ((*loaded)->config(), "tagger-combo:rule=fill2");
  for (const auto& s : validation()) EXPECT_EQ((*loaded)->predict(s.tokens), (*combo)->predict(s.tokens));
  fs::remove_all(dir_ / "secondary");
  auto broken = load_extractor(dir_);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, ErrorCode::kCorrupt);
}

TEST_F(ComboTaggerTest, NeedsSubModelsAndValidation) {
  auto [a, b] = halves();
  auto no_val = ComboTagger::choose(std::move(a), std::move(b), {});
  ASSERT_FALSE(no_val.ok());
  EXPECT_EQ(no_val.error().code, ErrorCode::kInvalidArgument);
  auto null = ComboTagger::make(nullptr, nullptr, {});
  ASSERT_FALSE(null.ok());
  EXPECT_EQ(null.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
