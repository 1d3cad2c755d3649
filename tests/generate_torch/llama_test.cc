// The libtorch Llama decoder against an independent double-precision reference
// (llama_test_util.h) on tiny random checkpoints.
//
// Tolerances (logits are O(1) here): 2e-4 absolute between the fp32 engine and the reference,
// and between two fp32 paths of the engine (KV cache vs full recompute, batched vs alone):
// float32 rounding over two layers of width 32-48 is ~1e-6, so 2e-4 catches any wrong position,
// mask or head mapping (which move logits by 1e-2 or more) with a wide margin.
#include "generate/torch/llama.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "llama_test_util.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using testing::max_diff;
using testing::reference_logits;
using testing::TinyModel;
using testing::TinySpec;

constexpr double kTol = 2e-4;

class LlamaTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& d : dirs_) fs::remove_all(d);
  }
  TinyModel write(const TinySpec& s, const std::string& tag = "m") {
    fs::path d = testing::temp_dir(tag);
    dirs_.push_back(d);
    return testing::write_tiny(d, s);
  }
  static std::unique_ptr<LlamaModel> load(const TinyModel& m, const std::string& dtype = "fp32") {
    LlamaOptions o;
    o.dtype = dtype;
    auto r = LlamaModel::load(m.dir, o);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  // Logits after prefilling `ids` into a fresh cache.
  static std::vector<float> prefill(const LlamaModel& model, const std::vector<std::int32_t>& ids) {
    auto cache = model.new_cache(1, static_cast<int>(ids.size()));
    EXPECT_TRUE(cache.ok());
    std::vector<float> logits;
    auto st = model.forward(*cache, {ids}, logits);
    EXPECT_TRUE(st.ok()) << st.error().to_string();
    return logits;
  }
  static std::vector<std::int32_t> ids(int n, int vocab, int salt = 0) {
    std::vector<std::int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back((i * 17 + salt * 5 + 3) % vocab);
    return v;
  }
  std::vector<fs::path> dirs_;
};

TEST_F(LlamaTest, MatchesTheReferenceForShortAndLongPrompts) {
  TinySpec s;  // 4 query heads, 2 kv heads
  TinyModel m = write(s);
  auto model = load(m);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->dtype(), "fp32");  // F32 storage, auto
  EXPECT_EQ(model->config().num_key_value_heads, 2);
  // 5 tokens take the matrix-vector kernels, 20 the GEMM path.
  for (int n : {1, 5, 20}) {
    auto in = ids(n, s.vocab);
    EXPECT_LT(max_diff(prefill(*model, in), reference_logits(m, in)), kTol) << n << " tokens";
  }
  // Sizes the engine reports: every weight in fp32.
  std::size_t params = 0;
  for (const auto& [name, v] : m.w) params += v.size();
  EXPECT_EQ(model->weight_bytes(), params * 4);
  const std::size_t embed = static_cast<std::size_t>(s.vocab) * s.hidden;
  EXPECT_EQ(model->decode_bytes_per_token(), (params - embed + s.hidden) * 4);
}

TEST_F(LlamaTest, GroupedQueryAttentionForEveryKvHeadCount) {
  for (int kv : {1, 2, 4}) {  // multi-query, grouped, multi-head
    TinySpec s;
    s.kv_heads = kv;
    s.seed = 10 + kv;
    TinyModel m = write(s, "gqa");
    auto model = load(m);
    ASSERT_TRUE(model);
    for (int n : {3, 12}) {
      auto in = ids(n, s.vocab, kv);
      EXPECT_LT(max_diff(prefill(*model, in), reference_logits(m, in)), kTol) << "kv_heads " << kv << ", " << n;
    }
  }
}

TEST_F(LlamaTest, ShardedTiedBf16CheckpointLoads) {
  TinySpec s;  // SmolLM-style: tied embeddings, bf16 weights, three shards
  s.tied = true;
  s.dtype = DType::kBF16;
  s.shards = 3;
  TinyModel m = write(s, "sharded");
  ASSERT_TRUE(fs::exists(m.dir / "model.safetensors.index.json"));
  ASSERT_FALSE(fs::exists(m.dir / "model.safetensors"));
  auto model = load(m, "auto");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->dtype(), "bf16");
  // The weights are exactly the bf16 values; with <= kMatvecRows tokens the activations stay fp32,
  // so the reference tolerance holds.
  auto in = ids(6, s.vocab);
  EXPECT_LT(max_diff(prefill(*model, in), reference_logits(m, in)), kTol);
  // Longer prompts run libtorch's bf16 GEMM, which rounds activations to bf16 (8 bits of
  // mantissa): a looser tolerance, still far below the logits' spread.
  auto longer = ids(24, s.vocab);
  auto ref = reference_logits(m, longer);
  EXPECT_LT(max_diff(prefill(*model, longer), ref), 0.1);
  // The same checkpoint held in fp32.
  auto f32 = load(m, "fp32");
  ASSERT_TRUE(f32);
  EXPECT_LT(max_diff(prefill(*f32, longer), ref), kTol);
  // Tied: no lm_head.weight in the files, and decoding reads the embedding matrix as lm_head.
  // Norm weights stay fp32 in a bf16 model.
  std::size_t params = 0, norms = 0;
  for (const auto& [name, v] : m.w) {
    params += v.size();
    if (name.find("norm") != std::string::npos) norms += v.size();
  }
  EXPECT_EQ(f32->weight_bytes(), params * 4);
  EXPECT_EQ(model->weight_bytes(), (params - norms) * 2 + norms * 4);
  EXPECT_EQ(f32->decode_bytes_per_token(), (params + s.hidden) * 4);
}

TEST_F(LlamaTest, Fp16StorageWidensExactly) {
  TinySpec s;
  s.dtype = DType::kF16;
  TinyModel m = write(s, "f16");
  auto model = load(m, "auto");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->dtype(), "fp32");
  auto in = ids(11, s.vocab);
  EXPECT_LT(max_diff(prefill(*model, in), reference_logits(m, in)), kTol);
}

TEST_F(LlamaTest, Qwen2BiasesAndLlamaAttentionBias) {
  for (const char* type : {"qwen2", "llama"}) {
    TinySpec s;
    s.model_type = type;
    s.attention_bias = std::string(type) == "llama";  // q/k/v/o biases
    TinyModel m = write(s, type);
    auto model = load(m);
    ASSERT_TRUE(model);
    EXPECT_TRUE(model->config().qkv_bias);
    EXPECT_EQ(model->config().o_bias, std::string(type) == "llama");
    for (int n : {4, 15}) {
      auto in = ids(n, s.vocab);
      EXPECT_LT(max_diff(prefill(*model, in), reference_logits(m, in)), kTol) << type << " " << n;
    }
  }
}

TEST_F(LlamaTest, KvCacheDecodingEqualsFullRecompute) {
  for (const char* dtype : {"fp32", "bf16"}) {
    TinySpec s;
    s.dtype = DType::kBF16;
    TinyModel m = write(s, "kv");
    auto model = load(m, dtype);
    ASSERT_TRUE(model);
    auto seq = ids(24, s.vocab, 3);
    auto cache = model->new_cache(1, 24);
    ASSERT_TRUE(cache.ok());
    std::vector<float> logits;
    // A 4-token prompt, a chunk of 3, then one token at a time.
    ASSERT_TRUE(model->forward(*cache, {{seq.begin(), seq.begin() + 4}}, logits).ok());
    ASSERT_TRUE(model->forward(*cache, {{seq.begin() + 4, seq.begin() + 7}}, logits).ok());
    EXPECT_EQ(cache->length(0), 7);
    for (int t = 7; t < 24; ++t) {
      ASSERT_TRUE(model->forward(*cache, {{seq[t]}}, logits).ok());
      std::vector<std::int32_t> prefix(seq.begin(), seq.begin() + t + 1);
      // Full recomputes of > 8 tokens run the GEMM path; in bf16 that rounds activations, so the
      // bf16 model is held to the looser bf16 bound.
      const double tol = std::string(dtype) == "fp32" ? kTol : 0.1;
      EXPECT_LT(max_diff(logits, prefill(*model, prefix)), tol) << dtype << " position " << t;
      // Decoding runs the matrix-vector kernels with fp32 activations in both dtypes, and the
      // weights are bf16 values in both: the reference bound holds for the bf16 model too.
      EXPECT_LT(max_diff(logits, reference_logits(m, prefix)), kTol) << dtype << " position " << t;
    }
    EXPECT_EQ(cache->length(0), 24);
    // Full: one more token is refused and leaves the cache as it was.
    auto st = model->forward(*cache, {{seq[0]}}, logits);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(cache->length(0), 24);
  }
}

