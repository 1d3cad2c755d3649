#include "embed/split_pattern.h"

#include "embed/subword_text.h"

namespace ragft::subword {

namespace {

constexpr std::string_view kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kCl100kRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The text as code points with a character class per code point.
enum Class : unsigned char { kLetter, kNumber, kSpace, kOther };

struct Chars {
  std::vector<char32_t> cp;
  std::vector<Class> cls;
  std::size_t size() const { return cp.size(); }
  bool is(std::size_t i, Class c) const { return i < cp.size() && cls[i] == c; }
  bool is_crlf(std::size_t i) const { return i < cp.size() && (cp[i] == '\r' || cp[i] == '\n'); }
};

// Length of the run of class c starting at i (0 when none).
std::size_t run(const Chars& t, std::size_t i, Class c) {
  std::size_t j = i;
  while (j < t.size() && t.cls[j] == c) ++j;
  return j - i;
}

// 's|'t|'re|'ve|'m|'ll|'d, optionally folding ASCII case.
std::size_t contraction(const Chars& t, std::size_t p, bool fold) {
  if (t.cp[p] != '\'' || p + 1 >= t.size()) return 0;
  auto lower = [&](std::size_t i) -> char32_t {
    if (i >= t.size()) return 0;
    char32_t c = t.cp[i];
    return (fold && c >= 'A' && c <= 'Z') ? c + 32 : c;
  };
  char32_t a = lower(p + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  char32_t b = lower(p + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// ` ?X+` for class X: an optional U+0020, then a run of X.
std::size_t space_then_run(const Chars& t, std::size_t p, Class c) {
  if (t.cp[p] == ' ' && t.is(p + 1, c)) return 1 + run(t, p + 1, c);
  return run(t, p, c);
}

// \s+(?!\S): the whitespace run, less its last character when a non-space follows it.
std::size_t spaces_not_before_text(const Chars& t, std::size_t p) {
  std::size_t k = run(t, p, kSpace);
  if (k == 0) return 0;
  if (p + k == t.size()) return k;
  return k - 1;  // 0 when the run is one character
}

std::size_t match_gpt2(const Chars& t, std::size_t p) {
  if (std::size_t n = contraction(t, p, false)) return n;
  if (std::size_t n = space_then_run(t, p, kLetter)) return n;
  if (std::size_t n = space_then_run(t, p, kNumber)) return n;
  if (std::size_t n = space_then_run(t, p, kOther)) return n;
  if (std::size_t n = spaces_not_before_text(t, p)) return n;
  return run(t, p, kSpace);
}

// The cl100k family; `max_digits` is 3 for \p{N}{1,3} and 1 for \p{N}.
std::size_t match_cl100k(const Chars& t, std::size_t p, std::size_t max_digits) {
  if (std::size_t n = contraction(t, p, true)) return n;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!t.is(p, kLetter) && !t.is(p, kNumber) && !t.is_crlf(p) && t.is(p + 1, kLetter)) {
    return 1 + run(t, p + 1, kLetter);
  }
  if (std::size_t n = run(t, p, kLetter)) return n;
  // \p{N}{1,max}
  if (std::size_t n = run(t, p, kNumber)) return n < max_digits ? n : max_digits;
  // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
  if (std::size_t n = space_then_run(t, p, kOther)) {
    while (t.is_crlf(p + n)) ++n;
    return n;
  }
  // \s*[\r\n]+: up to and including the last CR or LF of the whitespace run.
  std::size_t k = run(t, p, kSpace);
  for (std::size_t j = k; j > 0; --j) {
    if (t.is_crlf(p + j - 1)) return j;
  }
  if (std::size_t n = spaces_not_before_text(t, p)) return n;
  return k;
}

}  // namespace

std::optional<SplitPattern> find_split_pattern(std::string_view regex) {
  if (regex == kGpt2Regex) return SplitPattern::kGpt2;
  if (regex == kCl100kRegex) return SplitPattern::kCl100k;
  if (regex == kQwen2Regex) return SplitPattern::kQwen2;
  return std::nullopt;
}

const char* split_pattern_name(SplitPattern p) {
  switch (p) {
    case SplitPattern::kGpt2:
      return "gpt2";
    case SplitPattern::kCl100k:
      return "cl100k";
    case SplitPattern::kQwen2:
      return "qwen2";
  }
  return "?";
}

std::vector<std::pair<std::size_t, std::size_t>> split_matches(SplitPattern p, std::string_view text) {
  Chars t;
  std::vector<std::size_t> at;  // byte offset of each code point, plus the end
  t.cp.reserve(text.size());
  t.cls.reserve(text.size());
  at.reserve(text.size() + 1);
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp;
    std::size_t n = decode_utf8(text, i, cp);
    at.push_back(i);
    t.cp.push_back(cp);
    t.cls.push_back(is_white_space(cp) ? kSpace : is_letter(cp) ? kLetter : is_number(cp) ? kNumber : kOther);
    i += n;
  }
  at.push_back(text.size());
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t pos = 0;
  while (pos < t.size()) {
    std::size_t n = 0;
    switch (p) {
      case SplitPattern::kGpt2:
        n = match_gpt2(t, pos);
        break;
      case SplitPattern::kCl100k:
        n = match_cl100k(t, pos, 3);
        break;
      case SplitPattern::kQwen2:
        n = match_cl100k(t, pos, 1);
        break;
    }
    if (n == 0) {  // not reached: every character matches some alternative
      ++pos;
      continue;
    }
    out.emplace_back(at[pos], at[pos + n]);
    pos += n;
  }
  return out;
}

}  // namespace ragft::subword
