#include "generate/llama_config.h"

#include <cmath>
#include <cstdint>

#include "core/env.h"

namespace ragft {

namespace {

using json = nlohmann::json;

const json* field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

Status read_int(const json& j, const char* key, bool required, int& out, std::string_view where) {
  const json* v = field(j, key);
  if (!v) {
    if (required) return make_error(ErrorCode::kCorrupt, "{}: missing field \"{}\"", where, key);
    return ok_status();
  }
  if (!v->is_number_integer() || v->get<std::int64_t>() <= 0 || v->get<std::int64_t>() > (1 << 30)) {
    return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" must be a positive integer, not {}", where, key,
                      v->dump());
  }
  out = v->get<int>();
  return ok_status();
}

Status read_positive(const json& j, const char* key, bool required, double& out, std::string_view where) {
  const json* v = field(j, key);
  if (!v) {
    if (required) return make_error(ErrorCode::kCorrupt, "{}: missing field \"{}\"", where, key);
    return ok_status();
  }
  if (!v->is_number() || !(v->get<double>() > 0) || !std::isfinite(v->get<double>())) {
    return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" must be a positive number, not {}", where, key,
                      v->dump());
  }
  out = v->get<double>();
  return ok_status();
}

Status read_bool(const json& j, const char* key, bool& out, std::string_view where) {
  const json* v = field(j, key);
  if (!v) return ok_status();
  if (!v->is_boolean()) {
    return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" must be true or false, not {}", where, key, v->dump());
  }
  out = v->get<bool>();
  return ok_status();
}

// An integer, a list of integers, or null/absent (empty).
Status read_ids(const json& j, const char* key, std::vector<int>& out, std::string_view where) {
  const json* v = field(j, key);
  if (!v) return ok_status();
  auto one = [&](const json& x) -> Status {
    if (!x.is_number_integer() || x.get<std::int64_t>() < 0 || x.get<std::int64_t>() > (1 << 30)) {
      return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" must be a token id or a list of token ids, not {}",
                        where, key, v->dump());
    }
    out.push_back(x.get<int>());
    return ok_status();
  };
  if (v->is_array()) {
    for (const auto& x : *v) RAGFT_TRY_STATUS(one(x));
    return ok_status();
  }
  return one(*v);
}

Status read_rope_scaling(const json& j, LlamaConfig& c, std::string_view where) {
  const json* rs = field(j, "rope_scaling");
  // transformers 5 writes "rope_parameters": {"rope_type": ..., "rope_theta": ..., ...}.
  const json* rp = field(j, "rope_parameters");
  if (rp && rp->is_object()) {
    if (auto it = rp->find("rope_theta"); it != rp->end()) {
      if (!it->is_number() || !(it->get<double>() > 0)) {
        return make_error(ErrorCode::kCorrupt, "{}: field \"rope_parameters.rope_theta\" must be a positive number",
                          where);
      }
      c.rope_theta = it->get<double>();
    }
    if (!rs) rs = rp;
  }
  if (!rs) return ok_status();
  const std::string name = rs == rp ? "rope_parameters" : "rope_scaling";
  if (!rs->is_object()) {
    return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" must be an object or null, not {}", where, name,
                      rs->dump());
  }
  const json* type = field(*rs, "rope_type");
  if (!type) type = field(*rs, "type");
  if (!type) return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" has no \"rope_type\" (or \"type\")", where, name);
  if (!type->is_string()) {
    return make_error(ErrorCode::kCorrupt, "{}: field \"{}.rope_type\" must be a string", where, name);
  }
  const std::string t = type->get<std::string>();
  RopeScaling& s = c.rope_scaling;
  const std::string where_rs = std::string(where) + ": " + name;
  if (t == "default") {
    s.kind = RopeScalingKind::kNone;
    return ok_status();
  }
  if (t == "linear") {
    s.kind = RopeScalingKind::kLinear;
  } else if (t == "dynamic") {
    s.kind = RopeScalingKind::kDynamic;
  } else if (t == "llama3") {
    s.kind = RopeScalingKind::kLlama3;
  } else {
    return make_error(ErrorCode::kUnsupported,
                      "{}: rope scaling \"{}\" is not supported (linear, dynamic, llama3 or none)", where, t);
  }
  RAGFT_TRY_STATUS(read_positive(*rs, "factor", true, s.factor, where_rs));
  if (s.kind == RopeScalingKind::kLlama3) {
    RAGFT_TRY_STATUS(read_positive(*rs, "low_freq_factor", true, s.low_freq_factor, where_rs));
    RAGFT_TRY_STATUS(read_positive(*rs, "high_freq_factor", true, s.high_freq_factor, where_rs));
    RAGFT_TRY_STATUS(
        read_int(*rs, "original_max_position_embeddings", true, s.original_max_position_embeddings, where_rs));
    if (!(s.high_freq_factor > s.low_freq_factor)) {
      return make_error(ErrorCode::kCorrupt, "{}: high_freq_factor {} must be larger than low_freq_factor {}",
                        where_rs, s.high_freq_factor, s.low_freq_factor);
    }
  }
  if (s.kind == RopeScalingKind::kDynamic && s.factor < 1) {
    return make_error(ErrorCode::kCorrupt, "{}: dynamic scaling needs factor >= 1, not {}", where_rs, s.factor);
  }
  return ok_status();
}

}  // namespace

