// The one analyzer shared by ingest, the index, queries and training: Unicode normalisation
// (NFKC), case folding, word tokenization (UAX-29-like: letters, digits and marks form words;
// everything else separates), configurable stopwords and Snowball stemming.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

struct AnalyzerOptions {
  std::string language = "english";   // Snowball algorithm name; "none" disables stemming
  std::string stopwords = "english";  // "english", "none", or a comma list "a|an|the" (| separated)
  std::uint32_t max_token_bytes = 64;  // longer tokens are dropped (noise, base64, hashes)

  // Config string, round-trips: "analyzer:lang=english,stop=english,maxlen=64".
  std::string to_config() const;
  static Result<AnalyzerOptions> parse(std::string_view config);
};

// A token of the input: the analysed term plus the byte span of the source word it came from.
struct Token {
  std::string term;
  std::uint32_t start = 0;     // byte offset in the analysed text
  std::uint32_t end = 0;       // one past the last byte
  std::uint32_t position = 0;  // word position, counting stopwords (so phrases keep gaps)
};

// Not thread-safe (the stemmer and its cache are per instance): use one per thread (clone()).
class Analyzer {
 public:
  static Result<Analyzer> create(const AnalyzerOptions& options = {});
  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;
  ~Analyzer();

  Result<Analyzer> clone() const { return create(options_); }
  const AnalyzerOptions& options() const { return options_; }

  // Appends the tokens of `text` (any bytes; invalid UTF-8 is skipped) to `out`.
  void analyze(std::string_view text, std::vector<Token>& out);
  // Terms only (faster: no offsets kept), appended to `out`.
  void terms(std::string_view text, std::vector<std::string>& out);
  // Normalise, fold and stem one word as the analyzer would; empty if it is a stopword.
  std::string analyze_word(std::string_view word);

 private:
  Analyzer() = default;
  struct Impl;
  AnalyzerOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft
