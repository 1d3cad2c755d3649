#include "decide/profile.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/check.h"
#include "evaluate/latency.h"

namespace ragft::decide {
namespace {

constexpr std::size_t kBoilerplateBucketDocs = 4096;  // lossy-count bucket (see profile_corpus)
constexpr std::size_t kLanguageSampleDocs = 200;
constexpr std::size_t kLanguageSampleBytes = 2000;
constexpr std::size_t kMinLanguageHits = 5;
constexpr std::int64_t kEventGapMs = 3'600'000;  // changes less than an hour apart: one event
constexpr double kMsPerDay = 86'400'000.0;

// ---------------------------------------------------------------------------------------------
// Language guess

struct Language {
  std::string_view code, name;
  std::span<const std::string_view> words;
};

// Frequent function words, case-folded as the analyzer folds them (written for this purpose,
// not taken from a stop list).
constexpr std::string_view kEnglish[] = {
    "the",  "of",   "and",   "to",    "in",   "is",    "that",  "it",    "was",   "for",  "on",    "are",
    "as",   "with", "his",   "they",  "at",   "be",    "this",  "have",  "from",  "or",   "had",   "by",
    "not",  "but",  "what",  "all",   "were", "we",    "when",  "your",  "can",   "there", "which", "she",
    "he",   "their", "been", "would", "will", "has",   "an",    "you",   "a",     "i"};
constexpr std::string_view kGerman[] = {
    "der",  "die",  "und",   "in",    "den",  "von",   "zu",    "das",   "mit",   "sich", "des",   "auf",
    "für",  "ist",  "im",    "dem",   "nicht", "ein",  "eine",  "als",   "auch",  "es",   "an",    "werden",
    "aus",  "er",   "hat",   "dass",  "sie",  "nach",  "wird",  "bei",   "einer", "um",   "am",    "sind",
    "noch", "wie",  "einem", "über",  "einen", "oder", "aber",  "vor",   "zur",   "durch", "wurde", "wir"};
constexpr std::string_view kFrench[] = {
    "le",   "la",   "les",  "de",    "des",  "et",    "un",    "une",   "du",    "en",   "est",   "que",
    "qui",  "dans", "pour", "pas",   "sur",  "au",    "il",    "elle",  "ne",    "se",   "ce",    "plus",
    "par",  "avec", "sont", "son",   "sa",   "ses",   "ont",   "mais",  "ou",    "nous", "vous",  "aux",
    "été",  "cette", "comme", "leur", "je",  "on",    "aussi",   "était", "très",  "où"};
constexpr std::string_view kSpanish[] = {
    "el",   "la",   "de",   "que",   "y",    "en",    "los",   "las",   "del",   "se",   "un",    "una",
    "por",  "con",  "no",   "es",    "para", "su",    "al",    "lo",    "como",  "más",  "pero",  "sus",
    "le",   "ya",   "o",    "fue",   "este", "ha",    "porque", "esta", "son",   "entre", "cuando", "muy",
    "sin",  "sobre", "también", "me", "hasta", "hay", "donde", "nos",   "yo",    "está"};
constexpr std::string_view kItalian[] = {
    "il",   "di",   "che",  "e",     "la",   "un",    "una",   "per",   "in",    "non",  "sono",  "del",
    "della", "con", "si",   "da",    "le",   "dei",   "nel",   "alla",  "lo",    "gli",  "delle", "è",
    "anche", "ma",  "come", "più",   "al",   "questo", "questa", "ha",  "io",    "lui",  "sua",   "suo",
    "dal",  "ci",   "essere", "era", "tra",  "degli", "nella", "ad",    "cui",   "loro"};
constexpr std::string_view kPortuguese[] = {
    "de",   "a",    "o",    "que",   "e",    "do",    "da",    "em",    "um",    "para", "com",   "não",
    "uma",  "os",   "no",   "se",    "na",   "por",   "mais",  "as",    "dos",   "como", "mas",   "ao",
    "ele",  "das",  "à",    "seu",   "sua",  "ou",    "quando", "muito", "nos",  "já",   "eu",    "também",
    "só",   "pelo", "pela", "até",   "isso", "ela",   "entre", "é",     "são",   "foi"};
constexpr std::string_view kDutch[] = {
    "de",   "en",   "van",  "het",   "een",  "in",    "is",    "dat",   "op",    "te",   "zijn",  "met",
    "voor", "niet", "aan",  "er",    "die",  "om",    "ook",   "als",   "bij",   "maar", "door",  "naar",
    "dan",  "ze",   "hij",  "uit",   "nog",  "wordt", "worden", "heeft", "wat",  "zo",   "tot",   "geen",
    "over", "kan",  "deze", "ik",    "was",  "werd",  "hun",   "of",    "wij",   "zich"};
constexpr std::string_view kSwedish[] = {
    "och",  "i",    "att",  "det",   "som",  "en",    "på",    "är",    "av",    "för",  "med",   "till",
    "den",  "har",  "de",   "inte",  "om",   "ett",   "han",   "men",   "var",   "jag",  "sig",   "från",
    "vi",   "så",   "kan",  "man",   "när",  "också", "efter", "eller", "nu",    "sin",  "där",   "vid",
    "mot",  "ska",  "hon",  "skulle", "detta", "blev", "hade", "under", "alla",  "dem"};
constexpr std::string_view kRussian[] = {
    "и",    "в",    "не",   "на",    "что",  "с",     "по",    "как",   "это",   "а",    "то",    "он",
    "к",    "из",   "у",    "за",    "от",   "для",   "же",    "все",   "она",   "так",  "его",   "но",
    "о",    "только", "бы", "был",   "было", "была",  "их",    "уже",   "ли",    "если", "или",   "ни",
    "до",   "вы",   "мы",   "они",   "при",  "когда", "также", "еще",   "её",    "этот"};

constexpr std::array<Language, 9> kLanguages = {{{"en", "english", kEnglish},
                                                 {"de", "german", kGerman},
                                                 {"fr", "french", kFrench},
                                                 {"es", "spanish", kSpanish},
                                                 {"it", "italian", kItalian},
                                                 {"pt", "portuguese", kPortuguese},
                                                 {"nl", "dutch", kDutch},
                                                 {"sv", "swedish", kSwedish},
                                                 {"ru", "russian", kRussian}}};

// word -> bit set of kLanguages indexes.
const std::unordered_map<std::string_view, std::uint16_t>& function_words() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, std::uint16_t>();
    for (std::size_t l = 0; l < kLanguages.size(); ++l) {
      for (auto w : kLanguages[l].words) (*t)[w] |= static_cast<std::uint16_t>(1u << l);
    }
    return t;
  }();
  return *table;
}

