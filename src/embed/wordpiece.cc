#include "embed/wordpiece.h"

#include <utf8proc.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/env.h"
#include "core/utf8.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

bool is_whitespace(utf8proc_int32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

bool is_control(utf8proc_int32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(utf8proc_int32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// The CJK Unified Ideographs blocks, as BERT defines "Chinese characters".
bool is_cjk(utf8proc_int32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void append_utf8(std::string& s, utf8proc_int32_t cp) {
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t n = utf8proc_encode_char(cp, buf);
  s.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

// Decodes valid UTF-8 (callers sanitise first) into code points.
std::vector<utf8proc_int32_t> code_points(std::string_view s) {
  std::vector<utf8proc_int32_t> cps;
  cps.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                          static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) {  // not reached for sanitised input
      cp = 0xFFFD;
      n = 1;
    }
    cps.push_back(cp);
    i += static_cast<std::size_t>(n);
  }
  return cps;
}

// NFD, then the combining marks (Mn) dropped.
std::vector<utf8proc_int32_t> strip_accents(const std::vector<utf8proc_int32_t>& word) {
  std::vector<utf8proc_int32_t> out;
  out.reserve(word.size());
  utf8proc_int32_t buf[32];
  for (utf8proc_int32_t cp : word) {
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, 32, UTF8PROC_DECOMPOSE, &last);
    if (n < 0 || n > 32) {
      out.push_back(cp);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      if (utf8proc_category(buf[k]) != UTF8PROC_CATEGORY_MN) out.push_back(buf[k]);
    }
  }
  return out;
}

Result<nlohmann::json> read_json(const fs::path& path) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: not valid JSON: {}", path.string(), e.what());
  }
}

// A special-token entry of tokenizer_config.json: "x" or {"content": "x", ...}.
void read_token(const nlohmann::json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (it->is_string()) {
    out = it->get<std::string>();
  } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    out = (*it)["content"].get<std::string>();
  }
}

}  // namespace

Result<WordPieceTokenizer> WordPieceTokenizer::create(std::vector<std::string> vocab, WordPieceOptions options) {
  WordPieceTokenizer t;
  t.ids_.reserve(vocab.size());
  // A token listed twice maps to its last line, as in Hugging Face's load_vocab.
  for (std::size_t i = 0; i < vocab.size(); ++i) t.ids_[vocab[i]] = static_cast<std::int32_t>(i);
  t.vocab_ = std::move(vocab);
  t.options_ = std::move(options);
  t.strip_accents_ = t.options_.strip_accents.value_or(t.options_.lowercase);
  t.unk_ = t.id(t.options_.unk_token);
  if (t.unk_ < 0) {
    return make_error(ErrorCode::kInvalidArgument, "vocabulary lacks the unknown token \"{}\"", t.options_.unk_token);
  }
  t.cls_ = t.id(t.options_.cls_token);
  t.sep_ = t.id(t.options_.sep_token);
  if (t.cls_ < 0 || t.sep_ < 0) {
    return make_error(ErrorCode::kInvalidArgument, "vocabulary lacks \"{}\" or \"{}\"", t.options_.cls_token,
                      t.options_.sep_token);
  }
  std::int32_t pad = t.id(t.options_.pad_token);
  t.pad_ = pad < 0 ? 0 : pad;
  return t;
}

Result<WordPieceTokenizer> WordPieceTokenizer::from_vocab_txt(const fs::path& path, WordPieceOptions options) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  std::vector<std::string> vocab;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::size_t end = nl == std::string::npos ? text.size() : nl;
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    vocab.emplace_back(line);
    start = end + 1;
  }
  if (vocab.empty()) return make_error(ErrorCode::kCorrupt, "{}: empty vocabulary", path.string());
  if (!is_valid_utf8(text)) return make_error(ErrorCode::kCorrupt, "{}: not valid UTF-8", path.string());
  auto t = create(std::move(vocab), std::move(options));
  if (!t.ok()) return make_error(ErrorCode::kCorrupt, "{}: {}", path.string(), t.error().message);
  return t;
}

