#include "generate/extractive.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "core/utf8.h"
#include "text/sentences.h"

namespace ragft {

std::string ExtractiveOptions::to_config() const {
  return fmt::format("extractive:chunks={},max={},min={},keep={}", chunks, max_sentences, min_support,
                     keep_ratio);
}

Result<ExtractiveOptions> ExtractiveOptions::parse(std::string_view config) {
  ExtractiveOptions o;
  std::string_view body = config;
  if (body.starts_with("extractive:")) body.remove_prefix(11);
  else if (body == "extractive") return o;
  else if (!body.empty() && body.find('=') == std::string_view::npos)
    return make_error(ErrorCode::kInvalidArgument, "expected an extractive config, got \"{}\"", config);
  while (!body.empty()) {
    std::size_t comma = body.find(',');
    std::string_view kv = body.substr(0, comma);
    body = comma == std::string_view::npos ? std::string_view{} : body.substr(comma + 1);
    std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos)
      return make_error(ErrorCode::kInvalidArgument, "\"{}\" in \"{}\" is not key=value", kv, config);
    std::string key(kv.substr(0, eq));
    std::string value(kv.substr(eq + 1));
    try {
      std::size_t used = 0;
      if (key == "chunks") o.chunks = std::stoul(value, &used);
      else if (key == "max") o.max_sentences = std::stoul(value, &used);
      else if (key == "min") o.min_support = std::stof(value, &used);
      else if (key == "keep") o.keep_ratio = std::stof(value, &used);
      else
        return make_error(ErrorCode::kInvalidArgument,
                          "unknown key \"{}\" in \"{}\" (known: chunks, max, min, keep)", key, config);
      if (used != value.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return make_error(ErrorCode::kInvalidArgument, "bad value \"{}\" for {} in \"{}\"", value, key, config);
    }
  }
  if (o.chunks == 0 || o.max_sentences == 0 || o.min_support < 0 || o.min_support > 1 ||
      o.keep_ratio < 0 || o.keep_ratio > 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "\"{}\": chunks and max must be >= 1, min and keep within [0, 1]", config);
  }
  return o;
}

namespace {

struct Candidate {
  std::size_t hit = 0;          // index into hits
  Span span;                    // bytes within the chunk text
  float support = 0;            // idf-weighted query coverage
  float score = 0;              // support + rank bonus
  std::set<std::string> terms;  // distinct analysed terms (for redundancy checks)
};

int page_of(const std::vector<std::int64_t>& page_starts, std::int64_t char_pos) {
  if (page_starts.empty()) return 0;
  auto it = std::upper_bound(page_starts.begin(), page_starts.end(), char_pos);
  return static_cast<int>(it - page_starts.begin());
}

double jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
  if (a.empty() && b.empty()) return 1.0;
  std::size_t inter = 0;
  for (const auto& t : a) inter += b.count(t);
  return static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
}

}  // namespace

QuestionTerms question_terms(Workspace& ws, std::string_view question) {
  std::set<std::string> question_words;
  for (const char* w : {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "does",
                        "do", "did", "can", "could", "should", "would", "is", "are"}) {
    std::string t = ws.analyzer().analyze_word(w);
    if (!t.empty()) question_words.insert(t);
  }
  QuestionTerms q;
  for (const QueryTerm& t : analyze_query(ws.analyzer(), question).terms) {
    if (question_words.count(t.term)) continue;
    const float w = ws.index().idf(t.term);
    q.idf[t.term] = w;
    q.total += w;
  }
  return q;
}

Result<Answer> answer_extractive(Workspace& ws, const SearchRequest& request,
                                 const ExtractiveOptions& options) {
  SearchRequest req = request;
  req.k = options.chunks;
  RAGFT_TRY(std::vector<SearchHit> hits, search(ws, req));
  return answer_from_hits(ws, request, std::move(hits), options);
}

