// What torch-free code sees of the local decoder (generate/torch/llama.h, in libragft_torch.so):
// token ids in, token ids out. Made by make_token_generator (train/neural_backend.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"
#include "generate/llama_config.h"
#include "generate/sampling.h"

namespace ragft {

class TokenGenerator {
 public:
  virtual ~TokenGenerator() = default;
  // As LlamaModel::generate. Thread-safe.
  virtual Result<Generation> generate(std::span<const std::int32_t> prompt, const GenerateOptions& options) const = 0;
  virtual const LlamaConfig& config() const = 0;
  // "fp32" or "bf16": what the weights were loaded as.
  virtual std::string dtype() const = 0;
};

}  // namespace ragft