TEST_F(LlamaTest, TruncateRewindsTheCache) {
  TinySpec s;
  TinyModel m = write(s, "trunc");
  auto model = load(m);
  ASSERT_TRUE(model);
  auto a = ids(10, s.vocab, 1), b = ids(4, s.vocab, 2);
  auto cache = model->new_cache(1, 16);
  ASSERT_TRUE(cache.ok());
  std::vector<float> logits;
  ASSERT_TRUE(model->forward(*cache, {a}, logits).ok());
  cache->truncate(0, 6);  // keep a[0..6), continue with b
  ASSERT_TRUE(model->forward(*cache, {b}, logits).ok());
  std::vector<std::int32_t> joined(a.begin(), a.begin() + 6);
  joined.insert(joined.end(), b.begin(), b.end());
  EXPECT_LT(max_diff(logits, reference_logits(m, joined)), kTol);
  cache->reset();
  EXPECT_EQ(cache->length(0), 0);
}

TEST_F(LlamaTest, BatchedPrefillAndDecodeEqualEachSequenceAlone) {
  TinySpec s;
  TinyModel m = write(s, "batch");
  auto model = load(m);
  ASSERT_TRUE(model);
  const std::vector<std::vector<std::int32_t>> prompts = {ids(3, s.vocab, 1), ids(11, s.vocab, 2), ids(6, s.vocab, 3)};
  auto cache = model->new_cache(3, 16);
  ASSERT_TRUE(cache.ok());
  std::vector<float> logits;
  ASSERT_TRUE(model->forward(*cache, prompts, logits).ok());
  ASSERT_EQ(logits.size(), 3u * s.vocab);
  for (int b = 0; b < 3; ++b) {
    std::vector<float> row(logits.begin() + b * s.vocab, logits.begin() + (b + 1) * s.vocab);
    EXPECT_LT(max_diff(row, prefill(*model, prompts[b])), kTol) << "sequence " << b;
    EXPECT_EQ(cache->length(b), static_cast<int>(prompts[b].size()));
  }
  // A decode step: one token for sequences 0 and 2, none for 1 (its row is zeros, its length
  // unchanged), then one for 1 alone.
  ASSERT_TRUE(model->forward(*cache, {{5}, {}, {7}}, logits).ok());
  EXPECT_EQ(cache->length(1), 11);
  for (int v = 0; v < s.vocab; ++v) EXPECT_EQ(logits[s.vocab + v], 0.0f);
  auto with = [](std::vector<std::int32_t> p, std::int32_t t) {
    p.push_back(t);
    return p;
  };
  std::vector<float> row0(logits.begin(), logits.begin() + s.vocab);
  std::vector<float> row2(logits.begin() + 2 * s.vocab, logits.end());
  EXPECT_LT(max_diff(row0, reference_logits(m, with(prompts[0], 5))), kTol);
  EXPECT_LT(max_diff(row2, reference_logits(m, with(prompts[2], 7))), kTol);
  ASSERT_TRUE(model->forward(*cache, {{}, {9}, {}}, logits).ok());
  std::vector<float> row1(logits.begin() + s.vocab, logits.begin() + 2 * s.vocab);
  EXPECT_LT(max_diff(row1, reference_logits(m, with(prompts[1], 9))), kTol);
  EXPECT_EQ(cache->length(0), 4);
  EXPECT_EQ(cache->length(1), 12);
  EXPECT_EQ(cache->length(2), 7);
}

