// Options of the BERT-family checkpoint embedder (embed/torch/bert_embedder.h, reached from
// torch-free code through train/neural_backend.h make_bert_embedder). Torch-free, so builds
// without libtorch parse and print these config strings too.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace ragft {

struct BertEmbedderOptions {
  // A Hugging Face BERT checkpoint directory: config.json, model.safetensors, and tokenizer.json
  // or vocab.txt (embed/bert.h load_bert_checkpoint). Required. May not contain ',' (the config
  // string's separator).
  std::string path;
  // "mean": the mean of the last hidden states over the text's tokens ([CLS] and [SEP] included,
  // as sentence-transformers' mean pooling); "cls": the last hidden state of [CLS] (no pooler).
  std::string pool = "mean";
  // Texts per forward pass (texts are sorted by length first, so a batch pads little).
  int batch = 32;
  // Tokens per text, [CLS] and [SEP] included (at least 2); longer texts are truncated. Also
  // capped at the checkpoint's max_position_embeddings.
  int max_len = 256;
  // The precision of the encoder: "fp32"; "bf16" (linear layers, attention and activations in
  // bfloat16; embeddings, residual stream and LayerNorm in fp32: fast with AVX512-BF16 or AMX,
  // slower than fp32 without); "int8" (dynamic quantisation of the linear layers: int8 weights
  // per output channel, activations quantised per call; oneDNN or FBGEMM). Vectors differ
  // slightly by dtype, so it is part of model_id.
  std::string dtype = "fp32";
  // libtorch intra-op threads for embed(); 0: RAGFT_THREADS, else the core count.
  int threads = 0;

  // "bert:path=DIR,pool=mean,batch=32,maxlen=256,dtype=fp32,threads=0" (round-trips through
  // parse).
  std::string to_config() const;
  // Any subset of the keys above in any order ("bert:" optional); path is required. Unknown
  // keys, bad values, or a missing path -> kInvalidArgument naming the key.
  static Result<BertEmbedderOptions> parse(std::string_view config);
};

}  // namespace ragft
