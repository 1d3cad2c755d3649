// SimHash over word 3-shingles. Words are runs of letters and digits (Unicode categories L*, N*),
// case-folded with diacritics removed ("Café" and "cafe" are the same word).
#include "ingest/simhash.h"

#include <utf8proc.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "core/hash.h"

namespace ragft {

namespace {

bool is_word_codepoint(utf8proc_int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: return true;
    default: return false;
  }
}

// Appends the folded form of a non-ASCII word code point (case folded, compatibility
// decomposed, marks stripped).
void append_folded(utf8proc_int32_t cp, std::string& out) {
  utf8proc_int32_t buf[16];
  int last_boundclass = 0;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_CASEFOLD | UTF8PROC_COMPAT |
                                                      UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK);
  utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, 16, options, &last_boundclass);
  if (n < 0 || n > 16) {
    n = 1;
    buf[0] = cp;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t len = utf8proc_encode_char(buf[i], enc);
    out.append(reinterpret_cast<const char*>(enc), static_cast<std::size_t>(len));
  }
}

// Hashes of the normalised words of `text`, in order.
std::vector<std::uint64_t> word_hashes(std::string_view text) {
  std::vector<std::uint64_t> hashes;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) {
      hashes.push_back(hash64(word));
      word.clear();
    }
  };
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const auto n = static_cast<utf8proc_ssize_t>(text.size());
  utf8proc_ssize_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        word.push_back(static_cast<char>(c));
      } else if (c >= 'A' && c <= 'Z') {
        word.push_back(static_cast<char>(c - 'A' + 'a'));
      } else {
        flush();
      }
      ++i;
      continue;
    }
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
    if (len <= 0) {  // invalid byte: a separator
      flush();
      ++i;
      continue;
    }
    if (is_word_codepoint(cp)) {
      append_folded(cp, word);
    } else {
      flush();
    }
    i += len;
  }
  flush();
  return hashes;
}

}  // namespace

std::uint64_t simhash(std::string_view text) {
  std::vector<std::uint64_t> words = word_hashes(text);
  if (words.empty()) return 0;
  std::array<std::int32_t, 64> votes{};
  auto vote = [&](std::uint64_t h) {
    for (int b = 0; b < 64; ++b) votes[b] += ((h >> b) & 1) ? 1 : -1;
  };
  if (words.size() < 3) {
    for (std::uint64_t w : words) vote(w);
  } else {
    for (std::size_t i = 0; i + 2 < words.size(); ++i) {
      char buf[24];
      std::memcpy(buf, &words[i], 24);
      vote(hash64(std::string_view(buf, sizeof buf), /*seed=*/0x5348494e474c45ull));
    }
  }
  std::uint64_t out = 0;
  for (int b = 0; b < 64; ++b) {
    if (votes[b] > 0) out |= 1ull << b;
  }
  return out;
}

}  // namespace ragft