TEST_F(LlamaTest, RopeScalingVariantsMatchTheReference) {
  TinySpec base;
  base.max_pos = 32;
  base.seed = 5;
  TinyModel plain_m = write(base, "rope");
  auto plain = load(plain_m);
  ASSERT_TRUE(plain);
  auto in = ids(24, base.vocab, 4);
  auto plain_logits = prefill(*plain, in);
  EXPECT_LT(max_diff(plain_logits, reference_logits(plain_m, in)), kTol);

  const std::vector<nlohmann::json> variants = {
      {{"rope_type", "linear"}, {"factor", 2.0}},
      {{"type", "dynamic"}, {"factor", 2.0}},
      // head_dim 8, theta 1e4: wavelengths 6.3, 63, 628, 6283; with an original context of 64
      // and factors 1/4 these fall in all three llama3 bands (kept, smoothed, divided).
      {{"rope_type", "llama3"},
       {"factor", 8.0},
       {"low_freq_factor", 1.0},
       {"high_freq_factor", 4.0},
       {"original_max_position_embeddings", 64}},
  };
  for (const auto& rs : variants) {
    TinySpec s = base;  // the same seed: the same weights
    s.rope_scaling = rs;
    // Dynamic scaling applies past max_position_embeddings, and allows factor x that many.
    if (rs.value("type", "") == "dynamic") s.max_pos = 16;
    TinyModel m = write(s, "rope");
    auto model = load(m);
    ASSERT_TRUE(model);
    auto got = prefill(*model, in);
    EXPECT_GT(max_diff(got, plain_logits), 1e-2) << rs.dump() << " changes nothing";
    EXPECT_LT(max_diff(got, reference_logits(m, in)), kTol) << rs.dump();
    if (rs.value("type", "") == "dynamic") {
      // Within max_position_embeddings dynamic scaling is the plain rotation.
      auto short_in = ids(10, base.vocab, 4);
      EXPECT_LT(max_diff(prefill(*model, short_in), prefill(*plain, short_in)), 1e-6);
    }
  }
}

TEST_F(LlamaTest, MistralSlidingWindowMasksOldPositions) {
  TinySpec s;
  s.model_type = "mistral";
  s.sliding_window = 4;
  TinyModel m = write(s, "mistral");
  auto model = load(m);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->config().sliding_window, 4);
  auto in = ids(12, s.vocab, 6);
  EXPECT_LT(max_diff(prefill(*model, in), reference_logits(m, in)), kTol);
  // Decoding step by step respects the window too.
  auto cache = model->new_cache(1, 12);
  ASSERT_TRUE(cache.ok());
  std::vector<float> logits;
  for (int t = 0; t < 12; ++t) ASSERT_TRUE(model->forward(*cache, {{in[t]}}, logits).ok());
  EXPECT_LT(max_diff(logits, reference_logits(m, in)), kTol);
  // Without the window the logits differ (the window matters at 12 tokens).
  TinySpec wide = s;
  wide.sliding_window = 0;
  TinyModel mw = write(wide, "mistral");
  EXPECT_GT(max_diff(logits, reference_logits(mw, in)), 1e-2);
}

