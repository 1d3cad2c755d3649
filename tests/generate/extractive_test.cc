#include <gtest/gtest.h>

#include "core/check.h"
#include "core/utf8.h"
#include "generate/extractive.h"

namespace ragft {
namespace {

std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_gen_XXXXXX").string();
  RAGFT_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

void add(Workspace& ws, const std::string& id, const std::string& title, const std::string& text,
         std::vector<std::int64_t> page_starts = {}) {
  NewDocument d;
  d.ext_id = id;
  d.source = "mem:" + id;
  d.format = "txt";
  d.title = title;
  d.text = text;
  d.page_starts = page_starts;
  d.content_hash = id + text;
  NewChunk c;
  c.char_start = 0;
  c.char_end = static_cast<std::int64_t>(char_offset(text, text.size()));
  c.text = text;
  ASSERT_TRUE(ws.store().upsert(d, {c}).ok());
}

TEST(ExtractiveTest, CitesExactSentenceSpansAndPages) {
  auto dir = temp_dir();
  auto ws = Workspace::open(dir);
  ASSERT_TRUE(ws.ok());
  // Two "pages": the second starts at char 40.
  std::string text =
      "Mitochondria make ATP in most cells.   \nChloroplasts capture light energy in plants. "
      "Ribosomes build proteins.";
  add(*ws, "bio", "Cell parts", text, {0, 40});
  add(*ws, "geo", "Rocks", "Granite is an igneous rock. Basalt forms from lava.");
  ASSERT_TRUE(ws->catch_up().ok());

  SearchRequest r;
  r.query = "What captures light energy in plants?";
  auto a = answer_extractive(*ws, r);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_FALSE(a->abstained);
  ASSERT_FALSE(a->sources.empty());
  const Citation& c = a->sources[0];
  EXPECT_EQ(c.doc_ext_id, "bio");
  EXPECT_EQ(c.quote, "Chloroplasts capture light energy in plants.");
  EXPECT_EQ(c.char_start, 40);
  EXPECT_EQ(c.char_end, 40 + 44);
  EXPECT_EQ(c.page, 2);
  EXPECT_EQ(a->sentences[0].citations, std::vector<int>{1});
  EXPECT_EQ(a->text().substr(0, 48), "Chloroplasts capture light energy in plants. [1]");
  std::filesystem::remove_all(dir);
}

TEST(ExtractiveTest, AbstainsOnLowSupport) {
  auto dir = temp_dir();
  auto ws = Workspace::open(dir);
  ASSERT_TRUE(ws.ok());
  add(*ws, "geo", "Rocks", "Granite is an igneous rock. Basalt forms from lava.");
  ASSERT_TRUE(ws->catch_up().ok());
  SearchRequest r;
  r.query = "Which rock orbits distant exoplanets near pulsars?";  // shares only "rock"
  auto a = answer_extractive(*ws, r);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->abstained);
  EXPECT_TRUE(a->sources.empty());
  EXPECT_LT(a->confidence, 0.4f);
  r.query = "zebra";  // no hit at all
  a = answer_extractive(*ws, r);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->abstained);
  std::filesystem::remove_all(dir);
}

TEST(ExtractiveTest, ConfigRoundTripsAndRejectsBadValues) {
  auto o = ExtractiveOptions::parse("extractive:chunks=7,max=2,min=0.5,keep=0.25");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->chunks, 7u);
  EXPECT_EQ(o->max_sentences, 2u);
  auto again = ExtractiveOptions::parse(o->to_config());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->to_config(), o->to_config());
  EXPECT_EQ(ExtractiveOptions::parse("extractive:chunks=0").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExtractiveOptions::parse("extractive:min=2").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExtractiveOptions::parse("extractive:bogus=1").error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