Result<WordPieceTokenizer> WordPieceTokenizer::from_tokenizer_json(const fs::path& path) {
  RAGFT_TRY(nlohmann::json j, read_json(path));
  std::string where = path.string();
  try {
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) {
      return make_error(ErrorCode::kCorrupt, "{}: no \"model\" object", where);
    }
    const auto& model = j["model"];
    std::string type = model.value("type", std::string());
    if (type != "WordPiece") {
      return make_error(ErrorCode::kUnsupported, "{}: model.type \"{}\" is not WordPiece (only BERT-family tokenizers)",
                        where, type);
    }
    if (!model.contains("vocab") || !model["vocab"].is_object()) {
      return make_error(ErrorCode::kCorrupt, "{}: model.vocab is missing or not an object", where);
    }
    const auto& vmap = model["vocab"];
    std::vector<std::string> vocab(vmap.size());
    std::vector<bool> seen(vmap.size(), false);
    for (auto it = vmap.begin(); it != vmap.end(); ++it) {
      if (!it.value().is_number_unsigned() || it.value().get<std::uint64_t>() >= vocab.size()) {
        return make_error(ErrorCode::kCorrupt, "{}: model.vocab[\"{}\"]: id is not in [0, {})", where, it.key(),
                          vocab.size());
      }
      auto id = it.value().get<std::size_t>();
      if (seen[id]) return make_error(ErrorCode::kCorrupt, "{}: model.vocab: id {} is used twice", where, id);
      seen[id] = true;
      vocab[id] = it.key();
    }
    WordPieceOptions o;
    o.unk_token = model.value("unk_token", o.unk_token);
    o.prefix = model.value("continuing_subword_prefix", o.prefix);
    o.max_chars_per_word = model.value("max_input_chars_per_word", o.max_chars_per_word);
    o.lowercase = false;
    o.clean_text = false;
    o.split_cjk = false;
    o.strip_accents = false;
    const auto norm = j.value("normalizer", nlohmann::json());
    if (norm.is_object()) {
      std::string nt = norm.value("type", std::string());
      if (nt == "BertNormalizer") {
        o.lowercase = norm.value("lowercase", true);
        o.clean_text = norm.value("clean_text", true);
        o.split_cjk = norm.value("handle_chinese_chars", true);
        if (norm.contains("strip_accents") && norm["strip_accents"].is_boolean()) {
          o.strip_accents = norm["strip_accents"].get<bool>();
        } else {
          o.strip_accents.reset();  // null: follows lowercase
        }
      } else if (nt == "Sequence" && norm.contains("normalizers") && norm["normalizers"].is_array()) {
        for (const auto& n : norm["normalizers"]) {
          std::string t = n.is_object() ? n.value("type", std::string()) : std::string();
          if (t == "Lowercase") o.lowercase = true;
          if (t == "StripAccents") o.strip_accents = true;
        }
      } else {
        return make_error(ErrorCode::kUnsupported, "{}: normalizer type \"{}\" is not supported", where, nt);
      }
    }
    // Special tokens: BertProcessing {"cls": ["[CLS]", 101], "sep": [...]} or TemplateProcessing.
    const auto post = j.value("post_processor", nlohmann::json());
    if (post.is_object()) {
      if (post.contains("cls") && post["cls"].is_array() && !post["cls"].empty() && post["cls"][0].is_string()) {
        o.cls_token = post["cls"][0].get<std::string>();
      }
      if (post.contains("sep") && post["sep"].is_array() && !post["sep"].empty() && post["sep"][0].is_string()) {
        o.sep_token = post["sep"][0].get<std::string>();
      }
      if (post.contains("single") && post["single"].is_array()) {
        std::vector<std::string> specials;
        for (const auto& piece : post["single"]) {
          if (piece.is_object() && piece.contains("SpecialToken"))
            specials.push_back(piece["SpecialToken"].value("id", ""));
        }
        if (specials.size() == 2) {
          o.cls_token = specials[0];
          o.sep_token = specials[1];
        }
      }
    }
    const auto pad = j.value("padding", nlohmann::json());
    if (pad.is_object()) o.pad_token = pad.value("pad_token", o.pad_token);
    // Added tokens missing from model.vocab are appended when their id is the next free one.
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
      for (const auto& a : j["added_tokens"]) {
        if (!a.is_object() || !a.contains("id") || !a["id"].is_number_unsigned()) continue;
        auto id = a["id"].get<std::size_t>();
        std::string content = a.value("content", std::string());
        if (id == vocab.size()) vocab.push_back(content);
      }
    }
    auto t = create(std::move(vocab), std::move(o));
    if (!t.ok()) return make_error(ErrorCode::kCorrupt, "{}: {}", where, t.error().message);
    return t;
  } catch (const std::exception& e) {  // a field of the wrong JSON type
    return make_error(ErrorCode::kCorrupt, "{}: {}", where, e.what());
  }
}

