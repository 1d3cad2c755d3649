// A Llama-family decoder (llama, mistral, qwen2: generate/llama_config.h) run with libtorch on
// the CPU, loaded from a Hugging Face checkpoint directory. Defined in libragft_torch.so; this
// header does not include torch, so it can be reached through a backend table later (the CLI
// wiring is not done yet). Text is not handled here: prompts and results are token ids (the
// tokenizer is separate).
//
// Checkpoint directory: config.json, and the weights as model.safetensors or as shards listed by
// model.safetensors.index.json ({"weight_map": {"<tensor>": "<file>"}}). Tensor names are
// transformers' *ForCausalLM names:
//   model.embed_tokens.weight [vocab, hidden]
//   model.layers.{i}.input_layernorm.weight, model.layers.{i}.post_attention_layernorm.weight
//   model.layers.{i}.self_attn.{q,k,v,o}_proj.weight (+ .bias for q/k/v in qwen2, or all four
//     with attention_bias)
//   model.layers.{i}.mlp.{gate,up,down}_proj.weight (+ .bias with mlp_bias)
//   model.norm.weight, lm_head.weight (absent or ignored with tie_word_embeddings)
// Stored dtypes F32, BF16, F16 (F64 too) are converted on load; other tensors in the files are
// ignored (e.g. rotary_emb.inv_freq). A missing tensor or a wrong shape -> kCorrupt naming the
// file and tensor.
//
// Computation (as transformers' modeling_llama): RMSNorm, rotary embeddings on q and k with
// rotate_half (the first half of each head pairs with the second half) and the config's
// scaling, grouped-query attention (query head h reads key/value head h / (heads / kv_heads)),
// SwiGLU MLP down(silu(gate(x)) * up(x)), residual connections, final RMSNorm, lm_head.
// dtype decides how the weight matrices are held: "fp32", or "bf16" (half the memory and half
// the bytes a decode step reads). The residual stream, norms, rotary embeddings, attention,
// softmax and the KV cache are fp32 in both. Linear layers over at most kMatvecRows rows (decode
// steps, short prompts) use generate/torch/matvec.h (fp32 activations, fp32 accumulation) on a
// ChunkPool (generate/torch/chunk_pool.h); longer inputs use libtorch's GEMM, which in bf16
// rounds the activations to bf16 first (fast with AVX512-BF16 or AMX, slow without). Attention
// for one new token per sequence runs on the same kernels, longer inputs on libtorch's batched
// matmul. Inference only: no autograd state is recorded.
//
// Batching: a LlamaCache holds `batch` independent sequences of up to `capacity` tokens each
// (keys and values preallocated). forward() appends new tokens to every sequence at once; the
// sequences may have different lengths and receive different numbers of new tokens: the new
// tokens are right-padded to the longest, each sequence keeps its own positions (0, 1, 2, ...
// with no gaps), and a mask hides the padding and every other sequence's slots, so a
// sequence's logits do not depend on its batch companions beyond float rounding.
//
// Rotary scaling "dynamic" (NTK) follows transformers: a forward whose longest sequence
// exceeds max_position_embeddings uses the base for that length; keys already in the cache
// keep the rotation they were computed with (as transformers' cache), so past that length
// incremental decoding and a full recompute differ slightly. Mistral's sliding window is
// applied by masking (the cache still holds every position).
//
// Thread-safety: a loaded LlamaModel is immutable; forward() and generate() may run concurrently
// on different caches (each call uses libtorch's intra-op threads, and the decode pool when no
// other call holds it). A LlamaCache is not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "generate/llama_config.h"
#include "generate/sampling.h"

