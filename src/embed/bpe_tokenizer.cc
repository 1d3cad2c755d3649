#include "embed/bpe_tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>

#include "core/env.h"
#include "core/utf8.h"
#include "embed/hf_pipeline.h"
#include "embed/subword_text.h"

namespace ragft {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace subword;

namespace {

constexpr std::size_t kMaxVocab = std::size_t{1} << 24;

struct AddedToken {
  std::string content;
  std::int32_t id = -1;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

// Leftmost-longest literal matching of a set of added tokens.
class TokenMatcher {
 public:
  void add(std::string pattern, std::size_t token) {
    if (pattern.empty()) return;
    by_first_[static_cast<unsigned char>(pattern[0])].push_back({std::move(pattern), token});
  }
  void finish() {
    for (auto& bucket : by_first_) {
      std::stable_sort(bucket.begin(), bucket.end(),
                       [](const Entry& a, const Entry& b) { return a.pattern.size() > b.pattern.size(); });
    }
  }
  bool empty() const {
    return std::all_of(std::begin(by_first_), std::end(by_first_), [](const auto& b) { return b.empty(); });
  }
  // The first match at or after `from`: (token, begin, end); token == npos when none.
  std::tuple<std::size_t, std::size_t, std::size_t> find(std::string_view s, std::size_t from) const {
    for (std::size_t i = from; i < s.size(); ++i) {
      for (const Entry& e : by_first_[static_cast<unsigned char>(s[i])]) {
        if (s.compare(i, e.pattern.size(), e.pattern) == 0) return {e.token, i, i + e.pattern.size()};
      }
    }
    return {std::string::npos, s.size(), s.size()};
  }

 private:
  struct Entry {
    std::string pattern;
    std::size_t token;
  };
  std::vector<Entry> by_first_[256];
};

// A stretch of text: an added token (`token` is its index) or plain text (npos).
struct Segment {
  std::size_t token, begin, end;
};

bool alnum_at_end(std::string_view s) {
  if (s.empty()) return false;
  std::size_t k = s.size() - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  char32_t cp;
  decode_utf8(s, k, cp);
  return is_letter(cp) || is_number(cp);
}

bool alnum_at_start(std::string_view s) {
  if (s.empty()) return false;
  char32_t cp;
  decode_utf8(s, 0, cp);
  return is_letter(cp) || is_number(cp);
}

// tokenizers' AddedVocabulary::find_matches.
std::vector<Segment> find_added(std::string_view s, const TokenMatcher& m, const std::vector<AddedToken>& added) {
  std::vector<Segment> out;
  if (m.empty()) {
    out.push_back({std::string::npos, 0, s.size()});
    return out;
  }
  std::size_t done = 0;  // end of the last segment emitted
  std::size_t search = 0;
  while (search < s.size()) {
    auto [token, begin, end] = m.find(s, search);
    if (token == std::string::npos) break;
    search = end;
    const AddedToken& a = added[token];
    if (a.single_word && (alnum_at_end(s.substr(0, begin)) || alnum_at_start(s.substr(end)))) continue;
    std::size_t start = begin, stop = end;
    if (a.lstrip) {
      std::size_t k = begin;
      while (k > 0) {
        std::size_t j = k - 1;
        while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
        char32_t cp;
        decode_utf8(s, j, cp);
        if (!is_white_space(cp)) break;
        k = j;
      }
      start = std::max(k, done);
    }
    if (a.rstrip) {
      while (stop < s.size()) {
        char32_t cp;
        std::size_t n = decode_utf8(s, stop, cp);
        if (!is_white_space(cp)) break;
        stop += n;
      }
    }
    if (done < start) out.push_back({std::string::npos, done, start});
    out.push_back({token, start, stop});
    done = stop;
    search = stop;  // (tokenizers resumes at `end`; an added token inside the stripped spaces would overlap)
  }
  if (done < s.size()) out.push_back({std::string::npos, done, s.size()});
  return out;
}

std::optional<std::string> optional_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

struct HfBpeTokenizer::Impl {
  // Model.
  StringMap vocab;
  PairMap merges;  // (left id, right id) -> (rank, merged id)
  std::optional<std::string> unk_token, prefix, suffix;
  std::int32_t model_unk = -1;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  std::int32_t byte_ids[256];  // "<0xNN>" ids, -1 when absent

  // The whole vocabulary: id -> token ("" for unused ids), added tokens included.
  std::vector<std::string> tokens;
  std::vector<bool> special;
  std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> added_ids;

