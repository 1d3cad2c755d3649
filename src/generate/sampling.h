// Choosing the next token from a decoder's logits, and the stopping rules of a generation loop.
// Torch-free: it works on a span of float logits (one row, vocabulary-sized), so any language
// model backend can share it (the libtorch engine in generate/torch/llama.h uses it).
//
// The processing follows Hugging Face transformers' generate(), in its order:
//   1. repetition penalty (if != 1): for every distinct id in `seen` (the prompt and the tokens
//      generated so far), a positive logit is divided by the penalty and a negative one
//      multiplied by it (ids outside the vocabulary are ignored);
//   2. temperature 0: greedy, the argmax (ties: the lowest id), nothing else applies;
//   3. otherwise logits / temperature;
//   4. top-k (if > 0): keeps the tokens whose logit is at least the k-th largest (ties at the
//      boundary are kept, so more than k may remain);
//   5. top-p (if < 1): softmax over what is left, then keeps the most probable tokens (ties by
//      ascending id) up to and including the first one at which the cumulative probability
//      reaches top_p: a token is kept when the probability of the tokens before it is < top_p
//      (at least one is always kept);
//   6. softmax over the kept tokens and one draw.
// The draw is deterministic: a std::mt19937_64 seeded with `seed`, its 53 high bits as a uniform
// u in [0, 1), and the first kept token (in ascending id order) whose cumulative probability
// exceeds u. The same seed, logits and options give the same token on every platform up to
// float rounding of exp().
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

struct SamplingOptions {
  double temperature = 0;           // 0: greedy; else > 0 (1 leaves the logits as they are)
  int top_k = 0;                    // 0: off
  double top_p = 1.0;               // in (0, 1]; 1: off
  double repetition_penalty = 1.0;  // > 0; 1: off (values > 1 discourage repeats)
  std::uint64_t seed = 0;

  bool greedy() const { return temperature == 0; }
  // Out-of-range values -> kInvalidArgument naming the field.
  Status validate() const;
  // "sample:temperature=0.7,top_k=40,top_p=0.9,repetition_penalty=1.1,seed=0" (all five keys;
  // round-trips through parse).
  std::string to_config() const;
  // Any subset of the keys in any order ("sample:" optional; "greedy" alone is temperature=0).
  // Unknown keys or bad values -> kInvalidArgument naming the key.
  static Result<SamplingOptions> parse(std::string_view config);
};

// The distribution steps 1-6 draw from, as probabilities over the whole vocabulary (zero for
// removed tokens; a one-hot at the argmax for greedy). For tests and diagnostics: allocates.
// Empty logits -> an empty vector.
std::vector<double> sampling_distribution(std::span<const float> logits, std::span<const std::int32_t> seen,
                                          const SamplingOptions& options);

// Draws tokens with `options` (validated by the caller). Holds the RNG and scratch buffers:
// not thread-safe; one per generation.
class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options);

  // The next token id, in [0, logits.size()). `logits` must not be empty.
  std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t> seen);
  const SamplingOptions& options() const { return options_; }

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
  std::vector<float> scores_;
  std::vector<std::int32_t> ids_;
  std::vector<double> probs_;
};

enum class FinishReason {
  kEos,           // an end-of-sequence id was generated
  kStopSequence,  // the generated tokens ended with a stop sequence
  kMaxTokens,     // max_new_tokens were generated
  kContextFull,   // the sequence reached the model's (or the cache's) length limit
};

// "eos", "stop_sequence", "max_tokens", "context_full".
const char* finish_reason_name(FinishReason r);

struct GenerateOptions {
  // At most this many tokens are sampled (an eos or stop sequence that ends the generation
  // counts). 0 returns at once with kMaxTokens.
  int max_new_tokens = 256;
  SamplingOptions sampling;
  // Generation stops when one of these ids is sampled. Empty: the checkpoint's eos_token_id list.
  std::vector<std::int32_t> eos_ids;
  // true: eos ids do not stop the generation (for benchmarks).
  bool ignore_eos = false;
  // Generation stops when the generated tokens (not the prompt) end with one of these (empty
  // sequences are ignored).
  std::vector<std::vector<std::int32_t>> stop_sequences;
  // The longest sequence, prompt plus new tokens (generation ends with kContextFull when it is
  // reached); 0: the model's context limit. A prompt longer than this -> kInvalidArgument.
  int max_length = 0;
};

struct Generation {
  // The new tokens, without the eos id or the stop sequence that ended the generation.
  std::vector<std::int32_t> tokens;
  FinishReason finish = FinishReason::kMaxTokens;
  int prompt_tokens = 0;
  // Tokens sampled: tokens.size() plus the removed eos id or stop sequence.
  int generated = 0;
  // The eos id or stop sequence that ended it (empty otherwise).
  std::vector<std::int32_t> stop;
};

// The stopping rules of a generation loop: feed it each sampled token.
class StopChecker {
 public:
  StopChecker(std::vector<std::int32_t> eos_ids, std::vector<std::vector<std::int32_t>> stop_sequences);

  // Called after `generated.back()` was sampled. When it ends the generation: removes the eos
  // id or the stop sequence from `generated` into `stop` and returns the reason; else nullopt.
  // An eos id is checked first; of several matching stop sequences the longest is removed.
  std::optional<FinishReason> check(std::vector<std::int32_t>& generated, std::vector<std::int32_t>& stop) const;

 private:
  std::vector<std::int32_t> eos_;
  std::vector<std::vector<std::int32_t>> stops_;
};

}  // namespace ragft
