// LoRA training of a Llama-family checkpoint with libtorch on the CPU. Defined in
// libragft_torch.so; this header does not include torch (torch-free code reaches train_lora
// through the backend table, train/neural_backend.h). Options, data and the adapter format are in
// generate/lora.h.
//
// The training forward is a differentiable re-implementation of the inference engine's
// computation (generate/torch/llama.h: RMSNorm, rotary embeddings with the config's scaling,
// grouped-query attention with a causal (and sliding-window) mask, SwiGLU, tied embeddings) with
// libtorch ops and autograd. The base weights are frozen fp32 (bf16/f16 checkpoints are widened);
// each target projection gets y = x W^T + b + (alpha/r) B(A(dropout(x))), A [r, in] initialised
// kaiming-uniform (a = sqrt(5), as PEFT), B [out, r] zero, so a fresh adapter leaves the model
// unchanged. Batches are right-padded: with a causal mask the real tokens never see the padding,
// whose positions carry no loss. The loss is the cross-entropy of the target tokens (LoraSequence)
// summed over an optimizer step's micro-batches and divided by their number of target tokens; the
// vocabulary projection is computed only at the positions that predict a target.
//
// Training (train_lora): AdamW on the LoRA parameters only, gradient accumulation, linear warm-up
// then cosine decay to lr * min_lr_ratio, global-norm clipping, the validation loss at the end of
// each epoch (and every eval_steps steps), early stopping after `patience` evaluations without a
// new best, the best adapter checkpointed to the output directory. Deterministic for the same
// data, options (seed included) and thread count.
//
// Thread-safety: a LoraModel is not thread-safe (training mutates it; logits()/loss() use
// libtorch's intra-op threads).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/result.h"
#include "generate/llama_config.h"
#include "generate/lora.h"

namespace ragft {

class LoraModel {
 public:
  ~LoraModel();

  // The checkpoint (generate/torch/llama.h's load errors) with a fresh adapter for options.rank,
  // alpha, dropout and targets, A drawn from options.seed. Sets libtorch's threads from
  // options.threads.
  static Result<std::unique_ptr<LoraModel>> load(const std::filesystem::path& base, const LoraOptions& options);

  const LlamaConfig& config() const;
  // LoRA parameters (A and B of every adapted projection).
  std::size_t trainable_parameters() const;

  // Logits [ids.size(), vocab] (row-major) of every position of one sequence, dropout off. Ids
  // outside the vocabulary or more than max_context() -> kInvalidArgument.
  Result<std::vector<float>> logits(const std::vector<std::int32_t>& ids) const;
  // Mean cross-entropy per target token over `sequences` (dropout off), `batch` at a time; no
  // target at all -> kInvalidArgument.
  Result<double> loss(const std::vector<LoraSequence>& sequences, int batch = 8) const;

  // The current adapter (base_model_name_or_path: the checkpoint directory).
  LoraAdapter adapter() const;
  // Replaces the adapter's weights: same rank, and the same modules with the same shapes ->
  // else kInvalidArgument naming the module. alpha is taken from `a`.
  Status set_adapter(const LoraAdapter& a);

 private:
  friend Result<LoraReport> train_lora(const LoraTrainJob& job);
  struct Impl;
  explicit LoraModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Trains an adapter on job.train (see the header comment) and writes it to job.out. No training
// sequence, or a sequence with an id outside the vocabulary or longer than the model's context
// -> kInvalidArgument. The report's example counts, dropped counts and seconds are left for the
// caller (train_generate) to fill in; seconds here covers the training.
Result<LoraReport> train_lora(const LoraTrainJob& job);

}  // namespace ragft
