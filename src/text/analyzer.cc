#include "text/analyzer.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/check.h"
#include "text/stopwords.h"
#include "text/term_cache.h"

namespace ragft {

namespace {

// The stem cache is cleared (and refilled with the stopwords) when it reaches this many
// entries: about 16-20 MB per analyzer, and the 256k commonest words cover nearly all tokens.
constexpr std::size_t kMaxCacheEntries = std::size_t{1} << 18;
// Largest accepted max_token_bytes.
constexpr std::uint32_t kMaxTokenBytesLimit = 1024;
// NFKC + case folding + dropping default-ignorable code points (soft hyphen, ZWJ, ...),
// the options of utf8proc_NFKC_Casefold.
constexpr int kFoldOptions = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                             UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;

// ASCII classes: letters and digits are word characters; everything else separates except an
// apostrophe between word characters.
struct AsciiTables {
  std::array<bool, 128> word{};
  std::array<char, 128> lower{};
  constexpr AsciiTables() {
    for (int c = 0; c < 128; ++c) {
      bool upper = c >= 'A' && c <= 'Z';
      word[c] = upper || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      lower[c] = static_cast<char>(upper ? c + ('a' - 'A') : c);
    }
  }
};
constexpr AsciiTables kAscii;

enum class CpClass { kWord, kJoiner, kSeparator };

bool is_apostrophe(utf8proc_int32_t cp) {
  // ', right single quotation mark, modifier letter apostrophe, full-width apostrophe.
  return cp == 0x27 || cp == 0x2019 || cp == 0x02BC || cp == 0xFF07;
}

// Letters, marks and numbers (L*, M*, N*) are word characters. Apostrophes and format
// characters (Cf, e.g. soft hyphen) join a word only when a word character follows.
CpClass classify(utf8proc_int32_t cp) {
  if (cp == 0x02BC) return CpClass::kJoiner;  // Lm, but it is an apostrophe
  utf8proc_category_t cat = utf8proc_category(cp);
  if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO) return CpClass::kWord;
  if (is_apostrophe(cp)) return CpClass::kJoiner;
  if (cat == UTF8PROC_CATEGORY_CF && cp != 0x200B) return CpClass::kJoiner;  // not ZWSP
  return CpClass::kSeparator;
}

bool is_word_cp(utf8proc_int32_t cp) {
  utf8proc_category_t cat = utf8proc_category(cp);
  return cp != 0x02BC && cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO;
}

// True when a word character starts at p[i] (false at the end or on invalid UTF-8).
bool word_char_at(const std::uint8_t* p, std::size_t n, std::size_t i) {
  if (i >= n) return false;
  if (p[i] < 0x80) return kAscii.word[p[i]];
  utf8proc_int32_t cp;
  utf8proc_ssize_t len = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(n - i), &cp);
  return len > 0 && is_word_cp(cp);
}

// Removes a trailing English possessive "'s" (the apostrophe is already ASCII here).
void strip_possessive(std::string& w) {
  std::size_t n = w.size();
  if (n >= 3 && w[n - 2] == '\'' && w[n - 1] == 's') w.resize(n - 2);
}

void trim_apostrophes(std::string& w) {
  while (!w.empty() && w.back() == '\'') w.pop_back();
  std::size_t lead = 0;
  while (lead < w.size() && w[lead] == '\'') ++lead;
  if (lead > 0) w.erase(0, lead);
}

bool all_ascii_digits(std::string_view w) {
  for (char c : w) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};
using StemmerPtr = std::unique_ptr<sb_stemmer, StemmerDeleter>;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_named_stoplist(std::string_view s) {
  return s == "english" || s == "snowball" || s == "none";
}

// Checks options; `where` names the config string (or "AnalyzerOptions") in messages.
Status validate(const AnalyzerOptions& o, std::string_view where) {
  if (o.language != "none") {
    StemmerPtr probe(sb_stemmer_new(o.language.c_str(), "UTF_8"));
    if (!probe) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: unknown language '{}' for key 'lang' (use a Snowball algorithm name "
                        "such as english, porter, french, german, or none)",
                        where, o.language);
    }
  }
  if (!is_named_stoplist(o.stopwords)) {
    if (o.stopwords.find('|') == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: unknown stopword list '{}' for key 'stop' (use english, snowball, "
                        "none, or words separated by '|', e.g. 'a|an|the'; one word: 'the|')",
                        where, o.stopwords);
    }
    if (o.stopwords.find_first_of(",=") != std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: stopword list '{}' for key 'stop' may not contain ',' or '='", where,
                        o.stopwords);
    }
  }
  if (o.max_token_bytes == 0 || o.max_token_bytes > kMaxTokenBytesLimit) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: maxlen={} is out of range for key 'maxlen' (use 1..{})", where,
                      o.max_token_bytes, kMaxTokenBytesLimit);
  }
  return ok_status();
}

}  // namespace

std::string AnalyzerOptions::to_config() const {
  return fmt::format("analyzer:lang={},stop={},maxlen={}", language, stopwords, max_token_bytes);
}

Result<AnalyzerOptions> AnalyzerOptions::parse(std::string_view config) {
  std::string where = fmt::format("analyzer config '{}'", config);
  std::string_view rest = trim(config);
  constexpr std::string_view kPrefix = "analyzer";
  if (rest.substr(0, kPrefix.size()) != kPrefix ||
      (rest.size() > kPrefix.size() && rest[kPrefix.size()] != ':')) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: must start with 'analyzer:' (e.g. 'analyzer:lang=english,stop=english,"
                      "maxlen=64')",
                      where);
  }
  rest.remove_prefix(std::min(rest.size(), kPrefix.size() + 1));
  AnalyzerOptions o;
  bool seen_lang = false, seen_stop = false, seen_maxlen = false;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument, "{}: item '{}' is not key=value", where,
                        item);
    }
    std::string_view key = trim(item.substr(0, eq));
    std::string_view value = trim(item.substr(eq + 1));
    bool* seen = nullptr;
    if (key == "lang") {
      seen = &seen_lang;
      o.language = std::string(value);
    } else if (key == "stop") {
      seen = &seen_stop;
      o.stopwords = std::string(value);
    } else if (key == "maxlen") {
      seen = &seen_maxlen;
      std::uint32_t v = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || ptr != value.data() + value.size()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}: key 'maxlen' wants a positive integer, got '{}'", where, value);
      }
      o.max_token_bytes = v;
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: unknown key '{}' (known keys: lang, stop, maxlen)", where, key);
    }
    if (*seen) {
      return make_error(ErrorCode::kInvalidArgument, "{}: key '{}' is given twice", where, key);
    }
    *seen = true;
  }
  RAGFT_TRY_STATUS(validate(o, where));
  return o;
}

struct Analyzer::Impl {
  AnalyzerOptions options;
  StemmerPtr stemmer;  // null when language == "none"
  // Folded word -> stem; stopwords map to "" so one lookup answers both questions.
  text_internal::TermCache cache;
  std::vector<std::string> stopwords;  // folded
  // Scratch buffers reused across tokens.
  std::vector<utf8proc_int32_t> cps = std::vector<utf8proc_int32_t>(256);
  std::string word;

  void reset_cache() {
    cache.clear();
    for (const std::string& s : stopwords) {
      std::uint64_t h = text_internal::term_hash(s);
      std::string_view existing;
      if (!cache.find(s, h, existing)) cache.insert(s, std::string_view(), h);
    }
  }

  // The analysed form of folded word `w`: its stem, "" for a stopword. The view stays valid
  // until the next call (it may point into the cache or at `w`).
  std::string_view lookup(std::string_view w) {
    const std::uint64_t h = text_internal::term_hash(w);
    std::string_view cached;
    if (cache.find(w, h, cached)) return cached;
    if (!stemmer || all_ascii_digits(w)) return w;
    const sb_symbol* s = sb_stemmer_stem(stemmer.get(), reinterpret_cast<const sb_symbol*>(w.data()),
                                         static_cast<int>(w.size()));
    if (s == nullptr) return w;  // out of memory inside libstemmer: keep the word unstemmed
    std::string_view stem(reinterpret_cast<const char*>(s),
                          static_cast<std::size_t>(sb_stemmer_length(stemmer.get())));
    if (stem.empty()) return w;
    if (cache.size() >= kMaxCacheEntries) reset_cache();
    return cache.insert(w, stem, h);
  }

