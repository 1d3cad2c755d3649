#include "train/dataset.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace ragft {
namespace {

DataOptions opts(DataFormat f) {
  DataOptions o;
  o.format = f;
  return o;
}

TEST(DatasetTest, JsonlStringAndListLabels) {
  std::string in =
      "{\"text\": \"good movie\", \"label\": \"pos\"}\n"
      "\n"
      "{\"text\": \"news and sport\", \"label\": [\"news\", \"sport\"]}\n"
      "{\"text\": \"numbers\", \"label\": 3}\r\n";
  auto d = parse_examples(in, "a.jsonl", opts(DataFormat::kJsonl));
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  ASSERT_EQ(d->examples.size(), 3u);
  EXPECT_EQ(d->examples[0].text, "good movie");
  EXPECT_EQ(d->examples[0].labels, std::vector<std::string>{"pos"});
  EXPECT_EQ(d->examples[0].line, 1u);
  EXPECT_EQ(d->examples[1].labels, (std::vector<std::string>{"news", "sport"}));
  EXPECT_EQ(d->examples[1].line, 3u);
  EXPECT_EQ(d->examples[2].labels, std::vector<std::string>{"3"});
  EXPECT_TRUE(d->multi_label());
  EXPECT_EQ(d->labels(), (std::vector<std::string>{"3", "news", "pos", "sport"}));
  EXPECT_TRUE(d->warnings.empty());
}

TEST(DatasetTest, JsonlCustomFieldsAndBadLinesAreWarnings) {
  DataOptions o = opts(DataFormat::kJsonl);
  o.text_column = "sentence";
  o.label_column = "y";
  std::string in =
      "{\"sentence\": \"ok one\", \"y\": \"a\"}\n"
      "{not json\n"
      "{\"sentence\": \"no label\"}\n"
      "{\"sentence\": \"   \", \"y\": \"a\"}\n"
      "{\"sentence\": \"bad \xff bytes\", \"y\": \"a\"}\n"
      "{\"sentence\": \"ok two\", \"y\": [\"b\"]}\n";
  auto d = parse_examples(in, "f.jsonl", o);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->examples.size(), 2u);
  EXPECT_EQ(d->examples[1].text, "ok two");
  ASSERT_EQ(d->warnings.size(), 4u);
  EXPECT_EQ(d->warnings[0], "f.jsonl:2: invalid JSON");
  EXPECT_EQ(d->warnings[1], "f.jsonl:3: missing field \"y\"");
  EXPECT_EQ(d->warnings[2], "f.jsonl:4: empty text");
  EXPECT_NE(d->warnings[3].find("f.jsonl:5: invalid UTF-8"), std::string::npos);
  EXPECT_EQ(d->skipped, 4u);
}

TEST(DatasetTest, StrictMakesTheFirstBadLineAnError) {
  DataOptions o = opts(DataFormat::kJsonl);
  o.strict = true;
  auto d = parse_examples("{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\"}\n{oops\n", "s.jsonl", o);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(d.error().message.find("s.jsonl:2:"), std::string::npos) << d.error().message;
}

TEST(DatasetTest, CsvQuotedFieldsAndChosenColumns) {
  DataOptions o = opts(DataFormat::kCsv);
  o.text_column = "review";
  o.label_column = "stars";
  std::string in =
      "id,stars,review\r\n"
      "1,5,\"great, really \"\"great\"\"\"\r\n"
      "2,1,\"two\nlines\"\n"
      "3,2\n"
      "4,3,plain\n";
  auto d = parse_examples(in, "r.csv", o);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  ASSERT_EQ(d->examples.size(), 3u);
  EXPECT_EQ(d->examples[0].text, "great, really \"great\"");
  EXPECT_EQ(d->examples[0].labels[0], "5");
  EXPECT_EQ(d->examples[1].text, "two\nlines");
  EXPECT_EQ(d->examples[1].line, 3u);
  EXPECT_EQ(d->examples[2].text, "plain");
  EXPECT_EQ(d->examples[2].line, 6u);  // the quoted newline moved it down one line
  ASSERT_EQ(d->warnings.size(), 1u);
  EXPECT_EQ(d->warnings[0], "r.csv:5: 2 fields, the header has 3");
}

TEST(DatasetTest, CsvMissingColumnIsAnErrorNamingIt) {
  DataOptions o = opts(DataFormat::kCsv);
  auto d = parse_examples("a,b\n1,2\n", "m.csv", o);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(d.error().message.find("\"text\""), std::string::npos);
  EXPECT_NE(d.error().message.find("a, b"), std::string::npos);
}

