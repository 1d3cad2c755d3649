// ragft ask "question": an answer whose sentences cite exact source spans: extractive, or written by a
// language model (--llm) with its [n] citations checked.
#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "generate/extractive.h"
#include "generate/llm_answer.h"
#include "generate/local_chat.h"
#include "serve/search_api.h"

namespace ragft::cli {

namespace {
struct AskArgs {
  std::string question;
  std::string config = ExtractiveOptions{}.to_config();
  FilterArgs filter;
  std::string llm;     // chat model config: answer with a language model
  std::string prompt;  // prompt template file
  std::string llm_config = LlmAnswerOptions{}.to_config();
};

int run_ask(const Globals& g, const AskArgs& a) {
  auto options = ExtractiveOptions::parse(a.config);
  if (!options.ok()) return report(options.error());
  auto llm_options = LlmAnswerOptions::parse(a.llm_config);
  if (!llm_options.ok()) return report(llm_options.error());
  std::unique_ptr<ChatModel> model;
  std::optional<PromptTemplate> prompt;
  if (!a.llm.empty()) {
    auto made = make_chat_model(a.llm);
    if (!made.ok()) return report(made.error());
    model = std::move(*made);
    auto loaded = a.prompt.empty() ? Result<PromptTemplate>(PromptTemplate::default_template())
                                   : PromptTemplate::load(a.prompt);
    if (!loaded.ok()) return report(loaded.error());
    prompt = std::move(*loaded);
  } else if (!a.prompt.empty()) {
    return report(make_error(ErrorCode::kInvalidArgument, "--prompt is the language model's prompt: give --llm too"));
  }
  auto req = make_request(a.question, model ? llm_options->chunks : options->chunks, a.filter);
  if (!req.ok()) return report(req.error());
  auto opened = open_retrieval(g, a.filter);
  if (!opened.ok()) return report(opened.error());
  nlohmann::json info = nlohmann::json::object();
  auto hits = retrieve(*opened, *req, &info);
  if (!hits.ok()) return report(hits.error());
  Answer ans;
  if (model) {
    auto written = answer_with_llm(*opened->ws, *req, std::move(*hits), *model, *prompt, *llm_options);
    if (!written.ok()) return report(written.error());
    ans = std::move(written->answer);
    info["llm"] = serve::llm_info_json(*written);
    if (!g.json) {
      for (const auto& i : written->citations.issues) fmt::print(stderr, "citation check: {}\n", i.message);
    }
  } else {
    auto answer = answer_from_hits(*opened->ws, *req, std::move(*hits), *options);
    if (!answer.ok()) return report(answer.error());
    ans = std::move(*answer);
  }
  if (g.json) {
    nlohmann::json out = serve::answer_json(ans);
    if (info.contains("reranker")) out["reranker"] = info["reranker"];
    if (info.contains("llm")) out["llm"] = info["llm"];
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
  cmd->add_option("--answer", a->config, "Extractive answer config")->capture_default_str();
  cmd->add_option("--llm", a->llm,
                  "Answer with a language model: openai:url=http://127.0.0.1:8080/v1,model=NAME (an "
                  "OpenAI-compatible server: llama.cpp, vLLM, Ollama, OpenAI) or local:path=DIR (a Llama-family "
                  "checkpoint run here with libtorch)");
  cmd->add_option("--prompt", a->prompt, "Prompt template file for --llm (default: `ragft prompt`)");
  cmd->add_option("--llm-config", a->llm_config, "LLM answer options")->capture_default_str();
  add_filter_options(cmd, a->filter);
  cmd->callback([&g, &exit_code, a] { exit_code = run_ask(g, *a); });
}

}  // namespace ragft::cli
