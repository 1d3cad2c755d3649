// The architecture of a Llama-family decoder checkpoint, read from its Hugging Face
// config.json. Torch-free (the engine itself is generate/torch/llama.h).
//
// Accepted model_type values: "llama" (Llama 2/3/3.1/3.2, TinyLlama, SmolLM/SmolLM2, which are
// llama with tied embeddings), "mistral" (Mistral 7B: llama plus a sliding window) and "qwen2"
// (Qwen2/Qwen2.5: llama with q/k/v projection biases). Anything else -> kUnsupported.
//
// Fields and what is done with them (Hugging Face defaults in brackets where a field may be
// absent):
//   vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads: required.
//   num_key_value_heads [num_attention_heads]: grouped-query attention; must divide the heads.
//   head_dim [hidden_size / num_attention_heads]: must be even (RoPE rotates pairs).
//   rms_norm_eps [1e-6], rope_theta [10000] (also read from transformers 5's "rope_parameters").
//   rope_scaling [null]: {"type" or "rope_type": "linear" | "dynamic" | "llama3" | "default",
//     "factor": > 0, llama3 also "low_freq_factor", "high_freq_factor",
//     "original_max_position_embeddings"}. Other types (yarn, longrope, ...) -> kUnsupported.
//   max_position_embeddings [llama 2048, mistral 131072, qwen2 32768].
//   tie_word_embeddings [false]: lm_head shares model.embed_tokens.weight.
//   bos_token_id / eos_token_id: an integer, a list of integers or null.
//   hidden_act ["silu"]: only silu is supported.
//   attention_bias [false; qwen2: q/k/v biases always, no o_proj bias], mlp_bias [false].
//   sliding_window [null]: kept only for mistral, and for qwen2 when use_sliding_window is true
//     (then kUnsupported: Qwen2 applies it to some layers only). A window at least as large as
//     max_position_embeddings can never apply and is dropped with a note.
//   torch_dtype (or transformers 5's "dtype"): "float32", "bfloat16" or "float16", informative.
//   quantization_config: present -> kUnsupported (GPTQ/AWQ/bitsandbytes weights).
// Missing required fields, wrong JSON types and out-of-range values -> kCorrupt naming the field.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

enum class RopeScalingKind { kNone, kLinear, kDynamic, kLlama3 };

// "none", "linear", "dynamic", "llama3".
const char* rope_scaling_name(RopeScalingKind k);

struct RopeScaling {
  RopeScalingKind kind = RopeScalingKind::kNone;
  double factor = 1.0;
  // llama3 only.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int original_max_position_embeddings = 8192;
};

struct LlamaConfig {
  std::string model_type = "llama";
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  std::vector<int> bos_token_ids;
  std::vector<int> eos_token_ids;
  int pad_token_id = -1;  // -1: none
  std::string hidden_act = "silu";
  bool qkv_bias = false;  // q_proj, k_proj and v_proj have biases (qwen2, or attention_bias)
  bool o_bias = false;    // o_proj has a bias (attention_bias)
  bool mlp_bias = false;  // gate_proj, up_proj and down_proj have biases
  int sliding_window = 0;  // 0: none; else a query attends to the last sliding_window positions
  std::string torch_dtype;  // as written ("bfloat16", ...); empty when absent
  // Fields that were read but ignored, one sentence each (for a log line).
  std::vector<std::string> notes;

  // Reads the fields above (see the header comment). `where` prefixes messages (the file name).
  static Result<LlamaConfig> from_json(const nlohmann::json& j, std::string_view where);
  // Reads `path` (a config.json). Missing -> kNotFound, not JSON -> kCorrupt.
  static Result<LlamaConfig> load(const std::filesystem::path& path);
  // The Hugging Face fields, so that from_json(to_json()) gives the same config (notes aside).
  nlohmann::json to_json() const;

  // The largest number of positions a sequence may hold: max_position_embeddings, times the
  // factor for dynamic scaling (which exists to go beyond it).
  int max_context() const;
  // Parameters of the checkpoint: embeddings, every layer, the final norm, and lm_head when it is
  // not tied.
  long long parameter_count() const;
};

}  // namespace ragft
