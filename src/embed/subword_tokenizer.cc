#include "embed/subword_tokenizer.h"

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "embed/bpe_tokenizer.h"
#include "embed/sentencepiece_model.h"

namespace ragft {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "x", {"content": "x", ...} (an AddedToken), or null.
void read_token(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (it->is_string()) {
    out = it->get<std::string>();
  } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    out = (*it)["content"].get<std::string>();
  }
}

void read_bool(const json& j, const char* key, std::optional<bool>& out) {
  auto it = j.find(key);
  if (it != j.end() && it->is_boolean()) out = it->get<bool>();
}

Status merge_json(std::string_view text, std::string_view where, TokenizerConfig& c) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: not valid JSON: {}", where, e.what());
  }
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not a JSON object", where);
  read_token(j, "bos_token", c.bos_token);
  read_token(j, "eos_token", c.eos_token);
  read_token(j, "pad_token", c.pad_token);
  read_token(j, "unk_token", c.unk_token);
  read_bool(j, "add_bos_token", c.add_bos_token);
  read_bool(j, "add_eos_token", c.add_eos_token);
  if (j.contains("clean_up_tokenization_spaces") && j["clean_up_tokenization_spaces"].is_boolean()) {
    c.clean_up_tokenization_spaces = j["clean_up_tokenization_spaces"].get<bool>();
  }
  if (j.contains("chat_template")) {
    const json& t = j["chat_template"];
    if (t.is_string()) {
      c.chat_template = t.get<std::string>();
    } else if (t.is_array()) {
      for (const json& e : t) {
        if (!e.is_object() || !e.contains("template") || !e["template"].is_string()) continue;
        bool is_default = e.value("name", std::string()) == "default";
        if (c.chat_template.empty() || is_default) c.chat_template = e["template"].get<std::string>();
        if (is_default) break;
      }
    }
  }
  return ok_status();
}

}  // namespace

Result<TokenizerConfig> TokenizerConfig::parse(std::string_view json_text, std::string_view where) {
  TokenizerConfig c;
  RAGFT_TRY_STATUS(merge_json(json_text, where, c));
  return c;
}

Result<TokenizerConfig> TokenizerConfig::from_dir(const fs::path& dir) {
  TokenizerConfig c;
  std::error_code ec;
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    fs::path p = dir / name;
    if (!fs::exists(p, ec)) continue;
    RAGFT_TRY(std::string text, Env::posix().read_file(p));
    RAGFT_TRY_STATUS(merge_json(text, p.string(), c));
  }
  return c;
}

Result<std::unique_ptr<SubwordTokenizer>> load_subword_tokenizer(const fs::path& dir) {
  std::error_code ec;
  bool has_json = fs::exists(dir / "tokenizer.json", ec);
  bool has_model = fs::exists(dir / "tokenizer.model", ec);
  if (has_json) {
    auto t = HfBpeTokenizer::from_dir(dir);
    if (t.ok()) return std::unique_ptr<SubwordTokenizer>(std::make_unique<HfBpeTokenizer>(std::move(t).value()));
    if (!has_model || t.error().code != ErrorCode::kUnsupported) return t.take_error();
  }
  if (has_model) {
    RAGFT_TRY(SentencePieceModel m, SentencePieceModel::from_dir(dir));
    return std::unique_ptr<SubwordTokenizer>(std::make_unique<SentencePieceModel>(std::move(m)));
  }
  return make_error(ErrorCode::kNotFound, "{}: no tokenizer.json or tokenizer.model", dir.string());
}

}  // namespace ragft
