// Reading [n] citations from generated answers and checking them against the sources.
#include "generate/citations.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

Answer with_sources() {
  Answer a;
  Citation c1;
  c1.n = 1;
  c1.title = "Honey bees";
  c1.quote = "Honey bees communicate the location of flowers with a waggle dance.";
  Citation c2;
  c2.n = 2;
  c2.title = "Volcanoes";
  c2.quote = "Lava flows from the vent during an eruption.";
  a.sources = {c1, c2};
  return a;
}

TEST(CitationsTest, MarkersAreParsedInAllUsualForms) {
  EXPECT_EQ(citation_numbers("a [1] b [2, 3] c [4-6][7] d [x] [0] [2-1] [1.5] [ 8 ]"),
            (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_TRUE(citation_numbers("no markers; arrays like [a, b] and [] are not citations").empty());
}

TEST(CitationsTest, ValidSupportedCitationsAreKeptPerSentence) {
  auto analyzer = Analyzer::create();
  ASSERT_TRUE(analyzer.ok());
  Answer a = with_sources();
  CitationReport r = read_citations("Bees use a waggle dance to show where flowers are [1]. Lava comes out of the vent "
                                    "in an eruption. [2]",
                                    a, *analyzer);
  ASSERT_EQ(a.sentences.size(), 2u);
  EXPECT_EQ(a.sentences[0].text, "Bees use a waggle dance to show where flowers are.");
  EXPECT_EQ(a.sentences[0].citations, std::vector<int>{1});
  // "[2]" after the period belongs to the sentence before it.
  EXPECT_EQ(a.sentences[1].text, "Lava comes out of the vent in an eruption.");
  EXPECT_EQ(a.sentences[1].citations, std::vector<int>{2});
  EXPECT_EQ(r.citations, 2u);
  EXPECT_EQ(r.valid, 2u);
  EXPECT_TRUE(r.issues.empty());
  EXPECT_EQ(a.text(), "Bees use a waggle dance to show where flowers are. [1] Lava comes out of the vent in an eruption. [2]");
}

TEST(CitationsTest, UnknownAndUnsupportedCitationsAreDroppedAndReported) {
  auto analyzer = Analyzer::create();
  ASSERT_TRUE(analyzer.ok());
  Answer a = with_sources();
  CitationReport r = read_citations("Bees dance to show flowers [2][1][7]. Penguins cannot fly.", a, *analyzer);
  ASSERT_EQ(a.sentences.size(), 2u);
  EXPECT_EQ(a.sentences[0].citations, std::vector<int>{1});
  EXPECT_TRUE(a.sentences[1].citations.empty());
  EXPECT_EQ(r.citations, 3u);
  EXPECT_EQ(r.valid, 1u);
  ASSERT_EQ(r.issues.size(), 3u);
  EXPECT_EQ(r.issues[0].kind, CitationIssue::Kind::kUnsupported);  // [2] is about lava
  EXPECT_EQ(r.issues[0].n, 2);
  EXPECT_EQ(r.issues[1].kind, CitationIssue::Kind::kUnknownSource);
  EXPECT_EQ(r.issues[1].n, 7);
  EXPECT_NE(r.issues[1].message.find("not one of the 2 sources"), std::string::npos);
  EXPECT_EQ(r.issues[2].kind, CitationIssue::Kind::kUncitedSentence);
  EXPECT_EQ(r.issues[2].sentence, 1u);
}

}  // namespace
}  // namespace ragft
