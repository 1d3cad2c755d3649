#include "generate/lora.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "core/check.h"
#include "core/config_string.h"
#include "core/env.h"
#include "embed/safetensors.h"
#include "embed/subword_tokenizer.h"
#include "generate/chat_format.h"
#include "train/neural_backend.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPeftPrefix = "base_model.model.";

bool is_attention(std::string_view target) {
  return target == "q_proj" || target == "k_proj" || target == "v_proj" || target == "o_proj";
}

std::string_view trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// The assistant's turn as the format writes it after the generation prompt, end-of-turn included.
std::string assistant_turn(ChatFormat f, std::string_view content, std::string_view eos) {
  switch (f) {
    case ChatFormat::kChatMl: return fmt::format("{}<|im_end|>", content);
    case ChatFormat::kLlama3: return fmt::format("{}<|eot_id|>", trim(content));
    case ChatFormat::kLlama2: return fmt::format(" {} {}", trim(content), eos);
    case ChatFormat::kMistral: return fmt::format("{}{}", content, eos);
  }
  return std::string(content);
}

std::string shape_str(std::int64_t a, std::int64_t b) { return fmt::format("[{}, {}]", a, b); }

Result<ChatRole> parse_role(std::string_view r) {
  if (r == "system") return ChatRole::kSystem;
  if (r == "user") return ChatRole::kUser;
  if (r == "assistant") return ChatRole::kAssistant;
  return make_error(ErrorCode::kInvalidArgument, "role \"{}\" is not system, user or assistant", r);
}

// The weight files of a checkpoint: model.safetensors, or the shards named by the index.
Result<std::vector<fs::path>> weight_files(const fs::path& dir) {
  std::error_code ec;
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index, ec)) {
    RAGFT_TRY(std::string text, Env::posix().read_file(index));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
      return make_error(ErrorCode::kCorrupt, "{}: missing object \"weight_map\"", index.string());
    }
    std::set<std::string> files;
    for (const auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string()) return make_error(ErrorCode::kCorrupt, "{}: weight_map[\"{}\"] must be a file name", index.string(), name);
      const std::string f = file.get<std::string>();
      if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..") {
        return make_error(ErrorCode::kCorrupt, "{}: weight_map[\"{}\"] = \"{}\" is not a file name", index.string(), name, f);
      }
      files.insert(f);
    }
    std::vector<fs::path> out;
    for (const auto& f : files) out.push_back(dir / f);
    return out;
  }
  if (!fs::exists(dir / "model.safetensors", ec)) {
    return make_error(ErrorCode::kNotFound, "{}: no model.safetensors or model.safetensors.index.json", dir.string());
  }
  return std::vector<fs::path>{dir / "model.safetensors"};
}

Result<TensorData> to_dtype(DType d, const std::vector<std::int64_t>& shape, const std::vector<float>& v) {
  if (d == DType::kF32 || d == DType::kF64) return TensorData::from_f32(shape, v.data(), v.size());
  if (d != DType::kBF16 && d != DType::kF16) return make_error(ErrorCode::kUnsupported, "dtype {} cannot be merged into", dtype_name(d));
  TensorData t;
  t.dtype = d;
  t.shape = shape;
  t.bytes.resize(v.size() * 2);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::uint16_t u = d == DType::kBF16 ? f32_to_bf16(v[i]) : f32_to_f16(v[i]);
    std::memcpy(t.bytes.data() + 2 * i, &u, 2);
  }
  return t;
}

}  // namespace

// ---- LoraOptions ----

std::string LoraOptions::to_config() const {
  std::string t;
  for (const auto& x : targets) t += (t.empty() ? "" : "+") + x;
  return fmt::format(
      "lora:rank={},alpha={},dropout={},targets={},lr={},weight_decay={},epochs={},batch={},accum={},warmup={},"
      "min_lr_ratio={},patience={},eval_steps={},max_length={},clip={},seed={},threads={},format={}",
      rank, alpha, dropout, t, lr, weight_decay, epochs, batch, accum, warmup, min_lr_ratio, patience, eval_steps,
      max_length, clip, seed, threads, format);
}

