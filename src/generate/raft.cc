#include "generate/raft.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "core/utf8.h"
#include "retrieve/searcher.h"
#include "text/sentences.h"

namespace ragft {

namespace {

// Code-point span [start, end) of `text` as a byte substring.
std::string_view char_slice(std::string_view text, std::int64_t start, std::int64_t end) {
  const std::size_t b = byte_offset(text, static_cast<std::size_t>(start));
  const std::size_t e = byte_offset(text, static_cast<std::size_t>(end));
  return text.substr(b, e - b);
}

std::size_t overlap(Analyzer& analyzer, const std::set<std::string>& query, std::string_view text,
                    std::vector<std::string>& scratch) {
  scratch.clear();
  analyzer.terms(text, scratch);
  std::set<std::string> seen;
  std::size_t n = 0;
  for (const auto& t : scratch) {
    if (query.count(t) && seen.insert(t).second) ++n;
  }
  return n;
}

// At most `max` bytes of `text`, keeping [keep_begin, keep_end) (byte offsets) inside, cut at
// spaces where possible.
std::string cut(std::string_view text, std::size_t max, std::size_t keep_begin = 0, std::size_t keep_end = 0) {
  if (text.size() <= max) return std::string(text);
  std::size_t begin = 0;
  if (keep_end > max) {
    begin = keep_begin;
    const std::size_t space = text.rfind(' ', begin);
    begin = space == std::string_view::npos ? 0 : space + 1;
  }
  std::size_t end = std::min(text.size(), begin + max);
  if (end < text.size()) {
    const std::size_t space = text.rfind(' ', end);
    if (space != std::string_view::npos && space > begin) end = space;
  }
  while (end < text.size() && end > begin && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(begin, end - begin));
}

Error bad_line(const std::filesystem::path& path, std::size_t line, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "{}:{}: {}", path.string(), line, why);
}

}  // namespace

Result<std::vector<RaftQuestion>> read_raft_questions(const std::filesystem::path& path, bool require_evidence) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kNotFound, "cannot open questions file {}", path.string());
  std::vector<RaftQuestion> out;
  std::set<std::string> ids;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return bad_line(path, line_no, "not a JSON object");
    RaftQuestion q;
    try {
      q.id = j.at("id").is_string() ? j.at("id").get<std::string>() : j.at("id").dump();
      q.question = j.at("question").get<std::string>();
      if (j.contains("answer") && !j.at("answer").is_null()) q.answer = j.at("answer").get<std::string>();
      const nlohmann::json none = nlohmann::json::array();
      const auto& evidence = !require_evidence && !j.contains("evidence") ? none : j.at("evidence");
      for (const auto& e : evidence) {
        RaftEvidence ev;
        ev.doc_id = e.at("doc_id").get<std::string>();
        if (e.contains("spans")) {
          for (const auto& s : e.at("spans")) {
            const auto a = s.at(0).get<std::int64_t>(), b = s.at(1).get<std::int64_t>();
            if (a < 0 || b <= a) return bad_line(path, line_no, fmt::format("span [{}, {}] is empty or negative", a, b));
            ev.spans.emplace_back(a, b);
          }
        }
        q.evidence.push_back(std::move(ev));
      }
    } catch (const std::exception& e) {
      return bad_line(path, line_no, fmt::format("expected id, question and evidence [{{doc_id, spans}}]: {}", e.what()));
    }
    if (q.question.empty()) return bad_line(path, line_no, "empty question");
    if (require_evidence && q.evidence.empty()) return bad_line(path, line_no, "no evidence: RAFT needs the document that answers it");
    if (!ids.insert(q.id).second) return bad_line(path, line_no, fmt::format("question id {} repeated", q.id));
    out.push_back(std::move(q));
  }
  return out;
}

std::string RaftOptions::to_config() const {
  return fmt::format("raft:distractors={},no_oracle={},no_oracle_answer={},max_chars={},seed={}", distractors, no_oracle,
                     no_oracle_answer, max_source_chars, seed);
}

