#include "generate/llama_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace ragft {
namespace {

using json = nlohmann::json;

// Modelled on HuggingFaceTB/SmolLM-135M's config.json.
json smollm_135m() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
    "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "silu", "hidden_size": 576,
    "initializer_range": 0.02, "intermediate_size": 1536, "max_position_embeddings": 2048,
    "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30,
    "num_key_value_heads": 3, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null,
    "rope_theta": 10000.0, "tie_word_embeddings": true, "torch_dtype": "float32",
    "transformers_version": "4.40.1", "use_cache": true, "vocab_size": 49152})");
}

// Modelled on Qwen/Qwen2.5-0.5B's config.json.
json qwen25_05b() {
  return json::parse(R"({
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
    "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
    "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
    "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
    "transformers_version": "4.40.1", "use_cache": true, "use_sliding_window": false,
    "vocab_size": 151936})");
}

// Modelled on meta-llama/Llama-3.2-1B's config.json.
json llama32_1b() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64,
    "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
    "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
    "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16,
    "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
    "use_cache": true, "vocab_size": 128256})");
}

// Modelled on mistralai/Mistral-7B-v0.1's config.json (its window of 4096 is below the context).
json mistral_7b() {
  return json::parse(R"({
    "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
    "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336,
    "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
    "torch_dtype": "bfloat16", "vocab_size": 32000})");
}

TEST(LlamaConfigTest, ReadsSmolLM) {
  auto c = LlamaConfig::from_json(smollm_135m(), "config.json");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->model_type, "llama");
  EXPECT_EQ(c->hidden_size, 576);
  EXPECT_EQ(c->num_key_value_heads, 3);
  EXPECT_EQ(c->head_dim, 64);  // 576 / 9
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->bos_token_ids, std::vector<int>{0});
  EXPECT_EQ(c->eos_token_ids, std::vector<int>{0});
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  EXPECT_EQ(c->rope_scaling.kind, RopeScalingKind::kNone);
  EXPECT_FALSE(c->qkv_bias);
  EXPECT_EQ(c->torch_dtype, "float32");
  EXPECT_EQ(c->max_context(), 2048);
  // The published parameter count of SmolLM-135M.
  EXPECT_EQ(c->parameter_count(), 134515008LL);
}

TEST(LlamaConfigTest, ReadsQwen2WithBiasesAndUnusedWindow) {
  auto c = LlamaConfig::from_json(qwen25_05b(), "config.json");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->qkv_bias);
  EXPECT_FALSE(c->o_bias);
  EXPECT_EQ(c->sliding_window, 0);  // use_sliding_window is false
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);
  EXPECT_EQ(c->max_position_embeddings, 32768);
  // The published parameter count of Qwen2.5-0.5B.
  EXPECT_EQ(c->parameter_count(), 494032768LL);
}

TEST(LlamaConfigTest, ReadsLlama3ScalingAndEosList) {
  auto c = LlamaConfig::from_json(llama32_1b(), "config.json");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->rope_scaling.kind, RopeScalingKind::kLlama3);
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c->rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c->eos_token_ids, (std::vector<int>{128001, 128008, 128009}));
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_EQ(c->num_key_value_heads, 8);
}

TEST(LlamaConfigTest, MistralKeepsASmallerWindowAndDropsALargerOne) {
  auto c = LlamaConfig::from_json(mistral_7b(), "config.json");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->sliding_window, 4096);
  EXPECT_TRUE(c->notes.empty());
  json j = mistral_7b();
  j["sliding_window"] = 32768;
  c = LlamaConfig::from_json(j, "config.json");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sliding_window, 0);
  ASSERT_EQ(c->notes.size(), 1u);
  EXPECT_NE(c->notes[0].find("sliding_window 32768"), std::string::npos);
}

TEST(LlamaConfigTest, RopeScalingKinds) {
  json j = smollm_135m();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};  // the older key
  auto c = LlamaConfig::from_json(j, "c");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->rope_scaling.kind, RopeScalingKind::kLinear);
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 2.0);
  EXPECT_EQ(c->max_context(), 2048);

  j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 4.0}};
  c = LlamaConfig::from_json(j, "c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rope_scaling.kind, RopeScalingKind::kDynamic);
  EXPECT_EQ(c->max_context(), 8192);  // dynamic scaling exists to go past max_position_embeddings

  j["rope_scaling"] = {{"rope_type", "default"}};
  c = LlamaConfig::from_json(j, "c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rope_scaling.kind, RopeScalingKind::kNone);

  // transformers 5 layout.
  j.erase("rope_scaling");
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 3.0}, {"rope_theta", 50000.0}};
  c = LlamaConfig::from_json(j, "c");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->rope_scaling.kind, RopeScalingKind::kLinear);
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 3.0);
  EXPECT_DOUBLE_EQ(c->rope_theta, 50000.0);
}