Result<LoraOptions> LoraOptions::parse(std::string_view config) {
  LoraOptions o;
  RAGFT_TRY(auto items, config_items(config, "lora"));
  constexpr std::string_view k = "lora";
  for (const auto& [key, value] : items) {
    if (key == "rank") {
      RAGFT_TRY(long long v, config_int(k, key, value, 1, 1024));
      o.rank = static_cast<int>(v);
    } else if (key == "alpha") {
      RAGFT_TRY(o.alpha, config_double(k, key, value, 1e-6, 1e6));
    } else if (key == "dropout") {
      RAGFT_TRY(o.dropout, config_double(k, key, value, 0, 0.99));
    } else if (key == "targets") {
      std::set<std::string> want;
      std::size_t i = 0;
      while (i <= value.size()) {
        std::size_t j = value.find('+', i);
        if (j == std::string::npos) j = value.size();
        const std::string t = value.substr(i, j - i);
        if (std::find(kLoraTargets.begin(), kLoraTargets.end(), t) == kLoraTargets.end()) {
          return make_error(ErrorCode::kInvalidArgument,
                            "lora option targets: \"{}\" is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, "
                            "up_proj, down_proj (join several with '+')",
                            t);
        }
        want.insert(t);
        i = j + 1;
      }
      o.targets.clear();
      for (auto t : kLoraTargets) {
        if (want.count(std::string(t))) o.targets.emplace_back(t);
      }
    } else if (key == "lr") {
      RAGFT_TRY(o.lr, config_double(k, key, value, 1e-9, 1));
    } else if (key == "weight_decay") {
      RAGFT_TRY(o.weight_decay, config_double(k, key, value, 0, 10));
    } else if (key == "epochs") {
      RAGFT_TRY(long long v, config_int(k, key, value, 1, 10000));
      o.epochs = static_cast<int>(v);
    } else if (key == "batch") {
      RAGFT_TRY(long long v, config_int(k, key, value, 1, 4096));
      o.batch = static_cast<int>(v);
    } else if (key == "accum") {
      RAGFT_TRY(long long v, config_int(k, key, value, 1, 4096));
      o.accum = static_cast<int>(v);
    } else if (key == "warmup") {
      RAGFT_TRY(o.warmup, config_double(k, key, value, 0, 1));
    } else if (key == "min_lr_ratio") {
      RAGFT_TRY(o.min_lr_ratio, config_double(k, key, value, 0, 1));
    } else if (key == "patience") {
      RAGFT_TRY(long long v, config_int(k, key, value, 1, 1000000));
      o.patience = static_cast<int>(v);
    } else if (key == "eval_steps") {
      RAGFT_TRY(long long v, config_int(k, key, value, 0, 100000000));
      o.eval_steps = static_cast<int>(v);
    } else if (key == "max_length") {
      RAGFT_TRY(long long v, config_int(k, key, value, 2, 1 << 20));
      o.max_length = static_cast<int>(v);
    } else if (key == "clip") {
      RAGFT_TRY(o.clip, config_double(k, key, value, 0, 1e6));
    } else if (key == "seed") {
      RAGFT_TRY(long long v, config_int(k, key, value, 0, std::numeric_limits<long long>::max()));
      o.seed = static_cast<std::uint64_t>(v);
    } else if (key == "threads") {
      RAGFT_TRY(long long v, config_int(k, key, value, 0, 1024));
      o.threads = static_cast<int>(v);
    } else if (key == "format") {
      if (value != "auto") {
        auto f = parse_chat_format(value);
        if (!f.ok()) return make_error(ErrorCode::kInvalidArgument, "lora option format: {}", f.error().message);
      }
      o.format = value;
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "lora config: unknown key \"{}\" (rank, alpha, dropout, targets, lr, weight_decay, epochs, "
                        "batch, accum, warmup, min_lr_ratio, patience, eval_steps, max_length, clip, seed, threads, "
                        "format)",
                        key);
    }
  }
  return o;
}

// ---- Chat JSONL ----