Result<RaftOptions> RaftOptions::parse(std::string_view config) {
  RaftOptions o;
  RAGFT_TRY(auto items, config_items(config, "raft"));
  for (const auto& [key, value] : items) {
    if (key == "distractors") {
      RAGFT_TRY(long long v, config_int("raft", key, value, 0, 50));
      o.distractors = static_cast<int>(v);
    } else if (key == "no_oracle") {
      RAGFT_TRY(o.no_oracle, config_double("raft", key, value, 0, 1));
    } else if (key == "no_oracle_answer") {
      if (value != "abstain" && value != "answer") {
        return make_error(ErrorCode::kInvalidArgument, "raft option no_oracle_answer=\"{}\" must be abstain or answer", value);
      }
      o.no_oracle_answer = value;
    } else if (key == "max_chars") {
      RAGFT_TRY(long long v, config_int("raft", key, value, 200, 1000000));
      o.max_source_chars = static_cast<std::size_t>(v);
    } else if (key == "seed") {
      RAGFT_TRY(long long v, config_int("raft", key, value, 0, (1LL << 62)));
      o.seed = static_cast<std::uint64_t>(v);
    } else {
      return make_error(ErrorCode::kInvalidArgument, "raft config: unknown key \"{}\"", key);
    }
  }
  return o;
}