Analyzer plain_analyzer() {
  AnalyzerOptions o;
  o.language = "none";
  o.stopwords = "none";
  auto a = Analyzer::create(o);
  RAGFT_CHECK(a.ok());
  return std::move(a).value();
}

// ---------------------------------------------------------------------------------------------
// Boilerplate lines

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Counts, per distinct trimmed line (by 64-bit hash), the documents it occurs in and its
// occurrences. Lossy counting over buckets of kBoilerplateBucketDocs documents.
class LineCounter {
 public:
  explicit LineCounter(std::size_t min_chars) : min_chars_(min_chars) {}

  void add_document(std::string_view text) {
    const auto doc = static_cast<std::uint32_t>(docs_);
    const auto delta = static_cast<std::uint32_t>(docs_ / kBoilerplateBucketDocs);  // bucket - 1
    while (!text.empty()) {
      auto nl = text.find('\n');
      std::string_view line = trim(text.substr(0, nl));
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (line.size() < min_chars_) continue;  // bytes >= code points: cheap pre-filter
      auto len = code_points(line);
      if (len < min_chars_) continue;
      auto [it, added] = table_.try_emplace(std::hash<std::string_view>{}(line));
      Entry& e = it->second;
      if (added) e = Entry{0, doc, delta, static_cast<std::uint32_t>(std::min<std::size_t>(len, UINT32_MAX)), 0};
      if (added || e.last_doc != doc) ++e.docs;
      e.last_doc = doc;
      ++e.occurrences;
    }
    ++docs_;
    if (docs_ % kBoilerplateBucketDocs == 0) {
      const std::size_t bucket = docs_ / kBoilerplateBucketDocs;
      std::erase_if(table_, [&](const auto& kv) { return kv.second.docs + kv.second.delta <= bucket; });
    }
  }

  // Code points of every occurrence of a line found in at least `min_docs` documents.
  std::uint64_t chars_in_lines_with(std::size_t min_docs) const {
    std::uint64_t chars = 0;
    for (const auto& [hash, e] : table_) {
      if (e.docs >= min_docs) chars += e.occurrences * e.len;
    }
    return chars;
  }

 private:
  struct Entry {
    std::uint32_t docs = 0;      // documents counted (a lower bound after pruning)
    std::uint32_t last_doc = 0;  // the last document that counted, to count each once
    std::uint32_t delta = 0;     // lossy-count error bound: buckets before this entry's insert
    std::uint32_t len = 0;       // code points of the trimmed line
    std::uint64_t occurrences = 0;
  };
  std::size_t min_chars_;
  std::size_t docs_ = 0;
  std::unordered_map<std::uint64_t, Entry> table_;
};

// ---------------------------------------------------------------------------------------------
// Change log

class ChangeAccumulator {
 public:
  void add(const Change& c) {
    if (entries_++ == 0) {
      first_ms_ = last_ms_ = c.at_unix_ms;
    } else {
      first_ms_ = std::min(first_ms_, c.at_unix_ms);
      last_ms_ = std::max(last_ms_, c.at_unix_ms);
    }
    bool is_change = c.op == ChangeOp::kDelete || !seen_.insert(c.doc_id).second;
    if (!is_change) return;
    ++changes_;
    changed_.insert(c.doc_id);
    if (changes_ == 1 || std::llabs(c.at_unix_ms - last_change_ms_) >= kEventGapMs) ++events_;
    last_change_ms_ = c.at_unix_ms;
  }

  ChangeStats finish() const {
    ChangeStats s;
    s.changes = changes_;
    s.documents_changed = changed_.size();
    s.span_days = entries_ ? static_cast<double>(last_ms_ - first_ms_) / kMsPerDay : 0.0;
    if (changes_ > 0 && s.span_days >= kMinHistoryDays) {
      s.per_week = static_cast<double>(changes_) * 7.0 / s.span_days;
      s.as_change_frequency = change_frequency_for_interval(s.span_days / static_cast<double>(events_));
    } else if (changes_ == 0 && s.span_days >= kNeverDays) {
      s.per_week = 0.0;
      s.as_change_frequency = "never";
    }
    return s;
  }

 private:
  std::unordered_set<DocId> seen_, changed_;
  std::size_t entries_ = 0, changes_ = 0, events_ = 0;
  std::int64_t first_ms_ = 0, last_ms_ = 0, last_change_ms_ = 0;
};

// ---------------------------------------------------------------------------------------------
// JSON

// Integral values as JSON integers (token counts), others as doubles; non-finite -> null.
nlohmann::json number(double v) {
  if (!std::isfinite(v)) return nullptr;
  if (v == std::floor(v) && std::fabs(v) < 9e15) return static_cast<std::int64_t>(v);
  return v;
}

double share(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

}  // namespace

// ---------------------------------------------------------------------------------------------

LanguageGuess guess_language(std::string_view text) {
  const auto& table = function_words();
  Analyzer analyzer = plain_analyzer();
  std::vector<std::string> words;
  analyzer.terms(text, words);
  std::array<std::size_t, kLanguages.size()> hits{};
  std::size_t any = 0;
  for (const auto& w : words) {
    auto it = table.find(w);
    if (it == table.end()) continue;
    ++any;
    for (std::size_t l = 0; l < kLanguages.size(); ++l) hits[l] += (it->second >> l) & 1u;
  }
  std::size_t best = 0;
  for (std::size_t l = 1; l < kLanguages.size(); ++l) {
    if (hits[l] > hits[best]) best = l;
  }
  if (hits[best] < kMinLanguageHits) return {"und", "unknown", 0.0};
  return {std::string(kLanguages[best].code), std::string(kLanguages[best].name),
          static_cast<double>(hits[best]) / static_cast<double>(any)};
}