Result<WordPieceTokenizer> WordPieceTokenizer::from_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "tokenizer.json", ec)) return from_tokenizer_json(dir / "tokenizer.json");
  if (!fs::exists(dir / "vocab.txt", ec)) {
    return make_error(ErrorCode::kNotFound, "{}: no tokenizer.json or vocab.txt (a BERT checkpoint needs one)",
                      dir.string());
  }
  WordPieceOptions o;
  fs::path cfg = dir / "tokenizer_config.json";
  if (fs::exists(cfg, ec)) {
    RAGFT_TRY(nlohmann::json j, read_json(cfg));
    if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not a JSON object", cfg.string());
    if (j.contains("do_lower_case") && j["do_lower_case"].is_boolean()) o.lowercase = j["do_lower_case"].get<bool>();
    if (j.contains("strip_accents") && j["strip_accents"].is_boolean())
      o.strip_accents = j["strip_accents"].get<bool>();
    if (j.contains("tokenize_chinese_chars") && j["tokenize_chinese_chars"].is_boolean()) {
      o.split_cjk = j["tokenize_chinese_chars"].get<bool>();
    }
    read_token(j, "unk_token", o.unk_token);
    read_token(j, "cls_token", o.cls_token);
    read_token(j, "sep_token", o.sep_token);
    read_token(j, "pad_token", o.pad_token);
  }
  return from_vocab_txt(dir / "vocab.txt", std::move(o));
}

std::int32_t WordPieceTokenizer::id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::string> WordPieceTokenizer::basic_tokens(std::string_view text) const {
  std::string clean = is_valid_utf8(text) ? std::string(text) : sanitize_utf8(text);
  std::vector<utf8proc_int32_t> cps = code_points(clean);
  std::vector<std::string> out;
  std::vector<utf8proc_int32_t> word;
  auto flush = [&] {
    if (word.empty()) return;
    if (options_.lowercase) {
      for (auto& cp : word) cp = utf8proc_tolower(cp);
    }
    if (strip_accents_) word = strip_accents(word);
    std::string cur;
    for (utf8proc_int32_t cp : word) {
      if (is_punctuation(cp)) {
        if (!cur.empty()) out.push_back(std::move(cur));
        cur.clear();
        std::string p;
        append_utf8(p, cp);
        out.push_back(std::move(p));
      } else {
        append_utf8(cur, cp);
      }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    word.clear();
  };
  for (utf8proc_int32_t cp : cps) {
    if (options_.clean_text && (cp == 0 || cp == 0xFFFD || is_control(cp))) continue;
    if (is_whitespace(cp)) {
      flush();
    } else if (options_.split_cjk && is_cjk(cp)) {
      flush();
      word.push_back(cp);
      flush();
    } else {
      word.push_back(cp);
    }
  }
  flush();
  return out;
}

void WordPieceTokenizer::wordpiece(std::string_view word, std::vector<std::int32_t>& out) const {
  // Byte offsets of the code points, plus the end.
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) at.push_back(i);
  }
  std::size_t chars = at.size();
  at.push_back(word.size());
  if (chars > options_.max_chars_per_word) {
    out.push_back(unk_);
    return;
  }
  std::size_t mark = out.size();
  std::size_t start = 0;
  std::string piece;
  while (start < chars) {
    std::size_t end = chars;
    std::int32_t found = -1;
    while (end > start) {
      piece.clear();
      if (start > 0) piece = options_.prefix;
      piece.append(word.substr(at[start], at[end] - at[start]));
      auto it = ids_.find(piece);
      if (it != ids_.end()) {
        found = it->second;
        break;
      }
      --end;
    }
    if (found < 0) {
      out.resize(mark);
      out.push_back(unk_);
      return;
    }
    out.push_back(found);
    start = end;
  }
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::int32_t> ids;
  for (const auto& w : basic_tokens(text)) wordpiece(w, ids);
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (std::int32_t i : ids) out.push_back(token(i));
  return out;
}

std::vector<std::int32_t> WordPieceTokenizer::encode(std::string_view text, std::size_t max_len) const {
  if (max_len < 2) max_len = 2;
  std::vector<std::int32_t> ids;
  ids.push_back(cls_);
  for (const auto& w : basic_tokens(text)) {
    wordpiece(w, ids);
    if (ids.size() >= max_len - 1) break;
  }
  if (ids.size() > max_len - 1) ids.resize(max_len - 1);
  ids.push_back(sep_);
  return ids;
}

}  // namespace ragft
