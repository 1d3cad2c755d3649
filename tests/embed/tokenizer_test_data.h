// Hand-made tokenizers for bpe_tokenizer_test.cc and sentencepiece_model_test.cc: tokenizer.json
// texts built from small vocabularies and merge lists, and SentencePiece .model files written by a
// tiny protobuf writer. Shaped like the real checkpoints (RoBERTa, Llama 3, Qwen2, Llama 2), but
// small. Everything here is independent of the code under test (GPT-2's byte map is written out
// again below).
#pragma once

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ragft::testdata {

using nlohmann::json;

inline std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// GPT-2's bytes_to_unicode: element b is the character byte b is written as.
inline std::vector<std::string> gpt2_byte_chars() {
  std::vector<bool> printable(256, false);
  for (int b = '!'; b <= '~'; ++b) printable[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
  std::vector<std::string> out(256);
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) out[b] = utf8(printable[b] ? static_cast<char32_t>(b) : next++);
  return out;
}

inline std::string hex_byte(int b) {
  static const char* kHex = "0123456789ABCDEF";
  return std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
}

// ---- tokenizer.json ----

struct AddedSpec {
  std::string content;
  bool special = true;
  bool lstrip = false, rstrip = false, single_word = false;
  int normalized = -1;  // -1: the tokenizers default (!special)
};

struct BpeSpec {
  std::vector<std::string> alphabet;  // ids 0.. in order
  std::vector<std::pair<std::string, std::string>> merges;
  bool merges_as_pairs = false;
  std::vector<std::string> extra_tokens;  // model.vocab entries after the merged tokens
  json model_extra = json::object();      // unk_token, byte_fallback, ...
  json normalizer, pre_tokenizer, post_processor, decoder;
  std::vector<AddedSpec> added;  // an added token in the vocabulary keeps its id, else gets the next
};

// Model.vocab: the alphabet, then each merge's result (first time seen), then extra_tokens.
inline std::vector<std::string> bpe_vocab(const BpeSpec& s) {
  std::vector<std::string> v = s.alphabet;
  auto add = [&](const std::string& t) {
    for (const auto& x : v) {
      if (x == t) return;
    }
    v.push_back(t);
  };
  std::string prefix = s.model_extra.value("continuing_subword_prefix", json()).is_string()
                           ? s.model_extra["continuing_subword_prefix"].get<std::string>()
                           : "";
  for (const auto& [a, b] : s.merges) add(a + b.substr(b.compare(0, prefix.size(), prefix) == 0 ? prefix.size() : 0));
  for (const auto& t : s.extra_tokens) add(t);
  return v;
}

inline int bpe_token_id(const BpeSpec& s, const std::string& token) {
  std::vector<std::string> v = bpe_vocab(s);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == token) return static_cast<int>(i);
  }
  int next = static_cast<int>(v.size());
  for (const auto& a : s.added) {
    bool in_vocab = false;
    for (const auto& x : v) in_vocab |= x == a.content;
    if (in_vocab) continue;
    if (a.content == token) return next;
    ++next;
  }
  return -1;
}

inline std::string bpe_json(const BpeSpec& s) {
  std::vector<std::string> v = bpe_vocab(s);
  json vocab = json::object();
  for (std::size_t i = 0; i < v.size(); ++i) vocab[v[i]] = i;
  json merges = json::array();
  for (const auto& [a, b] : s.merges) {
    if (s.merges_as_pairs) {
      merges.push_back(json::array({a, b}));
    } else {
      merges.push_back(a + " " + b);
    }
  }
  json model = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false}};
  for (auto it = s.model_extra.begin(); it != s.model_extra.end(); ++it) model[it.key()] = it.value();
  model["vocab"] = vocab;
  model["merges"] = merges;
  json added = json::array();
  for (const auto& a : s.added) {
    added.push_back({{"id", bpe_token_id(s, a.content)},
                     {"content", a.content},
                     {"single_word", a.single_word},
                     {"lstrip", a.lstrip},
                     {"rstrip", a.rstrip},
                     {"normalized", a.normalized < 0 ? !a.special : a.normalized == 1},
                     {"special", a.special}});
  }
  json j = {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", added},
            {"normalizer", s.normalizer},
            {"pre_tokenizer", s.pre_tokenizer},
            {"post_processor", s.post_processor},
            {"decoder", s.decoder},
            {"model", model}};
  return j.dump(1);
}

