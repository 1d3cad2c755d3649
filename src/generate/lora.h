// LoRA fine-tuning of the local Llama-family decoder (generate/torch/llama.h): options, the chat
// training data, adapters in PEFT's layout, merging. Torch-free; the training itself runs in
// libragft_torch.so (generate/torch/lora_model.h) and is reached through the backend table
// (train/neural_backend.h, train_lora).
//
// Options (config string, defaults shown):
//   lora:rank=8,alpha=16,dropout=0.05,targets=q_proj+k_proj+v_proj+o_proj+gate_proj+up_proj+down_proj,
//        lr=0.0002,weight_decay=0,epochs=3,batch=4,accum=1,warmup=0.03,min_lr_ratio=0.1,patience=2,
//        eval_steps=0,max_length=1024,clip=1,seed=42,threads=0,format=auto
//   rank, alpha: the adapter is W + (alpha / rank) B A, A [rank, in], B [out, rank].
//   dropout: applied to the LoRA branch's input during training (as PEFT's lora_dropout).
//   targets: any non-empty subset of the seven projections, '+'-separated (kept in the order above).
//   lr, weight_decay: AdamW on the LoRA parameters only (betas 0.9/0.999, eps 1e-8).
//   epochs, batch (sequences per micro-batch), accum (micro-batches per optimizer step).
//   warmup: share of the optimizer steps with a linear warm-up from 0; then cosine decay from lr
//     to lr * min_lr_ratio at the last step.
//   patience: stop after this many validation evaluations in a row without a new best loss.
//   eval_steps: 0 evaluates the validation set at the end of each epoch; N > 0 every N optimizer
//     steps as well.
//   max_length: tokens per training sequence; longer examples are DROPPED (and counted in the
//     report), never truncated, so a kept example always has its whole prompt and answer.
//   clip: global gradient-norm clipping (0: none). seed: A's initialisation, dropout and the
//     shuffling. threads: libtorch threads (0: RAGFT_THREADS, else the core count).
//   format: the chat format (auto: from the checkpoint's template, as local_chat.h does).
// Unknown keys and bad values -> kInvalidArgument naming the key; to_config() round-trips.
//
// Training data: OpenAI fine-tuning chat JSONL, one {"messages": [{"role": "system"|"user"|
// "assistant", "content": "..."}, ...]} per line (blank lines skipped). Assistant messages may
// carry "weight": 0 or 1 (0: that turn is context only, no loss). An example must hold at least
// one user message and end with an assistant message. raft_to_openai_jsonl (generate/raft.h)
// writes this format.
//
// Rendering (tokenize_chat_examples): the prompt before each assistant turn is exactly what the
// `local:` chat model renders at inference (render_chat with the checkpoint's format, bos and
// eos), followed by the turn as the format writes it and its end-of-turn text (chatml
// "<|im_end|>", llama3 "<|eot_id|>", llama2 " {answer} {eos}", mistral "{answer}{eos}"). Each
// piece (prompt, turn, the text between turns) is tokenized on its own without extra special
// tokens and the ids are concatenated; the tokens of weighted assistant turns, end-of-turn
// included, are the loss targets, every other token is context only.
//
// Adapter directory (PEFT's layout, loadable by peft / vLLM / llama.cpp's converter):
//   adapter_config.json    {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r", "lora_alpha",
//                           "lora_dropout", "target_modules", "bias": "none",
//                           "base_model_name_or_path", "fan_in_fan_out": false, ...}
//   adapter_model.safetensors  F32 tensors
//     base_model.model.model.layers.{i}.self_attn.{q,k,v,o}_proj.lora_A.weight [r, in]
//     base_model.model.model.layers.{i}.self_attn.{q,k,v,o}_proj.lora_B.weight [out, r]
//     base_model.model.model.layers.{i}.mlp.{gate,up,down}_proj.lora_{A,B}.weight
//   lora_report.json       the LoraReport of the run that wrote it (training only)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "generate/chat.h"
#include "generate/llama_config.h"
#include "train/progress.h"

