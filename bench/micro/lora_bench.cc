// LoRA training speed (generate/torch/lora_model.h) on a random Llama checkpoint of ~40M
// parameters: hidden 512, 8 layers, 8 query heads, 4 key/value heads, intermediate 1408,
// vocabulary 32000, tied embeddings (fp32 storage). Sequences of 256 tokens, batch 4, rank 8 on
// all seven projections, the second half of each sequence as loss targets (an answer after a
// prompt). One epoch of RAGFT_BENCH_STEPS optimizer steps (default 4) through train_lora, so
// the figure includes the optimizer, clipping and the adapter save.
//   counters: tokens_per_s (training tokens per training second, as LoraReport), step_s,
//   parameters_m (the base model), lora_parameters, threads.
// Built as ragft_lora_bench, only with libtorch. RAGFT_THREADS sets the threads.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "embed/safetensors.h"
#include "embed/torch_guard.h"
#include "generate/llama_config.h"
#include "generate/torch/lora_model.h"

namespace {

namespace fs = std::filesystem;
using namespace ragft;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

LlamaConfig bench_config() {
  LlamaConfig c;
  c.vocab_size = 32000;
  c.hidden_size = 512;
  c.intermediate_size = 1408;
  c.num_hidden_layers = 8;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 4;
  c.head_dim = 64;
  c.max_position_embeddings = 2048;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = true;
  c.bos_token_ids = {1};
  c.eos_token_ids = {2};
  c.torch_dtype = "float32";
  return c;
}

fs::path write_checkpoint(const LlamaConfig& c) {
  std::string tmpl = (fs::temp_directory_path() / "ragft_lora_bench_XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) std::abort();
  const fs::path dir = tmpl;
  std::ofstream(dir / "config.json") << c.to_json().dump(2);
  const std::int64_t h = c.hidden_size, inter = c.intermediate_size, q = c.num_attention_heads * c.head_dim,
                     kv = c.num_key_value_heads * c.head_dim;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes = {
      {"model.embed_tokens.weight", {c.vocab_size, h}}, {"model.norm.weight", {h}}};
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    shapes.push_back({p + "input_layernorm.weight", {h}});
    shapes.push_back({p + "post_attention_layernorm.weight", {h}});
    shapes.push_back({p + "self_attn.q_proj.weight", {q, h}});
    shapes.push_back({p + "self_attn.k_proj.weight", {kv, h}});
    shapes.push_back({p + "self_attn.v_proj.weight", {kv, h}});
    shapes.push_back({p + "self_attn.o_proj.weight", {h, q}});
    shapes.push_back({p + "mlp.gate_proj.weight", {inter, h}});
    shapes.push_back({p + "mlp.up_proj.weight", {inter, h}});
    shapes.push_back({p + "mlp.down_proj.weight", {h, inter}});
  }
  std::map<std::string, TensorData> tensors;
  std::uint64_t state = 88172645463325252ULL;  // xorshift64: the values do not matter for speed
  for (const auto& [name, shape] : shapes) {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    const bool norm = name.find("norm") != std::string::npos;
    const float scale = norm ? 0.0f : 1.7f / std::sqrt(static_cast<float>(shape[1]));
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& x : v) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      const float u = static_cast<float>(state >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f;
      x = norm ? 1.0f : u * scale;
    }
    tensors[name] = TensorData::from_f32(shape, v.data(), v.size());
  }
  if (!write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}}).ok()) std::abort();
  return dir;
}

void BM_LoraTrain(benchmark::State& state) {
  init_torch_threads();
  const LlamaConfig c = bench_config();
  const fs::path dir = write_checkpoint(c);
  const int steps = env_int("RAGFT_BENCH_STEPS", 4), seq = 256, batch = 4;
  LoraTrainJob job;
  job.base = dir;
  job.out = dir / "adapter";
  job.options.rank = 8;
  job.options.batch = batch;
  job.options.epochs = 1;
  job.options.dropout = 0.05;
  std::uint64_t x = 7;
  for (int i = 0; i < steps * batch; ++i) {
    LoraSequence s;
    for (int t = 0; t < seq; ++t) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      s.ids.push_back(static_cast<std::int32_t>((x >> 33) % static_cast<std::uint64_t>(c.vocab_size)));
      s.target.push_back(t >= seq / 2 ? 1 : 0);
    }
    job.train.push_back(std::move(s));
  }
  LoraReport report;
  for (auto _ : state) {
    auto r = train_lora(job);
    if (!r.ok()) {
      state.SkipWithError(r.error().to_string().c_str());
      break;
    }
    report = *r;
  }
  state.counters["tokens_per_s"] = report.tokens_per_second;
  state.counters["step_s"] = report.tokens_per_second > 0
                                 ? static_cast<double>(seq * batch) / report.tokens_per_second
                                 : 0;
  state.counters["parameters_m"] = static_cast<double>(c.parameter_count()) / 1e6;
  state.counters["lora_parameters"] = static_cast<double>(report.trainable_parameters);
  state.counters["threads"] = torch_threads();
  fs::remove_all(dir);
}

BENCHMARK(BM_LoraTrain)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