  // Splits `text` into words and calls on_piece(folded, start, end, position) for each folded
  // piece (possessive removed). Positions advance for every piece, and for over-long words
  // dropped before folding.
  template <typename OnPiece>
  void scan(std::string_view text, OnPiece&& on_piece) {
    RAGFT_CHECK(text.size() <= std::numeric_limits<std::uint32_t>::max());
    const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
    const std::size_t n = text.size();
    const std::size_t max_bytes = options.max_token_bytes;
    std::uint32_t position = 0;
    std::size_t i = 0;
    while (i < n) {
      // Skip separators to the start of a word.
      std::uint8_t c = p[i];
      if (c < 0x80) {
        if (!kAscii.word[c]) {
          ++i;
          continue;
        }
      } else {
        utf8proc_int32_t cp;
        utf8proc_ssize_t len = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(n - i), &cp);
        if (len <= 0) {  // invalid byte: a separator
          ++i;
          continue;
        }
        if (!is_word_cp(cp)) {
          i += static_cast<std::size_t>(len);
          continue;
        }
      }
      // Find the end of the word.
      const std::size_t start = i;
      bool ascii = true;
      while (i < n) {
        c = p[i];
        if (c < 0x80) {
          if (kAscii.word[c]) {
            ++i;
          } else if (c == '\'' && word_char_at(p, n, i + 1)) {
            ++i;
          } else {
            break;
          }
          continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t len = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(n - i), &cp);
        if (len <= 0) break;
        CpClass cls = classify(cp);
        if (cls == CpClass::kWord ||
            (cls == CpClass::kJoiner && word_char_at(p, n, i + static_cast<std::size_t>(len)))) {
          ascii = false;
          i += static_cast<std::size_t>(len);
          continue;
        }
        break;
      }
      const std::size_t end = i;
      const std::size_t raw = end - start;
      const auto s32 = static_cast<std::uint32_t>(start);
      const auto e32 = static_cast<std::uint32_t>(end);
      if (ascii) {
        // Fast path: folding is lowercasing; the length cannot change except by "'s".
        if (raw > max_bytes + 2) {
          ++position;
          continue;
        }
        word.resize(raw);
        for (std::size_t k = 0; k < raw; ++k) word[k] = kAscii.lower[p[start + k]];
        strip_possessive(word);
        on_piece(std::string_view(word), s32, e32, position++);
        continue;
      }
      // NFKC shrinks a code point to no less than a quarter of its bytes (4-byte math letters
      // to ASCII), so a longer source word cannot fold to an acceptable token.
      if (raw > 4 * max_bytes + 8) {
        ++position;
        continue;
      }
      fold_unicode(p + start, raw, s32, e32, position, on_piece);
    }
  }

  // Slow path: NFKC + case fold the word p[0, len) into pieces (normalisation can produce
  // separators, e.g. the fraction slash of "½").
  template <typename OnPiece>
  void fold_unicode(const std::uint8_t* p, std::size_t len, std::uint32_t start, std::uint32_t end,
                    std::uint32_t& position, OnPiece& on_piece) {
    utf8proc_ssize_t count =
        utf8proc_decompose(p, static_cast<utf8proc_ssize_t>(len), cps.data(),
                           static_cast<utf8proc_ssize_t>(cps.size()), utf8proc_option_t(kFoldOptions));
    if (count > static_cast<utf8proc_ssize_t>(cps.size())) {
      cps.resize(static_cast<std::size_t>(count));
      count = utf8proc_decompose(p, static_cast<utf8proc_ssize_t>(len), cps.data(),
                                 static_cast<utf8proc_ssize_t>(cps.size()),
                                 utf8proc_option_t(kFoldOptions));
    }
    if (count < 0) {  // cannot happen on the validated bytes of a word; drop it if it does
      ++position;
      return;
    }
    count = utf8proc_normalize_utf32(cps.data(), count, utf8proc_option_t(kFoldOptions));
    if (count < 0) {
      ++position;
      return;
    }
    word.clear();
    auto flush = [&] {
      trim_apostrophes(word);
      if (word.empty()) return;
      strip_possessive(word);
      on_piece(std::string_view(word), start, end, position++);
      word.clear();
    };
    for (utf8proc_ssize_t k = 0; k < count; ++k) {
      utf8proc_int32_t cp = cps[static_cast<std::size_t>(k)];
      if (is_apostrophe(cp)) {
        word.push_back('\'');
      } else if (is_word_cp(cp)) {
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t b = utf8proc_encode_char(cp, buf);
        word.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(b));
      } else {
        flush();
      }
    }
    flush();
  }

  // Runs the whole pipeline: calls emit(term, start, end, position) for each kept token.
  template <typename Emit>
  void run(std::string_view text, Emit&& emit) {
    const std::size_t max_bytes = options.max_token_bytes;
    scan(text, [&](std::string_view folded, std::uint32_t start, std::uint32_t end,
                   std::uint32_t position) {
      if (folded.size() > max_bytes) return;
      std::string_view term = lookup(folded);
      if (term.empty()) return;  // stopword
      emit(term, start, end, position);
    });
  }
};

