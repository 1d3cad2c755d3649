// ragft generate "prompt": one completion from a chat model — a local checkpoint (with or without
// a LoRA adapter) or an OpenAI-compatible server — with no retrieval: the quick way to try a
// model or an adapter closed book. `ragft ask --llm` is the same model answering from the index.
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "apps/ragft/cli.h"
#include "generate/chat.h"
#include "generate/local_chat.h"

namespace ragft::cli {

namespace {
struct GenerateArgs {
  std::string prompt;
  std::string llm;
  std::string system;
  int max_tokens = 256;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::int64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
};

int run_generate(const Globals& g, const GenerateArgs& a) {
  ChatRequest r;
  if (!a.system.empty()) r.messages.push_back({ChatRole::kSystem, a.system});
  r.messages.push_back({ChatRole::kUser, a.prompt});
  r.max_tokens = a.max_tokens;
  r.temperature = a.temperature;
  r.top_p = a.top_p;
  r.seed = a.seed;
  r.stop = a.stop;
  if (Status s = r.validate(); !s.ok()) return report(s.error());
  auto model = make_chat_model(a.llm);
  if (!model.ok()) return report(model.error());
  const bool stream = a.stream && !g.json;
  auto resp = stream ? (*model)->stream(r,
                                        [](std::string_view delta) {
                                          fmt::print("{}", delta);
                                          std::fflush(stdout);
                                          return true;
                                        })
                     : (*model)->complete(r);
  if (!resp.ok()) return report(resp.error());
  if (g.json) {
    nlohmann::json out = {{"text", resp->text},
                          {"finish_reason", resp->finish_reason},
                          {"model", resp->model},
                          {"latency_ms", resp->latency_ms},
                          {"config", (*model)->config()}};
    if (resp->usage) {
      out["usage"] = {{"prompt_tokens", resp->usage->prompt_tokens},
                      {"completion_tokens", resp->usage->completion_tokens},
                      {"total_tokens", resp->usage->total_tokens}};
    }
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  if (!stream) fmt::print("{}", resp->text);
  fmt::print("\n");
  if (resp->usage) {
    fmt::print(stderr, "{} prompt + {} completion tokens in {:.0f} ms ({})\n", resp->usage->prompt_tokens,
               resp->usage->completion_tokens, resp->latency_ms,
               resp->finish_reason.empty() ? "finished" : resp->finish_reason);
  }
  return 0;
}
}  // namespace

void register_generate(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "One completion from a chat model, closed book (no retrieval)");
  cmd->add_option("prompt", a->prompt, "The user message")->required();
  cmd->add_option("--llm", a->llm,
                  "The model: local:path=DIR[,adapter=DIR] (a Llama-family checkpoint run here) or "
                  "openai:url=http://127.0.0.1:8080/v1,model=NAME (an OpenAI-compatible server)")
      ->required();
  cmd->add_option("--system", a->system, "System message");
  cmd->add_option("--max-tokens", a->max_tokens, "Most tokens to generate")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--temperature", a->temperature, "Sampling temperature (0 or unset: greedy)");
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass");
  cmd->add_option("--seed", a->seed, "Sampling seed");
  cmd->add_option("--stop", a->stop, "Stop sequence (repeatable)");
  cmd->add_flag("--stream", a->stream, "Print the text as it arrives");
  cmd->callback([&g, &exit_code, a] { exit_code = run_generate(g, *a); });
}

}  // namespace ragft::cli