TEST(LlamaConfigTest, UnsupportedThingsSaySo) {
  json j = smollm_135m();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  auto c = LlamaConfig::from_json(j, "c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(c.error().message.find("yarn"), std::string::npos);

  j = smollm_135m();
  j["model_type"] = "gpt2";
  c = LlamaConfig::from_json(j, "c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kUnsupported);

  j = smollm_135m();
  j["hidden_act"] = "gelu";
  c = LlamaConfig::from_json(j, "c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kUnsupported);

  j = smollm_135m();
  j["quantization_config"] = {{"quant_method", "awq"}};
  c = LlamaConfig::from_json(j, "c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kUnsupported);

  j = qwen25_05b();
  j["use_sliding_window"] = true;
  c = LlamaConfig::from_json(j, "c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kUnsupported);
}

TEST(LlamaConfigTest, BadFieldsAreCorruptAndNamed) {
  struct Case {
    const char* field;
    json value;  // null: remove the field
  };
  const std::vector<Case> cases = {
      {"hidden_size", nullptr},         {"vocab_size", -3},          {"num_attention_heads", "nine"},
      {"num_key_value_heads", 4},       {"rms_norm_eps", 0},         {"eos_token_id", "</s>"},
      {"eos_token_id", 49152},          {"tie_word_embeddings", 1},  {"rope_scaling", 2},
      {"head_dim", 63},                 {"sliding_window", -1},
  };
  for (const auto& k : cases) {
    json j = smollm_135m();
    if (k.value.is_null()) {
      j.erase(k.field);
    } else {
      j[k.field] = k.value;
    }
    if (std::string(k.field) == "sliding_window") j["model_type"] = "mistral";
    auto c = LlamaConfig::from_json(j, "dir/config.json");
    ASSERT_FALSE(c.ok()) << k.field << " = " << k.value.dump();
    EXPECT_EQ(c.error().code, ErrorCode::kCorrupt) << k.field;
    EXPECT_NE(c.error().message.find("dir/config.json"), std::string::npos) << c.error().message;
    // The message names the field (num_key_value_heads=4 does not divide 9 heads; head_dim 63 is odd).
    const std::string named = std::string(k.field) == "num_key_value_heads" ? "num_key_value_heads" : k.field;
    EXPECT_NE(c.error().message.find(named), std::string::npos) << c.error().message;
  }
  json j = smollm_135m();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};  // low/high factors missing
  auto c = LlamaConfig::from_json(j, "c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(c.error().message.find("low_freq_factor"), std::string::npos) << c.error().message;
}

TEST(LlamaConfigTest, RoundTripsThroughJson) {
  for (const json& j : {smollm_135m(), qwen25_05b(), llama32_1b(), mistral_7b()}) {
    auto a = LlamaConfig::from_json(j, "a");
    ASSERT_TRUE(a.ok());
    auto b = LlamaConfig::from_json(a->to_json(), "b");
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    EXPECT_EQ(a->to_json().dump(), b->to_json().dump());
    EXPECT_EQ(a->parameter_count(), b->parameter_count());
    EXPECT_EQ(b->qkv_bias, a->qkv_bias);
    EXPECT_EQ(b->sliding_window, a->sliding_window);
    EXPECT_EQ(b->rope_scaling.kind, a->rope_scaling.kind);
  }
}

TEST(LlamaConfigTest, LoadReportsMissingAndBadFiles) {
  auto c = LlamaConfig::load("/nonexistent/ragft/config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_llama_config_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;
  std::ofstream(dir / "config.json") << "{\"model_type\": \"llama\",";  // truncated
  c = LlamaConfig::load(dir / "config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(c.error().message.find("config.json"), std::string::npos);
  std::ofstream(dir / "config.json") << smollm_135m().dump();
  c = LlamaConfig::load(dir / "config.json");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->num_hidden_layers, 30);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragft
