// ragft train generate: LoRA fine-tuning of a local Llama-family checkpoint on OpenAI chat JSONL
// (generate/lora.h), merging an adapter into a full checkpoint (--merge), or only validating and
// normalising the data for training elsewhere (--export-openai).
#include <fstream>

#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "generate/lora.h"

namespace ragft::cli {

namespace {
struct TrainGenerateArgs {
  std::string base, train, validation, out, merge, export_openai;
  double validation_share = 0;
  std::string config = LoraOptions{}.to_config();
};

int run_export(const TrainGenerateArgs& a) {
  auto examples = read_chat_jsonl(a.train);
  if (!examples.ok()) return report(examples.error());
  std::ofstream out(a.export_openai, std::ios::binary | std::ios::trunc);
  if (!out) return report(make_error(ErrorCode::kIo, "{}: cannot write", a.export_openai));
  for (const auto& e : *examples) out << chat_example_to_jsonl(e) << "\n";
  out.close();
  if (!out) return report(make_error(ErrorCode::kIo, "{}: write failed", a.export_openai));
  fmt::print(stderr, "{} examples checked and written to {} (OpenAI fine-tuning chat format)\n", examples->size(),
             a.export_openai);
  return 0;
}

int run_merge(const Globals& g, const TrainGenerateArgs& a) {
  if (a.base.empty() || a.out.empty()) {
    return report(make_error(ErrorCode::kInvalidArgument, "--merge needs --base DIR (the checkpoint) and --out DIR"));
  }
  Status st = merge_lora_to_disk(a.base, a.merge, a.out);
  if (!st.ok()) return report(st.error());
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"merged", a.out}, {"base", a.base}, {"adapter", a.merge}}.dump());
  } else {
    fmt::print("merged {} into {}: {} (config.json, model.safetensors, tokenizer files)\n", a.merge, a.base, a.out);
  }
  return 0;
}

int run_train_generate(const Globals& g, const TrainGenerateArgs& a) {
  if (!a.export_openai.empty()) return run_export(a);
  if (!a.merge.empty()) return run_merge(g, a);
  if (a.base.empty() || a.train.empty() || a.out.empty()) {
    return report(make_error(ErrorCode::kInvalidArgument, "train generate needs --base DIR, --train FILE and --out DIR"));
  }
  auto options = LoraOptions::parse(a.config);
  if (!options.ok()) return report(options.error());
  TrainGenerateRequest r;
  r.base = a.base;
  r.train = a.train;
  r.validation = a.validation;
  r.validation_share = a.validation_share;
  r.out = a.out;
  r.options = *options;
  r.on_step = [](const TrainProgress& p) { train_progress_bar(p); };
  r.progress = [](const std::string& line) {
    progress_done();
    fmt::print(stderr, "{}\n", line);
  };
  auto rep = train_generate(r);
  progress_done();
  if (!rep.ok()) return report(rep.error());
  if (g.json) {
    nlohmann::json j = rep->to_json();
    j["adapter"] = a.out;
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("trained a LoRA adapter on {} examples ({} validation; {} dropped as longer than max_length, {} without "
             "a weighted answer)\n",
             rep->train_examples, rep->validation_examples, rep->dropped_too_long, rep->dropped_no_target);
  fmt::print("{} steps, {} epochs{}, train loss {:.4f}", rep->steps, rep->epochs_run,
             rep->early_stopped ? " (early stop)" : "", rep->train_loss);
  if (rep->best_val_loss >= 0) fmt::print(", best validation loss {:.4f} at step {}", rep->best_val_loss, rep->best_step);
  fmt::print("\n{} tokens ({} trained on) at {:.0f} tokens/s, {:.1f} s, {} LoRA parameters\n", rep->tokens,
             rep->target_tokens, rep->tokens_per_second, rep->seconds, rep->trainable_parameters);
  fmt::print("saved to {}\nuse it: ragft ask --llm local:path={},adapter={} \"...\"\n"
             "merge it: ragft train generate --merge {} --base {} --out MERGED_DIR\n",
             a.out, a.base, a.out, a.out, a.base);
  return 0;
}
}  // namespace

void register_train_generate(CLI::App* train, Globals& g, int& exit_code) {
  auto a = std::make_shared<TrainGenerateArgs>();
  CLI::App* cmd = train->add_subcommand(
      "generate", "LoRA fine-tuning of a local Llama-family checkpoint on OpenAI chat JSONL (e.g. ragft raft's "
                  "output); --merge writes base + adapter as one checkpoint; --export-openai only checks and writes the "
                  "data for training elsewhere");
  cmd->add_option("--base", a->base, "Base checkpoint directory (config.json, safetensors, tokenizer)");
  cmd->add_option("--train", a->train, "Training data: OpenAI fine-tuning chat JSONL");
  cmd->add_option("--validation", a->validation, "Validation data (same format); early stopping watches its loss");
  cmd->add_option("--validation-share", a->validation_share,
                  "Without --validation: hold out this share of --train (seeded)")
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--out", a->out, "Adapter directory (PEFT layout), or the merged checkpoint with --merge");
  cmd->add_option("--config", a->config, "LoRA options")->capture_default_str();
  cmd->add_option("--merge", a->merge, "Merge this adapter directory into --base and write the checkpoint to --out");
  cmd->add_option("--export-openai", a->export_openai,
                  "Only validate --train and write it, normalised, as OpenAI fine-tuning JSONL to this file");
  cmd->callback([&g, &exit_code, a] { exit_code = run_train_generate(g, *a); });
}

}  // namespace ragft::cli
