#include "generate/citations.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "text/sentences.h"

namespace ragft {

namespace {

struct Marker {
  std::size_t start = 0, end = 0;  // byte span of "[...]"
  std::vector<int> numbers;
};

bool parse_int(std::string_view s, int& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty() || s.size() > 6) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out > 0;
}

// "[1]", "[1, 2]", "[1-3]"; anything else between brackets is not a marker.
std::vector<Marker> find_markers(std::string_view text) {
  std::vector<Marker> out;
  for (std::size_t at = text.find('['); at != std::string_view::npos; at = text.find('[', at + 1)) {
    const std::size_t end = text.find(']', at + 1);
    if (end == std::string_view::npos) break;
    const std::string_view body = text.substr(at + 1, end - at - 1);
    if (body.empty() || body.size() > 40 || body.find('[') != std::string_view::npos) continue;
    Marker m{at, end + 1, {}};
    bool ok = true;
    std::size_t pos = 0;
    while (ok && pos <= body.size()) {
      const std::size_t comma = body.find(',', pos);
      const std::string_view item = body.substr(pos, comma == std::string_view::npos ? body.npos : comma - pos);
      const std::size_t dash = item.find('-');
      int a = 0, b = 0;
      if (dash == std::string_view::npos) {
        ok = parse_int(item, a);
        if (ok) m.numbers.push_back(a);
      } else {
        ok = parse_int(item.substr(0, dash), a) && parse_int(item.substr(dash + 1), b) && b >= a && b - a < 1000;
        for (int i = a; ok && i <= b; ++i) m.numbers.push_back(i);
      }
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    if (ok && !m.numbers.empty()) out.push_back(std::move(m));
  }
  return out;
}

std::string collapse_spaces(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  // "claim ." left by a removed marker before the period.
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i - 1] == ' ' && (out[i] == '.' || out[i] == ',' || out[i] == ';' || out[i] == '!' || out[i] == '?')) {
      out.erase(i - 1, 1);
      --i;
    }
  }
  return out;
}

}  // namespace

std::vector<int> citation_numbers(std::string_view text) {
  std::vector<int> out;
  for (const Marker& m : find_markers(text)) out.insert(out.end(), m.numbers.begin(), m.numbers.end());
  return out;
}

CitationReport read_citations(std::string_view text, Answer& answer, Analyzer& analyzer,
                              const CitationCheckOptions& options) {
  CitationReport report;
  answer.sentences.clear();
  const std::vector<Marker> markers = find_markers(text);

  // Sentences with their markers' numbers; marker-only sentences join the previous one.
  struct Raw {
    std::string text;
    std::vector<int> numbers;
  };
  std::vector<Raw> raw;
  std::size_t mi = 0;
  for (const Span& s : split_sentences(text)) {
    Raw r;
    std::size_t pos = s.start;
    bool leading = true;  // markers before any word of the sentence cite the previous one
    while (mi < markers.size() && markers[mi].start < s.end) {
      const Marker& m = markers[mi++];
      if (m.start < pos) continue;  // a marker split across sentences: already consumed
      const std::string_view before = text.substr(pos, m.start - pos);
      leading = leading && before.find_first_not_of(" \t\r\n") == std::string_view::npos;
      r.text.append(before);
      std::vector<int>& to = leading && !raw.empty() ? raw.back().numbers : r.numbers;
      to.insert(to.end(), m.numbers.begin(), m.numbers.end());
      pos = std::min<std::size_t>(m.end, s.end);
    }
    if (pos < s.end) r.text.append(text.substr(pos, s.end - pos));
    r.text = collapse_spaces(std::move(r.text));
    if (r.text.find_first_not_of(" .,;:!?") == std::string::npos) {
      if (!raw.empty()) raw.back().numbers.insert(raw.back().numbers.end(), r.numbers.begin(), r.numbers.end());
      else if (!r.numbers.empty()) raw.push_back({"", r.numbers});
      continue;
    }
    raw.push_back(std::move(r));
  }

  std::unordered_map<int, const Citation*> by_n;
  for (const Citation& c : answer.sources) by_n[c.n] = &c;
  std::unordered_map<int, std::set<std::string>> source_terms;
  std::vector<std::string> terms;
  for (std::size_t r = 0; r < raw.size(); ++r) {
    const std::size_t i = answer.sentences.size();
    AnswerSentence sentence;
    sentence.text = raw[r].text;
    terms.clear();
    analyzer.terms(sentence.text, terms);
    const std::set<std::string> content(terms.begin(), terms.end());
    std::set<int> kept;
    for (int n : raw[r].numbers) {
      ++report.citations;
      auto it = by_n.find(n);
      if (it == by_n.end()) {
        report.issues.push_back({CitationIssue::Kind::kUnknownSource, i, n,
                                 fmt::format("sentence {} cites [{}], which is not one of the {} sources", i + 1, n,
                                             answer.sources.size())});
        continue;
      }
      auto st = source_terms.find(n);
      if (st == source_terms.end()) {
        terms.clear();
        analyzer.terms(it->second->title, terms);
        analyzer.terms(it->second->quote, terms);
        st = source_terms.emplace(n, std::set<std::string>(terms.begin(), terms.end())).first;
      }
      std::size_t shared = 0;
      for (const auto& t : content) shared += st->second.count(t);
      const double support = content.empty() ? 1.0 : static_cast<double>(shared) / static_cast<double>(content.size());
      if (support < options.min_support) {
        report.issues.push_back({CitationIssue::Kind::kUnsupported, i, n,
                                 fmt::format("sentence {} cites [{}], which shares {} of its {} content words (need "
                                             "{:.0f}%)",
                                             i + 1, n, shared, content.size(), options.min_support * 100)});
        continue;
      }
      if (kept.insert(n).second) ++report.valid;
    }
    sentence.citations.assign(kept.begin(), kept.end());
    if (sentence.citations.empty() && !sentence.text.empty()) {
      report.issues.push_back({CitationIssue::Kind::kUncitedSentence, i, 0,
                               fmt::format("sentence {} has no supporting citation", i + 1)});
    }
    if (!sentence.text.empty()) answer.sentences.push_back(std::move(sentence));
  }
  return report;
}

}  // namespace ragft
