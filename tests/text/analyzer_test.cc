#include "text/analyzer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/utf8.h"
#include "text/stopwords.h"

namespace ragft {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Analyzer make(std::string_view config) {
  auto options = AnalyzerOptions::parse(config);
  EXPECT_TRUE(options.ok()) << (options.ok() ? "" : options.error().to_string());
  auto a = Analyzer::create(*options);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().to_string());
  return std::move(a).value();
}

std::vector<std::string> terms(Analyzer& a, std::string_view text) {
  std::vector<std::string> out;
  a.terms(text, out);
  return out;
}

// No stemming, no stopwords: shows the tokenizer and folding alone.
Analyzer plain() { return make("analyzer:lang=none,stop=none,maxlen=64"); }

TEST(AnalyzerTest, AsciiWordsAreLowercased) {
  Analyzer a = plain();
  EXPECT_THAT(terms(a, "Hello, WORLD! x2 Go"), ElementsAre("hello", "world", "x2", "go"));
}

TEST(AnalyzerTest, PunctuationAndHyphensSeparate) {
  Analyzer a = plain();
  EXPECT_THAT(terms(a, "COVID-19 state-of-the-art (p<0.05) a_b e-mail@x.org"),
              ElementsAre("covid", "19", "state", "of", "the", "art", "p", "0", "05", "a", "b",
                          "e", "mail", "x", "org"));
}

TEST(AnalyzerTest, EmptyAndSeparatorOnlyInputGiveNoTokens) {
  Analyzer a = plain();
  EXPECT_THAT(terms(a, ""), IsEmpty());
  EXPECT_THAT(terms(a, "  ,.;-- \n\t ''' \xE2\x80\x94 "), IsEmpty());
}

TEST(AnalyzerTest, ApostropheInsideWordJoins) {
  Analyzer a = plain();
  EXPECT_THAT(terms(a, "don't 'quoted' rock'n'roll students' o'"),
              ElementsAre("don't", "quoted", "rock'n'roll", "students", "o"));
  // The typographic apostrophe joins too and is folded to ASCII.
  EXPECT_THAT(terms(a, "don\xE2\x80\x99t"), ElementsAre("don't"));
}

TEST(AnalyzerTest, PossessiveIsRemoved) {
  Analyzer a = plain();
  EXPECT_THAT(terms(a, "John's JAMES'S Mary\xE2\x80\x99s cat's"),
              ElementsAre("john", "james", "mary", "cat"));
  // Only a trailing 's goes.
  EXPECT_THAT(terms(a, "it'se"), ElementsAre("it'se"));
}

TEST(AnalyzerTest, NfkcNormalisesCompatibilityCharacters) {
  Analyzer a = plain();
  // U+FB01 LATIN SMALL LIGATURE FI.
  EXPECT_THAT(terms(a, "\xEF\xAC\x81nd"), ElementsAre("find"));
  // Full-width digits and letters U+FF11 U+FF19, U+FF21 U+FF22.
  EXPECT_THAT(terms(a, "\xEF\xBC\x91\xEF\xBC\x99 \xEF\xBC\xA1\xEF\xBC\xA2"),
              ElementsAre("19", "ab"));
  // Superscript two (No) folds to a digit and stays in the word.
  EXPECT_THAT(terms(a, "m\xC2\xB2"), ElementsAre("m2"));
  // "½" is NFKC "1⁄2": the fraction slash separates.
  EXPECT_THAT(terms(a, "\xC2\xBD"), ElementsAre("1", "2"));
}

TEST(AnalyzerTest, CaseFoldingKeepsAccentsAndComposes) {
  Analyzer a = plain();
  EXPECT_THAT(terms(a, "Caf\xC3\xA9 CAF\xC3\x89"), ElementsAre("caf\xC3\xA9", "caf\xC3\xA9"));
  // Decomposed e + combining acute (a mark joins the word) composes to the same term.
  EXPECT_THAT(terms(a, "Cafe\xCC\x81"), ElementsAre("caf\xC3\xA9"));
  // Full case folding: sharp s -> ss; Greek capital sigma folds.
  EXPECT_THAT(terms(a, "Stra\xC3\x9F" "e \xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91"),
              ElementsAre("strasse", "\xCF\x83\xCE\xBF\xCF\x86\xCE\xB9\xCE\xB1"));
}

