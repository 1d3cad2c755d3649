#include "train/conll.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

using Tags = std::vector<std::string>;

TEST(ConllTest, ParsesTabsWhitespaceDocstartAndBlankLines) {
  std::string text =
      "-DOCSTART- -X- O O\n"
      "\n"
      "Empire\tB-location\n"
      "State\tI-location\n"
      "rocks\tO\r\n"
      "\t\n"                       // a tab-only line separates sentences (as in wnut17train)
      "Paris NNP B-NP B-person\n"  // whitespace columns: token first, tag last
      "Hilton\tNNP\tI-person\n"
      "\n\n\n";
  auto d = parse_conll(text, "x.conll");
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  ASSERT_EQ(d->sentences.size(), 2u);
  EXPECT_EQ(d->sentences[0].tokens, (Tags{"Empire", "State", "rocks"}));
  EXPECT_EQ(d->sentences[0].tags, (Tags{"B-location", "I-location", "O"}));
  EXPECT_EQ(d->sentences[0].line, 3u);
  EXPECT_EQ(d->sentences[1].tokens, (Tags{"Paris", "Hilton"}));
  EXPECT_EQ(d->sentences[1].tags, (Tags{"B-person", "I-person"}));
  EXPECT_EQ(d->sentences[1].line, 7u);
  EXPECT_TRUE(d->warnings.empty());
  EXPECT_EQ(d->malformed_lines, 0u);
}

TEST(ConllTest, RepairsIAfterOAsConllevalDoes) {
  auto d = parse_conll("a\tO\nb\tI-person\nc\tI-location\n", "x");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->sentences.size(), 1u);
  EXPECT_EQ(d->sentences[0].tags, (Tags{"O", "B-person", "B-location"}));
  EXPECT_EQ(d->repaired_tags, 2u);
  ConllOptions raw;
  raw.normalize_bio = false;
  auto r = parse_conll("a\tO\nb\tI-person\n", "x", raw);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sentences[0].tags, (Tags{"O", "I-person"}));
}

TEST(ConllTest, MalformedLinesWarnWithFileAndLine) {
  std::string text =
      "good\tO\n"
      "lonely\n"          // line 2: one column
      "bad\tX-person\n"   // line 3: bad prefix
      "worse\tB-\n"       // line 4: no type
      "fine\tB-person\n";
  auto d = parse_conll(text, "f.conll");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->malformed_lines, 3u);
  ASSERT_EQ(d->warnings.size(), 3u);
  EXPECT_EQ(d->warnings[0].rfind("f.conll:2: ", 0), 0u) << d->warnings[0];
  EXPECT_EQ(d->warnings[1].rfind("f.conll:3: ", 0), 0u) << d->warnings[1];
  EXPECT_EQ(d->warnings[2].rfind("f.conll:4: ", 0), 0u) << d->warnings[2];
  // Malformed lines are dropped; the rest of the sentence stays.
  ASSERT_EQ(d->sentences.size(), 1u);
  EXPECT_EQ(d->sentences[0].tokens, (Tags{"good", "fine"}));

  ConllOptions strict;
  strict.strict = true;
  auto s = parse_conll(text, "f.conll", strict);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("f.conll:2:"), std::string::npos) << s.error().message;
}

TEST(ConllTest, WarningsAreCappedButCounted) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "x\n";
  ConllOptions o;
  o.max_warnings = 5;
  auto d = parse_conll(text, "f", o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->warnings.size(), 5u);
  EXPECT_EQ(d->malformed_lines, 30u);
  EXPECT_TRUE(d->sentences.empty());
}

TEST(ConllTest, MissingFileIsNotFound) {
  auto d = read_conll("/nonexistent/ragft/x.conll");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kNotFound);
}

TEST(ConllTest, FormatRoundTripsAndHashIsStable) {
  auto d = parse_conll("a\tB-x\nb\tO\n\nc\tO\n", "x");
  ASSERT_TRUE(d.ok());
  std::string text = format_conll(d->sentences);
  EXPECT_EQ(text, "a\tB-x\nb\tO\n\nc\tO\n\n");
  auto again = parse_conll(text, "y");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(conll_data_hash(d->sentences), conll_data_hash(again->sentences));
  auto other = parse_conll("a\tO\nb\tO\n\nc\tO\n", "z");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(conll_data_hash(d->sentences), conll_data_hash(other->sentences));
}

TEST(ConllTest, EntityMentionsAndFolding) {
  auto ms = entity_mentions({"I", "saw", "New", "York", "Knicks"}, {"O", "O", "B-group", "I-group", "I-group"});
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].text, "New York Knicks");
  EXPECT_EQ(ms[0].type, "group");
  EXPECT_EQ(ms[0].start, 2u);
  EXPECT_EQ(ms[0].end, 5u);
  EXPECT_EQ(fold_case("NeW YorK"), "new york");
  EXPECT_EQ(fold_case("ÉCOLE Straße"), "école strasse");
}

TEST(ConllTest, DataChecksCountUnseenEntities) {
  auto train = parse_conll("Paris\tB-location\nis\tO\n\nBob\tB-person\nDylan\tI-person\n", "t");
  // eval: "paris" (seen, case-folded), "Berlin" (unseen), "Bob Dylan" (seen): unseen 1 of 3.
  auto eval = parse_conll("paris\tB-location\nBerlin\tB-location\n\nBob\tB-person\nDylan\tI-person\nsang\tO\n", "e");
  ASSERT_TRUE(train.ok() && eval.ok());
  auto j = extraction_data_checks(train->sentences, {{"eval", &eval->sentences}});
  EXPECT_EQ(j["train"]["sentences"].get<int>(), 2);
  EXPECT_EQ(j["train"]["tokens"].get<int>(), 4);
  EXPECT_EQ(j["train"]["entities"].get<int>(), 2);
  EXPECT_EQ(j["eval"]["entities_per_type"]["location"].get<int>(), 2);
  EXPECT_EQ(j["eval"]["unseen_entities"].get<int>(), 1);
  EXPECT_NEAR(j["eval"]["unseen_share"].get<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(j["eval"]["unseen_entities_per_type"]["location"].get<int>(), 1);
  // Mean sentence length of eval: 5 tokens / 2 sentences.
  EXPECT_DOUBLE_EQ(j["eval"]["mean_sentence_tokens"].get<double>(), 2.5);
}

TEST(ConllTest, BundledWnut17Loads) {
  std::string dir = std::string(RAGFT_SOURCE_DIR) + "/data/wnut17/";
  auto train = read_conll(dir + "wnut17train.conll");
  ASSERT_TRUE(train.ok()) << train.error().to_string();
  EXPECT_EQ(train->sentences.size(), 3394u);
  EXPECT_EQ(train->malformed_lines, 0u);
  auto dev = read_conll(dir + "emerging.dev.conll");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->sentences.size(), 1009u);
  auto test = read_conll(dir + "emerging.test.annotated");
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(test->sentences.size(), 1287u);
  auto j = extraction_data_checks(train->sentences, {});
  // B- tag counts of the file (cut -f2 | sort | uniq -c): 221+140+264+548+660+142.
  EXPECT_EQ(j["train"]["entities"].get<int>(), 1975);
  EXPECT_EQ(j["train"]["entities_per_type"].size(), 6u);
}

}  // namespace
}  // namespace ragft