Result<std::vector<ChatExample>> read_chat_jsonl(const fs::path& path) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  std::vector<ChatExample> out;
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = trim(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", path.string(), line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kInvalidArgument, "{}: not valid JSON: {}", where, e.what());
    }
    auto msgs = j.is_object() ? j.find("messages") : j.end();
    if (!j.is_object() || msgs == j.end() || !msgs->is_array() || msgs->empty()) {
      return make_error(ErrorCode::kInvalidArgument, "{}: expected {{\"messages\": [...]}} with at least one message",
                        where);
    }
    ChatExample ex;
    bool user = false;
    for (std::size_t i = 0; i < msgs->size(); ++i) {
      const auto& m = (*msgs)[i];
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
        return make_error(ErrorCode::kInvalidArgument, "{}: message {} has no string \"role\"", where, i + 1);
      }
      auto role = parse_role(m["role"].get<std::string>());
      if (!role.ok()) return make_error(ErrorCode::kInvalidArgument, "{}: message {}: {}", where, i + 1, role.error().message);
      if (!m.contains("content") || !m["content"].is_string()) {
        return make_error(ErrorCode::kInvalidArgument, "{}: message {} has no string \"content\"", where, i + 1);
      }
      bool weight = *role == ChatRole::kAssistant;
      if (m.contains("weight")) {
        const auto& w = m["weight"];
        if (*role != ChatRole::kAssistant) {
          return make_error(ErrorCode::kInvalidArgument, "{}: message {}: only assistant messages take a \"weight\"", where, i + 1);
        }
        if (!w.is_number_integer() || (w.get<long long>() != 0 && w.get<long long>() != 1)) {
          return make_error(ErrorCode::kInvalidArgument, "{}: message {}: \"weight\" must be 0 or 1", where, i + 1);
        }
        weight = w.get<long long>() == 1;
      }
      user = user || *role == ChatRole::kUser;
      ex.messages.push_back({*role, m["content"].get<std::string>()});
      ex.weight.push_back(weight);
    }
    if (ex.messages.back().role != ChatRole::kAssistant) {
      return make_error(ErrorCode::kInvalidArgument, "{}: the last message must be the assistant's (the answer to train on)", where);
    }
    if (!user) return make_error(ErrorCode::kInvalidArgument, "{}: the example has no user message", where);
    out.push_back(std::move(ex));
  }
  if (out.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: no examples", path.string());
  return out;
}

