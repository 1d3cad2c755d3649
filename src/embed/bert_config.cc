#include "embed/bert_config.h"

#include "core/env.h"

namespace ragft {

namespace {

Status read_int(const nlohmann::json& j, const char* key, bool required, int& out, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return make_error(ErrorCode::kCorrupt, "{}: missing field \"{}\"", where, key);
    return ok_status();
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0 || it->get<std::int64_t>() > (1 << 30)) {
    return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" must be a positive integer", where, key);
  }
  out = it->get<int>();
  return ok_status();
}

Status read_double(const nlohmann::json& j, const char* key, double& out, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return ok_status();
  if (!it->is_number() || it->get<double>() < 0) {
    return make_error(ErrorCode::kCorrupt, "{}: field \"{}\" must be a non-negative number", where, key);
  }
  out = it->get<double>();
  return ok_status();
}

}  // namespace

Result<BertConfig> BertConfig::from_json(const nlohmann::json& j, std::string_view where) {
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not a JSON object", where);
  BertConfig c;
  if (auto it = j.find("model_type"); it != j.end()) {
    if (!it->is_string()) return make_error(ErrorCode::kCorrupt, "{}: field \"model_type\" must be a string", where);
    c.model_type = it->get<std::string>();
    if (c.model_type != "bert" && c.model_type != "roberta" && c.model_type != "xlm-roberta") {
      return make_error(ErrorCode::kUnsupported,
                        "{}: model_type \"{}\" is not supported (bert: BERT, MiniLM, BGE, E5...; roberta, "
                        "xlm-roberta)",
                        where, c.model_type);
    }
  }
  RAGFT_TRY_STATUS(read_int(j, "vocab_size", true, c.vocab_size, where));
  RAGFT_TRY_STATUS(read_int(j, "hidden_size", true, c.hidden_size, where));
  RAGFT_TRY_STATUS(read_int(j, "num_hidden_layers", true, c.num_hidden_layers, where));
  RAGFT_TRY_STATUS(read_int(j, "num_attention_heads", true, c.num_attention_heads, where));
  RAGFT_TRY_STATUS(read_int(j, "intermediate_size", true, c.intermediate_size, where));
  RAGFT_TRY_STATUS(read_int(j, "max_position_embeddings", false, c.max_position_embeddings, where));
  RAGFT_TRY_STATUS(read_int(j, "type_vocab_size", false, c.type_vocab_size, where));
  RAGFT_TRY_STATUS(read_double(j, "layer_norm_eps", c.layer_norm_eps, where));
  RAGFT_TRY_STATUS(read_double(j, "hidden_dropout_prob", c.hidden_dropout_prob, where));
  RAGFT_TRY_STATUS(read_double(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, where));
  if (auto it = j.find("pad_token_id"); it != j.end() && it->is_number_integer()) c.pad_token_id = it->get<int>();
  if (auto it = j.find("hidden_act"); it != j.end()) {
    if (!it->is_string()) return make_error(ErrorCode::kCorrupt, "{}: field \"hidden_act\" must be a string", where);
    c.hidden_act = it->get<std::string>();
    if (c.hidden_act != "gelu" && c.hidden_act != "gelu_new" && c.hidden_act != "gelu_pytorch_tanh" &&
        c.hidden_act != "relu") {
      return make_error(ErrorCode::kUnsupported,
                        "{}: hidden_act \"{}\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)", where,
                        c.hidden_act);
    }
  }
  if (auto it = j.find("position_embedding_type"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>() != "absolute") {
      return make_error(ErrorCode::kUnsupported, "{}: position_embedding_type {} is not supported (absolute only)",
                        where, it->dump());
    }
  }
  if (c.hidden_size % c.num_attention_heads != 0) {
    return make_error(ErrorCode::kCorrupt, "{}: hidden_size {} is not a multiple of num_attention_heads {}", where,
                      c.hidden_size, c.num_attention_heads);
  }
  if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size) {
    return make_error(ErrorCode::kCorrupt, "{}: pad_token_id {} is outside the vocabulary", where, c.pad_token_id);
  }
  if (c.max_positions() < 2) {
    return make_error(ErrorCode::kCorrupt, "{}: max_position_embeddings {} leaves no room after RoBERTa's offset {}",
                      where, c.max_position_embeddings, c.position_offset());
  }
  return c;
}

Result<BertConfig> BertConfig::load(const std::filesystem::path& path) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: not valid JSON: {}", path.string(), e.what());
  }
  return from_json(j, path.string());
}

nlohmann::json BertConfig::to_json() const {
  return {{"model_type", model_type},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"intermediate_size", intermediate_size},
          {"max_position_embeddings", max_position_embeddings},
          {"type_vocab_size", type_vocab_size},
          {"layer_norm_eps", layer_norm_eps},
          {"hidden_act", hidden_act},
          {"hidden_dropout_prob", hidden_dropout_prob},
          {"attention_probs_dropout_prob", attention_probs_dropout_prob},
          {"pad_token_id", pad_token_id},
          {"position_embedding_type", "absolute"},
          {"architectures", {"BertModel"}}};
}

}  // namespace ragft