TEST(DatasetTest, FastTextLabels) {
  auto d = parse_examples("__label__a __label__b two  labels\n__label__c one\nno label here\n", "t.txt",
                          opts(DataFormat::kFastText));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->examples.size(), 2u);
  EXPECT_EQ(d->examples[0].labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d->examples[0].text, "two labels");
  EXPECT_EQ(d->examples[1].labels, std::vector<std::string>{"c"});
  ASSERT_EQ(d->warnings.size(), 1u);
  EXPECT_EQ(d->warnings[0], "t.txt:3: no __label__ token");
}

TEST(DatasetTest, TrecCoarseFineAndLatin1) {
  // "Caf\xe9" is "Café" in Latin-1; invalid as UTF-8.
  std::string in = "LOC:city What city has the Caf\xe9 ?\nNUM:date When ?\nbroken line\n";
  DataOptions o = opts(DataFormat::kTrec);
  auto utf = parse_examples(in, "q.label", o);
  ASSERT_TRUE(utf.ok());
  EXPECT_EQ(utf->examples.size(), 1u);  // the Latin-1 line is invalid UTF-8
  EXPECT_EQ(utf->warnings.size(), 2u);

  o.encoding = Encoding::kLatin1;
  auto d = parse_examples(in, "q.label", o);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->examples.size(), 2u);
  EXPECT_EQ(d->examples[0].labels[0], "LOC");
  EXPECT_EQ(d->examples[0].text, "What city has the Caf\xc3\xa9 ?");
  EXPECT_EQ(d->warnings, std::vector<std::string>{"q.label:3: expected COARSE:fine before the question"});
  o.trec_fine = true;
  auto f = parse_examples(in, "q.label", o);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->examples[1].labels[0], "NUM:date");
}

TEST(DatasetTest, Sst) {
  auto d = parse_examples("1 a fine film\n0 dull\n1\n", "s", opts(DataFormat::kSst));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->examples.size(), 2u);
  EXPECT_EQ(d->examples[0].labels[0], "1");
  EXPECT_EQ(d->examples[0].text, "a fine film");
  EXPECT_EQ(d->warnings, std::vector<std::string>{"s:3: empty text"});
}

TEST(DatasetTest, MissingFileAndUnknownFormat) {
  auto d = load_examples("/nonexistent/x.jsonl", opts(DataFormat::kJsonl));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kNotFound);
  auto f = parse_data_format("xml");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(parse_encoding("cp1252").ok());
  EXPECT_EQ(*parse_encoding("latin-1"), Encoding::kLatin1);
}

TEST(DatasetTest, ContentHashDependsOnTextAndLabelsNotLines) {
  auto a = parse_examples("1 x\n0 y\n", "a", opts(DataFormat::kSst));
  auto b = parse_examples("\n1 x\n\n0 y\n", "b", opts(DataFormat::kSst));
  auto c = parse_examples("1 x\n1 y\n", "c", opts(DataFormat::kSst));
  EXPECT_EQ(a->content_hash(), b->content_hash());
  EXPECT_NE(a->content_hash(), c->content_hash());
  EXPECT_EQ(a->content_hash().size(), 32u);
}

// The bundled data sets load completely with the documented sizes.
TEST(DatasetTest, BundledTrecAndSst) {
  std::filesystem::path root = RAGFT_SOURCE_DIR;
  DataOptions t = opts(DataFormat::kTrec);
  t.encoding = Encoding::kLatin1;
  t.strict = true;
  auto train = load_examples(root / "data/trec-qc/train_5500.label", t);
  ASSERT_TRUE(train.ok()) << train.error().to_string();
  EXPECT_EQ(train->examples.size(), 5452u);
  EXPECT_EQ(train->labels(), (std::vector<std::string>{"ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"}));
  auto test = load_examples(root / "data/trec-qc/TREC_10.label", t);
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(test->examples.size(), 500u);
  DataOptions s = opts(DataFormat::kSst);
  s.strict = true;
  auto sst = load_examples(root / "data/sst2/stsa.binary.train", s);
  ASSERT_TRUE(sst.ok()) << sst.error().to_string();
  EXPECT_EQ(sst->examples.size(), 6920u);
  EXPECT_EQ(sst->labels(), (std::vector<std::string>{"0", "1"}));
}

}  // namespace
}  // namespace ragft