std::string chat_example_to_jsonl(const ChatExample& e) {
  nlohmann::json messages = nlohmann::json::array();
  for (std::size_t i = 0; i < e.messages.size(); ++i) {
    nlohmann::json m = {{"role", chat_role_name(e.messages[i].role)}, {"content", e.messages[i].content}};
    if (e.messages[i].role == ChatRole::kAssistant && i < e.weight.size() && !e.weight[i]) m["weight"] = 0;
    messages.push_back(std::move(m));
  }
  return nlohmann::json{{"messages", messages}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- Tokenization ----

Result<LoraData> tokenize_chat_examples(const ChatTemplate& t, const std::vector<ChatExample>& examples,
                                        int max_length) {
  LoraData data;
  for (std::size_t n = 0; n < examples.size(); ++n) {
    const ChatExample& e = examples[n];
    LoraSequence seq;
    std::string consumed;  // the text rendered so far
    auto add = [&](std::string_view text, bool target) {
      for (std::int32_t id : t.tokenizer->encode(text, /*add_special_tokens=*/false)) {
        seq.ids.push_back(id);
        seq.target.push_back(target ? 1 : 0);
      }
      consumed += text;
    };
    bool any = false;
    for (std::size_t i = 0; i < e.messages.size(); ++i) {
      if (e.messages[i].role != ChatRole::kAssistant) continue;
      std::vector<ChatMessage> before(e.messages.begin(), e.messages.begin() + static_cast<std::ptrdiff_t>(i));
      auto prompt = render_chat(t.format, before, t.bos, t.eos);
      if (!prompt.ok()) {
        return make_error(ErrorCode::kInvalidArgument, "example {}: {}", n + 1, prompt.error().message);
      }
      if (!prompt->starts_with(consumed)) {
        return make_error(ErrorCode::kInternal, "example {}: the {} rendering of turn {} does not extend the earlier turns",
                          n + 1, chat_format_name(t.format), i + 1);
      }
      add(std::string_view(*prompt).substr(consumed.size()), false);
      const bool w = i < e.weight.size() ? e.weight[i] : true;
      add(assistant_turn(t.format, e.messages[i].content, t.eos), w);
      any = any || w;
    }
    if (!any) {
      ++data.dropped_no_target;
    } else if (seq.ids.size() > static_cast<std::size_t>(max_length)) {
      ++data.dropped_too_long;
    } else {
      data.sequences.push_back(std::move(seq));
    }
  }
  return data;
}

// ---- Report ----

nlohmann::json LoraReport::to_json() const {
  nlohmann::json h = nlohmann::json::array();
  for (const auto& e : history) {
    h.push_back({{"step", e.step}, {"epoch", e.epoch}, {"train_loss", e.train_loss}, {"val_loss", e.val_loss},
                 {"lr", e.lr}, {"seconds", e.seconds}});
  }
  return {{"format", "ragft-lora-report"},
          {"version", 1},
          {"base", base},
          {"config", config},
          {"train_examples", train_examples},
          {"validation_examples", validation_examples},
          {"dropped_too_long", dropped_too_long},
          {"dropped_no_target", dropped_no_target},
          {"steps", steps},
          {"epochs_run", epochs_run},
          {"train_loss", train_loss},
          {"best_val_loss", best_val_loss},
          {"best_step", best_step},
          {"early_stopped", early_stopped},
          {"tokens", tokens},
          {"target_tokens", target_tokens},
          {"tokens_per_second", tokens_per_second},
          {"seconds", seconds},
          {"trainable_parameters", trainable_parameters},
          {"history", h}};
}

// ---- Adapters ----

std::string lora_module(int layer, std::string_view target) {
  return fmt::format("model.layers.{}.{}.{}", layer, is_attention(target) ? "self_attn" : "mlp", target);
}

std::pair<std::int64_t, std::int64_t> lora_target_shape(const LlamaConfig& c, std::string_view t) {
  const std::int64_t h = c.hidden_size, q = static_cast<std::int64_t>(c.num_attention_heads) * c.head_dim,
                     kv = static_cast<std::int64_t>(c.num_key_value_heads) * c.head_dim, inter = c.intermediate_size;
  if (t == "q_proj") return {q, h};
  if (t == "k_proj" || t == "v_proj") return {kv, h};
  if (t == "o_proj") return {h, q};
  if (t == "gate_proj" || t == "up_proj") return {inter, h};
  if (t == "down_proj") return {h, inter};
  RAGFT_CHECK(false);
  return {0, 0};
}

Status LoraAdapter::save(const fs::path& dir) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kIo, "{}: cannot create the directory: {}", dir.string(), ec.message());
  nlohmann::json cfg = {{"peft_type", "LORA"},
                        {"task_type", "CAUSAL_LM"},
                        {"r", rank},
                        {"lora_alpha", alpha},
                        {"lora_dropout", dropout},
                        {"target_modules", targets},
                        {"bias", "none"},
                        {"base_model_name_or_path", base},
                        {"fan_in_fan_out", false},
                        {"inference_mode", true},
                        {"init_lora_weights", true},
                        {"use_rslora", false},
                        {"use_dora", false},
                        {"modules_to_save", nullptr},
                        {"layers_to_transform", nullptr},
                        {"rank_pattern", nlohmann::json::object()},
                        {"alpha_pattern", nlohmann::json::object()},
                        {"revision", nullptr}};
  std::map<std::string, TensorData> tensors;
  for (const auto& [module, p] : weights) {
    const std::string name = std::string(kPeftPrefix) + module;
    tensors[name + ".lora_A.weight"] = TensorData::from_f32({rank, p.in}, p.a.data(), p.a.size());
    tensors[name + ".lora_B.weight"] = TensorData::from_f32({p.out, rank}, p.b.data(), p.b.size());
  }
  RAGFT_TRY_STATUS(write_safetensors(dir / "adapter_model.safetensors", tensors, {{"format", "pt"}}));
  return Env::posix().write_file_atomic(dir / "adapter_config.json", cfg.dump(2) + "\n");
}