inline json byte_level(bool add_prefix_space, bool use_regex) {
  return {
      {"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

inline json split_regex(const std::string& regex) {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
}

inline const char* kCl100kRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

inline json template_single(const std::vector<std::string>& before, const std::vector<std::string>& after,
                            const BpeSpec& s) {
  json single = json::array();
  json specials = json::object();
  auto special = [&](const std::string& t) {
    single.push_back({{"SpecialToken", {{"id", t}, {"type_id", 0}}}});
    specials[t] = {{"id", t}, {"ids", json::array({bpe_token_id(s, t)})}, {"tokens", json::array({t})}};
  };
  for (const auto& t : before) special(t);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  for (const auto& t : after) special(t);
  json pair = single;
  pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

// RoBERTa-like: byte-level BPE, specials in the model vocabulary, <mask> (lstrip) added after it.
inline BpeSpec roberta_spec() {
  BpeSpec s;
  s.alphabet = gpt2_byte_chars();
  s.merges = {{"h", "e"},    {"l", "l"},  {"Ġ", "t"},     {"Ġ", "w"},   {"o", "r"}, {"e", "l"},     {"ll", "o"},
              {"he", "llo"}, {"Ġ", "he"}, {"Ġhe", "llo"}, {"Ġw", "or"}, {"l", "d"}, {"Ġwor", "ld"}, {"Ġt", "he"},
              {"i", "n"},    {"in", "g"}, {"e", "r"},     {"Ġ", "l"},   {"o", "w"}, {"Ġl", "ow"},   {"Ġlow", "er"},
              {"'", "t"},    {"ð", "Ł"},  {"1", "2"},     {"12", "3"}};
  s.extra_tokens = {"<s>", "<pad>", "</s>", "<unk>"};
  s.pre_tokenizer = byte_level(false, true);
  s.decoder = byte_level(true, true);
  s.added = {{"<s>"}, {"<pad>"}, {"</s>"}, {"<unk>"}, {"<mask>", true, true}};
  s.added.push_back({"newtok", false, false, false, true});
  s.post_processor = {{"type", "RobertaProcessing"},
                      {"sep", json::array({"</s>", bpe_token_id(s, "</s>")})},
                      {"cls", json::array({"<s>", bpe_token_id(s, "<s>")})},
                      {"trim_offsets", true},
                      {"add_prefix_space", false}};
  return s;
}

inline std::vector<std::pair<std::string, std::string>> llama3_merges() {
  return {{"Ġ", "t"},   {"h", "e"}, {"Ġt", "he"},   {"l", "l"}, {"Ġ", "w"},  {"o", "r"},
          {"Ġw", "or"}, {"l", "d"}, {"Ġwor", "ld"}, {"1", "2"}, {"12", "3"}, {"Ċ", "Ċ"},
          {"Ġ", "Ġ"},   {"'", "s"}, {"Ġ", "é"},     {"Ã", "©"}, {"Ġ", "Ã©"}};
}

// Llama 3-like: cl100k split + byte-level without regex, ignore_merges, BOS template, specials
// outside the model vocabulary, merges as pairs.
inline BpeSpec llama3_spec() {
  BpeSpec s;
  s.alphabet = gpt2_byte_chars();
  s.merges = llama3_merges();
  s.merges_as_pairs = true;
  s.extra_tokens = {"hello", "Ġxyz"};  // not reachable by merges
  s.model_extra = {{"ignore_merges", true}};
  s.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({split_regex(kCl100kRegex), byte_level(false, false)})}};
  s.decoder = byte_level(true, true);
  s.added = {
      {"<|begin_of_text|>"}, {"<|end_of_text|>"}, {"<|start_header_id|>"}, {"<|end_header_id|>"}, {"<|eot_id|>"}};
  json tmpl = template_single({"<|begin_of_text|>"}, {}, s);
  s.post_processor = {
      {"type", "Sequence"},
      {"processors",
       json::array(
           {{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}}, tmpl})}};
  return s;
}

// Qwen2-like: NFC, qwen2 split, ByteLevel post-processor (no BOS).
inline BpeSpec qwen2_spec() {
  BpeSpec s;
  s.alphabet = gpt2_byte_chars();
  s.merges = llama3_merges();
  s.normalizer = {{"type", "NFC"}};
  s.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({split_regex(kQwen2Regex), byte_level(false, false)})}};
  s.decoder = byte_level(false, false);
  s.post_processor = byte_level(false, false);
  s.added = {{"<|endoftext|>"}, {"<|im_start|>"}, {"<|im_end|>"}};
  return s;
}

