// The pretrained-encoder contender (kind "encoder"): a BERT-family checkpoint (Hugging Face
// directory: config.json, model.safetensors, vocab.txt or tokenizer.json; see embed/bert.h)
// with a linear classification head on the pooled [CLS] vector (the checkpoint's pooler when it
// has one), fine-tuned fully ("full") or through LoRA adapters on the attention query and value
// projections ("lora": base weights frozen; the head is trained too).
//
// Training (train()): a stratified validation split (TrainOptions::validation_fraction, seed);
// AdamW (no weight decay on biases and LayerNorm), linear warm-up then linear decay; at most
// `epochs` epochs with early stopping on validation accuracy (`patience`); the weights of the
// best epoch are kept. With an empty validation split the training examples are scored instead.
// The label of an example is its first label. Deterministic for a seed on one thread count.
// With `merge_lora` (default) the adapters are folded into the base weights after training, so a
// LoRA model predicts at the speed of a plain one.
//
// Files (docs/formats/encoder-model.md): model.json, config.json and the tokenizer files copied
// from the checkpoint, model.safetensors (every weight of the encoder under "bert." plus
// "classifier.weight"/"classifier.bias", F32; unmerged LoRA adapters as "*.lora_A.weight" /
// "*.lora_B.weight"). The directory loads without the original checkpoint.
//
// This header does not include torch. The class is defined in libragft_torch.so; torch-free
// code reaches it through train/neural_backend.h.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "train/classifier.h"

namespace ragft {

struct EncoderOptions {
  std::string checkpoint;     // the checkpoint directory (required)
  std::string mode = "lora";  // "lora" or "full"
  int lora_rank = 8;
  double lora_alpha = 16;
  // LoRA target layers (see EncoderLoraOptions in embed/bert.h).
  std::vector<std::string> lora_targets = {"query", "value"};
  double lr = 0;     // peak learning rate; 0: 5e-4 for lora, 5e-5 for full
  int epochs = 10;   // at most; early stopping picks the best
  int patience = 3;  // epochs without a better validation accuracy before stopping
  int batch_size = 16;
  int max_len = 128;     // tokens per text including [CLS] and [SEP] (capped by the model)
  double dropout = 0.1;  // on the pooled vector before the head
  double warmup = 0.1;   // share of the steps with a linear warm-up
  double weight_decay = 0.01;
  bool merge_lora = true;  // fold the adapters into the weights after training

  // The peak learning rate actually used.
  double effective_lr() const;
  // "encoder:mode=lora,r=8,alpha=16,targets=query|value,lr=0.0005,epochs=10,patience=3,batch=16,
  //  maxlen=128,dropout=0.1,warmup=0.1,wd=0.01,merge=1" (the checkpoint is recorded separately).
  std::string to_config() const;
  // Parses to_config()'s output: any subset of the keys, in any order, with or without the
  // "encoder:" prefix ("encoder" or "" alone give the defaults). Unknown key or bad value ->
  // kInvalidArgument.
  static Result<EncoderOptions> parse(std::string_view config);
};

class EncoderClassifier : public Classifier {
 public:
  ~EncoderClassifier() override;

  // Empty data, a bad option -> kInvalidArgument; checkpoint errors as load_bert_checkpoint
  // (kNotFound / kCorrupt / kUnsupported); torch failures -> kInternal / kResourceExhausted.
  static Result<std::unique_ptr<EncoderClassifier>> train(const std::vector<Example>& examples,
                                                          const EncoderOptions& options, const TrainOptions& t);
  // Opens a directory written by save(); `m` is its manifest (kind "encoder"). Missing or
  // damaged files -> kCorrupt naming the file.
  static Result<std::unique_ptr<EncoderClassifier>> load(const std::filesystem::path& dir, const ModelManifest& m);

  std::string kind() const override { return "encoder"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  std::vector<float> distribution(std::string_view text) const override;
  // Probabilities for many texts at once (batched forward), each in labels() order.
  std::vector<std::vector<float>> distributions(const std::vector<std::string>& texts) const;
  Status save(const std::filesystem::path& dir) const override;

  // Every parameter, by its name in model.safetensors, as flattened float32 values (for tests
  // and inspection).
  std::map<std::string, std::vector<float>> weights() const;

 private:
  struct Impl;
  EncoderClassifier();

  std::unique_ptr<Impl> impl_;
  std::vector<std::string> labels_;
};

}  // namespace ragft