Result<LoraAdapter> LoraAdapter::load(const fs::path& dir) {
  const fs::path cfg_path = dir / "adapter_config.json";
  RAGFT_TRY(std::string text, Env::posix().read_file(cfg_path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not a JSON object", cfg_path.string());
  const std::string where = cfg_path.string();
  LoraAdapter a;
  if (j.value("peft_type", std::string()) != "LORA") {
    return make_error(ErrorCode::kUnsupported, "{}: peft_type is \"{}\", only LORA adapters are read", where,
                      j.value("peft_type", std::string()));
  }
  if (!j.contains("r") || !j["r"].is_number_integer() || j["r"].get<long long>() < 1) {
    return make_error(ErrorCode::kCorrupt, "{}: \"r\" must be a positive integer", where);
  }
  a.rank = j["r"].get<int>();
  if (j.contains("lora_alpha") && !j["lora_alpha"].is_number()) {
    return make_error(ErrorCode::kCorrupt, "{}: \"lora_alpha\" must be a number", where);
  }
  a.alpha = j.value("lora_alpha", 8.0);
  a.dropout = j.contains("lora_dropout") && j["lora_dropout"].is_number() ? j["lora_dropout"].get<double>() : 0.0;
  a.base = j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string()
               ? j["base_model_name_or_path"].get<std::string>()
               : std::string();
  auto flag = [&](const char* k) { return j.contains(k) && j[k].is_boolean() && j[k].get<bool>(); };
  if (flag("use_dora") || flag("fan_in_fan_out") || flag("use_rslora")) {
    return make_error(ErrorCode::kUnsupported, "{}: use_dora, use_rslora and fan_in_fan_out adapters are not supported", where);
  }
  if (j.contains("bias") && j["bias"] != "none") {
    return make_error(ErrorCode::kUnsupported, "{}: bias \"{}\" is not supported (only \"none\")", where, j["bias"].dump());
  }
  for (const char* k : {"rank_pattern", "alpha_pattern"}) {
    if (j.contains(k) && j[k].is_object() && !j[k].empty()) {
      return make_error(ErrorCode::kUnsupported, "{}: per-module ranks ({}) are not supported", where, k);
    }
  }
  const fs::path st = dir / "adapter_model.safetensors";
  std::error_code ec;
  if (!fs::exists(st, ec)) {
    if (fs::exists(dir / "adapter_model.bin", ec)) {
      return make_error(ErrorCode::kUnsupported, "{}: only adapter_model.safetensors is read, not adapter_model.bin", dir.string());
    }
    return make_error(ErrorCode::kNotFound, "{}: no adapter_model.safetensors", dir.string());
  }
  RAGFT_TRY(SafetensorsFile f, SafetensorsFile::open(st));
  std::set<std::string> targets;
  for (const auto& [name, view] : f.tensors()) {
    std::string_view n = name;
    const bool is_a = n.ends_with(".lora_A.weight"), is_b = n.ends_with(".lora_B.weight");
    if (!n.starts_with(kPeftPrefix) || (!is_a && !is_b)) {
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" is not a LoRA A/B weight of the model ({}<module>.lora_A.weight)",
                        st.string(), name, kPeftPrefix);
    }
    const std::string module(n.substr(kPeftPrefix.size(), n.size() - kPeftPrefix.size() - std::string_view(".lora_A.weight").size()));
    // model.layers.{i}.(self_attn|mlp).{target}
    int layer = -1;
    char part[16] = {0}, target[16] = {0};
    const bool parsed = std::sscanf(module.c_str(), "model.layers.%d.%15[a-z_].%15[a-z_]", &layer, part, target) == 3;
    if (!parsed || layer < 0 || std::find(kLoraTargets.begin(), kLoraTargets.end(), std::string_view(target)) == kLoraTargets.end() ||
        lora_module(layer, target) != module) {
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" does not adapt one of the seven projections of a layer",
                        st.string(), name);
    }
    if (view.shape.size() != 2) return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" is not a matrix", st.string(), name);
    auto values = to_f32(view);
    if (!values.ok()) return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": {}", st.string(), name, values.error().message);
    Pair& p = a.weights[module];
    if (is_a) {
      if (view.shape[0] != a.rank) {
        return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" has shape {}, r={} needs [{}, in]", st.string(), name,
                          shape_str(view.shape[0], view.shape[1]), a.rank, a.rank);
      }
      p.in = view.shape[1];
      p.a = std::move(*values);
    } else {
      if (view.shape[1] != a.rank) {
        return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" has shape {}, r={} needs [out, {}]", st.string(), name,
                          shape_str(view.shape[0], view.shape[1]), a.rank, a.rank);
      }
      p.out = view.shape[0];
      p.b = std::move(*values);
    }
    targets.insert(target);
  }
  for (const auto& [module, p] : a.weights) {
    if (p.a.empty() || p.b.empty()) {
      return make_error(ErrorCode::kCorrupt, "{}: \"{}{}\" has only its lora_{} weight", st.string(), kPeftPrefix, module,
                        p.a.empty() ? "B" : "A");
    }
  }
  if (a.weights.empty()) return make_error(ErrorCode::kCorrupt, "{}: holds no LoRA weights", st.string());
  for (auto t : kLoraTargets) {
    if (targets.count(std::string(t))) a.targets.emplace_back(t);
  }
  return a;
}