TEST_F(LlamaTest, GreedyGenerationIsDeterministicAndFollowsTheLogits) {
  TinySpec s;
  s.seed = 3;
  TinyModel m = write(s, "gen");
  auto model = load(m);
  ASSERT_TRUE(model);
  GenerateOptions o;
  o.max_new_tokens = 12;
  o.ignore_eos = true;
  auto prompt = ids(5, s.vocab, 7);
  auto a = model->generate(prompt, o);
  auto b = model->generate(prompt, o);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->tokens, b->tokens);
  EXPECT_EQ(a->finish, FinishReason::kMaxTokens);
  EXPECT_EQ(a->tokens.size(), 12u);
  EXPECT_EQ(a->prompt_tokens, 5);
  // Each token is the reference argmax after the prompt and the tokens before it.
  std::vector<std::int32_t> seq = prompt;
  for (std::int32_t tok : a->tokens) {
    auto ref = reference_logits(m, seq);
    auto best = std::max_element(ref.begin(), ref.end()) - ref.begin();
    EXPECT_EQ(tok, best);
    seq.push_back(tok);
  }

  // Stopping: an eos id, a stop sequence, the length limit.
  GenerateOptions e = o;
  e.ignore_eos = false;
  e.eos_ids = {a->tokens[3]};
  auto r = model->generate(prompt, e);
  ASSERT_TRUE(r.ok());
  const auto first = std::find(a->tokens.begin(), a->tokens.end(), a->tokens[3]) - a->tokens.begin();
  EXPECT_EQ(r->finish, FinishReason::kEos);
  EXPECT_EQ(r->tokens, std::vector<std::int32_t>(a->tokens.begin(), a->tokens.begin() + first));
  EXPECT_EQ(r->stop, std::vector<std::int32_t>{a->tokens[3]});
  EXPECT_EQ(r->generated, first + 1);

  GenerateOptions st = o;
  st.stop_sequences = {{a->tokens[5], a->tokens[6]}};
  r = model->generate(prompt, st);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kStopSequence);
  ASSERT_LE(r->tokens.size(), 5u);
  EXPECT_EQ(r->tokens, std::vector<std::int32_t>(a->tokens.begin(), a->tokens.begin() + r->tokens.size()));

  GenerateOptions lim = o;
  lim.max_length = 9;  // 5 prompt tokens + 4
  r = model->generate(prompt, lim);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kContextFull);
  EXPECT_EQ(r->tokens, std::vector<std::int32_t>(a->tokens.begin(), a->tokens.begin() + 4));
}

TEST_F(LlamaTest, LongPromptsArePrefilledInChunks) {
  TinySpec s;
  s.max_pos = 1024;
  TinyModel m = write(s, "long");
  auto model = load(m);
  ASSERT_TRUE(model);
  auto prompt = ids(static_cast<int>(kPrefillChunk) + 90, s.vocab, 9);  // two chunks
  GenerateOptions o;
  o.max_new_tokens = 2;
  o.ignore_eos = true;
  auto g = model->generate(prompt, o);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  ASSERT_EQ(g->tokens.size(), 2u);
  auto ref = reference_logits(m, prompt);
  EXPECT_EQ(g->tokens[0], std::max_element(ref.begin(), ref.end()) - ref.begin());
  // One pass over the whole prompt gives the same logits.
  EXPECT_LT(max_diff(prefill(*model, prompt), ref), kTol);
}

TEST_F(LlamaTest, SampledGenerationDependsOnlyOnTheSeed) {
  TinySpec s;
  TinyModel m = write(s, "sample");
  auto model = load(m);
  ASSERT_TRUE(model);
  GenerateOptions o;
  o.max_new_tokens = 16;
  o.ignore_eos = true;
  o.sampling.temperature = 3.0;  // flat enough that two seeds diverge
  o.sampling.top_p = 0.95;
  o.sampling.repetition_penalty = 1.2;
  o.sampling.seed = 11;
  auto prompt = ids(4, s.vocab);
  auto a = model->generate(prompt, o);
  auto b = model->generate(prompt, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tokens, b->tokens);
  o.sampling.seed = 12;
  auto c = model->generate(prompt, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->tokens, c->tokens);
}