std::string change_frequency_for_interval(double days) {
  // Boundaries: geometric means of neighbouring periods (1/24, 1, 7, 30.44, 365.25 days).
  if (days < std::sqrt(1.0 / 24)) return "hourly";
  if (days < std::sqrt(7.0)) return "daily";
  if (days < std::sqrt(7.0 * 30.4375)) return "weekly";
  if (days < std::sqrt(30.4375 * 365.25)) return "monthly";
  return "yearly";
}

ChangeStats change_stats_from(const std::vector<Change>& log) {
  ChangeAccumulator acc;
  for (const auto& c : log) acc.add(c);
  return acc.finish();
}

LengthStats length_stats(const std::vector<double>& lengths, std::size_t bins) {
  LengthStats s;
  if (lengths.empty()) return s;
  s.p10 = percentile(lengths, 0.10);
  s.p50 = percentile(lengths, 0.50);
  s.p90 = percentile(lengths, 0.90);
  s.max = *std::max_element(lengths.begin(), lengths.end());
  if (s.max <= 1 || bins <= 1) {
    s.histogram.push_back({0, std::max(1.0, s.max), lengths.size()});
    return s;
  }
  std::vector<double> edges = {1};
  for (std::size_t k = 1; k <= bins; ++k) {
    // The slack keeps an exact power (pow(4096, 1/12) = 2.0000000000000004) from rounding up.
    double e = k == bins ? s.max
                         : std::ceil(std::pow(s.max, static_cast<double>(k) / static_cast<double>(bins)) - 1e-9);
    e = std::min(e, s.max);
    if (e > edges.back()) edges.push_back(e);
  }
  const std::size_t n_bins = edges.size() - 1;
  for (std::size_t j = 0; j < n_bins; ++j) s.histogram.push_back({j == 0 ? 0.0 : edges[j], edges[j + 1], 0});
  for (double t : lengths) {
    auto pos = std::upper_bound(edges.begin(), edges.end(), t) - edges.begin() - 1;
    auto j = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(pos, 0, static_cast<std::ptrdiff_t>(n_bins) - 1));
    ++s.histogram[j].count;
  }
  return s;
}

