// Named English stopword lists used by the analyzer (AnalyzerOptions::stopwords).
// Words are lowercase ASCII, already in the folded form the analyzer compares against.
#pragma once

#include <span>
#include <string_view>

namespace ragft {

// Lucene's classic English stop set (EnglishAnalyzer / ENGLISH_STOP_WORDS_SET): 33 words.
std::span<const std::string_view> english_stopwords();
// The Snowball English stop list (snowballstem.org, algorithms/english/stop.txt): 174 words,
// including contractions such as "don't".
std::span<const std::string_view> snowball_stopwords();

}  // namespace ragft