const char* rope_scaling_name(RopeScalingKind k) {
  switch (k) {
    case RopeScalingKind::kNone: return "none";
    case RopeScalingKind::kLinear: return "linear";
    case RopeScalingKind::kDynamic: return "dynamic";
    case RopeScalingKind::kLlama3: return "llama3";
  }
  return "?";
}

Result<LlamaConfig> LlamaConfig::from_json(const json& j, std::string_view where) {
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not a JSON object", where);
  LlamaConfig c;
  const json* mt = field(j, "model_type");
  if (!mt) {
    return make_error(ErrorCode::kCorrupt, "{}: missing field \"model_type\" (expected llama, mistral or qwen2)",
                      where);
  }
  if (!mt->is_string()) return make_error(ErrorCode::kCorrupt, "{}: field \"model_type\" must be a string", where);
  c.model_type = mt->get<std::string>();
  if (c.model_type != "llama" && c.model_type != "mistral" && c.model_type != "qwen2") {
    return make_error(ErrorCode::kUnsupported,
                      "{}: model_type \"{}\" is not supported (llama, mistral or qwen2: Llama, SmolLM, TinyLlama, "
                      "Mistral, Qwen2.5)",
                      where, c.model_type);
  }
  if (field(j, "quantization_config")) {
    return make_error(ErrorCode::kUnsupported,
                      "{}: quantized checkpoints (\"quantization_config\") are not supported; use the bf16/fp16/fp32 "
                      "release of the model",
                      where);
  }
  c.max_position_embeddings = c.model_type == "mistral" ? 131072 : c.model_type == "qwen2" ? 32768 : 2048;
  RAGFT_TRY_STATUS(read_int(j, "vocab_size", true, c.vocab_size, where));
  RAGFT_TRY_STATUS(read_int(j, "hidden_size", true, c.hidden_size, where));
  RAGFT_TRY_STATUS(read_int(j, "intermediate_size", true, c.intermediate_size, where));
  RAGFT_TRY_STATUS(read_int(j, "num_hidden_layers", true, c.num_hidden_layers, where));
  RAGFT_TRY_STATUS(read_int(j, "num_attention_heads", true, c.num_attention_heads, where));
  c.num_key_value_heads = c.num_attention_heads;
  RAGFT_TRY_STATUS(read_int(j, "num_key_value_heads", false, c.num_key_value_heads, where));
  RAGFT_TRY_STATUS(read_int(j, "head_dim", false, c.head_dim, where));
  RAGFT_TRY_STATUS(read_positive(j, "rms_norm_eps", false, c.rms_norm_eps, where));
  RAGFT_TRY_STATUS(read_positive(j, "rope_theta", false, c.rope_theta, where));
  RAGFT_TRY_STATUS(read_rope_scaling(j, c, where));
  RAGFT_TRY_STATUS(read_int(j, "max_position_embeddings", false, c.max_position_embeddings, where));
  RAGFT_TRY_STATUS(read_bool(j, "tie_word_embeddings", c.tie_word_embeddings, where));
  RAGFT_TRY_STATUS(read_ids(j, "bos_token_id", c.bos_token_ids, where));
  RAGFT_TRY_STATUS(read_ids(j, "eos_token_id", c.eos_token_ids, where));
  if (field(j, "pad_token_id")) {
    std::vector<int> pad;
    RAGFT_TRY_STATUS(read_ids(j, "pad_token_id", pad, where));
    if (pad.size() != 1) return make_error(ErrorCode::kCorrupt, "{}: field \"pad_token_id\" must be one id", where);
    c.pad_token_id = pad[0];
  }
  if (const json* v = field(j, "hidden_act")) {
    if (!v->is_string()) return make_error(ErrorCode::kCorrupt, "{}: field \"hidden_act\" must be a string", where);
    c.hidden_act = v->get<std::string>();
    if (c.hidden_act != "silu") {
      return make_error(ErrorCode::kUnsupported, "{}: hidden_act \"{}\" is not supported (silu only)", where,
                        c.hidden_act);
    }
  }
  bool attention_bias = false;
  RAGFT_TRY_STATUS(read_bool(j, "attention_bias", attention_bias, where));
  RAGFT_TRY_STATUS(read_bool(j, "mlp_bias", c.mlp_bias, where));
  c.qkv_bias = attention_bias || c.model_type == "qwen2";
  c.o_bias = attention_bias && c.model_type != "qwen2";
  if (c.model_type == "qwen2" && attention_bias) {
    c.notes.push_back("attention_bias is ignored for qwen2 (q/k/v always have biases, o_proj never)");
  }

  // Sliding window.
  if (const json* v = field(j, "sliding_window")) {
    if (!v->is_number_integer() || v->get<std::int64_t>() <= 0 || v->get<std::int64_t>() > (1LL << 30)) {
      return make_error(ErrorCode::kCorrupt, "{}: field \"sliding_window\" must be a positive integer or null, not {}",
                        where, v->dump());
    }
    int window = v->get<int>();
    bool use = c.model_type == "mistral";
    if (c.model_type == "qwen2") {
      bool use_sw = false;
      RAGFT_TRY_STATUS(read_bool(j, "use_sliding_window", use_sw, where));
      if (use_sw) {
        return make_error(ErrorCode::kUnsupported,
                          "{}: use_sliding_window=true is not supported for qwen2 (a window on some layers only)",
                          where);
      }
    } else if (c.model_type == "llama") {
      c.notes.push_back("sliding_window is ignored for model_type llama (transformers ignores it too)");
    }
    if (use) {
      if (window >= c.max_context()) {
        c.notes.push_back(fmt::format("sliding_window {} is ignored: it is not smaller than the context of {} tokens",
                                      window, c.max_context()));
      } else {
        c.sliding_window = window;
      }
    }
  }

  // dtype (informative).
  const json* dt = field(j, "torch_dtype");
  if (!dt) dt = field(j, "dtype");
  if (dt) {
    if (!dt->is_string()) return make_error(ErrorCode::kCorrupt, "{}: field \"torch_dtype\" must be a string", where);
    c.torch_dtype = dt->get<std::string>();
    if (c.torch_dtype != "float32" && c.torch_dtype != "bfloat16" && c.torch_dtype != "float16") {
      return make_error(ErrorCode::kUnsupported,
                        "{}: torch_dtype \"{}\" is not supported (float32, bfloat16 or float16)", where,
                        c.torch_dtype);
    }
  }

  // Shapes.
  if (c.head_dim == 0) {
    if (c.hidden_size % c.num_attention_heads != 0) {
      return make_error(ErrorCode::kCorrupt,
                        "{}: hidden_size {} is not a multiple of num_attention_heads {} (and there is no head_dim)",
                        where, c.hidden_size, c.num_attention_heads);
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) {
    return make_error(ErrorCode::kCorrupt, "{}: head_dim {} must be even (rotary embeddings rotate pairs)", where,
                      c.head_dim);
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return make_error(ErrorCode::kCorrupt, "{}: num_attention_heads {} is not a multiple of num_key_value_heads {}",
                      where, c.num_attention_heads, c.num_key_value_heads);
  }
  for (const auto* ids : {&c.bos_token_ids, &c.eos_token_ids}) {
    for (int id : *ids) {
      if (id >= c.vocab_size) {
        return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" holds token id {}, outside the vocabulary of {}",
                          where, ids == &c.bos_token_ids ? "bos_token_id" : "eos_token_id", id, c.vocab_size);
      }
    }
  }
  if (c.pad_token_id >= c.vocab_size) {
    c.notes.push_back(fmt::format("pad_token_id {} is outside the vocabulary and is ignored", c.pad_token_id));
    c.pad_token_id = -1;
  }
  return c;
}

