// A tiny randomly initialised BERT checkpoint written in exactly the Hugging Face format
// (config.json, vocab.txt, tokenizer_config.json, model.safetensors with Hugging Face tensor
// names, listed here independently of the model code), for the encoder and embedder tests.
#pragma once

#include <gtest/gtest.h>

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

#include "apps/test_util.h"
#include "embed/safetensors.h"

namespace ragft::testing {

inline constexpr int kHidden = 32, kLayers = 2, kHeads = 2, kInter = 64, kPositions = 64;

inline const std::vector<std::string> kVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",  "a",     "was",    "movie",  "film", "good",   "great",
    "fine",  "bad",   "awful", "poor",  "team",   "won",  "game",  "match",  "score",  "##s",  "!",      ".",
    "very",  "plot",  "actor", "goal",  "ball",   "play", "##ing", "boring", "lovely", "lost", "player", "and"};

inline void write_text(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

inline nlohmann::json tiny_config() {
  return {{"architectures", {"BertForMaskedLM"}},
          {"model_type", "bert"},
          {"vocab_size", static_cast<int>(kVocab.size())},
          {"hidden_size", kHidden},
          {"num_hidden_layers", kLayers},
          {"num_attention_heads", kHeads},
          {"intermediate_size", kInter},
          {"max_position_embeddings", kPositions},
          {"type_vocab_size", 2},
          {"layer_norm_eps", 1e-12},
          {"hidden_act", "gelu"},
          {"hidden_dropout_prob", 0.1},
          {"attention_probs_dropout_prob", 0.1},
          {"pad_token_id", 0},
          {"position_embedding_type", "absolute"}};
}

// The Hugging Face BertModel tensor names and shapes for `config`'s sizes (missing sizes are
// the tiny defaults), written out from its naming scheme.
inline std::vector<std::pair<std::string, std::vector<std::int64_t>>> hf_tensors(bool pooler,
                                                                                const nlohmann::json& config) {
  auto size = [&](const char* key, std::int64_t fallback) {
    return config.contains(key) ? config[key].get<std::int64_t>() : fallback;
  };
  const std::int64_t v = size("vocab_size", static_cast<std::int64_t>(kVocab.size())), h = size("hidden_size", kHidden),
                     i = size("intermediate_size", kInter), positions = size("max_position_embeddings", kPositions),
                     layers = size("num_hidden_layers", kLayers);
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> t = {
      {"embeddings.word_embeddings.weight", {v, h}},
      {"embeddings.position_embeddings.weight", {positions, h}},
      {"embeddings.token_type_embeddings.weight", {2, h}},
      {"embeddings.LayerNorm.weight", {h}},
      {"embeddings.LayerNorm.bias", {h}}};
  for (std::int64_t l = 0; l < layers; ++l) {
    std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* m : {"query", "key", "value"}) {
      t.push_back({p + "attention.self." + m + ".weight", {h, h}});
      t.push_back({p + "attention.self." + m + ".bias", {h}});
    }
    t.push_back({p + "attention.output.dense.weight", {h, h}});
    t.push_back({p + "attention.output.dense.bias", {h}});
    t.push_back({p + "attention.output.LayerNorm.weight", {h}});
    t.push_back({p + "attention.output.LayerNorm.bias", {h}});
    t.push_back({p + "intermediate.dense.weight", {i, h}});
    t.push_back({p + "intermediate.dense.bias", {i}});
    t.push_back({p + "output.dense.weight", {h, i}});
    t.push_back({p + "output.dense.bias", {h}});
    t.push_back({p + "output.LayerNorm.weight", {h}});
    t.push_back({p + "output.LayerNorm.bias", {h}});
  }
  if (pooler) {
    t.push_back({"pooler.dense.weight", {h, h}});
    t.push_back({"pooler.dense.bias", {h}});
  }
  return t;
}

struct Checkpoint {
  std::filesystem::path dir;
  std::map<std::string, std::vector<float>> values;  // by HF name, without prefix
};

// Writes a random checkpoint (the same values for the same arguments). `prefix` ("" or "bert.")
// is put before every name; `dtype` F32, F16 or BF16 (values are rounded to it, so `values` are
// what a loader must read back).
inline Checkpoint write_checkpoint(const std::filesystem::path& dir, const std::string& prefix = "bert.",
                                   DType dtype = DType::kF32, bool pooler = true,
                                   nlohmann::json config = tiny_config()) {
  std::filesystem::create_directories(dir);
  write_text(dir / "config.json", config.dump(2));
  std::string vocab;
  for (const auto& v : kVocab) vocab += v + "\n";
  write_text(dir / "vocab.txt", vocab);
  write_text(dir / "tokenizer_config.json", R"({"do_lower_case": true, "model_max_length": 64})");
  std::mt19937 rng(42);
  Checkpoint ck{dir, {}};
  std::map<std::string, TensorData> tensors;
  for (const auto& [name, shape] : hf_tensors(pooler, config)) {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<float> vals(static_cast<std::size_t>(n));
    bool ln_weight = name.find("LayerNorm.weight") != std::string::npos;
    // Scales that let a random model carry the words to [CLS]: matrices 1/sqrt(fan_in), word
    // embeddings larger than position embeddings, small biases.
    float sd = 0.05f;
    if (shape.size() == 2) sd = 1.0f / std::sqrt(static_cast<float>(shape[1]));
    if (name.find("word_embeddings") != std::string::npos) sd = 1.0f;
    if (name.find("position_embeddings") != std::string::npos) sd = 0.1f;
    std::normal_distribution<float> normal(0.0f, sd);
    for (auto& x : vals) x = (ln_weight ? 1.0f : 0.0f) + normal(rng);
    TensorData t;
    t.dtype = dtype;
    t.shape = shape;
    for (auto& x : vals) {
      if (dtype == DType::kF16) {
        std::uint16_t b = f32_to_f16(x);
        x = f16_to_f32(b);
        t.bytes.append(reinterpret_cast<const char*>(&b), 2);
      } else if (dtype == DType::kBF16) {
        std::uint16_t b = f32_to_bf16(x);
        x = bf16_to_f32(b);
        t.bytes.append(reinterpret_cast<const char*>(&b), 2);
      } else {
        t.bytes.append(reinterpret_cast<const char*>(&x), 4);
      }
    }
    tensors[prefix + name] = std::move(t);
    ck.values[name] = std::move(vals);
  }
  // Heads of other tasks are ignored by the loader.
  float extra[3] = {1, 2, 3};
  tensors["cls.predictions.bias"] = TensorData::from_f32({3}, extra, 3);
  EXPECT_TRUE(write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}}).ok());
  return ck;
}

}  // namespace ragft::testing