// A SentencePiece-style vocabulary: <unk> <s> </s>, the 256 byte pieces, then characters.
inline BpeSpec llama2_base() {
  BpeSpec s;
  s.alphabet = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) s.alphabet.push_back(hex_byte(b));
  for (const char* c : {"▁", "e", "t", "a", "o", "i", "n", "s", "h",  "r",  "l", "d", "H", "w", "T", "q", "u",
                        "c", "k", "b", "f", "x", "ü", "ß", "G", "世", "界", ",", ".", "!", "p", "m", "y", "g"}) {
    s.alphabet.push_back(c);
  }
  s.merges = {{"▁", "t"},     {"h", "e"}, {"▁t", "he"}, {"l", "l"},   {"H", "e"}, {"He", "ll"},   {"Hell", "o"},
              {"▁", "Hello"}, {"▁", "w"}, {"o", "r"},   {"▁w", "or"}, {"l", "d"}, {"▁wor", "ld"}, {"i", "n"},
              {"▁", "in"},    {"▁", "G"}, {"r", "ü"},   {"▁G", "rü"}, {"ß", "e"}, {"▁", "世"},    {"▁世", "界"},
              {"▁", "▁"},     {"e", "r"}, {"▁", "T"},   {"▁T", "he"}};
  s.added = {{"<unk>"}, {"<s>"}, {"</s>"}};
  return s;
}

// Llama 2 as converted by older transformers: Prepend + Replace normalizer, no pre-tokenizer,
// byte_fallback, fuse_unk; decoder Replace, ByteFallback, Fuse, Strip.
inline BpeSpec llama2_legacy_spec() {
  BpeSpec s = llama2_base();
  s.model_extra = {{"unk_token", "<unk>"}, {"byte_fallback", true}, {"fuse_unk", true}};
  s.normalizer = {
      {"type", "Sequence"},
      {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", "▁"}},
                                   {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}})}};
  s.decoder = {{"type", "Sequence"},
               {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                                         {{"type", "ByteFallback"}},
                                         {{"type", "Fuse"}},
                                         {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}};
  s.post_processor = template_single({"<s>"}, {}, s);
  return s;
}

// Llama 2 as newer transformers convert it: Metaspace (prepend_scheme first, no split); here
// without byte_fallback (unknown characters -> <unk>, not fused), BOS and EOS in the template.
inline BpeSpec llama2_metaspace_spec() {
  BpeSpec s = llama2_base();
  s.model_extra = {{"unk_token", "<unk>"}, {"byte_fallback", false}, {"fuse_unk", false}};
  s.pre_tokenizer = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
  s.decoder = {
      {"type", "Sequence"},
      {"decoders",
       json::array({{{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}}})}};
  s.post_processor = template_single({"<s>"}, {"</s>"}, s);
  return s;
}