Result<LlamaConfig> LlamaConfig::load(const std::filesystem::path& path) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: not valid JSON: {}", path.string(), e.what());
  }
  return from_json(j, path.string());
}

json LlamaConfig::to_json() const {
  auto ids = [](const std::vector<int>& v) -> json {
    if (v.empty()) return nullptr;
    if (v.size() == 1) return v[0];
    return v;
  };
  json j = {{"model_type", model_type},
            {"architectures", {model_type == "qwen2" ? "Qwen2ForCausalLM"
                               : model_type == "mistral" ? "MistralForCausalLM"
                                                         : "LlamaForCausalLM"}},
            {"vocab_size", vocab_size},
            {"hidden_size", hidden_size},
            {"intermediate_size", intermediate_size},
            {"num_hidden_layers", num_hidden_layers},
            {"num_attention_heads", num_attention_heads},
            {"num_key_value_heads", num_key_value_heads},
            {"head_dim", head_dim},
            {"rms_norm_eps", rms_norm_eps},
            {"rope_theta", rope_theta},
            {"max_position_embeddings", max_position_embeddings},
            {"tie_word_embeddings", tie_word_embeddings},
            {"bos_token_id", ids(bos_token_ids)},
            {"eos_token_id", ids(eos_token_ids)},
            {"hidden_act", hidden_act},
            {"mlp_bias", mlp_bias},
            {"sliding_window", sliding_window > 0 ? json(sliding_window) : json(nullptr)}};
  if (model_type != "qwen2") j["attention_bias"] = qkv_bias;
  if (pad_token_id >= 0) j["pad_token_id"] = pad_token_id;
  if (!torch_dtype.empty()) j["torch_dtype"] = torch_dtype;
  switch (rope_scaling.kind) {
    case RopeScalingKind::kNone:
      j["rope_scaling"] = nullptr;
      break;
    case RopeScalingKind::kLinear:
    case RopeScalingKind::kDynamic:
      j["rope_scaling"] = {{"rope_type", rope_scaling_name(rope_scaling.kind)}, {"factor", rope_scaling.factor}};
      break;
    case RopeScalingKind::kLlama3:
      j["rope_scaling"] = {{"rope_type", "llama3"},
                           {"factor", rope_scaling.factor},
                           {"low_freq_factor", rope_scaling.low_freq_factor},
                           {"high_freq_factor", rope_scaling.high_freq_factor},
                           {"original_max_position_embeddings", rope_scaling.original_max_position_embeddings}};
      break;
  }
  return j;
}

int LlamaConfig::max_context() const {
  if (rope_scaling.kind == RopeScalingKind::kDynamic) {
    double n = std::floor(max_position_embeddings * rope_scaling.factor);
    return n > (1 << 30) ? (1 << 30) : static_cast<int>(n);
  }
  return max_position_embeddings;
}

long long LlamaConfig::parameter_count() const {
  const long long h = hidden_size, inter = intermediate_size, v = vocab_size, hd = head_dim;
  const long long q = num_attention_heads * hd, kv = num_key_value_heads * hd;
  long long layer = h * (q + 2 * kv) + q * h + 3 * h * inter + 2 * h;
  if (qkv_bias) layer += q + 2 * kv;
  if (o_bias) layer += h;
  if (mlp_bias) layer += 2 * inter + h;
  long long n = v * h + num_hidden_layers * layer + h;
  if (!tie_word_embeddings) n += v * h;
  return n;
}

}  // namespace ragft