  std::vector<AddedToken> added;
  TokenMatcher raw_matcher, normalized_matcher;

  std::optional<HfNormalizer> normalizer;
  std::optional<HfPreTokenizer> pre_tokenizer;
  std::optional<HfDecoder> decoder;
  HfPostProcessor post;

  TokenizerConfig config;
  std::int32_t bos = -1, eos = -1, pad = -1, unk = -1;

  std::int32_t lookup(std::string_view t) const {
    if (auto it = added_ids.find(t); it != added_ids.end()) return it->second;
    return vocab.find(t);
  }

  void tokenize_word(std::string_view w, std::vector<std::int32_t>& out) const;
  void encode_plain(std::string_view text, bool at_start, std::vector<std::int32_t>& out) const;
};

// tokenizers' BPE::merge_word + Word::merge_all: characters (with the subword prefix / word
// suffix) to ids, then the best-ranked adjacent pair merged until none applies (ties: leftmost).
void HfBpeTokenizer::Impl::tokenize_word(std::string_view w, std::vector<std::int32_t>& out) const {
  if (w.empty()) return;
  if (ignore_merges) {
    if (std::int32_t id = vocab.find(w); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  struct Symbol {
    std::int32_t id;
    std::int32_t prev, next;
    bool live;
  };
  std::vector<Symbol> sym;
  sym.reserve(w.size());
  auto add = [&](std::int32_t id) {
    auto n = static_cast<std::int32_t>(sym.size());
    sym.push_back({id, n - 1, n + 1, true});
  };
  std::int32_t pending_unk = -1;  // an unk not yet added (fuse_unk: one for a run of unknown characters)
  std::string buf;
  for (std::size_t i = 0; i < w.size();) {
    char32_t cp;
    std::size_t n = decode_utf8(w, i, cp);
    std::string_view ch = w.substr(i, n);
    bool first = i == 0, last = i + n == w.size();
    i += n;
    std::string_view s = ch;
    if ((!first && prefix) || (last && suffix)) {
      buf.clear();
      if (!first && prefix) buf += *prefix;
      buf += ch;
      if (last && suffix) buf += *suffix;
      s = buf;
    }
    if (std::int32_t id = vocab.find(s); id >= 0) {
      if (pending_unk >= 0) add(pending_unk);
      pending_unk = -1;
      add(id);
      continue;
    }
    if (byte_fallback) {
      bool all = std::all_of(s.begin(), s.end(), [&](char c) { return byte_ids[static_cast<unsigned char>(c)] >= 0; });
      if (all) {
        for (char c : s) add(byte_ids[static_cast<unsigned char>(c)]);
        continue;
      }
    }
    if (model_unk >= 0) {
      if (pending_unk >= 0 && !fuse_unk) add(pending_unk);
      pending_unk = model_unk;
    }
    // No unk token: the character is dropped, as tokenizers does.
  }
  if (pending_unk >= 0) add(pending_unk);
  if (sym.empty()) return;
  sym.back().next = -1;

  struct Candidate {
    std::uint32_t rank;
    std::int32_t pos;
    std::int32_t id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](std::int32_t left) {
    if (left < 0) return;
    std::int32_t right = sym[static_cast<std::size_t>(left)].next;
    if (right < 0) return;
    const PairMap::Value* m =
        merges.find(sym[static_cast<std::size_t>(left)].id, sym[static_cast<std::size_t>(right)].id);
    if (m) queue.push({m->rank, left, m->id});
  };
  for (std::size_t k = 0; k + 1 < sym.size(); ++k) consider(static_cast<std::int32_t>(k));
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = sym[static_cast<std::size_t>(top.pos)];
    if (!left.live || left.next < 0) continue;
    Symbol& right = sym[static_cast<std::size_t>(left.next)];
    // Stale entry: the pair has changed since it was queued.
    const PairMap::Value* m = merges.find(left.id, right.id);
    if (!m || m->id != top.id) continue;
    left.id = top.id;
    right.live = false;
    left.next = right.next;
    if (left.next >= 0) sym[static_cast<std::size_t>(left.next)].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
  for (const Symbol& s : sym) {
    if (s.live) out.push_back(s.id);
  }
}

// Normalised text free of added tokens: pre-tokenized, then each pre-token through the model.
void HfBpeTokenizer::Impl::encode_plain(std::string_view text, bool at_start, std::vector<std::int32_t>& out) const {
  std::vector<Piece> pieces{Piece{std::string(text), at_start}};
  if (pre_tokenizer) pre_tokenize(*pre_tokenizer, pieces);
  for (const Piece& p : pieces) tokenize_word(p.text, out);
}

Result<HfBpeTokenizer> HfBpeTokenizer::from_json_text(std::string_view tokenizer_json, const TokenizerConfig& config,
                                                      std::string_view where_view) {
  std::string where(where_view);
  json j;
  try {
    j = json::parse(tokenizer_json);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: not valid JSON: {}", where, e.what());
  }
  auto impl = std::make_shared<Impl>();
  try {
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) {
      return make_error(ErrorCode::kCorrupt, "{}: no \"model\" object", where);
    }
    const json& model = j["model"];
    std::string type = model.value("type", std::string(model.contains("merges") ? "BPE" : ""));
    if (type != "BPE") {
      return make_error(ErrorCode::kUnsupported, "{}: model.type \"{}\" is not BPE", where, type);
    }
    if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() != 0.0) {
      return make_error(ErrorCode::kUnsupported, "{}: model.dropout is set (BPE-dropout is for training only)", where);
    }
    if (!model.contains("vocab") || !model["vocab"].is_object()) {
      return make_error(ErrorCode::kCorrupt, "{}: model.vocab is missing or not an object", where);
    }
    std::size_t size = 0;
    for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<std::int64_t>() < 0 ||
          it.value().get<std::uint64_t>() >= kMaxVocab) {
        return make_error(ErrorCode::kCorrupt, "{}: model.vocab[\"{}\"]: id is not in [0, {})", where, it.key(),
                          kMaxVocab);
      }
      auto id = it.value().get<std::int32_t>();
      impl->vocab.insert(it.key(), id);
      size = std::max(size, static_cast<std::size_t>(id) + 1);
    }
    impl->unk_token = optional_string(model, "unk_token");
    impl->prefix = optional_string(model, "continuing_subword_prefix");
    impl->suffix = optional_string(model, "end_of_word_suffix");
    if (impl->prefix && impl->prefix->empty()) impl->prefix.reset();
    if (impl->suffix && impl->suffix->empty()) impl->suffix.reset();
    impl->fuse_unk = model.value("fuse_unk", false);
    impl->byte_fallback = model.value("byte_fallback", false);
    impl->ignore_merges = model.value("ignore_merges", false);
    // An unk_token missing from model.vocab is as none (tokenizers fails only when it is needed).
    if (impl->unk_token) impl->model_unk = impl->vocab.find(*impl->unk_token);
    for (int b = 0; b < 256; ++b) impl->byte_ids[b] = impl->vocab.find(byte_piece(static_cast<std::uint8_t>(b)));