namespace ragft {

// Linear layers over at most this many rows take the matrix-vector kernels.
inline constexpr int kMatvecRows = 8;
// generate() feeds a prompt at most this many tokens per forward pass.
inline constexpr std::size_t kPrefillChunk = 512;

struct LlamaOptions {
  // "auto": bf16 when the checkpoint is bfloat16 (config torch_dtype, else the stored embedding
  // matrix), fp32 otherwise (fp16 checkpoints are widened exactly); "fp32"; "bf16".
  std::string dtype = "auto";
  // libtorch intra-op threads; 0: RAGFT_THREADS, else the core count (embed/torch_guard.h).
  int threads = 0;
  // A LoRA adapter directory (PEFT layout, generate/lora.h) merged into the weights at load:
  // W += (alpha / r) B A, computed in fp32 before the weights take their dtype. Empty: none.
  // Adapter errors as LoraAdapter::load / check (a mismatch -> kCorrupt naming the tensor).
  std::string adapter;
};

class LlamaModel;

// Keys and values of `batch()` sequences, each at most `capacity()` tokens (fp32, layers x
// batch x kv_heads x capacity x head_dim, allocated up front and filled lazily). Made by
// LlamaModel::new_cache and usable only with that model. Movable, not copyable.
class LlamaCache {
 public:
  LlamaCache(LlamaCache&&) noexcept;
  LlamaCache& operator=(LlamaCache&&) noexcept;
  ~LlamaCache();

  int batch() const;
  int capacity() const;
  // Tokens held for sequence `seq` (0 <= seq < batch()).
  int length(int seq) const;
  // Forgets the tokens of sequence `seq` from position `len` on (len <= length(seq)), e.g. to
  // reuse a shared prefix. Out-of-range arguments are a bug (CHECKed).
  void truncate(int seq, int len);
  // Empties every sequence.
  void reset();
  // Bytes held by the keys and values.
  std::size_t bytes() const;

 private:
  friend class LlamaModel;
  struct Impl;
  explicit LlamaCache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class LlamaModel {
 public:
  ~LlamaModel();

  // Loads a checkpoint directory (see the header comment). Not a directory, no config.json or
  // no weights -> kNotFound (pytorch_model.bin only -> kUnsupported); a bad config -> its error
  // (LlamaConfig::from_json); damaged or mismatched weights -> kCorrupt; dtype not auto, fp32
  // or bf16 -> kInvalidArgument; out of memory -> kResourceExhausted.
  static Result<std::unique_ptr<LlamaModel>> load(const std::filesystem::path& dir, const LlamaOptions& options = {});

  const LlamaConfig& config() const;
  // "fp32" or "bf16" (auto resolved).
  const std::string& dtype() const;
  // Bytes of all weights as held in memory.
  std::size_t weight_bytes() const;
  // Bytes of weights one decode step at batch 1 reads: every layer, the final norm, lm_head
  // (the embedding matrix when tied) and one embedding row.
  std::size_t decode_bytes_per_token() const;

  // An empty cache for `batch` sequences of up to `capacity` tokens. batch < 1, capacity < 1
  // or capacity > config().max_context() -> kInvalidArgument; too large -> kResourceExhausted.
  Result<LlamaCache> new_cache(int batch, int capacity) const;

  // Appends tokens[s] to sequence s of `cache` (tokens.size() == cache.batch(); an empty list
  // leaves that sequence as it is) and runs them in one pass. Memory: besides the cache, a pass
  // holds heads x T x length fp32 attention scores per sequence (T new tokens): feed long
  // prompts in chunks. `logits` becomes batch x vocab,
  // row-major: row s is the next-token logits after the last new token of sequence s (zeros for
  // a sequence that got none). A wrong batch size, no new tokens at all, an id outside the
  // vocabulary, or a sequence that would exceed the capacity -> kInvalidArgument and the cache
  // is unchanged.
  Status forward(LlamaCache& cache, const std::vector<std::vector<std::int32_t>>& tokens,
                 std::vector<float>& logits) const;

  // Generates a continuation of `prompt` (at least one id) at batch 1: forward passes of the
  // prompt (kPrefillChunk tokens at a time), then one per new token, each chosen by a Sampler
  // with options.sampling and checked by a StopChecker (generate/sampling.h). Repetition
  // penalty sees the prompt and the new tokens. The cache holds min(max_length or max_context, prompt + max_new_tokens) tokens.
  // Bad options or prompt -> kInvalidArgument. Deterministic for the same inputs (the seed
  // included) and thread count.
  Result<Generation> generate(std::span<const std::int32_t> prompt, const GenerateOptions& options) const;

 private:
  struct Impl;
  explicit LlamaModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft
