// The BERT-family checkpoint embedder ("bert:path=DIR,...", embed/bert_embedder_options.h), run
// with libtorch. Defined in libragft_torch.so: torch-free code makes one through
// train/neural_backend.h make_bert_embedder; code linked against the library (its tests, the
// embedding bench) may use the class directly. This header does not include torch.
//
// embed(): each text becomes [CLS] pieces... [SEP] (embed/wordpiece.h), truncated to
// max_len() tokens; texts are sorted by token count (longest first) and run `batch` at a time,
// padded to the longest text of their batch (the padding is masked, so a text's vector does not
// depend on its batch companions beyond float rounding); the last hidden states are pooled
// (mean over the text's tokens, or [CLS]) and L2-normalised. The role is ignored (one tower, no
// instruction prefixes).
//
// dtype (see BertEmbedderOptions): fp32 runs the checkpoint's BertModel (embed/bert.h); bf16 and
// int8 run the same encoder with its linear layers in bfloat16 or as int8 dynamically quantised
// layers (the query, key and value projections fused into one); the embeddings, the residual
// stream and LayerNorm stay fp32, and bf16 also runs attention and the activation in bf16. int8
// needs a quantisation engine with dynamic int8 linear layers (FBGEMM or oneDNN): loading
// selects one as libtorch's process-wide engine when the current one lacks them, and
// kUnsupported when the build has neither.
//
// Immutable after load(); embed() is thread-safe (forward passes are serialised by a mutex; each
// uses `threads` intra-op threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/bert_embedder_options.h"
#include "embed/embedder.h"

namespace ragft {

class BertEmbedder final : public Embedder {
 public:
  ~BertEmbedder() override;

  // Loads options.path (load_bert_checkpoint: not a directory or missing files -> kNotFound,
  // damaged -> kCorrupt). A missing path -> kInvalidArgument; dtype=int8 without a suitable
  // quantisation engine -> kUnsupported.
  static Result<std::unique_ptr<BertEmbedder>> load(const BertEmbedderOptions& options);

  int dim() const override;
  // "bert:<checkpoint hash>,pool=mean,maxlen=256,dtype=fp32" with the effective max_len
  // (batch and threads do not change vectors and are left out).
  std::string model_id() const override;
  std::string config() const override;
  Status embed(const std::vector<std::string>& texts, EmbedRole role, std::vector<float>& out) override;

  const BertEmbedderOptions& options() const;
  // min(options().max_len, the checkpoint's max_position_embeddings).
  int max_len() const;
  // The token ids embed() feeds the model for `text`.
  std::vector<std::int32_t> encode(std::string_view text) const;

 private:
  struct Impl;
  explicit BertEmbedder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft
