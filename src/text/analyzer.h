// The one analyzer shared by ingest, the index, queries and training: Unicode normalisation
// (NFKC), case folding, word tokenization (UAX-29-like: letters, digits and marks form words;
// everything else separates), configurable stopwords and Snowball stemming.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/result.h"

namespace ragft {

struct AnalyzerOptions {
  // Snowball algorithm name ("english" = Porter2, "porter", "french", ...); "none" disables
  // stemming.
  std::string language = "english";
  // "english" (Lucene's 33-word classic set), "snowball" (the Snowball English list), "none",
  // or a custom list of words separated by '|' ("a|an|the"; one word: "the|"). Stopwords are
  // matched on the folded word before stemming; positions still advance over them.
  // Default chosen by measurement: the Snowball list beat Lucene's 33 words on SciFact train
  // queries (nDCG@10 0.7007 vs 0.6989 with bm25:k1=1.2,b=0.5); see docs/benchmarks.md.
  std::string stopwords = "snowball";
  // Folded tokens longer than this many bytes (1..1024) are dropped (noise, base64, hashes);
  // positions still advance over them.
  std::uint32_t max_token_bytes = 64;

  // Config string, round-trips: "analyzer:lang=english,stop=english,maxlen=64". parse()
  // rejects unknown keys, languages and stopword lists with kInvalidArgument naming the key.
  std::string to_config() const;
  static Result<AnalyzerOptions> parse(std::string_view config);

  bool operator==(const AnalyzerOptions&) const = default;
};

// A token of the input: the analysed term plus the byte span of the source word it came from.
struct Token {
  std::string term;
  std::uint32_t start = 0;     // byte offset of the source word in the original input text
  std::uint32_t end = 0;       // one past the last byte
  std::uint32_t position = 0;  // word position, counting stopwords (so phrases keep gaps)
};

// Not thread-safe (the stemmer and its cache are per instance): use one per thread (clone()).
class Analyzer {
 public:
  // kInvalidArgument for options parse() would reject (e.g. an unknown Snowball language).
  static Result<Analyzer> create(const AnalyzerOptions& options = {});
  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;
  ~Analyzer();

  Result<Analyzer> clone() const { return create(options_); }
  const AnalyzerOptions& options() const { return options_; }

  // Appends the tokens of `text` (any bytes; invalid UTF-8 bytes separate words) to `out`.
  // Words are maximal runs of letters, marks and digits (an apostrophe or format character
  // between two of them joins); each is NFKC-normalised and case-folded (pure-ASCII words are
  // just lowercased), loses an English possessive "'s", is dropped if a stopword or too long,
  // and is stemmed. `text` must be shorter than 4 GiB (offsets are 32-bit).
  void analyze(std::string_view text, std::vector<Token>& out);
  // Terms only (faster: no offsets kept), appended to `out`.
  void terms(std::string_view text, std::vector<std::string>& out);
  // Calls on_token(term, start, end) for every token analyze() would append, in the same order,
  // without making Tokens (no allocation per token): for hot paths that only look for some
  // terms, such as highlighting. The view is valid only during the call.
  using TokenCallback = void (*)(void* context, std::string_view term, std::uint32_t start, std::uint32_t end);
  void for_each_token(std::string_view text, TokenCallback on_token, void* context);
  template <typename Fn>  // Fn(std::string_view term, std::uint32_t start, std::uint32_t end)
  void for_each_token(std::string_view text, Fn&& fn) {
    for_each_token(
        text,
        [](void* c, std::string_view term, std::uint32_t start, std::uint32_t end) {
          (*static_cast<std::remove_reference_t<Fn>*>(c))(term, start, end);
        },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }
  // Normalise, fold and stem one word as the analyzer would; empty if it is a stopword (or
  // too long, or has no letters or digits). If `word` holds several words, only the first is
  // analysed.
  std::string analyze_word(std::string_view word);

 private:
  Analyzer() = default;
  struct Impl;
  AnalyzerOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft
