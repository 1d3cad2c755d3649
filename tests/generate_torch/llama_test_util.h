// Tiny random Llama-family checkpoints written in the Hugging Face layout (config.json and
// safetensors with transformers' tensor names, listed here from its naming scheme, not from the
// engine), and an independent reference forward pass in double precision written from
// transformers' modeling_llama description, for the decoder tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/check.h"
#include "embed/safetensors.h"
#include "generate/lora.h"

namespace ragft::testing {

struct TinySpec {
  std::string model_type = "llama";
  int vocab = 48, hidden = 32, inter = 48, layers = 2, heads = 4, kv_heads = 2, head_dim = 8;
  int max_pos = 64;
  double theta = 10000, eps = 1e-5;
  bool tied = false;
  bool attention_bias = false;  // llama: q/k/v/o biases; qwen2 has q/k/v biases regardless
  nlohmann::json rope_scaling = nullptr;
  int sliding_window = 0;  // 0: null in config.json
  DType dtype = DType::kF32;
  int shards = 1;  // > 1: model-0000i-of-0000n.safetensors + model.safetensors.index.json
  std::uint32_t seed = 1;
};

inline nlohmann::json config_json(const TinySpec& s) {
  nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}},
                      {"model_type", s.model_type},
                      {"vocab_size", s.vocab},
                      {"hidden_size", s.hidden},
                      {"intermediate_size", s.inter},
                      {"num_hidden_layers", s.layers},
                      {"num_attention_heads", s.heads},
                      {"num_key_value_heads", s.kv_heads},
                      {"head_dim", s.head_dim},
                      {"max_position_embeddings", s.max_pos},
                      {"rms_norm_eps", s.eps},
                      {"rope_theta", s.theta},
                      {"rope_scaling", s.rope_scaling},
                      {"hidden_act", "silu"},
                      {"attention_bias", s.attention_bias},
                      {"tie_word_embeddings", s.tied},
                      {"bos_token_id", 1},
                      {"eos_token_id", 2},
                      {"torch_dtype", s.dtype == DType::kBF16 ? "bfloat16" : s.dtype == DType::kF16 ? "float16" : "float32"}};
  if (s.sliding_window > 0) j["sliding_window"] = s.sliding_window;
  return j;
}

inline bool has_qkv_bias(const TinySpec& s) { return s.attention_bias || s.model_type == "qwen2"; }
inline bool has_o_bias(const TinySpec& s) { return s.attention_bias && s.model_type != "qwen2"; }

// transformers' LlamaForCausalLM tensors for the spec.
inline std::vector<std::pair<std::string, std::vector<std::int64_t>>> hf_tensors(const TinySpec& s) {
  const std::int64_t h = s.hidden, q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> t = {{"model.embed_tokens.weight", {s.vocab, h}}};
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    t.push_back({p + "input_layernorm.weight", {h}});
    t.push_back({p + "self_attn.q_proj.weight", {q, h}});
    t.push_back({p + "self_attn.k_proj.weight", {kv, h}});
    t.push_back({p + "self_attn.v_proj.weight", {kv, h}});
    if (has_qkv_bias(s)) {
      t.push_back({p + "self_attn.q_proj.bias", {q}});
      t.push_back({p + "self_attn.k_proj.bias", {kv}});
      t.push_back({p + "self_attn.v_proj.bias", {kv}});
    }
    t.push_back({p + "self_attn.o_proj.weight", {h, q}});
    if (has_o_bias(s)) t.push_back({p + "self_attn.o_proj.bias", {h}});
    t.push_back({p + "post_attention_layernorm.weight", {h}});
    t.push_back({p + "mlp.gate_proj.weight", {s.inter, h}});
    t.push_back({p + "mlp.up_proj.weight", {s.inter, h}});
    t.push_back({p + "mlp.down_proj.weight", {h, s.inter}});
  }
  t.push_back({"model.norm.weight", {h}});
  if (!s.tied) t.push_back({"lm_head.weight", {s.vocab, h}});
  return t;
}

struct TinyModel {
  TinySpec spec;
  std::filesystem::path dir;
  std::map<std::string, std::vector<float>> w;  // as stored (rounded to the storage dtype)
};

inline float round_to(DType d, float v) {
  if (d == DType::kBF16) return bf16_to_f32(f32_to_bf16(v));
  if (d == DType::kF16) return f16_to_f32(f32_to_f16(v));
  return v;
}

inline TensorData tensor_data(DType d, const std::vector<std::int64_t>& shape, const std::vector<float>& v) {
  if (d == DType::kF32) return TensorData::from_f32(shape, v.data(), v.size());
  TensorData t;
  t.dtype = d;
  t.shape = shape;
  t.bytes.resize(v.size() * 2);
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint16_t u = d == DType::kBF16 ? f32_to_bf16(v[i]) : f32_to_f16(v[i]);
    std::memcpy(t.bytes.data() + 2 * i, &u, 2);
  }
  return t;
}

inline std::filesystem::path temp_dir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("ragft_llama_" + tag + "_XXXXXX")).string();
  RAGFT_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

// Writes a random checkpoint into `dir`: matrices ~ N(0, 1/fan_in), embeddings ~ N(0, 1), norm
// weights ~ 1 + N(0, 0.1^2), biases ~ N(0, 0.1^2).
inline TinyModel write_tiny(const std::filesystem::path& dir, const TinySpec& s) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << config_json(s).dump(2);
  TinyModel m{s, dir, {}};
  std::mt19937 rng(s.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::map<std::string, TensorData>> shards(static_cast<std::size_t>(std::max(1, s.shards)));
  auto tensors = hf_tensors(s);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, shape] = tensors[i];
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<float> v(static_cast<std::size_t>(n));
    const bool norm = name.find("norm") != std::string::npos, bias = name.find(".bias") != std::string::npos,
               embed = name == "model.embed_tokens.weight";
    const float sd = norm || bias ? 0.1f : embed ? 1.0f : 1.0f / std::sqrt(static_cast<float>(shape[1]));
    for (auto& x : v) x = round_to(s.dtype, (norm ? 1.0f : 0.0f) + sd * normal(rng));
    // Shards: the tensors in order, split into equal runs.
    shards[i * shards.size() / tensors.size()][name] = tensor_data(s.dtype, shape, v);
    m.w[name] = std::move(v);
  }
  if (shards.size() == 1) {
    RAGFT_CHECK(write_safetensors(dir / "model.safetensors", shards[0], {{"format", "pt"}}).ok());
    return m;
  }
  nlohmann::json map = nlohmann::json::object();
  for (std::size_t k = 0; k < shards.size(); ++k) {
    char file[64];
    std::snprintf(file, sizeof file, "model-%05zu-of-%05zu.safetensors", k + 1, shards.size());
    RAGFT_CHECK(write_safetensors(dir / file, shards[k], {{"format", "pt"}}).ok());
    for (const auto& [name, t] : shards[k]) map[name] = file;
  }
  std::ofstream(dir / "model.safetensors.index.json") << nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", map}}.dump(2);
  return m;
}

// ---- The reference forward pass (double precision, one sequence, no cache) ----

using Mat = std::vector<std::vector<double>>;  // rows

// transformers' inverse frequencies for the spec's rope_scaling, computed afresh for a sequence
// of `seq_len` positions (only dynamic scaling depends on it).
inline std::vector<double> reference_inv_freq(const TinySpec& s, int seq_len) {
  const int d = s.head_dim;
  double base = s.theta;
  std::string type = "default";
  double factor = 1;
  if (s.rope_scaling.is_object()) {
    type = s.rope_scaling.value("rope_type", s.rope_scaling.value("type", std::string("default")));
    factor = s.rope_scaling.value("factor", 1.0);
  }
  if (type == "dynamic" && seq_len > s.max_pos) {
    base = s.theta * std::pow(factor * seq_len / s.max_pos - (factor - 1), static_cast<double>(d) / (d - 2));
  }
  std::vector<double> f(static_cast<std::size_t>(d / 2));
  for (int i = 0; i < d / 2; ++i) f[i] = 1.0 / std::pow(base, 2.0 * i / d);
  if (type == "linear") {
    for (auto& x : f) x /= factor;
  } else if (type == "llama3") {
    const double low = s.rope_scaling["low_freq_factor"], high = s.rope_scaling["high_freq_factor"];
    const double old_ctx = s.rope_scaling["original_max_position_embeddings"];
    for (auto& x : f) {
      const double wavelen = 2 * M_PI / x;
      if (wavelen > old_ctx / low) {
        x /= factor;  // low frequencies: interpolated
      } else if (wavelen >= old_ctx / high) {
        const double smooth = (old_ctx / wavelen - low) / (high - low);
        x = (1 - smooth) * x / factor + smooth * x;
      }  // high frequencies: unchanged
    }
  }
  return f;
}

inline Mat ref_linear(const TinyModel& m, const Mat& x, const std::string& name, bool bias) {
  const auto& w = m.w.at(name + ".weight");
  const std::size_t in = x[0].size(), out = w.size() / in;
  Mat y(x.size(), std::vector<double>(out, 0.0));
  for (std::size_t r = 0; r < x.size(); ++r) {
    for (std::size_t o = 0; o < out; ++o) {
      double s = bias ? m.w.at(name + ".bias")[o] : 0.0;
      for (std::size_t i = 0; i < in; ++i) s += x[r][i] * w[o * in + i];
      y[r][o] = s;
    }
  }
  return y;
}

inline Mat ref_rms_norm(const TinyModel& m, const Mat& x, const std::string& name) {
  const auto& w = m.w.at(name);
  Mat y = x;
  for (auto& row : y) {
    double ss = 0;
    for (double v : row) ss += v * v;
    const double inv = 1 / std::sqrt(ss / row.size() + m.spec.eps);
    for (std::size_t i = 0; i < row.size(); ++i) row[i] = w[i] * row[i] * inv;
  }
  return y;
}

