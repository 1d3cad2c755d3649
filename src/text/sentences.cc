#include "text/sentences.h"

#include <utf8proc.h>

#include <array>
#include <string_view>

namespace ragft {

namespace {

// Abbreviations whose final period does not end a sentence. Entries starting with a lowercase
// letter also match capitalised ("E.g.", "Cf."); capitalised entries match exactly, so "no."
// at the end of a sentence still ends it while "No. 5" does not.
constexpr std::array<std::string_view, 52> kAbbreviations = {
    "e.g",   "i.e",   "etc",   "vs",    "al",    "approx", "cf",    "ca",    "viz",
    "resp",  "incl",  "esp",   "pp",    "vol",   "ed",     "eds",   "Dr",    "Mr",
    "Mrs",   "Ms",    "Prof",  "Fig",   "Figs",  "Eq",     "Eqs",   "Eqn",   "No",
    "Nos",   "St",    "Jr",    "Sr",    "U.S",   "Ref",    "Refs",  "Sec",   "Ch",
    "Tab",   "Vol",   "Inc",   "Ltd",   "Co",    "Corp",   "Dept",  "Univ",  "Gen",
    "Col",   "Lt",    "Rev",   "Hon",   "Ph.D",  "Mt",     "Ave"};
static_assert(!kAbbreviations.back().empty(), "list shorter than its array");

bool is_ascii_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool is_ascii_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool is_ascii_letter(unsigned char c) { return is_ascii_upper(c) || is_ascii_lower(c); }
bool is_ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }

unsigned char byte_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

// Byte length of the whitespace character at s[i] (ASCII or Unicode Zs/Zl/Zp/NEL), or 0.
std::size_t space_len(std::string_view s, std::size_t i) {
  unsigned char c = byte_at(s, i);
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  std::size_t n = s.size() - i;
  if (c == 0xC2 && n >= 2) {
    unsigned char d = byte_at(s, i + 1);
    return (d == 0x85 || d == 0xA0) ? 2 : 0;  // NEL, NBSP
  }
  if (n < 3) return 0;
  unsigned char d = byte_at(s, i + 1), e = byte_at(s, i + 2);
  if (c == 0xE1 && d == 0x9A && e == 0x80) return 3;  // U+1680
  if (c == 0xE2 && d == 0x80 && (e <= 0x8A || e == 0xA8 || e == 0xA9 || e == 0xAF)) return 3;
  if (c == 0xE2 && d == 0x81 && e == 0x9F) return 3;  // U+205F
  if (c == 0xE3 && d == 0x80 && e == 0x80) return 3;  // U+3000
  return 0;
}

// Shrinks [begin, end) past leading and trailing whitespace.
Span trimmed(std::string_view s, std::size_t begin, std::size_t end) {
  while (begin < end) {
    std::size_t k = space_len(s, begin);
    if (k == 0 || begin + k > end) break;
    begin += k;
  }
  while (end > begin) {
    bool found = false;
    for (std::size_t k = 1; k <= 3 && k <= end - begin; ++k) {
      if (space_len(s, end - k) == k) {
        end -= k;
        found = true;
        break;
      }
    }
    if (!found) break;
  }
  return Span{static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)};
}

bool is_terminator(unsigned char c) { return c == '.' || c == '!' || c == '?'; }

// Byte length of a closing quote or bracket at s[i], or 0.
std::size_t closer_len(std::string_view s, std::size_t i, std::size_t e) {
  unsigned char c = byte_at(s, i);
  if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '}') return 1;
  if (c == 0xC2 && i + 1 < e && byte_at(s, i + 1) == 0xBB) return 2;  // »
  if (c == 0xE2 && i + 2 < e && byte_at(s, i + 1) == 0x80) {
    unsigned char d = byte_at(s, i + 2);
    if (d == 0x99 || d == 0x9D || d == 0xBA) return 3;  // ’ ” ›
  }
  return 0;
}

// True when the text at s[i] can begin a sentence: an uppercase letter, a digit, a quote or an
// opening bracket.
bool starts_sentence(std::string_view s, std::size_t i, std::size_t e) {
  unsigned char c = byte_at(s, i);
  if (c < 0x80) {
    return is_ascii_upper(c) || is_ascii_digit(c) || c == '"' || c == '\'' || c == '(' ||
           c == '[' || c == '{';
  }
  utf8proc_int32_t cp;
  utf8proc_ssize_t len = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                          static_cast<utf8proc_ssize_t>(e - i), &cp);
  if (len <= 0) return false;
  if (cp == 0x2018 || cp == 0x201C || cp == 0xAB || cp == 0x2039 || cp == 0xBF || cp == 0xA1) {
    return true;  // ‘ “ « ‹ ¿ ¡
  }
  utf8proc_category_t cat = utf8proc_category(cp);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT || cat == UTF8PROC_CATEGORY_ND;
}