Status LoraAdapter::check(const LlamaConfig& c) const {
  for (const auto& [module, p] : weights) {
    int layer = -1;
    char part[16] = {0}, target[16] = {0};
    std::sscanf(module.c_str(), "model.layers.%d.%15[a-z_].%15[a-z_]", &layer, part, target);
    const std::string name = std::string(kPeftPrefix) + module;
    if (layer < 0 || layer >= c.num_hidden_layers) {
      return make_error(ErrorCode::kCorrupt, "adapter tensor \"{}.lora_A.weight\": the model has {} layers", name,
                        c.num_hidden_layers);
    }
    const auto [out, in] = lora_target_shape(c, target);
    if (p.in != in) {
      return make_error(ErrorCode::kCorrupt, "adapter tensor \"{}.lora_A.weight\" has shape {}, the model needs {}", name,
                        shape_str(rank, p.in), shape_str(rank, in));
    }
    if (p.out != out) {
      return make_error(ErrorCode::kCorrupt, "adapter tensor \"{}.lora_B.weight\" has shape {}, the model needs {}", name,
                        shape_str(p.out, rank), shape_str(out, rank));
    }
  }
  return ok_status();
}

Status merge_lora_to_disk(const fs::path& base, const fs::path& adapter_dir, const fs::path& out) {
  std::error_code ec;
  if (fs::exists(out, ec) && fs::equivalent(out, base, ec)) {
    return make_error(ErrorCode::kInvalidArgument, "merge: the output {} is the base checkpoint's directory", out.string());
  }
  RAGFT_TRY(LlamaConfig config, LlamaConfig::load(base / "config.json"));
  RAGFT_TRY(LoraAdapter adapter, LoraAdapter::load(adapter_dir));
  RAGFT_TRY_STATUS(adapter.check(config));
  RAGFT_TRY(std::vector<fs::path> files, weight_files(base));
  std::map<std::string, TensorData> merged;
  std::size_t applied = 0;
  const auto scale = static_cast<float>(adapter.scale());
  for (const auto& file : files) {
    RAGFT_TRY(SafetensorsFile f, SafetensorsFile::open(file));
    for (const auto& [name, view] : f.tensors()) {
      const std::string module = name.ends_with(".weight") ? name.substr(0, name.size() - 7) : std::string();
      auto it = adapter.weights.find(module);
      if (it == adapter.weights.end()) {
        TensorData t;
        t.dtype = view.dtype;
        t.shape = view.shape;
        t.bytes.assign(view.bytes.begin(), view.bytes.end());
        merged[name] = std::move(t);
        continue;
      }
      const LoraAdapter::Pair& p = it->second;
      if (view.shape != std::vector<std::int64_t>{p.out, p.in}) {
        return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" has shape {}, the adapter needs {}", file.string(), name,
                          view.shape.size() == 2 ? shape_str(view.shape[0], view.shape[1]) : "not 2-D",
                          shape_str(p.out, p.in));
      }
      auto w = to_f32(view);
      if (!w.ok()) return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": {}", file.string(), name, w.error().message);
      for (std::int64_t o = 0; o < p.out; ++o) {
        float* row = w->data() + o * p.in;
        for (int k = 0; k < adapter.rank; ++k) {
          const float b = scale * p.b[static_cast<std::size_t>(o * adapter.rank + k)];
          const float* a = p.a.data() + static_cast<std::size_t>(k) * p.in;
          for (std::int64_t i = 0; i < p.in; ++i) row[i] += b * a[i];
        }
      }
      RAGFT_TRY(merged[name], to_dtype(view.dtype, view.shape, *w));
      ++applied;
    }
  }
  if (applied != adapter.weights.size()) {
    for (const auto& [module, p] : adapter.weights) {
      if (!merged.count(module + ".weight")) {
        return make_error(ErrorCode::kCorrupt, "merge: the base checkpoint has no \"{}.weight\" for adapter tensor \"{}{}.lora_A.weight\"",
                          module, kPeftPrefix, module);
      }
    }
  }
  fs::create_directories(out, ec);
  if (ec) return make_error(ErrorCode::kIo, "{}: cannot create the directory: {}", out.string(), ec.message());
  RAGFT_TRY_STATUS(write_safetensors(out / "model.safetensors", merged, {{"format", "pt"}}));
  fs::remove(out / "model.safetensors.index.json", ec);  // a stale index would shadow the merged file
  for (const char* name : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                           "tokenizer.model", "special_tokens_map.json", "chat_template.jinja", "vocab.json",
                           "merges.txt"}) {
    if (!fs::exists(base / name, ec)) continue;
    fs::copy_file(base / name, out / name, fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error(ErrorCode::kIo, "merge: copying {} to {}: {}", (base / name).string(), out.string(), ec.message());
  }
  return ok_status();
}

