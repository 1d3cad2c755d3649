// ragft prompt: prints the default answer prompt template (edit a copy, pass it with --prompt).
// ragft raft: RAFT training data (generate/raft.h) as OpenAI fine-tuning chat JSONL.
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "generate/raft.h"

namespace ragft::cli {

namespace {
struct RaftArgs {
  std::string questions;
  std::string out;
  std::string prompt;
  std::string config = RaftOptions{}.to_config();
  std::string tenant = "default";
};

Result<PromptTemplate> load_prompt(const std::string& path) {
  if (path.empty()) return PromptTemplate::default_template();
  return PromptTemplate::load(path);
}

int run_raft(const Globals& g, const RaftArgs& a) {
  auto options = RaftOptions::parse(a.config);
  if (!options.ok()) return report(options.error());
  options->tenant = a.tenant;
  auto prompt = load_prompt(a.prompt);
  if (!prompt.ok()) return report(prompt.error());
  auto questions = read_raft_questions(a.questions);
  if (!questions.ok()) return report(questions.error());
  auto ws = open_workspace(g);
  if (!ws.ok()) return report(ws.error());
  RaftStats stats;
  auto examples = build_raft(*ws, *questions, *prompt, *options, &stats);
  if (!examples.ok()) return report(examples.error());
  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::trunc);
    if (!file) return report(make_error(ErrorCode::kIo, "cannot write {}", a.out));
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  for (const RaftExample& e : *examples) out << raft_to_openai_jsonl(e) << '\n';
  out.flush();
  if (!out) return report(make_error(ErrorCode::kIo, "writing {} failed", a.out.empty() ? "stdout" : a.out));
  fmt::print(stderr, "{} examples ({} with the oracle, {} without), {} distractors{}; {}\n", stats.examples,
             stats.with_oracle, stats.without_oracle, stats.distractors,
             stats.short_of_distractors
                 ? fmt::format(" ({} examples got fewer distractors than asked: a small corpus)", stats.short_of_distractors)
                 : "",
             options->to_config());
  return 0;
}
}  // namespace

void register_raft(CLI::App& app, Globals& g, int& exit_code) {
  CLI::App* prompt = app.add_subcommand("prompt", "Print the default answer prompt template (copy, edit, pass with --prompt)");
  prompt->callback([&exit_code] {
    fmt::print("{}", PromptTemplate::default_text());
    exit_code = 0;
  });

  auto a = std::make_shared<RaftArgs>();
  CLI::App* cmd = app.add_subcommand(
      "raft", "RAFT training data: each question with its oracle chunk and BM25 distractors in the answer prompt, "
              "answers quoting the oracle; OpenAI fine-tuning chat JSONL");
  cmd->add_option("--questions", a->questions,
                  "JSONL: {\"id\",\"question\",\"answer\"?,\"evidence\":[{\"doc_id\",\"spans\":[[start,end]]}]}")
      ->required();
  cmd->add_option("--out", a->out, "Output JSONL (default: stdout)");
  cmd->add_option("--prompt", a->prompt, "Prompt template file (default: `ragft prompt`)");
  cmd->add_option("--config", a->config, "RAFT options")->capture_default_str();
  cmd->add_option("--tenant", a->tenant, "Tenant whose documents are used")->capture_default_str();
  cmd->callback([&g, &exit_code, a] { exit_code = run_raft(g, *a); });
}

}  // namespace ragft::cli
