// A BERT encoder in libtorch whose parameters carry exactly the Hugging Face names, so a
// checkpoint's model.safetensors loads by name:
//   embeddings.{word,position,token_type}_embeddings.weight, embeddings.LayerNorm.{weight,bias},
//   encoder.layer.{i}.attention.self.{query,key,value}.{weight,bias},
//   encoder.layer.{i}.attention.output.{dense,LayerNorm}.{weight,bias},
//   encoder.layer.{i}.intermediate.dense.{weight,bias},
//   encoder.layer.{i}.output.{dense,LayerNorm}.{weight,bias},
//   pooler.dense.{weight,bias}                     (only when the checkpoint has a pooler)
// LoRA adapters (enable_lora) add `<linear>.lora_A.weight` [r, in] and `<linear>.lora_B.weight`
// [out, r] next to the adapted linear layer.
//
// This header includes torch: include it only from src/embed/torch/*.cc, src/train/neural/*.cc
// and tests of those; public module headers stay torch-free.
//
// Not thread-safe during training; forward() in eval mode under torch::NoGradGuard may run from
// several threads on the same model.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/bert_config.h"
#include "embed/safetensors.h"
#include "embed/wordpiece.h"

namespace ragft {

struct EncoderLoraOptions {
  int rank = 8;
  double alpha = 16;  // the update is (alpha / rank) * B A x
  // Adapted linear layers of every encoder layer: "query", "key", "value", "attention.output"
  // (attention.output.dense), "intermediate" (intermediate.dense), "output" (output.dense).
  std::vector<std::string> targets = {"query", "value"};
};

// nn.Linear with Hugging Face parameter names (weight [out, in], bias [out]) and an optional
// low-rank adapter: y = x W^T + b + scale * (x A^T) B^T.
class DenseImpl : public torch::nn::Module {
 public:
  // `init`: weights ~ N(0, 0.02), bias 0 (BERT's initialisation); else left uninitialised, for
  // parameters about to be loaded.
  DenseImpl(std::int64_t in, std::int64_t out, bool init = true);
  torch::Tensor forward(const torch::Tensor& x);
  // A: kaiming-uniform (as nn.Linear), B: zeros, so the adapted layer starts equal to the base.
  // Freezes weight and bias.
  void add_lora(int rank, double alpha);
  // W += scale * B A, then drops the adapter (weight and bias stay frozen).
  void merge_lora();
  bool has_lora() const { return !lora_a_.is_empty(); }

  torch::Tensor weight, bias;

 private:
  torch::nn::Linear lora_a_{nullptr}, lora_b_{nullptr};
  double scale_ = 0;
};
TORCH_MODULE(Dense);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& c, bool init = true);
  // x [B, T, H]; mask_add [B, 1, 1, T]: 0 for tokens, a large negative number for padding.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_add);
  // The adaptable linear layers by LoRA target name.
  std::map<std::string, Dense> linears() const;

 private:
  BertConfig c_;
  Dense query_{nullptr}, key_{nullptr}, value_{nullptr}, attn_out_{nullptr}, intermediate_{nullptr}, out_{nullptr};
  torch::nn::LayerNorm attn_norm_{nullptr}, out_norm_{nullptr};
};
TORCH_MODULE(BertLayer);

class BertModelImpl : public torch::nn::Module {
 public:
  // `init` false leaves the parameters uninitialised (faster when they are loaded next).
  BertModelImpl(const BertConfig& c, bool with_pooler, bool init = true);

  // input_ids, attention_mask: [B, T] int64 (mask 1 for tokens, 0 for padding); token types are
  // all 0. T must not exceed config.max_positions(); positions start at config.position_offset()
  // (RoBERTa's). Returns the last hidden states [B, T, H].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);
  // The pooled [CLS] vector [B, H]: tanh(pooler.dense(h[:, 0])) with a pooler, else h[:, 0].
  torch::Tensor pool(const torch::Tensor& hidden);

  // Freezes every current parameter and adds adapters to opts.targets of every layer. An unknown
  // target or rank < 1 -> kInvalidArgument. Only once.
  Status enable_lora(const EncoderLoraOptions& opts);
  // Folds the adapters into the base weights (merged layers compute the same function up to
  // float rounding).
  void merge_lora();
  bool has_lora() const { return lora_; }
  bool has_pooler() const { return !pooler_.is_empty(); }
  const BertConfig& config() const { return c_; }

 private:
  BertConfig c_;
  torch::nn::Embedding word_{nullptr}, position_{nullptr}, token_type_{nullptr};
  torch::nn::LayerNorm emb_norm_{nullptr};
  std::vector<BertLayer> layers_;
  Dense pooler_{nullptr};
  bool lora_ = false;
};
TORCH_MODULE(BertModel);

// BERT's feed-forward activation by config name: "gelu" (erf), "relu", else tanh-approximated
// GELU ("gelu_new", "gelu_pytorch_tanh").
torch::Tensor bert_activation(const torch::Tensor& x, const std::string& hidden_act);

// [B, T, H] -> [B, H]: the first position.
torch::Tensor cls_pool(const torch::Tensor& hidden);
// [B, T, H] -> [B, H]: the mean over positions whose mask is 1.
torch::Tensor mean_pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask);

// True when `f` holds a pooler (pooler.dense.weight, with or without the "bert." prefix).
bool checkpoint_has_pooler(const SafetensorsFile& f);

// Copies every parameter of `m` from `f` by name: the name itself, else `alt_prefix` + name
// (e.g. "bert." for BertForXxx checkpoints). F32, F16, BF16 and F64 are converted to F32.
// A missing tensor, a shape mismatch or another dtype -> kCorrupt naming the file and tensor.
// Tensors of `f` that `m` lacks (e.g. cls.predictions.*) are ignored.
Status load_parameters(torch::nn::Module& m, const SafetensorsFile& f, std::string_view alt_prefix = "");
// Every parameter of `m` as F32 tensors named `prefix` + name (for write_safetensors).
std::map<std::string, TensorData> export_parameters(const torch::nn::Module& m, std::string_view prefix = "");

// A Hugging Face BERT or RoBERTa checkpoint directory, loaded: config.json, the tokenizer
// (load_encoder_tokenizer: WordPiece from tokenizer.json or vocab.txt; byte-level BPE from
// tokenizer.json, as RoBERTa's) and model.safetensors (weights named as in BertModel /
// RobertaModel, or with the "bert." / "roberta." prefix of the task models).
struct BertCheckpoint {
  BertConfig config;
  std::shared_ptr<const EncoderTokenizer> tokenizer;
  BertModel model{nullptr};
  std::string hash;  // content_hash of config.json and model.safetensors
};

// Not a directory, or without config.json / model.safetensors / tokenizer -> kNotFound;
// damaged -> kCorrupt; unsupported architecture -> kUnsupported. A tokenizer whose vocabulary
// is larger than config.vocab_size -> kCorrupt. Torch exceptions are caught (torch_guard).
Result<BertCheckpoint> load_bert_checkpoint(const std::filesystem::path& dir);

}  // namespace ragft
