#include "text/sentences.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ragft {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> texts(std::string_view text, const std::vector<Span>& spans) {
  std::vector<std::string> out;
  for (const Span& s : spans) out.emplace_back(text.substr(s.start, s.end - s.start));
  return out;
}

std::vector<std::string> sentences(std::string_view text) {
  return texts(text, split_sentences(text));
}

bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Spans are ordered, disjoint, trimmed, non-empty, and together cover every non-whitespace
// byte exactly once (the bytes between spans are whitespace). ASCII-whitespace texts only.
void expect_exact_cover(std::string_view text, const std::vector<Span>& spans) {
  std::size_t covered_to = 0;
  for (const Span& s : spans) {
    ASSERT_LT(s.start, s.end) << "empty span";
    ASSERT_LE(s.end, text.size());
    ASSERT_GE(s.start, covered_to) << "overlap or out of order";
    for (std::size_t i = covered_to; i < s.start; ++i) {
      ASSERT_TRUE(is_ascii_space(text[i])) << "uncovered byte at " << i;
    }
    ASSERT_FALSE(is_ascii_space(text[s.start])) << "untrimmed start";
    ASSERT_FALSE(is_ascii_space(text[s.end - 1])) << "untrimmed end";
    covered_to = s.end;
  }
  for (std::size_t i = covered_to; i < text.size(); ++i) {
    ASSERT_TRUE(is_ascii_space(text[i])) << "uncovered byte at " << i;
  }
}

TEST(SentencesTest, SimpleSentences) {
  EXPECT_THAT(sentences("One. Two! Three? Four"), ElementsAre("One.", "Two!", "Three?", "Four"));
}

TEST(SentencesTest, EmptyAndBlankText) {
  EXPECT_THAT(split_sentences(""), IsEmpty());
  EXPECT_THAT(split_sentences(" \n\t\n  "), IsEmpty());
  EXPECT_THAT(split_paragraphs("\n\n"), IsEmpty());
}

TEST(SentencesTest, ScientificAbstract) {
  std::string text =
      "Smith et al. found a 3.5-fold increase (p < 0.05). The effect was large. "
      "As shown in Fig. 2, the dose (approx. 10 mg) was safe, i.e. no events occurred. "
      "Dr. J. Smith and Prof. Jones (U.S. Army) agreed; cf. Eq. 3 vs. Eq. 4. "
      "Results were robust!  \"Remarkable,\" said Mr. Lee. [1] Further work is needed.";
  std::vector<Span> spans = split_sentences(text);
  EXPECT_THAT(texts(text, spans),
              ElementsAre("Smith et al. found a 3.5-fold increase (p < 0.05).",
                          "The effect was large.",
                          "As shown in Fig. 2, the dose (approx. 10 mg) was safe, i.e. no events "
                          "occurred.",
                          "Dr. J. Smith and Prof. Jones (U.S. Army) agreed; cf. Eq. 3 vs. Eq. 4.",
                          "Results were robust!", "\"Remarkable,\" said Mr. Lee.",
                          "[1] Further work is needed."));
  expect_exact_cover(text, spans);
}

TEST(SentencesTest, AbbreviationsBeforeCapitalsDoNotSplit) {
  EXPECT_THAT(sentences("See e.g. Table 1 and Figs. 3-4. Done."),
              ElementsAre("See e.g. Table 1 and Figs. 3-4.", "Done."));
  EXPECT_THAT(sentences("Apples, pears, etc. The end."), ElementsAre("Apples, pears, etc. The end."));
  EXPECT_THAT(sentences("Capitalised E.g. Cats. Next."), ElementsAre("Capitalised E.g. Cats.", "Next."));
  EXPECT_THAT(sentences("He lives on Main St. He is Jr. Next."),
              ElementsAre("He lives on Main St. He is Jr. Next."));
}