Result<Analyzer> Analyzer::create(const AnalyzerOptions& options) {
  RAGFT_TRY_STATUS(validate(options, "AnalyzerOptions"));
  Analyzer a;
  a.options_ = options;
  a.impl_ = std::make_unique<Impl>();
  Impl& impl = *a.impl_;
  impl.options = options;
  impl.word.reserve(4 * kMaxTokenBytesLimit + 64);
  if (options.language != "none") {
    impl.stemmer.reset(sb_stemmer_new(options.language.c_str(), "UTF_8"));
    if (!impl.stemmer) {
      return make_error(ErrorCode::kResourceExhausted, "could not create the '{}' stemmer",
                        options.language);
    }
  }
  auto add_stop = [&](std::string_view s) { impl.stopwords.emplace_back(s); };
  if (options.stopwords == "english") {
    for (std::string_view s : english_stopwords()) add_stop(s);
  } else if (options.stopwords == "snowball") {
    for (std::string_view s : snowball_stopwords()) add_stop(s);
  } else if (options.stopwords != "none") {
    // Custom list: fold each word the way the analyzer folds text (no stemming).
    std::string_view list = options.stopwords;
    std::vector<std::string> folded;
    impl.scan(list, [&](std::string_view w, std::uint32_t, std::uint32_t, std::uint32_t) {
      if (!w.empty()) folded.emplace_back(w);
    });
    for (std::string& w : folded) impl.stopwords.push_back(std::move(w));
  }
  impl.reset_cache();
  return a;
}

Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;
Analyzer::~Analyzer() = default;

void Analyzer::analyze(std::string_view text, std::vector<Token>& out) {
  impl_->run(text, [&](std::string_view term, std::uint32_t start, std::uint32_t end,
                       std::uint32_t position) {
    Token& t = out.emplace_back();
    t.term.assign(term);
    t.start = start;
    t.end = end;
    t.position = position;
  });
}

void Analyzer::terms(std::string_view text, std::vector<std::string>& out) {
  impl_->run(text, [&](std::string_view term, std::uint32_t, std::uint32_t, std::uint32_t) {
    out.emplace_back(term);
  });
}

void Analyzer::for_each_token(std::string_view text, TokenCallback on_token, void* context) {
  impl_->run(text, [&](std::string_view term, std::uint32_t start, std::uint32_t end, std::uint32_t) {
    on_token(context, term, start, end);
  });
}

std::string Analyzer::analyze_word(std::string_view word) {
  std::string result;
  bool first = true;
  const std::size_t max_bytes = options_.max_token_bytes;
  impl_->scan(word, [&](std::string_view folded, std::uint32_t, std::uint32_t, std::uint32_t) {
    if (!first) return;
    first = false;
    if (folded.size() > max_bytes) return;
    result.assign(impl_->lookup(folded));
  });
  return result;
}

}  // namespace ragft
