// ragft ask "question": an extractive answer whose sentences cite exact source spans.
#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "generate/extractive.h"

namespace ragft::cli {

namespace {
struct AskArgs {
  std::string question;
  std::string config = ExtractiveOptions{}.to_config();
  FilterArgs filter;
};

int run_ask(const Globals& g, const AskArgs& a) {
  auto options = ExtractiveOptions::parse(a.config);
  if (!options.ok()) return report(options.error());
  auto req = make_request(a.question, options->chunks, a.filter);
  if (!req.ok()) return report(req.error());
  auto opened = open_retrieval(g, a.filter);
  if (!opened.ok()) return report(opened.error());
  nlohmann::json info = nlohmann::json::object();
  auto hits = retrieve(*opened, *req, &info);
  if (!hits.ok()) return report(hits.error());
  auto answer = answer_from_hits(*opened->ws, *req, std::move(*hits), *options);
  if (!answer.ok()) return report(answer.error());
  const Answer& ans = *answer;
  if (g.json) {
    nlohmann::json sources = nlohmann::json::array();
    for (const auto& c : ans.sources) {
      sources.push_back({{"n", c.n}, {"doc_id", c.doc_ext_id}, {"title", c.title}, {"source", c.source},
                         {"chunk_id", c.chunk_id}, {"char_start", c.char_start}, {"char_end", c.char_end},
                         {"page", c.page}, {"quote", c.quote}});
    }
    nlohmann::json sentences = nlohmann::json::array();
    for (const auto& s : ans.sentences) sentences.push_back({{"text", s.text}, {"citations", s.citations}});
    nlohmann::json out = {{"question", ans.question}, {"answer", ans.text()},   {"abstained", ans.abstained},
                          {"confidence", ans.confidence}, {"sentences", sentences}, {"sources", sources},
                          {"generator", ans.generator}};
    if (info.contains("reranker")) out["reranker"] = info["reranker"];
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("Q: {}\n\n", ans.question);
  if (ans.abstained) {
    fmt::print("{}\n", ans.abstain_reason);
    return 0;
  }
  fmt::print("{}\n\nSources:\n", ans.text());
  for (const auto& c : ans.sources) {
    fmt::print("[{}] {} — {} (chars {}-{}{})\n", c.n, c.doc_ext_id, c.title.empty() ? c.source : c.title,
               c.char_start, c.char_end, c.page ? fmt::format(", page {}", c.page) : "");
  }
  return 0;
}
}  // namespace

void register_ask(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<AskArgs>();
  CLI::App* cmd = app.add_subcommand("ask", "Answer a question from the indexed documents, with citations");
  cmd->add_option("question", a->question, "The question or claim")->required();
  cmd->add_option("--answer", a->config, "Answer composer config")->capture_default_str();
  add_filter_options(cmd, a->filter);
  cmd->callback([&g, &exit_code, a] { exit_code = run_ask(g, *a); });
}

}  // namespace ragft::cli