// ---- The whole run ----

Result<LoraReport> train_generate(const TrainGenerateRequest& r) {
  const auto t0 = std::chrono::steady_clock::now();
  RAGFT_TRY(std::vector<ChatExample> train, read_chat_jsonl(r.train));
  std::vector<ChatExample> validation;
  if (!r.validation.empty()) {
    RAGFT_TRY(validation, read_chat_jsonl(r.validation));
  } else if (r.validation_share > 0) {
    if (r.validation_share >= 1) {
      return make_error(ErrorCode::kInvalidArgument, "validation share {} must be below 1", r.validation_share);
    }
    std::vector<std::size_t> order(train.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(r.options.seed);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(rng() % i)]);
    const auto n_val = std::min(train.size() - 1, std::max<std::size_t>(1, static_cast<std::size_t>(
                                                                                r.validation_share * static_cast<double>(train.size()) + 0.5)));
    std::vector<ChatExample> kept;
    std::vector<bool> is_val(train.size(), false);
    for (std::size_t i = 0; i < n_val; ++i) is_val[order[i]] = true;
    for (std::size_t i = 0; i < train.size(); ++i) (is_val[i] ? validation : kept).push_back(std::move(train[i]));
    train = std::move(kept);
  }
  RAGFT_TRY(LoraReport report, train_lora_examples(r, train, validation, r.train.string()));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RAGFT_TRY_STATUS(Env::posix().write_file_atomic(r.out / "lora_report.json", report.to_json().dump(2) + "\n"));
  return report;
}

Result<LoraReport> train_lora_examples(const TrainGenerateRequest& r, const std::vector<ChatExample>& train,
                                       const std::vector<ChatExample>& validation, std::string_view origin) {
  const auto t0 = std::chrono::steady_clock::now();
  RAGFT_TRY(ChatTemplate tmpl, load_chat_template(r.base, r.options.format));
  RAGFT_TRY(LoraData td, tokenize_chat_examples(tmpl, train, r.options.max_length));
  RAGFT_TRY(LoraData vd, tokenize_chat_examples(tmpl, validation, r.options.max_length));
  if (td.sequences.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: no training example left ({} longer than max_length={}, {} without a weighted assistant turn)",
                      origin, td.dropped_too_long, r.options.max_length, td.dropped_no_target);
  }
  RAGFT_TRY(const NeuralBackend* backend, neural_backend());
  LoraTrainJob job;
  job.base = r.base;
  job.out = r.out;
  job.train = std::move(td.sequences);
  job.validation = std::move(vd.sequences);
  job.options = r.options;
  job.on_step = r.on_step;
  job.progress = r.progress;
  const std::size_t n_train = job.train.size(), n_val = job.validation.size();
  RAGFT_TRY(LoraReport report, backend->train_lora(job));
  report.train_examples = n_train;
  report.validation_examples = n_val;
  report.dropped_too_long = td.dropped_too_long + vd.dropped_too_long;
  report.dropped_no_target = td.dropped_no_target + vd.dropped_no_target;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace ragft