// True when the period at s[dot] closes an abbreviation, an initial ("J.") or a dotted
// acronym ("U.S.", "e.g."), so it does not end the sentence.
bool is_abbreviation(std::string_view s, std::size_t begin, std::size_t dot) {
  std::size_t k = dot;
  while (k > begin && (is_ascii_letter(byte_at(s, k - 1)) || byte_at(s, k - 1) == '.')) --k;
  if (k > begin) {
    unsigned char before = byte_at(s, k - 1);
    if (is_ascii_digit(before) || before >= 0x80) return false;  // inside a longer word
  }
  std::string_view w = s.substr(k, dot - k);
  while (!w.empty() && w.front() == '.') w.remove_prefix(1);
  if (w.empty()) return false;
  if (w.size() == 1) return is_ascii_upper(byte_at(w, 0));  // an initial
  // Single letters joined by periods: "U.S", "e.g", "i.e", "U.S.A".
  bool dotted = w.size() >= 3;
  for (std::size_t j = 0; j < w.size() && dotted; ++j) {
    dotted = (j % 2 == 0) ? is_ascii_letter(byte_at(w, j)) : w[j] == '.';
  }
  if (dotted) return true;
  for (std::string_view a : kAbbreviations) {
    if (w == a) return true;
    if (is_ascii_lower(byte_at(a, 0)) && w.size() == a.size() &&
        byte_at(w, 0) == byte_at(a, 0) - ('a' - 'A') && w.substr(1) == a.substr(1)) {
      return true;
    }
  }
  return false;
}

// Appends the sentences of the trimmed paragraph s[b, e) to out.
void split_paragraph_sentences(std::string_view s, std::size_t b, std::size_t e,
                               std::vector<Span>& out) {
  std::size_t sentence_start = b;
  std::size_t i = b;
  while (i < e) {
    if (!is_terminator(byte_at(s, i))) {
      ++i;
      continue;
    }
    const std::size_t term = i;
    std::size_t j = i;
    while (j < e && is_terminator(byte_at(s, j))) ++j;
    const bool single_period = j - term == 1 && s[term] == '.';
    while (j < e) {
      std::size_t k = closer_len(s, j, e);
      if (k == 0) break;
      j += k;
    }
    if (j >= e) break;  // the paragraph ends here anyway
    if (space_len(s, j) == 0) {  // "3.5", "e.g.,", "a.b": not an end
      i = j;
      continue;
    }
    std::size_t next = j;
    while (next < e) {
      std::size_t k = space_len(s, next);
      if (k == 0) break;
      next += k;
    }
    if (next >= e) break;
    if (!starts_sentence(s, next, e) || (single_period && is_abbreviation(s, b, term))) {
      i = next;
      continue;
    }
    Span span = trimmed(s, sentence_start, j);
    if (span.end > span.start) out.push_back(span);
    sentence_start = next;
    i = next;
  }
  Span span = trimmed(s, sentence_start, e);
  if (span.end > span.start) out.push_back(span);
}

}  // namespace

std::vector<Span> split_paragraphs(std::string_view text) {
  std::vector<Span> out;
  const std::size_t n = text.size();
  bool open = false;
  std::size_t para_start = 0, para_end = 0;
  std::size_t line = 0;
  while (line <= n) {
    std::size_t nl = text.find('\n', line);
    std::size_t line_end = nl == std::string_view::npos ? n : nl;
    Span t = trimmed(text, line, line_end);
    if (t.end == t.start) {  // blank line
      if (open) out.push_back(trimmed(text, para_start, para_end));
      open = false;
    } else {
      if (!open) para_start = line;
      open = true;
      para_end = line_end;
    }
    if (nl == std::string_view::npos) break;
    line = nl + 1;
  }
  if (open) out.push_back(trimmed(text, para_start, para_end));
  return out;
}

std::vector<Span> split_sentences(std::string_view text) {
  std::vector<Span> out;
  for (const Span& p : split_paragraphs(text)) split_paragraph_sentences(text, p.start, p.end, out);
  return out;
}

}  // namespace ragft