Result<Answer> answer_from_hits(Workspace& ws, const SearchRequest& request, std::vector<SearchHit> hits,
                                const ExtractiveOptions& options) {
  Answer answer;
  answer.question = request.query;
  answer.generator = options.to_config();
  if (hits.size() > options.chunks) hits.resize(options.chunks);
  if (hits.empty()) {
    answer.abstained = true;
    answer.abstain_reason = "No relevant passages were found for this question.";
    return answer;
  }

  const QuestionTerms q = question_terms(ws, request.query);
  const std::unordered_map<std::string, float>& idf = q.idf;
  const float total_idf = q.total > 0 ? q.total : 1;

  std::vector<Candidate> candidates;
  std::vector<std::string> terms;
  const float top_score = hits.front().score;
  const bool positive = std::all_of(hits.begin(), hits.end(), [](const SearchHit& h) { return h.score > 0; });
  for (std::size_t h = 0; h < hits.size(); ++h) {
    const std::string& text = hits[h].text;
    // A sentence is read in the context of its document's title: "It lowers the risk" under
    // the title "Aspirin and stroke" supports a question about aspirin and stroke.
    terms.clear();
    ws.analyzer().terms(hits[h].title, terms);
    std::set<std::string> title_terms(terms.begin(), terms.end());
    for (const Span& s : split_sentences(text)) {
      terms.clear();
      ws.analyzer().terms(std::string_view(text).substr(s.start, s.end - s.start), terms);
      Candidate c;
      c.hit = h;
      c.span = s;
      c.terms.insert(terms.begin(), terms.end());
      float covered = 0;
      for (const auto& [term, w] : idf) {
        if (c.terms.count(term) || title_terms.count(term)) covered += w;
      }
      c.support = covered / total_idf;
      c.score = c.support + 0.1f * (positive ? hits[h].score / top_score : 1.0f / static_cast<float>(h + 1));
      candidates.push_back(std::move(c));
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  float best = candidates.empty() ? 0.0f : candidates.front().support;
  answer.confidence = best;
  if (best < options.min_support) {
    answer.abstained = true;
    answer.abstain_reason = fmt::format(
        "No passage answers this well enough: the best sentence covers {:.0f}% of the question's "
        "key terms (need {:.0f}%).",
        best * 100, options.min_support * 100);
    return answer;
  }

  std::vector<const Candidate*> chosen;
  for (const Candidate& c : candidates) {
    if (chosen.size() >= options.max_sentences) break;
    if (c.support < options.keep_ratio * best) break;
    bool redundant = false;
    for (const Candidate* o : chosen) {
      if (jaccard(o->terms, c.terms) > 0.7) redundant = true;
    }
    if (!redundant) chosen.push_back(&c);
  }

  std::map<DocId, std::vector<std::int64_t>> page_starts;
  for (const Candidate* c : chosen) {
    const SearchHit& hit = hits[c->hit];
    std::int64_t start = hit.char_start + static_cast<std::int64_t>(char_offset(hit.text, c->span.start));
    std::int64_t end = hit.char_start + static_cast<std::int64_t>(char_offset(hit.text, c->span.end));
    if (!page_starts.count(hit.doc_id)) {
      RAGFT_TRY(std::optional<DocumentRecord> doc, ws.store().get(hit.doc_id));
      page_starts[hit.doc_id] = doc ? doc->page_starts : std::vector<std::int64_t>{};
    }
    Citation cite;
    cite.n = static_cast<int>(answer.sources.size() + 1);
    cite.chunk_id = hit.chunk_id;
    cite.doc_ext_id = hit.ext_id;
    cite.title = hit.title;
    cite.source = hit.source;
    cite.char_start = start;
    cite.char_end = end;
    cite.page = page_of(page_starts[hit.doc_id], start);
    cite.quote = hit.text.substr(c->span.start, c->span.end - c->span.start);
    AnswerSentence sentence;
    sentence.text = cite.quote;
    for (char& ch : sentence.text) {
      if (ch == '\n') ch = ' ';
    }
    sentence.citations.push_back(cite.n);
    answer.sentences.push_back(std::move(sentence));
    answer.sources.push_back(std::move(cite));
  }
  return answer;
}

}  // namespace ragft
