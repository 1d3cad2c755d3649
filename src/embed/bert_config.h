// The architecture of a BERT-family checkpoint, read from its Hugging Face config.json.
// Torch-free (the encoder itself is in embed/bert.h).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ragft {

// Defaults are Hugging Face's BertConfig defaults (bert-base).
struct BertConfig {
  std::string model_type = "bert";
  int vocab_size = 30522;
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  // "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" (tanh approximation) or "relu".
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int pad_token_id = 0;

  // RoBERTa numbers positions from pad_token_id + 1 (its embedding rows below are unused).
  bool is_roberta() const { return model_type == "roberta" || model_type == "xlm-roberta"; }
  int position_offset() const { return is_roberta() ? pad_token_id + 1 : 0; }
  // The longest input, special tokens included.
  int max_positions() const { return max_position_embeddings - position_offset(); }

  // Reads the fields above. vocab_size, hidden_size, num_hidden_layers, num_attention_heads and
  // intermediate_size are required. Missing/mistyped/non-positive fields, or hidden_size not a
  // multiple of num_attention_heads -> kCorrupt naming the field; a model_type other than "bert",
  // "roberta" or "xlm-roberta" (absent is taken as "bert"), another hidden_act or a position_embedding_type other than
  // "absolute" -> kUnsupported. `where` prefixes messages (the file name).
  static Result<BertConfig> from_json(const nlohmann::json& j, std::string_view where);
  // Reads `path` (a config.json). Missing -> kNotFound.
  static Result<BertConfig> load(const std::filesystem::path& path);
  nlohmann::json to_json() const;
};

}  // namespace ragft
