// The data profile `ragft profile` prints and `ragft decide` embeds in its report: the corpus
// (from a workspace's store), the labelled data (train/data_checks.h) and the eval set.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "store/store.h"
#include "text/analyzer.h"

namespace ragft::decide {

struct CorpusProfileOptions {
  std::string tenant = "default";
  // A line (trimmed, at least `boilerplate_min_chars` characters) is boilerplate when it occurs
  // in at least `boilerplate_min_docs` documents and in at least `boilerplate_min_share` of them.
  std::size_t boilerplate_min_chars = 20;
  std::size_t boilerplate_min_docs = 3;
  double boilerplate_min_share = 0.01;
  std::size_t histogram_bins = 12;  // log-spaced bins of document length in tokens
};

// Document lengths in tokens: nearest-rank percentiles (evaluate/latency.h) and a histogram
// with log-spaced integer edges 1 = e0 < e1 < ... < max (e_k = ceil(max^(k/bins)), duplicates
// merged, so at most `bins` bins). Bin j counts lengths in [lo, hi), the last one [lo, hi]; the
// first bin starts at 0 so that empty documents are counted. All documents at most 1 token
// long: one bin [0, 1]. No documents: zeros and no bins.
struct LengthStats {
  double p10 = 0, p50 = 0, p90 = 0, max = 0;
  struct Bin {
    double lo = 0, hi = 0;
    std::size_t count = 0;
  };
  std::vector<Bin> histogram;
};

struct LanguageGuess {
  std::string code;  // ISO 639-1 ("en", "de", ...) or "und" when undetermined
  std::string name;  // Snowball name ("english", ...) or "unknown"
  double confidence = 0;  // share of sampled stopword hits that belong to this language, [0, 1]
};

// Change rate from the store's change log (store.h Change, at_unix_ms). Exact rule:
//  - a change is an upsert of a doc_id that an earlier entry of the log already upserted, or a
//    delete; documents_changed counts the distinct doc_ids of changes. (A re-added document
//    gets a fresh DocId, so it counts as an insert.)
//  - span_days: earliest to latest at_unix_ms over all entries (0 for fewer than two).
//  - "history" means a span of at least kMinHistoryDays (one hour):
//      changes > 0 and history -> per_week = changes * 7 / span_days, and as_change_frequency
//        is change_frequency_for_interval(span_days / events), where events are runs of changes
//        less than an hour apart (a sync that touches 1000 documents once a month is one event
//        a month: "monthly");
//      changes == 0 and span_days >= kNeverDays (a year) -> per_week = 0, "never";
//      otherwise per_week = nullopt and as_change_frequency = "" (the log cannot tell; the
//        answered `change` requirement stands).
struct ChangeStats {
  std::size_t changes = 0;            // change-log entries after each document's first insert
  std::size_t documents_changed = 0;  // distinct documents updated or deleted after insert
  double span_days = 0;               // first to last change-log entry
  std::optional<double> per_week;     // changes per week over the span; nullopt without history
  // The project-file `change` value the rate corresponds to ("hourly" ... "never"); empty
  // without history.
  std::string as_change_frequency;
};
inline constexpr double kMinHistoryDays = 1.0 / 24;
inline constexpr double kNeverDays = 365;

// Change statistics of change-log entries in ascending seq order (see ChangeStats).
ChangeStats change_stats_from(const std::vector<Change>& log);
// The project-file `change` value nearest (on a log scale) to one change every `days` days:
// hourly (< 4.9 h), daily (< 2.65 d), weekly (< 14.6 d), monthly (< 105 d), else yearly.
std::string change_frequency_for_interval(double days);
LengthStats length_stats(const std::vector<double>& lengths, std::size_t bins);

struct CorpusProfile {
  std::size_t documents = 0, chunks = 0, tokens = 0;  // tokens: analyzer terms, stopwords kept
  std::map<std::string, std::size_t> formats;          // documents per format
  LengthStats doc_tokens;
  double near_duplicate_share = 0;  // chunks that nearly repeat an earlier chunk / chunks
  double boilerplate_share = 0;     // characters in boilerplate lines / characters
  LanguageGuess language;
  ChangeStats change;
  nlohmann::json to_json() const;  // the "profile.corpus" object of docs/decide-design.md
};

// Reads every document of the tenant once (list_sources, then get() per document; chunks via
// one for_each_chunk walk; the change log in pages). Memory: one length per document plus the
// line table for boilerplate, which is exact up to 4096 documents and beyond that a lossy count
// (Manku-Motwani, one bucket per 4096 documents) that undercounts a line's documents by at most
// documents/4096 (far below the boilerplate_min_share threshold at the default 1%).
//  - tokens: words as the Analyzer splits them (lang=none, stop=none: stopwords kept, words over
//    64 bytes dropped) in document text (titles excluded).
//  - boilerplate_share: code points of boilerplate lines (trimmed of ASCII whitespace; every
//    occurrence counted) / code points of all document text.
//  - language: guess_language on the first 2000 bytes of up to 200 evenly spaced documents.
//  - change: the change log is store-wide and has no tenant column; entries of the tenant's
//    current documents and of documents that no longer exist are used (in a one-tenant store:
//    all of them).
// Store errors propagate; kInvalidArgument when histogram_bins is 0.
Result<CorpusProfile> profile_corpus(Store& store, const CorpusProfileOptions& options = {});

// Guesses the language of `text` from the frequency of common function words (about 45 per
// language, case-folded) of english, german, french, spanish, italian, portuguese, dutch,
// swedish and russian: the language with most hits wins (ties: that order); confidence = its
// hits / words that are a function word of any of them. Fewer than 5 hits for the winner ->
// {"und", "unknown", 0}.
LanguageGuess guess_language(std::string_view text);

struct EvalProfile {
  std::size_t items = 0;
  std::string unit;  // "questions", "queries", "sentences"
  // Half-width of the 95% interval of a proportion at 0.5 with this many items
  // (1.96 * sqrt(0.25 / n)): the resolution the eval set allows at worst. Infinity for 0 items
  // (null in JSON).
  double ci95_half_width_at_0_5 = 0;
  nlohmann::json to_json() const;  // {"items", "unit", "ci95_half_width_at_0_5"}
};
EvalProfile profile_eval(std::size_t items, std::string unit);

}  // namespace ragft::decide