TEST(AnalyzerTest, SoftHyphenAndFormatCharactersInsideWordAreDropped) {
  Analyzer a = plain();
  // U+00AD SOFT HYPHEN between letters joins and is removed by folding.
  EXPECT_THAT(terms(a, "co\xC2\xAD" "operate"), ElementsAre("cooperate"));
  // U+200B ZERO WIDTH SPACE separates.
  EXPECT_THAT(terms(a, "two\xE2\x80\x8Bwords"), ElementsAre("two", "words"));
}

TEST(AnalyzerTest, NonLatinScriptsFormWords) {
  Analyzer a = plain();
  // Russian "Привет мир" and Devanagari with a spacing mark.
  EXPECT_THAT(terms(a, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xD0\xBC\xD0\xB8\xD1\x80!"),
              ElementsAre("\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
                          "\xD0\xBC\xD0\xB8\xD1\x80"));
  EXPECT_THAT(terms(a, "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82\xE0\xA4\xA6\xE0\xA5\x80"),
              ElementsAre("\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82\xE0\xA4\xA6\xE0\xA5\x80"));
}

TEST(AnalyzerTest, EnglishStopwordsAreRemovedButPositionsAdvance) {
  Analyzer a = make("analyzer:lang=none,stop=english,maxlen=64");
  std::vector<Token> tokens;
  a.analyze("The cat is on the mat", tokens);
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].term, "cat");
  EXPECT_EQ(tokens[0].position, 1u);
  EXPECT_EQ(tokens[1].term, "mat");
  EXPECT_EQ(tokens[1].position, 5u);
  // "it's" loses the possessive first, then "it" is a stopword.
  EXPECT_THAT(terms(a, "It's THERE"), IsEmpty());
}

TEST(AnalyzerTest, EnglishStopListIsLucenesClassicSet) {
  auto words = english_stopwords();
  EXPECT_EQ(words.size(), 33u);
  std::set<std::string_view> unique(words.begin(), words.end());
  EXPECT_EQ(unique.size(), 33u);
  for (std::string_view w : {"a", "such", "their", "will", "with"}) EXPECT_TRUE(unique.count(w)) << w;
  EXPECT_FALSE(unique.count("he"));
}

TEST(AnalyzerTest, SnowballStopList) {
  auto words = snowball_stopwords();
  EXPECT_EQ(words.size(), 174u);
  Analyzer a = make("analyzer:lang=none,stop=snowball,maxlen=64");
  EXPECT_THAT(terms(a, "We couldn't do it because he was very tired"), ElementsAre("tired"));
  Analyzer e = make("analyzer:lang=none,stop=english,maxlen=64");
  EXPECT_THAT(terms(e, "We couldn't do it because he was very tired"),
              ElementsAre("we", "couldn't", "do", "because", "he", "very", "tired"));
}

TEST(AnalyzerTest, CustomStopListIsFolded) {
  Analyzer a = make("analyzer:lang=none,stop=The|CAF\xC3\x89|of,maxlen=64");
  EXPECT_THAT(terms(a, "the caf\xC3\xA9 OF the Moon"), ElementsAre("moon"));
  Analyzer one = make("analyzer:lang=none,stop=moon|,maxlen=64");
  EXPECT_THAT(terms(one, "the moon"), ElementsAre("the"));
}

TEST(AnalyzerTest, StopwordsCheckedBeforeStemming) {
  // "thing" is not a stopword; "this" stems to "thi" in Porter2 but is a stopword first.
  Analyzer a = make("analyzer:lang=english,stop=english,maxlen=64");
  EXPECT_THAT(terms(a, "this thing"), ElementsAre("thing"));
  Analyzer b = make("analyzer:lang=english,stop=none,maxlen=64");
  EXPECT_THAT(terms(b, "this thing"), ElementsAre("this", "thing"));
}

TEST(AnalyzerTest, EnglishStemming) {
  Analyzer a = make("analyzer:lang=english,stop=english,maxlen=64");
  EXPECT_THAT(terms(a, "Running runs ran generalizations connected Connection"),
              ElementsAre("run", "run", "ran", "general", "connect", "connect"));
  // Digits are never stemmed.
  EXPECT_THAT(terms(a, "2019 1990s"), ElementsAre("2019", "1990s"));
}