// q * cos + rotate_half(q) * sin, with cos/sin = cat(freqs, freqs) and rotate_half(x) =
// cat(-x2, x1), for every head of a [T, heads * head_dim] matrix.
inline void ref_rope(Mat& x, int heads, int hd, const std::vector<double>& inv_freq) {
  for (std::size_t t = 0; t < x.size(); ++t) {
    for (int h = 0; h < heads; ++h) {
      std::vector<double> q(x[t].begin() + h * hd, x[t].begin() + (h + 1) * hd), out(hd);
      for (int i = 0; i < hd; ++i) {
        const double angle = static_cast<double>(t) * inv_freq[i % (hd / 2)];
        const double rot = i < hd / 2 ? -q[i + hd / 2] : q[i - hd / 2];
        out[i] = q[i] * std::cos(angle) + rot * std::sin(angle);
      }
      std::copy(out.begin(), out.end(), x[t].begin() + h * hd);
    }
  }
}

// Logits [T, vocab] of every position of `ids`.
inline Mat reference_logits_all(const TinyModel& m, const std::vector<std::int32_t>& ids) {
  const TinySpec& s = m.spec;
  const int T = static_cast<int>(ids.size()), hd = s.head_dim, rep = s.heads / s.kv_heads;
  const auto& emb = m.w.at("model.embed_tokens.weight");
  Mat x(T, std::vector<double>(s.hidden));
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < s.hidden; ++i) x[t][i] = emb[static_cast<std::size_t>(ids[t]) * s.hidden + i];
  }
  const auto inv_freq = reference_inv_freq(s, T);
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    Mat h = ref_rms_norm(m, x, p + "input_layernorm.weight");
    Mat q = ref_linear(m, h, p + "self_attn.q_proj", has_qkv_bias(s));
    Mat k = ref_linear(m, h, p + "self_attn.k_proj", has_qkv_bias(s));
    Mat v = ref_linear(m, h, p + "self_attn.v_proj", has_qkv_bias(s));
    ref_rope(q, s.heads, hd, inv_freq);
    ref_rope(k, s.kv_heads, hd, inv_freq);
    Mat attn(T, std::vector<double>(s.heads * hd, 0.0));
    for (int head = 0; head < s.heads; ++head) {
      const int kvh = head / rep;  // repeat_kv: kv head j serves query heads j*rep .. j*rep+rep-1
      for (int t = 0; t < T; ++t) {
        std::vector<double> score(T, -INFINITY);
        double mx = -INFINITY;
        for (int j = 0; j <= t; ++j) {
          if (s.sliding_window > 0 && t - j >= s.sliding_window) continue;
          double d = 0;
          for (int i = 0; i < hd; ++i) d += q[t][head * hd + i] * k[j][kvh * hd + i];
          score[j] = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, score[j]);
        }
        double z = 0;
        for (int j = 0; j < T; ++j) z += std::isinf(score[j]) ? 0 : std::exp(score[j] - mx);
        for (int j = 0; j < T; ++j) {
          if (std::isinf(score[j])) continue;
          const double pj = std::exp(score[j] - mx) / z;
          for (int i = 0; i < hd; ++i) attn[t][head * hd + i] += pj * v[j][kvh * hd + i];
        }
      }
    }
    Mat o = ref_linear(m, attn, p + "self_attn.o_proj", has_o_bias(s));
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < s.hidden; ++i) x[t][i] += o[t][i];
    }
    Mat h2 = ref_rms_norm(m, x, p + "post_attention_layernorm.weight");
    Mat g = ref_linear(m, h2, p + "mlp.gate_proj", false);
    Mat u = ref_linear(m, h2, p + "mlp.up_proj", false);
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < s.inter; ++i) g[t][i] = g[t][i] / (1 + std::exp(-g[t][i])) * u[t][i];
    }
    Mat d = ref_linear(m, g, p + "mlp.down_proj", false);
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < s.hidden; ++i) x[t][i] += d[t][i];
    }
  }
  Mat hf = ref_rms_norm(m, x, "model.norm.weight");
  return ref_linear(m, hf, s.tied ? "model.embed_tokens" : "lm_head", false);
}

inline std::vector<double> reference_logits(const TinyModel& m, const std::vector<std::int32_t>& ids) {
  return reference_logits_all(m, ids).back();
}

// A LoRA adapter for config `c` with random A and B (nonzero, so it changes the model).
inline LoraAdapter random_lora_adapter(const LlamaConfig& c, int rank, const std::vector<std::string>& targets, std::uint32_t seed) {
  LoraAdapter a;
  a.rank = rank;
  a.alpha = 2.0 * rank;
  a.targets = targets;
  a.base = "tiny";
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 0.1f);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    for (const auto& t : targets) {
      auto [out, in] = lora_target_shape(c, t);
      LoraAdapter::Pair& p = a.weights[lora_module(l, t)];
      p.out = out;
      p.in = in;
      p.a.resize(static_cast<std::size_t>(rank * in));
      p.b.resize(static_cast<std::size_t>(out * rank));
      for (auto& x : p.a) x = normal(rng);
      for (auto& x : p.b) x = normal(rng);
    }
  }
  return a;
}

// The largest absolute difference.
template <typename A, typename B>
double max_diff(const A& a, const B& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

}  // namespace ragft::testing