namespace ragft {

class SubwordTokenizer;
enum class ChatFormat;

// The projections LoRA may adapt, in canonical order.
inline constexpr std::array<std::string_view, 7> kLoraTargets = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                                  "gate_proj", "up_proj", "down_proj"};

struct LoraOptions {
  int rank = 8;
  double alpha = 16;
  double dropout = 0.05;
  std::vector<std::string> targets = {kLoraTargets.begin(), kLoraTargets.end()};
  double lr = 2e-4;
  double weight_decay = 0;
  int epochs = 3;
  int batch = 4;
  int accum = 1;
  double warmup = 0.03;
  double min_lr_ratio = 0.1;
  int patience = 2;
  int eval_steps = 0;
  int max_length = 1024;
  double clip = 1.0;
  std::uint64_t seed = 42;
  int threads = 0;
  std::string format = "auto";

  double scale() const { return alpha / rank; }
  std::string to_config() const;
  static Result<LoraOptions> parse(std::string_view config);
};

// One training example: the messages, and per message whether it carries loss (only assistant
// messages can; weight 0 turns them into context).
struct ChatExample {
  std::vector<ChatMessage> messages;
  std::vector<bool> weight;  // same size as messages
};

// Reads OpenAI fine-tuning chat JSONL (header comment). Missing file -> kNotFound; bad JSON, a
// missing/unknown role, a non-string content, a weight other than 0/1, or an example that does
// not end with an assistant message -> kInvalidArgument naming file:line. An empty file ->
// kInvalidArgument.
Result<std::vector<ChatExample>> read_chat_jsonl(const std::filesystem::path& path);
// One JSONL line (no newline) for an example, in OpenAI's format ("weight" written only where 0).
std::string chat_example_to_jsonl(const ChatExample& example);

// The checkpoint's chat rendering as the `local:` chat model uses it: tokenizer, format, and the
// bos/eos texts render_chat gets. Loaded by load_chat_template (local_chat.cc).
struct ChatTemplate {
  std::shared_ptr<const SubwordTokenizer> tokenizer;
  ChatFormat format{};
  std::string bos, eos;
};
// Tokenizer errors as load_subword_tokenizer; format "auto" with no recognisable template ->
// kUnsupported (name the format).
Result<ChatTemplate> load_chat_template(const std::filesystem::path& dir, std::string_view format);

// A tokenized example: target[i] = 1 when ids[i] is trained on (predicted from ids[0..i)).
struct LoraSequence {
  std::vector<std::int32_t> ids;
  std::vector<std::uint8_t> target;
};

struct LoraData {
  std::vector<LoraSequence> sequences;
  std::size_t dropped_too_long = 0;   // more than max_length tokens
  std::size_t dropped_no_target = 0;  // every assistant turn had weight 0
};

// Renders and tokenizes the examples (header comment). A format that rejects an example's turn
// order (llama2/mistral need alternating user/assistant) -> kInvalidArgument naming the example.
Result<LoraData> tokenize_chat_examples(const ChatTemplate& t, const std::vector<ChatExample>& examples,
                                        int max_length);

// One validation evaluation.
struct LoraEval {
  std::size_t step = 0;      // optimizer steps done
  int epoch = 0;             // 1-based
  double train_loss = 0;     // mean target-token loss of the steps since the previous evaluation
  double val_loss = -1;      // mean target-token loss on the validation set (-1: none)
  double lr = 0;             // the learning rate of the last step
  double seconds = 0;        // since training started
};

struct LoraReport {
  std::string base;             // checkpoint directory
  std::string config;           // LoraOptions::to_config()
  std::size_t train_examples = 0, validation_examples = 0;
  std::size_t dropped_too_long = 0, dropped_no_target = 0;
  std::size_t steps = 0;        // optimizer steps run
  int epochs_run = 0;
  double train_loss = 0;        // mean target-token loss over the last epoch run
  double best_val_loss = -1;    // -1 without validation data
  std::size_t best_step = 0;    // the saved adapter's step (the last one without validation data)
  bool early_stopped = false;
  std::size_t tokens = 0;         // tokens run through the model in training (padding excluded)
  std::size_t target_tokens = 0;  // of which loss targets
  double tokens_per_second = 0;   // tokens / training seconds (evaluation excluded)
  double seconds = 0;             // the whole run
  std::size_t trainable_parameters = 0;
  std::vector<LoraEval> history;