TEST(SentencesTest, CapitalisedAbbreviationsMatchExactly) {
  // "No." with a capital is an abbreviation ("No. 5"); a sentence ending in lowercase "no." ends.
  EXPECT_THAT(sentences("See No. 5 here. I said no. Then left."),
              ElementsAre("See No. 5 here.", "I said no.", "Then left."));
}

TEST(SentencesTest, InitialsAndDecimals) {
  EXPECT_THAT(sentences("J. R. R. Tolkien wrote it. Pi is 3.14159. Yes."),
              ElementsAre("J. R. R. Tolkien wrote it.", "Pi is 3.14159.", "Yes."));
}

TEST(SentencesTest, LowercaseAfterPeriodDoesNotSplit) {
  EXPECT_THAT(sentences("The value was low. and then it rose."),
              ElementsAre("The value was low. and then it rose."));
}

TEST(SentencesTest, ClosingQuotesAndBracketsStayWithTheSentence) {
  EXPECT_THAT(sentences("He said \"Stop.\" Then he left. (It was late.) Next day?! Fine."),
              ElementsAre("He said \"Stop.\"", "Then he left.", "(It was late.)", "Next day?!",
                          "Fine."));
  // Typographic quotes.
  EXPECT_THAT(sentences("She wrote \xE2\x80\x9C" "End.\xE2\x80\x9D \xE2\x80\x9C" "Begin.\xE2\x80\x9D"),
              ElementsAre("She wrote \xE2\x80\x9C" "End.\xE2\x80\x9D",
                          "\xE2\x80\x9C" "Begin.\xE2\x80\x9D"));
}

TEST(SentencesTest, DigitsAndNonAsciiUppercaseStartSentences) {
  EXPECT_THAT(sentences("It rose. 42 cases. \xC3\x89tienne agreed."),
              ElementsAre("It rose.", "42 cases.", "\xC3\x89tienne agreed."));
}

TEST(SentencesTest, EllipsisFollowedByCapitalSplits) {
  EXPECT_THAT(sentences("Wait... What happened?"), ElementsAre("Wait...", "What happened?"));
}

TEST(SentencesTest, ParagraphBreakEndsASentence) {
  std::string text = "Title without period\n\nFirst para line one\nline two. Next one\n \n\nLast";
  std::vector<Span> spans = split_sentences(text);
  EXPECT_THAT(texts(text, spans), ElementsAre("Title without period", "First para line one\nline two.",
                                              "Next one", "Last"));
  expect_exact_cover(text, spans);
}

TEST(SentencesTest, Paragraphs) {
  std::string text = "  \n Para one\nstill one.  \n\n\n\tPara two. Two sentences.\n  \t\nPara three";
  std::vector<Span> spans = split_paragraphs(text);
  EXPECT_THAT(texts(text, spans), ElementsAre("Para one\nstill one.", "Para two. Two sentences.",
                                              "Para three"));
  expect_exact_cover(text, spans);
  // Windows line ends: "\r\n\r\n" is a blank line.
  EXPECT_THAT(texts("a b\r\n\r\nc d\r\n", split_paragraphs("a b\r\n\r\nc d\r\n")),
              ElementsAre("a b", "c d"));
}

TEST(SentencesTest, UnicodeWhitespaceIsTrimmed) {
  // NBSP before and ideographic space after.
  std::string text = "\xC2\xA0" "One. Two.\xE3\x80\x80";
  EXPECT_THAT(sentences(text), ElementsAre("One.", "Two."));
}

TEST(SentencesTest, RandomTextIsCoveredExactly) {
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {
      "word", "Word", ".", ". ", "! ", "? ", " ", "\n", "\n\n", "e.g. ", "Dr. ", "3.5", "\"",
      ")",    "(",    "J. ", "U.S. ", "etc. ", "\xC3\x89", "\xC3", "\xFF", "...", " \n \n"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
    expect_exact_cover(text, split_sentences(text));
    expect_exact_cover(text, split_paragraphs(text));
    if (testing::Test::HasFatalFailure()) {
      ADD_FAILURE() << "text: " << text;
      return;
    }
  }
}

}  // namespace
}  // namespace ragft