TEST_F(LlamaTest, ConcurrentGenerationsMatchSequentialOnes) {
  TinySpec s;
  s.dtype = DType::kBF16;
  TinyModel m = write(s, "threads");
  auto model = load(m, "auto");
  ASSERT_TRUE(model);
  GenerateOptions o;
  o.max_new_tokens = 10;
  o.ignore_eos = true;
  std::vector<std::vector<std::int32_t>> want;
  for (int k = 0; k < 4; ++k) {
    auto r = model->generate(ids(3 + k, s.vocab, k), o);
    ASSERT_TRUE(r.ok());
    want.push_back(r->tokens);
  }
  std::vector<std::vector<std::int32_t>> got(4);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 3; ++rep) {
        auto r = model->generate(ids(3 + k, s.vocab, k), o);
        if (r.ok() && (rep == 0 || got[k] == r->tokens)) {
          got[k] = r->tokens;
        } else {
          got[k].clear();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(got, want);
}

TEST_F(LlamaTest, BadCheckpointsAndCallsAreErrors) {
  auto missing = LlamaModel::load("/nonexistent/ragft-llama");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  TinySpec s;
  TinyModel m = write(s, "bad");
  LlamaOptions bad_dtype;
  bad_dtype.dtype = "int4";
  auto r = LlamaModel::load(m.dir, bad_dtype);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);

  // A checkpoint whose config promises a wider MLP than the weights have.
  {
    TinySpec other = s;
    other.inter = 64;
    std::ofstream(m.dir / "config.json") << testing::config_json(other).dump();
    r = LlamaModel::load(m.dir);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
    EXPECT_NE(r.error().message.find("mlp.gate_proj.weight"), std::string::npos) << r.error().message;
    std::ofstream(m.dir / "config.json") << testing::config_json(s).dump();
  }
  // tie_word_embeddings=false without lm_head.weight.
  {
    TinySpec tied = s;
    tied.tied = true;
    TinyModel t = write(tied, "bad");
    TinySpec untied = tied;
    untied.tied = false;
    std::ofstream(t.dir / "config.json") << testing::config_json(untied).dump();
    r = LlamaModel::load(t.dir);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
    EXPECT_NE(r.error().message.find("lm_head.weight"), std::string::npos) << r.error().message;
  }
  // pytorch_model.bin only.
  {
    fs::path d = testing::temp_dir("bin");
    dirs_.push_back(d);
    std::ofstream(d / "config.json") << testing::config_json(s).dump();
    std::ofstream(d / "pytorch_model.bin") << "not read";
    r = LlamaModel::load(d);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  }
  // An index naming a shard that is not there.
  {
    TinySpec sh = s;
    sh.shards = 2;
    TinyModel t = write(sh, "bad");
    fs::remove(t.dir / "model-00002-of-00002.safetensors");
    r = LlamaModel::load(t.dir);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  }

  auto model = load(m);
  ASSERT_TRUE(model);
  EXPECT_FALSE(model->new_cache(0, 8).ok());
  EXPECT_FALSE(model->new_cache(1, s.max_pos + 1).ok());
  auto cache = model->new_cache(2, 8);
  ASSERT_TRUE(cache.ok());
  std::vector<float> logits;
  EXPECT_EQ(model->forward(*cache, {{1}}, logits).error().code, ErrorCode::kInvalidArgument);  // batch 2
  EXPECT_EQ(model->forward(*cache, {{}, {}}, logits).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(model->forward(*cache, {{1}, {s.vocab}}, logits).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(model->forward(*cache, {{1}, ids(9, s.vocab)}, logits).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(cache->length(0), 0);
  EXPECT_EQ(cache->length(1), 0);
  auto other = load(m);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->forward(*cache, {{1}, {2}}, logits).error().code, ErrorCode::kInvalidArgument);
  GenerateOptions o;
  EXPECT_EQ(model->generate({}, o).error().code, ErrorCode::kInvalidArgument);
  o.sampling.top_p = 0;
  const std::vector<std::int32_t> one = {1};
  EXPECT_EQ(model->generate(one, o).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