    // Merges: rank = position; a pair listed twice keeps its last rank.
    const json& merges = model.value("merges", json::array());
    if (!merges.is_array()) return make_error(ErrorCode::kCorrupt, "{}: model.merges is not an array", where);
    impl->merges.reserve(merges.size());
    std::size_t prefix_len = impl->prefix ? impl->prefix->size() : 0;
    for (std::size_t r = 0; r < merges.size(); ++r) {
      const json& m = merges[r];
      std::string a, b;
      if (m.is_string()) {
        const std::string& line = m.get_ref<const std::string&>();
        std::size_t sp = line.find(' ');
        if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos) {
          return make_error(ErrorCode::kCorrupt, "{}: model.merges[{}] \"{}\" is not two tokens", where, r, line);
        }
        a = line.substr(0, sp);
        b = line.substr(sp + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        a = m[0].get<std::string>();
        b = m[1].get<std::string>();
      } else {
        return make_error(ErrorCode::kCorrupt, "{}: model.merges[{}] is neither \"a b\" nor [\"a\", \"b\"]", where, r);
      }
      std::int32_t ia = impl->vocab.find(a), ib = impl->vocab.find(b);
      if (ia < 0 || ib < 0 || b.size() < prefix_len) {
        return make_error(ErrorCode::kCorrupt, "{}: model.merges[{}]: \"{}\" or \"{}\" is not in model.vocab", where, r,
                          a, b);
      }
      std::string merged = a + b.substr(prefix_len);
      std::int32_t im = impl->vocab.find(merged);
      if (im < 0) {
        return make_error(ErrorCode::kCorrupt, "{}: model.merges[{}]: the merged token \"{}\" is not in model.vocab",
                          where, r, merged);
      }
      impl->merges.insert_or_assign(ia, ib, {static_cast<std::uint32_t>(r), im});
    }

    RAGFT_TRY(impl->normalizer, parse_normalizer(j.value("normalizer", json()), where + ": normalizer"));
    RAGFT_TRY(impl->pre_tokenizer, parse_pre_tokenizer(j.value("pre_tokenizer", json()), where + ": pre_tokenizer"));
    RAGFT_TRY(impl->decoder, parse_decoder(j.value("decoder", json()), where + ": decoder"));
    RAGFT_TRY(impl->post, parse_post_processor(j.value("post_processor", json()), where + ": post_processor"));

    // Added tokens.
    const json& added = j.value("added_tokens", json::array());
    if (!added.is_array()) return make_error(ErrorCode::kCorrupt, "{}: added_tokens is not an array", where);
    for (std::size_t i = 0; i < added.size(); ++i) {
      const json& a = added[i];
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || a["id"].get<std::int64_t>() < 0 ||
          a["id"].get<std::uint64_t>() >= kMaxVocab || !a.contains("content") || !a["content"].is_string() ||
          a["content"].get_ref<const std::string&>().empty()) {
        return make_error(ErrorCode::kCorrupt, "{}: added_tokens[{}] needs an id in [0, {}) and a non-empty content",
                          where, i, kMaxVocab);
      }
      AddedToken t;
      t.content = a["content"].get<std::string>();
      t.id = a["id"].get<std::int32_t>();
      t.single_word = a.value("single_word", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.special = a.value("special", false);
      t.normalized = a.value("normalized", !t.special);
      size = std::max(size, static_cast<std::size_t>(t.id) + 1);
      impl->added.push_back(std::move(t));
    }
    if (size > 2 * (impl->vocab.size() + impl->added.size()) + 1024) {  // a stray id; don't allocate for it
      return make_error(ErrorCode::kCorrupt, "{}: ids run up to {} for {} tokens", where, size - 1,
                        impl->vocab.size() + impl->added.size());
    }
    impl->tokens.assign(size, std::string());
    impl->special.assign(size, false);
    for (const auto& [t, id] : impl->vocab.entries()) impl->tokens[static_cast<std::size_t>(id)] = t;
    for (std::size_t i = 0; i < impl->added.size(); ++i) {
      const AddedToken& t = impl->added[i];
      impl->tokens[static_cast<std::size_t>(t.id)] = t.content;
      impl->special[static_cast<std::size_t>(t.id)] = t.special;
      impl->added_ids[t.content] = t.id;
      if (t.normalized) {
        std::string n = impl->normalizer ? normalize(*impl->normalizer, t.content) : t.content;
        impl->normalized_matcher.add(std::move(n), i);
      } else {
        impl->raw_matcher.add(t.content, i);
      }
    }
    impl->raw_matcher.finish();
    impl->normalized_matcher.finish();
    for (std::int32_t id : impl->post.prefix) {
      if (static_cast<std::size_t>(id) >= size) {
        return make_error(ErrorCode::kCorrupt, "{}: post_processor id {} is outside the vocabulary", where, id);
      }
    }
    for (std::int32_t id : impl->post.suffix) {
      if (static_cast<std::size_t>(id) >= size) {
        return make_error(ErrorCode::kCorrupt, "{}: post_processor id {} is outside the vocabulary", where, id);
      }
    }

    // Special ids.
    impl->config = config;
    auto from_config = [&](const std::string& tok, std::int32_t fallback) {
      return tok.empty() ? fallback : impl->lookup(tok);
    };
    impl->unk = from_config(config.unk_token, impl->model_unk);
    impl->bos = from_config(config.bos_token, impl->post.prefix.size() == 1 ? impl->post.prefix[0] : -1);
    impl->eos = from_config(config.eos_token, impl->post.suffix.empty() ? -1 : impl->post.suffix.back());
    std::int32_t pad = -1;
    const json& padding = j.value("padding", json());
    if (padding.is_object() && padding.contains("pad_id") && padding["pad_id"].is_number_integer()) {
      pad = padding["pad_id"].get<std::int32_t>();
    }
    impl->pad = from_config(config.pad_token, pad);
    if (config.add_bos_token) impl->post.prefix.clear();
    if (config.add_bos_token.value_or(false) && impl->bos >= 0) impl->post.prefix = {impl->bos};
    if (config.add_eos_token) impl->post.suffix.clear();
    if (config.add_eos_token.value_or(false) && impl->eos >= 0) impl->post.suffix = {impl->eos};
  } catch (const std::exception& e) {  // a field of the wrong JSON type
    return make_error(ErrorCode::kCorrupt, "{}: {}", where, e.what());
  }
  return HfBpeTokenizer(std::move(impl));
}

Result<HfBpeTokenizer> HfBpeTokenizer::from_tokenizer_json(const fs::path& path, const TokenizerConfig& config) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return make_error(ErrorCode::kNotFound, "{}: no such file", path.string());
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  return from_json_text(text, config, path.string());
}