// Word-level odds and ends: NFKC + Lowercase + Strip, whitespace / punctuation / digit splits,
// continuing_subword_prefix and end_of_word_suffix, BertProcessing, BPEDecoder.
inline BpeSpec misc_spec() {
  BpeSpec s;
  for (const char* c : {"[UNK]",   "[CLS]",   "[SEP]", "h",     "e",     "l",     "o",     "w",     "r",
                        "d",       "1",       "2",     "!",     "##e",   "##l",   "##o",   "##r",   "##d",
                        "##o</w>", "##d</w>", "o</w>", "d</w>", "1</w>", "2</w>", "!</w>", "h</w>", "##l</w>"}) {
    s.alphabet.push_back(c);
  }
  s.merges = {{"h", "##e"}, {"##l", "##l"}, {"##ll", "##o</w>"}, {"he", "##llo</w>"},
              {"w", "##o"}, {"##r", "##l"}, {"wo", "##rl"},      {"worl", "##d</w>"}};
  s.model_extra = {{"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"}, {"end_of_word_suffix", "</w>"}};
  s.normalizer = {{"type", "Sequence"},
                  {"normalizers", json::array({{{"type", "NFKC"}},
                                               {{"type", "Lowercase"}},
                                               {{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}})}};
  s.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({{{"type", "WhitespaceSplit"}},
                                                    {{"type", "Punctuation"}, {"behavior", "Isolated"}},
                                                    {{"type", "Digits"}, {"individual_digits", true}}})}};
  s.decoder = {{"type", "BPEDecoder"}, {"suffix", "</w>"}};
  s.added = {{"[UNK]"}, {"[CLS]"}, {"[SEP]"}};
  s.post_processor = {{"type", "BertProcessing"},
                      {"sep", json::array({"[SEP]", bpe_token_id(s, "[SEP]")})},
                      {"cls", json::array({"[CLS]", bpe_token_id(s, "[CLS]")})}};
  return s;
}

// ---- SentencePiece .model (protobuf) ----

class ProtoWriter {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  void tag(int field, int wire) { varint(static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire)); }
  void bytes(int field, const std::string& s) {
    tag(field, 2);
    varint(s.size());
    out_ += s;
  }
  void uint(int field, std::uint64_t v) {
    tag(field, 0);
    varint(v);
  }
  void f32(int field, float f) {
    tag(field, 5);
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int k = 0; k < 4; ++k) out_ += static_cast<char>((bits >> (8 * k)) & 0xFF);
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

enum SpType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct SpPiece {
  std::string piece;
  float score = 0;
  int type = kNormal;
};

struct SpSpec {
  std::vector<SpPiece> pieces;
  int model_type = 2;  // 1 unigram, 2 bpe
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  // normalizer_spec; -1: field left out (the proto default applies)
  int add_dummy_prefix = -1, remove_extra_whitespaces = -1, escape_whitespaces = -1;
  std::string name = "identity";
  std::string charsmap;
};

inline std::string sp_model_bytes(const SpSpec& s) {
  ProtoWriter m;
  for (const auto& p : s.pieces) {
    ProtoWriter pw;
    pw.bytes(1, p.piece);
    pw.f32(2, p.score);
    if (p.type != kNormal) pw.uint(3, static_cast<std::uint64_t>(p.type));
    m.bytes(1, pw.str());
  }
  ProtoWriter t;
  t.bytes(2, "m");  // model_prefix, ignored
  t.uint(3, static_cast<std::uint64_t>(s.model_type));
  t.uint(4, s.pieces.size());  // vocab_size
  if (s.treat_whitespace_as_suffix) t.uint(24, 1);
  if (s.byte_fallback) t.uint(35, 1);
  t.uint(40, 0);                               // unk_id
  t.uint(41, 1);                               // bos_id
  t.uint(42, 2);                               // eos_id
  t.uint(43, static_cast<std::uint64_t>(-1));  // pad_id -1 (ten-byte varint)
  m.bytes(2, t.str());
  ProtoWriter n;
  n.bytes(1, s.name);
  if (!s.charsmap.empty()) n.bytes(2, s.charsmap);
  if (s.add_dummy_prefix >= 0) n.uint(3, static_cast<std::uint64_t>(s.add_dummy_prefix));
  if (s.remove_extra_whitespaces >= 0) n.uint(4, static_cast<std::uint64_t>(s.remove_extra_whitespaces));
  if (s.escape_whitespaces >= 0) n.uint(5, static_cast<std::uint64_t>(s.escape_whitespaces));
  m.bytes(3, n.str());
  return m.str();
}

// Pieces <unk> <s> </s>, then (with byte_fallback) the 256 byte pieces.
inline std::vector<SpPiece> sp_head(bool bytes) {
  std::vector<SpPiece> p = {{"<unk>", 0, kUnknown}, {"<s>", 0, kControl}, {"</s>", 0, kControl}};
  if (bytes) {
    for (int b = 0; b < 256; ++b) p.push_back({hex_byte(b), 0, kByte});
  }
  return p;
}

// Llama 2-like BPE: identity normalisation, dummy prefix, extra spaces kept, byte fallback.
// Scores rank the merges (higher first); single characters score lowest.
inline SpSpec sp_llama2_spec() {
  SpSpec s;
  s.pieces = sp_head(true);
  s.model_type = 2;
  s.byte_fallback = true;
  s.add_dummy_prefix = 1;
  s.remove_extra_whitespaces = 0;
  s.escape_whitespaces = 1;
  s.pieces.push_back({"<sep>", 0, kUserDefined});
  s.pieces.push_back({"▁he", -1.5f, kUnused});  // merged, then split back into "▁" "he"
  const char* merged[] = {"▁t", "he",   "▁the",  "ll",     "He", "Hell", "Hello", "▁Hello", "▁w",
                          "or", "▁wor", "ld",    "▁world", "in", "▁in",  "▁G",    "rü",     "▁Grü",
                          "ße", "▁世",  "▁世界", "▁▁",     "er", "▁T",   "▁The",  "▁a",     "▁▁▁▁"};
  float score = -1;
  for (const char* p : merged) s.pieces.push_back({p, score--, kNormal});
  for (const char* c : {"▁", "e", "t", "a", "o", "i", "n", "s", "h",  "r",  "l", "d", "H", "w", "T", "q", "u",
                        "c", "k", "b", "f", "x", "ü", "ß", "G", "世", "界", ",", ".", "!", "p", "m", "y", "g"}) {
    s.pieces.push_back({c, score--, kNormal});
  }
  return s;
}

// Unigram with the default normaliser flags (extra whitespace removed), no byte fallback, a
// user-defined piece and an unused one.
inline SpSpec sp_unigram_spec() {
  SpSpec s;
  s.pieces = sp_head(false);
  s.model_type = 1;
  std::vector<std::pair<const char*, float>> pieces = {
      {"▁", -2.0f},     {"▁the", -3.0f},   {"▁he", -4.5f}, {"llo", -4.0f},   {"▁hello", -9.0f}, {"▁h", -5.0f},
      {"ello", -4.2f},  {"h", -6.0f},      {"e", -5.5f},   {"l", -5.0f},     {"o", -5.2f},      {"▁wor", -5.0f},
      {"ld", -4.0f},    {"▁world", -8.5f}, {"w", -6.5f},   {"r", -6.1f},     {"d", -6.2f},      {"t", -6.3f},
      {"▁t", -4.4f},    {"he", -4.1f},     {"▁a", -3.5f},  {"a", -6.0f},     {"▁new", -5.5f},   {"n", -6.4f},
      {"▁n", -5.1f},    {"ew", -4.9f},     {"▁y", -5.6f},  {"y", -6.6f},     {"or", -4.3f},     {"k", -7.0f},
      {"▁york", -7.7f}, {"ork", -5.0f},    {"s", -5.9f},   {"i", -5.8f},     {"▁is", -4.6f},    {"c", -7.1f},
      {"f", -7.2f},     {"▁f", -5.3f},     {"ish", -5.7f}, {"▁fish", -6.0f}, {"▁b", -5.4f},     {"b", -7.3f}};
  for (const auto& [p, sc] : pieces) s.pieces.push_back({p, sc, kNormal});
  s.pieces.push_back({"<sep>", 0, kUserDefined});
  s.pieces.push_back({"▁worl", -1.0f, kUnused});
  return s;
}

// sp_llama2_spec with the whitespace at the end of pieces (treat_whitespace_as_suffix).
inline SpSpec sp_suffix_spec() {
  SpSpec s = sp_llama2_spec();
  s.treat_whitespace_as_suffix = true;
  for (const char* p : {"hello▁", "o▁", "d▁", "world▁", "ld▁"}) s.pieces.push_back({p, -0.5f, kNormal});
  return s;
}