Result<CorpusProfile> profile_corpus(Store& store, const CorpusProfileOptions& options) {
  if (options.histogram_bins == 0) {
    return make_error(ErrorCode::kInvalidArgument, "profile: histogram_bins must be at least 1");
  }
  CorpusProfile p;
  RAGFT_TRY(auto sources, store.list_sources(options.tenant));
  std::vector<DocId> ids;
  ids.reserve(sources.size());
  for (const auto& s : sources) ids.push_back(s.id);
  sources = {};
  std::sort(ids.begin(), ids.end());

  // Documents: tokens, formats, lengths, boilerplate lines, language sample.
  Analyzer analyzer = plain_analyzer();
  LineCounter lines(options.boilerplate_min_chars);
  std::vector<std::string> terms;
  std::vector<double> lengths;
  lengths.reserve(ids.size());
  std::uint64_t total_chars = 0;
  std::string sample;
  const std::size_t n = ids.size();
  const std::size_t sample_docs = std::min(n, kLanguageSampleDocs);
  std::size_t next_sample = 0;  // k of the next sampled document, at index k * n / sample_docs
  for (std::size_t i = 0; i < n; ++i) {
    RAGFT_TRY(auto doc, store.get(ids[i]));
    if (!doc) continue;  // deleted since the listing
    ++p.documents;
    ++p.formats[doc->format];
    terms.clear();
    analyzer.terms(doc->text, terms);
    p.tokens += terms.size();
    lengths.push_back(static_cast<double>(terms.size()));
    total_chars += code_points(doc->text);
    lines.add_document(doc->text);
    if (next_sample < sample_docs && i >= next_sample * n / sample_docs) {
      std::size_t cut = std::min(doc->text.size(), kLanguageSampleBytes);
      while (cut > 0 && cut < doc->text.size() && (static_cast<unsigned char>(doc->text[cut]) & 0xC0) == 0x80) --cut;
      sample.append(doc->text, 0, cut);
      sample += '\n';
      ++next_sample;
    }
  }
  p.doc_tokens = length_stats(lengths, options.histogram_bins);
  lengths = {};
  auto min_docs = std::max<std::size_t>(
      options.boilerplate_min_docs,
      static_cast<std::size_t>(std::ceil(options.boilerplate_min_share * static_cast<double>(p.documents))));
  p.boilerplate_share = share(static_cast<double>(lines.chars_in_lines_with(std::max<std::size_t>(min_docs, 1))),
                              static_cast<double>(total_chars));
  p.language = guess_language(sample);

  // Chunks of the tenant.
  std::size_t near_duplicates = 0;
  RAGFT_TRY_STATUS(store.for_each_chunk([&](const ChunkRecord& c, const ChunkAccess& a) -> Status {
    if (a.tenant != options.tenant) return ok_status();
    ++p.chunks;
    near_duplicates += c.near_duplicate_of.has_value();
    return ok_status();
  }));
  p.near_duplicate_share = share(static_cast<double>(near_duplicates), static_cast<double>(p.chunks));

  // Change log, in pages. Entries of other tenants' current documents are skipped.
  ChangeAccumulator changes;
  std::unordered_map<DocId, bool> outside_cache;  // doc ids not current in the tenant -> counted?
  auto counts = [&](DocId id) -> Result<bool> {
    if (std::binary_search(ids.begin(), ids.end(), id)) return true;
    auto it = outside_cache.find(id);
    if (it != outside_cache.end()) return it->second;
    RAGFT_TRY(auto doc, store.get(id));
    bool use = !doc || doc->tenant == options.tenant;
    outside_cache.emplace(id, use);
    return use;
  };
  Seq after = 0;
  while (true) {
    RAGFT_TRY(auto page, store.changes_since(after, 1 << 16));
    if (page.empty()) break;
    for (const auto& c : page) {
      RAGFT_TRY(bool use, counts(c.doc_id));
      if (use) changes.add(c);
    }
    after = page.back().seq;
  }
  p.change = changes.finish();
  return p;
}

nlohmann::json CorpusProfile::to_json() const {
  nlohmann::json histogram = nlohmann::json::array();
  for (const auto& b : doc_tokens.histogram) {
    histogram.push_back({{"lo", number(b.lo)}, {"hi", number(b.hi)}, {"count", b.count}});
  }
  return {{"documents", documents},
          {"chunks", chunks},
          {"tokens", tokens},
          {"formats", formats},
          {"doc_tokens",
           {{"p10", number(doc_tokens.p10)},
            {"p50", number(doc_tokens.p50)},
            {"p90", number(doc_tokens.p90)},
            {"max", number(doc_tokens.max)},
            {"histogram", std::move(histogram)}}},
          {"near_duplicate_share", near_duplicate_share},
          {"boilerplate_share", boilerplate_share},
          {"language", {{"code", language.code}, {"name", language.name}, {"confidence", language.confidence}}},
          {"change",
           {{"changes", change.changes},
            {"documents_changed", change.documents_changed},
            {"span_days", change.span_days},
            {"per_week", change.per_week ? nlohmann::json(*change.per_week) : nlohmann::json(nullptr)}}}};
}

EvalProfile profile_eval(std::size_t items, std::string unit) {
  EvalProfile p;
  p.items = items;
  p.unit = std::move(unit);
  p.ci95_half_width_at_0_5 = items ? 1.96 * std::sqrt(0.25 / static_cast<double>(items))
                                   : std::numeric_limits<double>::infinity();
  return p;
}

nlohmann::json EvalProfile::to_json() const {
  return {{"items", items}, {"unit", unit}, {"ci95_half_width_at_0_5",
           std::isfinite(ci95_half_width_at_0_5) ? nlohmann::json(ci95_half_width_at_0_5) : nlohmann::json(nullptr)}};
}

}  // namespace ragft::decide