Result<std::vector<RaftExample>> build_raft(Workspace& ws, const std::vector<RaftQuestion>& questions,
                                            const PromptTemplate& prompt, const RaftOptions& o, RaftStats* stats) {
  RaftStats st;
  std::mt19937_64 rng(o.seed);
  // Which examples lose their oracle: a seeded choice of round(no_oracle * n) questions.
  std::vector<std::size_t> order(questions.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  const auto drop = static_cast<std::size_t>(std::llround(o.no_oracle * static_cast<double>(questions.size())));
  std::vector<bool> no_oracle(questions.size(), false);
  for (std::size_t i = 0; i < drop; ++i) no_oracle[order[i]] = true;

  Analyzer& analyzer = ws.analyzer();
  std::vector<std::string> scratch;
  std::vector<RaftExample> out;
  out.reserve(questions.size());
  for (std::size_t qi = 0; qi < questions.size(); ++qi) {
    const RaftQuestion& q = questions[qi];
    scratch.clear();
    analyzer.terms(q.question, scratch);
    const std::set<std::string> qterms(scratch.begin(), scratch.end());

    // The oracle: the first evidence document's chunk holding its first span (or sharing most
    // words with the question), and the quote.
    const RaftEvidence& ev = q.evidence.front();
    RAGFT_TRY(std::optional<DocumentRecord> doc, ws.store().find(o.tenant, ev.doc_id));
    if (!doc) {
      return make_error(ErrorCode::kInvalidArgument, "question {}: document {} is not in the workspace (tenant {})", q.id,
                        ev.doc_id, o.tenant);
    }
    RAGFT_TRY(std::vector<ChunkRecord> chunks, ws.store().chunks_of(doc->id));
    if (chunks.empty()) return make_error(ErrorCode::kInvalidArgument, "question {}: document {} has no text", q.id, ev.doc_id);
    const auto doc_chars = static_cast<std::int64_t>(char_offset(doc->text, doc->text.size()));
    const ChunkRecord* oracle = nullptr;
    std::string quote;
    if (!ev.spans.empty()) {
      for (const auto& [a, b] : ev.spans) {
        if (b > doc_chars) {
          return make_error(ErrorCode::kInvalidArgument, "question {}: span [{}, {}] lies outside document {} ({} characters)",
                            q.id, a, b, ev.doc_id, doc_chars);
        }
      }
      const std::int64_t first = ev.spans.front().first;
      for (const ChunkRecord& c : chunks) {
        if (c.char_start <= first && first < c.char_end) {
          oracle = &c;
          break;
        }
      }
      if (!oracle) oracle = &chunks.front();
      for (const auto& [a, b] : ev.spans) {
        const std::int64_t s = std::max(a, oracle->char_start), e = std::min(b, oracle->char_end);
        if (e <= s) continue;
        if (!quote.empty()) quote += " ";
        quote += std::string(char_slice(doc->text, s, e));
      }
    } else {
      std::size_t best = 0;
      for (const ChunkRecord& c : chunks) {
        const std::size_t n = overlap(analyzer, qterms, c.text, scratch);
        if (!oracle || n > best) {
          oracle = &c;
          best = n;
        }
      }
      std::size_t best_sentence = 0;
      for (const Span& s : split_sentences(oracle->text)) {
        const std::string_view sentence = std::string_view(oracle->text).substr(s.start, s.end - s.start);
        const std::size_t n = overlap(analyzer, qterms, sentence, scratch);
        if (quote.empty() || n > best_sentence) {
          quote = std::string(sentence);
          best_sentence = n;
        }
      }
    }
    for (char& c : quote) {
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }

    // Distractors: BM25's best chunks of documents that are not evidence, one per document.
    std::unordered_set<std::string> evidence_docs;
    for (const auto& e : q.evidence) evidence_docs.insert(e.doc_id);
    std::vector<PromptSource> sources;
    if (o.distractors > 0) {
      SearchRequest req;
      req.query = q.question;
      req.tenant = o.tenant;
      req.k = static_cast<std::size_t>(o.distractors) * 4 + 8;
      req.snippet_chars = 0;
      auto hits = search(ws, req);
      if (!hits.ok() && hits.error().code != ErrorCode::kInvalidArgument) return hits.error();
      std::unordered_set<std::string> used;
      if (hits.ok()) {
        for (const SearchHit& h : *hits) {
          if (static_cast<int>(sources.size()) >= o.distractors) break;
          if (evidence_docs.count(h.ext_id) || !used.insert(h.ext_id).second) continue;
          sources.push_back({0, h.ext_id, h.title, cut(h.text, o.max_source_chars)});
        }
      }
    }
    if (static_cast<int>(sources.size()) < o.distractors) ++st.short_of_distractors;
    st.distractors += sources.size();

    RaftExample ex;
    ex.question_id = q.id;
    ex.has_oracle = !no_oracle[qi];
    if (ex.has_oracle) {
      const std::size_t at = oracle->text.find(quote.substr(0, std::min<std::size_t>(quote.size(), 80)));
      const std::size_t keep_begin = at == std::string::npos ? 0 : at;
      sources.push_back({0, doc->ext_id, doc->title,
                         cut(oracle->text, o.max_source_chars, keep_begin,
                             at == std::string::npos ? 0 : keep_begin + quote.size())});
    }
    std::shuffle(sources.begin(), sources.end(), rng);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      sources[i].n = static_cast<int>(i + 1);
      if (ex.has_oracle && sources[i].doc_id == doc->ext_id) ex.oracle_n = sources[i].n;
    }
    if (ex.has_oracle) {
      const std::string n = fmt::format("[{}]", ex.oracle_n);
      ex.answer = q.answer.empty() ? fmt::format("{} {}", quote, n)
                                   : fmt::format("{} {}\nEvidence: \"{}\" {}", q.answer, n, quote, n);
      ++st.with_oracle;
    } else {
      ex.answer = o.no_oracle_answer == "answer" && !q.answer.empty() ? q.answer : prompt.abstain_reply();
      ++st.without_oracle;
    }
    ex.prompt = prompt.render(q.question, sources);
    ex.sources = std::move(sources);
    out.push_back(std::move(ex));
  }
  st.examples = out.size();
  if (stats) *stats = st;
  return out;
}

std::string raft_to_openai_jsonl(const RaftExample& example) {
  nlohmann::json messages = nlohmann::json::array();
  if (!example.prompt.system.empty()) messages.push_back({{"role", "system"}, {"content", example.prompt.system}});
  messages.push_back({{"role", "user"}, {"content", example.prompt.user}});
  messages.push_back({{"role", "assistant"}, {"content", example.answer}});
  return nlohmann::json{{"messages", messages}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ragft