TEST(AnalyzerTest, PorterAndOtherLanguages) {
  Analyzer p = make("analyzer:lang=porter,stop=none,maxlen=64");
  // Porter (1980) keeps "generalizations" -> "gener"; Porter2 gives "general".
  EXPECT_THAT(terms(p, "generalizations running"), ElementsAre("gener", "run"));
  Analyzer f = make("analyzer:lang=french,stop=none,maxlen=64");
  EXPECT_THAT(terms(f, "continuellement"), ElementsAre("continuel"));
}

TEST(AnalyzerTest, RepeatedWordsUseTheCacheAndGiveTheSameStem) {
  Analyzer a = make("analyzer:lang=english,stop=english,maxlen=64");
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "Running studies ";
  std::vector<std::string> out = terms(a, text);
  ASSERT_EQ(out.size(), 2000u);
  for (std::size_t i = 0; i < out.size(); i += 2) {
    ASSERT_EQ(out[i], "run");
    ASSERT_EQ(out[i + 1], "studi");
  }
}

TEST(AnalyzerTest, StopwordsSurviveTheCacheReset) {
  // More distinct words than the stem cache holds (2^18): it is cleared and refilled with the
  // stopwords, which must still be removed afterwards.
  Analyzer a = make("analyzer:lang=english,stop=english,maxlen=64");
  std::string text;
  for (int i = 0; i < 300000; ++i) {
    text += "w";
    text += std::to_string(i);
    text += "ings ";
  }
  std::vector<std::string> out = terms(a, text);
  ASSERT_EQ(out.size(), 300000u);
  EXPECT_EQ(out[299999], "w299999ing");
  EXPECT_THAT(terms(a, "the running of the walkings"), ElementsAre("run", "walk"));
}

TEST(AnalyzerTest, AnalyzeWord) {
  Analyzer a = make("analyzer:lang=english,stop=english,maxlen=64");
  EXPECT_EQ(a.analyze_word("Running"), "run");
  EXPECT_EQ(a.analyze_word("the"), "");
  EXPECT_EQ(a.analyze_word("THE"), "");
  EXPECT_EQ(a.analyze_word("Caf\xC3\xA9s"), "caf\xC3\xA9");
  EXPECT_EQ(a.analyze_word(""), "");
  EXPECT_EQ(a.analyze_word("--"), "");
  EXPECT_EQ(a.analyze_word("stemming works"), "stem");  // first word only
}

TEST(AnalyzerTest, LongTokensAreDroppedButPositionsAdvance) {
  Analyzer a = make("analyzer:lang=none,stop=none,maxlen=8");
  std::vector<Token> tokens;
  a.analyze("short abcdefghi abcdefgh \xC3\xA9" "bcdefghi end", tokens);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].term, "short");
  EXPECT_EQ(tokens[1].term, "abcdefgh");  // exactly 8 bytes: kept
  EXPECT_EQ(tokens[1].position, 2u);
  EXPECT_EQ(tokens[2].term, "end");  // "ébcdefghi" is 10 bytes folded: dropped
  EXPECT_EQ(tokens[2].position, 4u);
  // A huge base64-like blob is dropped without trouble.
  std::string blob(100000, 'Q');
  EXPECT_THAT(terms(a, "x " + blob + " y"), ElementsAre("x", "y"));
  std::string ublob;
  for (int i = 0; i < 20000; ++i) ublob += "\xC3\xA9";
  EXPECT_THAT(terms(a, "x " + ublob + " y"), ElementsAre("x", "y"));
}

