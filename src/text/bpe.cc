#include "text/bpe.h"

#include <algorithm>
#include <map>
#include <set>

namespace ragft {

namespace {

constexpr std::string_view kEnd = "</w>";
constexpr std::string_view kMagic = "ragft-bpe 1";

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (i < text.size()) {
    while (i < text.size() && space(text[i])) ++i;
    std::size_t j = i;
    while (j < text.size() && !space(text[j])) ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// Code points of `word` (invalid bytes count as one symbol each), the last with kEnd.
std::vector<std::string> initial_symbols(std::string_view word) {
  std::vector<std::string> s;
  std::size_t i = 0;
  while (i < word.size()) {
    auto c = static_cast<unsigned char>(word[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    n = std::min(n, word.size() - i);
    s.emplace_back(word.substr(i, n));
    i += n;
  }
  if (!s.empty()) s.back() += kEnd;
  return s;
}

std::string pair_key(const std::string& a, const std::string& b) { return a + '\x1f' + b; }

}  // namespace

BpeTokenizer BpeTokenizer::train(const std::vector<std::string>& texts, std::size_t vocab_size) {
  std::map<std::string, std::int64_t> freq;  // ordered: deterministic word ids
  for (const auto& t : texts) {
    for (auto w : split_words(t)) ++freq[std::string(w)];
  }
  std::vector<std::vector<std::string>> words;
  std::vector<std::int64_t> counts;
  std::set<std::string> base;
  for (const auto& [w, n] : freq) {
    words.push_back(initial_symbols(w));
    counts.push_back(n);
    for (const auto& s : words.back()) base.insert(s);
  }
  BpeTokenizer t;
  t.symbols_.assign(base.begin(), base.end());
  t.base_count_ = t.symbols_.size();

  // Pair counts and, per pair, the words that contain it.
  std::map<std::pair<std::string, std::string>, std::int64_t> pairs;
  std::map<std::pair<std::string, std::string>, std::set<std::size_t>> where;
  auto add_pairs = [&](std::size_t w, std::int64_t sign) {
    const auto& s = words[w];
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      auto p = std::make_pair(s[i], s[i + 1]);
      pairs[p] += sign * counts[w];
      if (sign > 0) where[p].insert(w);
    }
  };
  for (std::size_t w = 0; w < words.size(); ++w) add_pairs(w, 1);

  while (t.symbols_.size() + 2 < vocab_size) {
    // Most frequent pair; std::map order makes ties go to the smaller pair.
    auto best = pairs.end();
    for (auto it = pairs.begin(); it != pairs.end(); ++it) {
      if (best == pairs.end() || it->second > best->second) best = it;
    }
    if (best == pairs.end() || best->second < 2) break;
    auto p = best->first;
    std::string merged = p.first + p.second;
    std::set<std::size_t> ws = std::move(where[p]);
    where.erase(p);
    for (std::size_t w : ws) {
      add_pairs(w, -1);
      auto& s = words[w];
      std::vector<std::string> next;
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == p.first && s[i + 1] == p.second) {
          next.push_back(merged);
          ++i;
        } else {
          next.push_back(s[i]);
        }
      }
      s = std::move(next);
      add_pairs(w, 1);
    }
    for (auto it = pairs.begin(); it != pairs.end();) it = it->second == 0 ? pairs.erase(it) : std::next(it);
    t.merges_.push_back(p);
    t.symbols_.push_back(merged);
  }
  t.index();
  return t;
}

void BpeTokenizer::index() {
  ids_.clear();
  rank_.clear();
  for (std::size_t i = 0; i < symbols_.size(); ++i) ids_.emplace(symbols_[i], static_cast<std::int64_t>(i) + 2);
  for (std::size_t i = 0; i < merges_.size(); ++i) rank_.emplace(pair_key(merges_[i].first, merges_[i].second), i);
}

std::vector<std::string> BpeTokenizer::word_pieces(std::string_view word) const {
  std::vector<std::string> s = initial_symbols(word);
  while (s.size() > 1) {
    std::size_t best = rank_.size(), at = 0;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      auto it = rank_.find(pair_key(s[i], s[i + 1]));
      if (it != rank_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == rank_.size()) break;
    s[at] += s[at + 1];
    s.erase(s.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  return s;
}

std::vector<std::int64_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<std::int64_t> out;
  for (auto w : split_words(text)) {
    for (const auto& p : word_pieces(w)) {
      auto it = ids_.find(p);
      out.push_back(it == ids_.end() ? kUnk : it->second);
    }
  }
  return out;
}

std::string BpeTokenizer::serialize() const {
  std::string s(kMagic);
  s += '\n';
  for (std::size_t i = 0; i < base_count_; ++i) s += "b " + symbols_[i] + '\n';
  for (const auto& [a, b] : merges_) s += "m " + a + ' ' + b + '\n';
  return s;
}

Result<BpeTokenizer> BpeTokenizer::parse(std::string_view text) {
  BpeTokenizer t;
  std::size_t line_no = 0;
  bool merges = false;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return make_error(ErrorCode::kCorrupt, "bpe vocabulary: line {} is truncated", line_no + 1);
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (line_no == 1) {
      if (line != kMagic) return make_error(ErrorCode::kCorrupt, "bpe vocabulary: expected \"{}\" on line 1", kMagic);
      continue;
    }
    if (line.size() > 2 && line.substr(0, 2) == "b " && !merges) {
      t.symbols_.emplace_back(line.substr(2));
      ++t.base_count_;
      continue;
    }
    std::size_t sp = line.size() > 2 ? line.find(' ', 2) : std::string_view::npos;
    if (line.substr(0, 2) != "m " || sp == std::string_view::npos || sp == 2 || sp + 1 >= line.size()) {
      return make_error(ErrorCode::kCorrupt, "bpe vocabulary: line {} is malformed", line_no);
    }
    merges = true;
    std::string a(line.substr(2, sp - 2)), b(line.substr(sp + 1));
    t.symbols_.push_back(a + b);
    t.merges_.emplace_back(std::move(a), std::move(b));
  }
  if (line_no == 0) return make_error(ErrorCode::kCorrupt, "bpe vocabulary is empty");
  t.index();
  return t;
}

}  // namespace ragft