Result<HfBpeTokenizer> HfBpeTokenizer::from_dir(const fs::path& dir) {
  RAGFT_TRY(TokenizerConfig config, TokenizerConfig::from_dir(dir));
  return from_tokenizer_json(dir / "tokenizer.json", config);
}

std::vector<std::int32_t> HfBpeTokenizer::encode(std::string_view text_in, bool add_special_tokens) const {
  const Impl& m = *impl_;
  std::string repaired;
  std::string_view text = text_in;
  if (!is_valid_utf8(text)) {
    repaired = sanitize_utf8(text);
    text = repaired;
  }
  std::vector<std::int32_t> ids;
  if (add_special_tokens) ids = m.post.prefix;
  for (const Segment& seg : find_added(text, m.raw_matcher, m.added)) {
    if (seg.token != std::string::npos) {
      ids.push_back(m.added[seg.token].id);
      continue;
    }
    std::string_view raw = text.substr(seg.begin, seg.end - seg.begin);
    std::string normalized = m.normalizer ? normalize(*m.normalizer, std::string(raw)) : std::string(raw);
    for (const Segment& sub : find_added(normalized, m.normalized_matcher, m.added)) {
      if (sub.token != std::string::npos) {
        ids.push_back(m.added[sub.token].id);
      } else {
        m.encode_plain(std::string_view(normalized).substr(sub.begin, sub.end - sub.begin),
                       seg.begin == 0 && sub.begin == 0, ids);
      }
    }
  }
  if (add_special_tokens) ids.insert(ids.end(), m.post.suffix.begin(), m.post.suffix.end());
  return ids;
}

std::vector<std::string> HfBpeTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (std::int32_t i : encode(text, false)) out.push_back(token(i));
  return out;
}

std::string HfBpeTokenizer::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
  const Impl& m = *impl_;
  std::vector<std::string> toks;
  toks.reserve(ids.size());
  for (std::int32_t i : ids) {
    if (i < 0 || static_cast<std::size_t>(i) >= m.tokens.size()) continue;
    auto k = static_cast<std::size_t>(i);
    if (m.tokens[k].empty() || (skip_special_tokens && m.special[k])) continue;
    toks.push_back(m.tokens[k]);
  }
  std::string out;
  if (m.decoder) {
    decode_chain(*m.decoder, toks);
    for (const auto& t : toks) out += t;
  } else {
    for (std::size_t k = 0; k < toks.size(); ++k) {
      if (k) out += ' ';
      out += toks[k];
    }
  }
  if (m.config.clean_up_tokenization_spaces) out = clean_up_tokenization(std::move(out));
  // Tokens are valid UTF-8, but a decoder that joins bytes may leave them ill-formed.
  return is_valid_utf8(out) ? out : utf8_lossy(out);
}

std::int32_t HfBpeTokenizer::id(std::string_view token) const { return impl_->lookup(token); }

const std::string& HfBpeTokenizer::token(std::int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || static_cast<std::size_t>(id) >= impl_->tokens.size()) return kEmpty;
  return impl_->tokens[static_cast<std::size_t>(id)];
}

std::size_t HfBpeTokenizer::size() const { return impl_->tokens.size(); }
bool HfBpeTokenizer::is_special(std::int32_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < impl_->special.size() &&
         impl_->special[static_cast<std::size_t>(id)];
}
std::int32_t HfBpeTokenizer::bos_id() const { return impl_->bos; }
std::int32_t HfBpeTokenizer::eos_id() const { return impl_->eos; }
std::int32_t HfBpeTokenizer::pad_id() const { return impl_->pad; }
std::int32_t HfBpeTokenizer::unk_id() const { return impl_->unk; }
const TokenizerConfig& HfBpeTokenizer::config() const { return impl_->config; }

}  // namespace ragft