  nlohmann::json to_json() const;
};

// What train_lora (backend) needs. The adapter (the best by validation loss, else the last) and
// lora_report.json are written to `out`; with validation data the best adapter so far is
// rewritten at each new best, so an interrupted run leaves one.
struct LoraTrainJob {
  std::filesystem::path base;
  std::filesystem::path out;
  std::vector<LoraSequence> train, validation;
  LoraOptions options;
  ProgressFn on_step;                              // per optimizer step, and at each evaluation
  std::function<void(const std::string&)> progress;  // one line per evaluation
};

// ---- Adapters ----

// "model.layers.{layer}.self_attn.q_proj" / "model.layers.{layer}.mlp.gate_proj".
std::string lora_module(int layer, std::string_view target);
// [out, in] of a target projection in `c`; an unknown target is a bug.
std::pair<std::int64_t, std::int64_t> lora_target_shape(const LlamaConfig& c, std::string_view target);

struct LoraAdapter {
  struct Pair {
    std::vector<float> a;  // [rank, in], row-major
    std::vector<float> b;  // [out, rank]
    std::int64_t out = 0, in = 0;
  };
  int rank = 8;
  double alpha = 16;
  double dropout = 0;
  std::vector<std::string> targets;  // canonical order
  std::string base;                  // base_model_name_or_path
  std::map<std::string, Pair> weights;  // lora_module() -> A, B

  double scale() const { return alpha / rank; }
  // Writes adapter_config.json and adapter_model.safetensors into `dir` (created).
  Status save(const std::filesystem::path& dir) const;
  // Reads a PEFT LoRA adapter directory. Missing files -> kNotFound; a peft_type other than
  // LORA, use_dora, fan_in_fan_out, per-module ranks (rank_pattern/alpha_pattern) or bias other
  // than "none" -> kUnsupported; tensors that are not lora_A/lora_B of a known projection, a
  // missing half or ranks that do not match r -> kCorrupt naming the tensor.
  static Result<LoraAdapter> load(const std::filesystem::path& dir);
  // Every adapted module must exist in `c` with the right shapes; else kCorrupt naming the
  // tensor and both shapes.
  Status check(const LlamaConfig& c) const;
};

// Writes a full checkpoint to `out`: `base`'s config.json, its weights with (alpha/r) B A added
// to the adapted matrices (in fp32, stored back in the base's dtype) as one model.safetensors,
// and its tokenizer and generation files copied. Adapter errors as LoraAdapter::load/check; out
// must not be the base directory.
Status merge_lora_to_disk(const std::filesystem::path& base, const std::filesystem::path& adapter,
                          const std::filesystem::path& out);

// ---- The whole run, from files ----

struct TrainGenerateRequest {
  std::filesystem::path base, train, validation, out;
  double validation_share = 0;  // used when `validation` is empty: this share of train, at random (seeded)
  LoraOptions options;
  ProgressFn on_step;
  std::function<void(const std::string&)> progress;
};
// Reads the JSONL, tokenizes with the checkpoint's template, trains through the backend (no
// libtorch -> kUnsupported) and writes the adapter and its report into request.out. No example
// left after dropping -> kInvalidArgument.
Result<LoraReport> train_generate(const TrainGenerateRequest& request);
// The training part of train_generate for examples already in memory (decide's fine-tuned arms):
// request.train, validation and validation_share are not used; `origin` names the examples in
// errors. Writes the adapter, not lora_report.json.
Result<LoraReport> train_lora_examples(const TrainGenerateRequest& request, const std::vector<ChatExample>& train,
                                       const std::vector<ChatExample>& validation, std::string_view origin);

}  // namespace ragft