TEST(AnalyzerTest, OffsetsPointAtTheOriginalBytes) {
  Analyzer a = make("analyzer:lang=english,stop=english,maxlen=64");
  // Full-width "ＡＢ", a ligature, an accent and a possessive: the folded terms differ in length
  // from the source words, but offsets still index the input.
  std::string text = "The \xEF\xBC\xA1\xEF\xBC\xA2 \xEF\xAC\x81nds, Caf\xC3\xA9's running-dogs!";
  std::vector<Token> tokens;
  a.analyze(text, tokens);
  ASSERT_EQ(tokens.size(), 5u);
  std::vector<std::string> sources;
  for (const Token& t : tokens) {
    ASSERT_LE(t.start, t.end);
    ASSERT_LE(t.end, text.size());
    sources.push_back(text.substr(t.start, t.end - t.start));
  }
  EXPECT_THAT(sources, ElementsAre("\xEF\xBC\xA1\xEF\xBC\xA2", "\xEF\xAC\x81nds",
                                   "Caf\xC3\xA9's", "running", "dogs"));
  EXPECT_EQ(tokens[0].term, "ab");
  EXPECT_EQ(tokens[1].term, "find");
  EXPECT_EQ(tokens[2].term, "caf\xC3\xA9");
  EXPECT_EQ(tokens[3].term, "run");
  EXPECT_EQ(tokens[4].term, "dog");
  EXPECT_EQ(tokens[0].start, 4u);
  EXPECT_EQ(tokens[0].position, 1u);  // "The" was position 0
  EXPECT_EQ(tokens[4].position, 5u);
}

TEST(AnalyzerTest, TermsMatchAnalyze) {
  Analyzer a = make("analyzer:lang=english,stop=english,maxlen=64");
  std::string text =
      "Smith et al. found a 3.5-fold increase (p < 0.05) in the patients\xE2\x80\x99 "
      "responses; na\xC3\xAFve mice didn't.";
  std::vector<Token> tokens;
  a.analyze(text, tokens);
  std::vector<std::string> from_tokens;
  for (const Token& t : tokens) from_tokens.push_back(t.term);
  EXPECT_EQ(from_tokens, terms(a, text));
  EXPECT_THAT(from_tokens, ElementsAre("smith", "et", "al", "found", "3", "5", "fold", "increas",
                                       "p", "0", "05", "patient", "respons", "na\xC3\xAFv", "mice",
                                       "didn't"));
}

// for_each_token() reports exactly analyze()'s terms and byte spans, on text of every kind.
TEST(AnalyzerTest, ForEachTokenMatchesAnalyze) {
  Analyzer a = make("analyzer:lang=english,stop=snowball,maxlen=16");
  std::mt19937 rng(11);
  const std::string alphabet =
      "aZ9' -.\xC2\xC3\xA9\xAD\x80\xBF\xE2\x80\x99\xEF\xBC\xAC\xF0\x9F\x98\x80\xCC\x81\xFF";
  std::vector<std::string> texts = {"", "The patients' responses; na\xC3\xAFve mice didn't running RUNS ran.",
                                    std::string(40, 'x') + " long words are dropped"};
  for (int round = 0; round < 500; ++round) {
    std::string text;
    const std::size_t len = rng() % 160;
    for (std::size_t i = 0; i < len; ++i) text.push_back(alphabet[rng() % alphabet.size()]);
    texts.push_back(std::move(text));
  }
  for (const std::string& text : texts) {
    std::vector<Token> tokens;
    a.analyze(text, tokens);
    std::vector<Token> seen;
    a.for_each_token(text, [&](std::string_view term, std::uint32_t start, std::uint32_t end) {
      Token& t = seen.emplace_back();
      t.term = std::string(term);
      t.start = start;
      t.end = end;
    });
    ASSERT_EQ(seen.size(), tokens.size()) << text;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      EXPECT_EQ(seen[i].term, tokens[i].term);
      EXPECT_EQ(seen[i].start, tokens[i].start);
      EXPECT_EQ(seen[i].end, tokens[i].end);
    }
  }
}

TEST(AnalyzerTest, InvalidUtf8BytesSeparate) {
  Analyzer a = plain();
  EXPECT_THAT(terms(a, "abc\xFF" "def \xC3 ghi\xE2\x80jkl \xED\xA0\x80mno"),
              ElementsAre("abc", "def", "ghi", "jkl", "mno"));
}