// sp_unigram_spec with spaces kept as spaces (escape_whitespaces off) and no dummy prefix.
inline SpSpec sp_noescape_spec() {
  SpSpec s = sp_unigram_spec();
  s.escape_whitespaces = 0;
  s.add_dummy_prefix = 0;
  for (const char* p : {" ", " the", " hello", "hello"}) s.pieces.push_back({p, -3.0f, kNormal});
  return s;
}

// sp_llama2_spec with extra whitespace removed.
inline SpSpec sp_llama2_trim_spec() {
  SpSpec s = sp_llama2_spec();
  s.remove_extra_whitespaces = 1;
  return s;
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// A precompiled_charsmap as SentencePiece's trainer (spm_train --normalization_rule_tsv) compiles
// these rules: U+FF28 U+FF25 U+FF2C U+FF2F (fullwidth H E L O) -> H E L O, U+3000 and TAB -> space,
// U+FB01 (ﬁ) -> "fi", "A" U+0301 -> U+00C1 (Á), U+2460 (①) -> "1".
inline const char* kCharsMapHex =
    "0004000000200000090D000000000080CC180200810500000F00008091840200A0390000800802000200008080210000"
    "0C000080AC000200811900000400008006000080A5790000080000800A00008012000000150000001400000017000000"
    "1600000019000000AC210000AF2100001A000000BCA40200A84900001F0000001E000000210000002000000023000000"
    "220000002500000024000000270000002600000029000000280000002B0000002A0000002D0000002C0000002F000000"
    "2E000000310000003000000033000000320000003500000034000000370000003600000039000000380000003B000000"
    "3A0000003D0000003C0000003F0000003E00000041000000400000004300000042000000450000004400000047000000"
    "4600000049000000411802004B0000004A0000004D0000004C0000004F0000004E000000510000005000000053000000"
    "520000005500000054000000570000005600000059000000580000005B0000005A0000005D0000005C0000005F000000"
    "5E000000610000006000000063000000620000006500000064000000670000006600000069000000680000006B000000"
    "6A0000006D0000006C0000006F0000006E00000071000000700000007300000072000000750000007400000077000000"
    "7600000079000000780000007B0000007A0000007D0000007C0000007F0000007E000000810000008000000083000000"
    "820000008500000084000000870000008600000089000000880000008B0000008A0000008D0000008C0000008F000000"
    "8E000000910000009000000093000000920000009500000094000000970000009600000099000000980000009B000000"
    "9A0000009D0000009C0000009F0000009E000000A1000000A0000000A3000000A2000000A5000000A4000000A7000000"
    "A6000000A9000000A8000000AB000000AA000000AD000000AC000000AF000000AE000000B1000000B0000000B3000000"
    "B2000000B5000000B4000000B7000000B6000000B9000000B8000000BB000000BA000000BD000000BC000000BF000000"
    "BE000000C1000000C0000000C3000000C2000000C5000000C4000000C7000000C6000000C9000000C8000000CB000000"
    "CA000000CD000000CC000000CF000000CE000000D1000000D0000000D3000000D2000000D5000000D4000000D7000000"
    "D6000000D9000000D8000000DB000000DA000000DD000000DC000000DF000000DE000000E1000000E0000000E3000000"
    "E2000000E5000000E4000000E7000000EF1C0100E9000000E8000000E2F40100E38C0100ED000000EC000000EF000000"
    "EE000000F1000000F0000000F3000000F2000000F5000000F4000000F7000000F6000000F9000000F8000000FB000000"
    "FA000000FD000000FC000000FF000000FE00000020003100450048004C004F00666900C38100";

// sp_unigram_spec with the rules above.
inline SpSpec sp_unigram_charsmap_spec() {
  SpSpec s = sp_unigram_spec();
  s.name = "user_defined";
  s.charsmap = from_hex(kCharsMapHex);
  for (const char* p : {"H", "E", "L", "O", "▁H", "LLO", "▁fi", "Á", "▁Á", "1", "▁1"})
    s.pieces.push_back({p, -6.0f, kNormal});
  return s;
}

}  // namespace ragft::testdata
