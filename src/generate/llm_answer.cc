#include "generate/llm_answer.h"

#include <set>

#include <fmt/format.h>

#include "core/config_string.h"

namespace ragft {

namespace {

std::string trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string LlmAnswerOptions::to_config() const {
  return fmt::format("llm:chunks={},min_retrieval={},max_tokens={},temperature={},cite_support={},require_citations={}",
                     chunks, min_retrieval, max_tokens, temperature, min_citation_support, require_citations ? 1 : 0);
}

Result<LlmAnswerOptions> LlmAnswerOptions::parse(std::string_view config) {
  LlmAnswerOptions o;
  RAGFT_TRY(auto items, config_items(config, "llm"));
  for (const auto& [key, value] : items) {
    if (key == "chunks") {
      RAGFT_TRY(long long v, config_int("llm", key, value, 1, 100));
      o.chunks = static_cast<std::size_t>(v);
    } else if (key == "min_retrieval") {
      RAGFT_TRY(o.min_retrieval, config_double("llm", key, value, 0, 1));
    } else if (key == "max_tokens") {
      RAGFT_TRY(long long v, config_int("llm", key, value, 1, 1 << 20));
      o.max_tokens = static_cast<int>(v);
    } else if (key == "temperature") {
      RAGFT_TRY(o.temperature, config_double("llm", key, value, 0, 2));
    } else if (key == "cite_support") {
      RAGFT_TRY(o.min_citation_support, config_double("llm", key, value, 0, 1));
    } else if (key == "require_citations") {
      RAGFT_TRY(long long v, config_int("llm", key, value, 0, 1));
      o.require_citations = v == 1;
    } else {
      return make_error(ErrorCode::kInvalidArgument, "llm config: unknown key \"{}\"", key);
    }
  }
  return o;
}

double question_coverage(Workspace& ws, const QuestionTerms& q, std::string_view text) {
  if (q.total <= 0) return 0;
  std::vector<std::string> terms;
  ws.analyzer().terms(text, terms);
  const std::set<std::string> have(terms.begin(), terms.end());
  double covered = 0;
  for (const auto& [t, w] : q.idf) {
    if (have.count(t)) covered += w;
  }
  return covered / q.total;
}

Result<LlmAnswer> answer_with_llm(Workspace& ws, const SearchRequest& request, std::vector<SearchHit> hits,
                                  const ChatModel& model, const PromptTemplate& prompt, const LlmAnswerOptions& o) {
  LlmAnswer out;
  Answer& a = out.answer;
  a.question = request.query;
  a.generator = o.to_config() + ";" + model.config();
  if (hits.size() > o.chunks) hits.resize(o.chunks);
  if (hits.empty()) {
    a.abstained = true;
    a.abstain_reason = "No relevant passages were found for this question.";
    return out;
  }
  std::vector<PromptSource> sources;
  const QuestionTerms q = question_terms(ws, request.query);  // once, not per chunk
  double best = 0;
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const SearchHit& h = hits[i];
    Citation c;
    c.n = static_cast<int>(i + 1);
    c.chunk_id = h.chunk_id;
    c.doc_ext_id = h.ext_id;
    c.title = h.title;
    c.source = h.source;
    c.char_start = h.char_start;
    c.char_end = h.char_end;
    c.page = h.page;
    c.quote = h.text;
    a.sources.push_back(c);
    sources.push_back({c.n, h.ext_id, h.title, h.text});
    best = std::max(best, question_coverage(ws, q, h.title + "\n" + h.text));
  }
  a.confidence = static_cast<float>(best);
  if (best < o.min_retrieval) {
    a.abstained = true;
    a.abstain_reason = fmt::format(
        "The retrieved passages do not cover this question well enough: the best covers {:.0f}% of its key terms "
        "(need {:.0f}%).",
        best * 100, o.min_retrieval * 100);
    return out;
  }

  const RenderedPrompt rendered = prompt.render(request.query, sources);
  ChatRequest req;
  if (!rendered.system.empty()) req.messages.push_back({ChatRole::kSystem, rendered.system});
  req.messages.push_back({ChatRole::kUser, rendered.user});
  req.max_tokens = o.max_tokens;
  req.temperature = o.temperature;
  RAGFT_TRY(ChatResponse resp, model.complete(req));
  out.called_model = true;
  out.raw = resp.text;
  out.usage = resp.usage;
  out.generation_ms = resp.latency_ms;
  const std::string reply = trim(resp.text);
  if (reply == prompt.abstain_reply() || reply.empty()) {
    a.abstained = true;
    a.abstain_reason = reply.empty() ? "The model returned an empty answer."
                                     : "The model found no answer to this question in the retrieved passages.";
    return out;
  }
  RAGFT_TRY(Analyzer analyzer, ws.analyzer().clone());
  CitationCheckOptions co;
  co.min_support = o.min_citation_support;
  out.citations = read_citations(reply, a, analyzer, co);
  if (o.require_citations && out.citations.valid == 0) {
    a.abstained = true;
    a.abstain_reason = fmt::format(
        "The model's answer cites none of the passages in a way they support ({} citation(s) read, {} issue(s)); "
        "it is withheld.",
        out.citations.citations, out.citations.issues.size());
  }
  return out;
}

}  // namespace ragft