TEST(AnalyzerTest, RandomBytesNeverCrashAndGiveValidTokens) {
  Analyzer a = make("analyzer:lang=english,stop=english,maxlen=16");
  std::mt19937 rng(42);
  // Bias towards bytes that make UTF-8 lead/continuation sequences and word characters.
  const std::string alphabet =
      "aZ9' -.\xC2\xC3\xA9\xAD\x80\xBF\xE2\x80\x99\xEF\xBC\xAC\xF0\x9F\x98\x80\xCC\x81\xFF\xFE";
  for (int round = 0; round < 2000; ++round) {
    std::size_t len = rng() % 200;
    std::string text;
    for (std::size_t i = 0; i < len; ++i) {
      text.push_back(round % 2 == 0 ? static_cast<char>(rng() & 0xFF)
                                    : alphabet[rng() % alphabet.size()]);
    }
    std::vector<Token> tokens;
    a.analyze(text, tokens);
    std::uint32_t last_position = 0;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const Token& t = tokens[i];
      ASSERT_FALSE(t.term.empty());
      ASSERT_LE(t.term.size(), 16u);
      ASSERT_TRUE(is_valid_utf8(t.term));
      ASSERT_LT(t.start, t.end);
      ASSERT_LE(t.end, text.size());
      if (i > 0) {
        ASSERT_GT(t.position, last_position);
      }
      last_position = t.position;
    }
  }
}

TEST(AnalyzerTest, CloneBehavesTheSame) {
  Analyzer a = make("analyzer:lang=english,stop=snowball,maxlen=32");
  auto b = a.clone();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->options(), a.options());
  EXPECT_EQ(terms(*b, "The quick brown foxes jumped"), terms(a, "The quick brown foxes jumped"));
}

TEST(AnalyzerOptionsTest, ConfigRoundTrips) {
  AnalyzerOptions defaults;
  EXPECT_EQ(defaults.to_config(), "analyzer:lang=english,stop=snowball,maxlen=64");
  auto parsed = AnalyzerOptions::parse("analyzer:lang=english,stop=snowball,maxlen=64");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, defaults);

  AnalyzerOptions custom;
  custom.language = "porter";
  custom.stopwords = "a|an|the";
  custom.max_token_bytes = 20;
  auto again = AnalyzerOptions::parse(custom.to_config());
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(*again, custom);
  EXPECT_EQ(again->to_config(), "analyzer:lang=porter,stop=a|an|the,maxlen=20");
}

TEST(AnalyzerOptionsTest, MissingKeysKeepDefaults) {
  auto p = AnalyzerOptions::parse("analyzer:stop=none");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->language, "english");
  EXPECT_EQ(p->stopwords, "none");
  EXPECT_EQ(p->max_token_bytes, 64u);
  auto bare = AnalyzerOptions::parse("analyzer");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(*bare, AnalyzerOptions{});
}

void expect_invalid(std::string_view config, std::string_view mentions) {
  auto p = AnalyzerOptions::parse(config);
  ASSERT_FALSE(p.ok()) << config;
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument) << config;
  EXPECT_NE(p.error().message.find(mentions), std::string::npos)
      << config << " -> " << p.error().message;
}

TEST(AnalyzerOptionsTest, ParseErrors) {
  expect_invalid("analyzer:lang=english,colour=red", "'colour'");
  expect_invalid("analyzer:lang=klingon", "'lang'");
  expect_invalid("analyzer:lang=klingon", "klingon");
  expect_invalid("analyzer:stop=englsh", "'stop'");
  expect_invalid("analyzer:maxlen=0", "'maxlen'");
  expect_invalid("analyzer:maxlen=12x", "'maxlen'");
  expect_invalid("analyzer:maxlen=-3", "'maxlen'");
  expect_invalid("analyzer:maxlen=100000", "'maxlen'");
  expect_invalid("analyzer:lang=english,lang=porter", "'lang'");
  expect_invalid("analyzer:lang", "'lang'");
  expect_invalid("bm25:k1=0.9", "analyzer:");
}

TEST(AnalyzerOptionsTest, CreateRejectsUnknownLanguage) {
  AnalyzerOptions o;
  o.language = "klingon";
  auto a = Analyzer::create(o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(a.error().message.find("klingon"), std::string::npos);

  AnalyzerOptions bad_stop;
  bad_stop.stopwords = "a,b";
  auto b = Analyzer::create(bad_stop);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
