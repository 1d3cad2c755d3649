#include "embed/sentencepiece_model.h"

#include <algorithm>
#include <cfloat>
#include <cstring>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>

#include "core/env.h"
#include "core/utf8.h"
#include "embed/subword_text.h"

namespace ragft {

namespace fs = std::filesystem;
using namespace subword;

namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // U+2581

// ---- protobuf wire format ----

class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      auto b = static_cast<std::uint8_t>(data_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  // The next field's number and wire type.
  bool tag(std::uint32_t& field, std::uint32_t& wire) {
    std::uint64_t t;
    if (!varint(t) || (t >> 3) == 0 || (t >> 3) > 0x1FFFFFFF) return false;
    field = static_cast<std::uint32_t>(t >> 3);
    wire = static_cast<std::uint32_t>(t & 7);
    return true;
  }
  bool bytes(std::string_view& out) {
    std::uint64_t n;
    if (!varint(n) || n > data_.size() - pos_) return false;
    out = data_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  bool fixed32(std::uint32_t& v) {
    if (data_.size() - pos_ < 4) return false;
    v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<std::uint8_t>(data_[pos_ + static_cast<std::size_t>(k)]);
    pos_ += 4;
    return true;
  }
  bool skip(std::uint32_t wire) {
    std::uint64_t v = 0;
    std::string_view s;
    std::uint32_t f;
    switch (wire) {
      case 0:
        return varint(v);
      case 1:
        if (data_.size() - pos_ < 8) return false;
        pos_ += 8;
        return true;
      case 2:
        return bytes(s);
      case 5:
        return fixed32(f);
      default:  // groups (3, 4) are not used by this format
        return false;
    }
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

// Reads a varint / length-delimited / fixed32 field, checking its wire type.
bool read_varint(WireReader& r, std::uint32_t wire, std::uint64_t& v) { return wire == 0 && r.varint(v); }
bool read_bytes(WireReader& r, std::uint32_t wire, std::string_view& v) { return wire == 2 && r.bytes(v); }
bool read_float(WireReader& r, std::uint32_t wire, float& v) {
  std::uint32_t bits;
  if (wire != 5 || !r.fixed32(bits)) return false;
  std::memcpy(&v, &bits, sizeof v);
  return true;
}

// ---- the precompiled normalisation rules (a darts-clone double array + replacement strings) ----

class CharsMap {
 public:
  // <trie size: uint32 LE><trie units: uint32 LE each><NUL-terminated replacements>.
  static std::optional<CharsMap> parse(std::string_view blob) {
    CharsMap m;
    if (blob.empty()) return m;
    if (blob.size() <= 4) return std::nullopt;
    std::uint32_t trie_size = 0;
    for (int k = 3; k >= 0; --k)
      trie_size = (trie_size << 8) | static_cast<std::uint8_t>(blob[static_cast<std::size_t>(k)]);
    if (trie_size % 4 != 0 || trie_size >= blob.size() - 4) return std::nullopt;
    m.units_.resize(trie_size / 4);
    for (std::size_t i = 0; i < m.units_.size(); ++i) {
      std::uint32_t u = 0;
      for (int k = 3; k >= 0; --k)
        u = (u << 8) | static_cast<std::uint8_t>(blob[4 + i * 4 + static_cast<std::size_t>(k)]);
      m.units_[i] = u;
    }
    m.replacements_ = std::string(blob.substr(4 + trie_size));
    return m;
  }
  bool empty() const { return units_.empty(); }

  // The longest rule matching a prefix of s: (its length, its replacement); length 0 when none.
  std::pair<std::size_t, std::string_view> match(std::string_view s) const {
    std::size_t best = 0;
    std::string_view out;
    if (units_.empty()) return {best, out};
    std::uint32_t node = offset(units_[0]);
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto c = static_cast<std::uint8_t>(s[i]);
      node ^= c;
      if (node >= units_.size()) break;
      std::uint32_t unit = units_[node];
      if ((unit & (0x80000000u | 0xFFu)) != c) break;  // label
      node ^= offset(unit);
      if ((unit >> 8) & 1) {  // has a leaf: the value unit is at `node`
        if (node >= units_.size()) break;
        std::uint32_t value = units_[node] & 0x7FFFFFFFu;
        if (value >= replacements_.size()) break;
        std::size_t end = replacements_.find('\0', value);
        if (end == std::string::npos) end = replacements_.size();
        best = i + 1;
        out = std::string_view(replacements_).substr(value, end - value);
      }
    }
    return {best, out};
  }

 private:
  static std::uint32_t offset(std::uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }
  std::vector<std::uint32_t> units_;
  std::string replacements_;
};

struct NormalizerSpec {
  std::string name;
  std::string charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

Result<NormalizerSpec> parse_normalizer_spec(std::string_view data, const std::string& where) {
  NormalizerSpec spec;
  WireReader r(data);
  while (!r.done()) {
    std::uint32_t field, wire;
    if (!r.tag(field, wire)) return make_error(ErrorCode::kCorrupt, "{}: malformed field", where);
    std::string_view s;
    std::uint64_t v = 0;
    bool ok = true;
    switch (field) {
      case 1:
        ok = read_bytes(r, wire, s);
        spec.name = std::string(s);
        break;
      case 2:
        ok = read_bytes(r, wire, s);
        spec.charsmap = std::string(s);
        break;
      case 3:
        ok = read_varint(r, wire, v);
        spec.add_dummy_prefix = v != 0;
        break;
      case 4:
        ok = read_varint(r, wire, v);
        spec.remove_extra_whitespaces = v != 0;
        break;
      case 5:
        ok = read_varint(r, wire, v);
        spec.escape_whitespaces = v != 0;
        break;
      default:
        ok = r.skip(wire);
    }
    if (!ok) return make_error(ErrorCode::kCorrupt, "{}: field {} is truncated or has the wrong type", where, field);
  }
  return spec;
}

// Longest-first literal matching of a set of strings (user-defined or special pieces).
class PrefixSet {
 public:
  void add(const std::string& s, std::int32_t id) {
    if (!s.empty()) by_first_[static_cast<unsigned char>(s[0])].push_back({s, id});
  }
  void finish() {
    for (auto& b : by_first_) {
      std::stable_sort(b.begin(), b.end(),
                       [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
    }
  }
  // The longest entry that is a prefix of s: (length, id); length 0 when none.
  std::pair<std::size_t, std::int32_t> match(std::string_view s) const {
    if (s.empty()) return {0, -1};
    for (const auto& [p, id] : by_first_[static_cast<unsigned char>(s[0])]) {
      if (s.compare(0, p.size(), p) == 0) return {p.size(), id};
    }
    return {0, -1};
  }
  bool empty() const {
    return std::all_of(std::begin(by_first_), std::end(by_first_), [](const auto& b) { return b.empty(); });
  }

 private:
  std::vector<std::pair<std::string, std::int32_t>> by_first_[256];
};

// SentencePiece's Normalizer::Normalize (without the offset map).
std::string run_normalizer(std::string_view input, const NormalizerSpec& spec, const CharsMap& map,
                           const PrefixSet* user_defined, bool ws_as_suffix) {
  std::string out;
  if (input.empty()) return out;
  // One normalisation step at the front of `in`: (replacement, bytes consumed).
  std::string scratch;
  auto step = [&](std::string_view in) -> std::pair<std::string_view, std::size_t> {
    if (user_defined) {
      auto [len, id] = user_defined->match(in);
      if (len) return {in.substr(0, len), len};
    }
    auto [len, rep] = map.match(in);
    if (len) return {rep, len};
    char32_t cp;
    std::size_t n = decode_utf8(in, 0, cp);
    if (cp == 0xFFFD && in.compare(0, 3, "\xEF\xBF\xBD") != 0) return {"\xEF\xBF\xBD", 1};
    return {in.substr(0, n), n};
  };
  if (spec.remove_extra_whitespaces) {
    while (!input.empty()) {
      auto [rep, n] = step(input);
      if (rep != " ") break;
      input.remove_prefix(n);
    }
  }
  if (input.empty()) return out;
  auto add_ws = [&] { out += spec.escape_whitespaces ? kSpaceSymbol : std::string_view(" "); };
  if (!ws_as_suffix && spec.add_dummy_prefix) add_ws();
  bool prev_space = spec.remove_extra_whitespaces;
  while (!input.empty()) {
    auto [rep, n] = step(input);
    std::string_view sp = rep;
    while (prev_space && !sp.empty() && sp[0] == ' ') sp.remove_prefix(1);
    if (!sp.empty()) {
      for (char c : sp) {
        if (spec.escape_whitespaces && c == ' ') {
          out += kSpaceSymbol;
        } else {
          out += c;
        }
      }
      prev_space = sp.back() == ' ';
    }
    input.remove_prefix(n);
    if (!spec.remove_extra_whitespaces) prev_space = false;
  }
  if (spec.remove_extra_whitespaces) {
    std::string_view space = spec.escape_whitespaces ? kSpaceSymbol : std::string_view(" ");
    while (out.size() >= space.size() && std::string_view(out).substr(out.size() - space.size()) == space) {
      out.resize(out.size() - space.size());
    }
  }
  if (ws_as_suffix && spec.add_dummy_prefix) add_ws();
  return out;
}

std::size_t char_len(std::string_view s, std::size_t i) {
  char32_t cp;
  return decode_utf8(s, i, cp);
}

}  // namespace

struct SentencePieceModel::Impl {
  struct PieceInfo {
    std::string piece;
    float score = 0;
    PieceType type = PieceType::kNormal;
  };
  std::vector<PieceInfo> pieces;
  Type type = Type::kUnigram;
  bool byte_fallback = false;
  bool ws_as_suffix = false;
  // NORMAL, USER_DEFINED and UNUSED pieces (the ones segmentation produces) / the others.
  StringMap normal, reserved;
  // The normal pieces as a byte trie (edges (node, byte) -> child; node 0 is the root), for
  // Unigram's lattice.
  PairMap trie_edges;
  std::vector<std::int32_t> trie_piece{-1};  // node -> piece id, -1 when none ends there
  // BPE: every piece keeps its whitespace symbols at its start (at its end with
  // treat_whitespace_as_suffix), so no merge crosses from a word into the whitespace before the
  // next one and words can be segmented one by one.
  bool bpe_by_word = false;
  std::int32_t byte_ids[256];
  std::int32_t unk = -1, bos = -1, eos = -1, pad = -1;
  PrefixSet user_defined;  // never split or normalised
  PrefixSet specials;      // control and unknown pieces, for Options::split_special
  NormalizerSpec norm_spec;
  CharsMap norm_map;
  std::optional<NormalizerSpec> denorm_spec;
  CharsMap denorm_map;
  float min_score = FLT_MAX, max_score = FLT_MIN;  // over NORMAL pieces, as SentencePiece
  Options options;

  // SentencePiece's PieceToId: reserved pieces first, then normal ones, else unk.
  std::int32_t piece_to_id(std::string_view p) const {
    if (std::int32_t id = reserved.find(p); id >= 0) return id;
    if (std::int32_t id = normal.find(p); id >= 0) return id;
    return unk;
  }
  bool is_unused(std::int32_t id) const { return pieces[static_cast<std::size_t>(id)].type == PieceType::kUnused; }

  std::string normalize(std::string_view text) const {
    return run_normalizer(text, norm_spec, norm_map, user_defined.empty() ? nullptr : &user_defined, ws_as_suffix);
  }
  // Segments normalised text: (piece, id) pairs covering it.
  std::vector<std::pair<std::string_view, std::int32_t>> segment_bpe(std::string_view s) const;
  void segment_bpe_word(std::string_view s, std::vector<std::pair<std::string_view, std::int32_t>>& out) const;
  std::vector<std::pair<std::string_view, std::int32_t>> segment_unigram(std::string_view s) const;
  // Appends the ids of one stretch of raw text.
  void encode_text(std::string_view text, std::vector<std::int32_t>& ids) const;
};

std::vector<std::pair<std::string_view, std::int32_t>> SentencePieceModel::Impl::segment_bpe(std::string_view s) const {
  std::vector<std::pair<std::string_view, std::int32_t>> out;
  if (!bpe_by_word) {
    segment_bpe_word(s, out);
    return out;
  }
  std::string_view ws = norm_spec.escape_whitespaces ? kSpaceSymbol : std::string_view(" ");
  // Word boundaries: before a whitespace symbol that follows other text (after a run of them that
  // precedes other text, with treat_whitespace_as_suffix).
  std::size_t start = 0;
  bool prev_ws = true;
  for (std::size_t i = 0; i < s.size();) {
    bool is_ws = s.compare(i, ws.size(), ws) == 0;
    bool boundary = ws_as_suffix ? (prev_ws && !is_ws && i > 0 && i > start) : (is_ws && !prev_ws);
    if (boundary) {
      segment_bpe_word(s.substr(start, i - start), out);
      start = i;
    }
    prev_ws = is_ws;
    i += is_ws ? ws.size() : char_len(s, i);
  }
  segment_bpe_word(s.substr(start), out);
  return out;
}

void SentencePieceModel::Impl::segment_bpe_word(std::string_view s,
                                                std::vector<std::pair<std::string_view, std::int32_t>>& out) const {
  if (s.empty()) return;
  struct Symbol {
    std::int32_t prev, next;
    bool freeze;
    std::string_view piece;
  };
  struct Pair {
    std::int32_t left, right;
    float score;
    std::size_t size;
  };
  auto worse = [](const Pair& a, const Pair& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
  std::vector<Symbol> sym;
  std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> rev_merge;
  for (std::size_t i = 0; i < s.size();) {
    auto [len, id] = user_defined.match(s.substr(i));
    bool freeze = len > 0;
    if (!freeze) len = char_len(s, i);
    auto n = static_cast<std::int32_t>(sym.size());
    sym.push_back({n - 1, i + len < s.size() ? n + 1 : -1, freeze, s.substr(i, len)});
    i += len;
  }
  auto maybe_add = [&](std::int32_t l, std::int32_t r) {
    if (l < 0 || r < 0) return;
    const Symbol& a = sym[static_cast<std::size_t>(l)];
    const Symbol& b = sym[static_cast<std::size_t>(r)];
    if (a.freeze || b.freeze) return;
    std::string_view merged(a.piece.data(), a.piece.size() + b.piece.size());
    std::int32_t id = normal.find(merged);
    if (id < 0) return;
    agenda.push({l, r, pieces[static_cast<std::size_t>(id)].score, merged.size()});
    if (is_unused(id)) rev_merge[merged] = {a.piece, b.piece};
  };
  for (std::size_t i = 1; i < sym.size(); ++i)
    maybe_add(static_cast<std::int32_t>(i - 1), static_cast<std::int32_t>(i));
  while (!agenda.empty()) {
    Pair top = agenda.top();
    agenda.pop();
    Symbol& l = sym[static_cast<std::size_t>(top.left)];
    Symbol& r = sym[static_cast<std::size_t>(top.right)];
    if (l.piece.empty() || r.piece.empty() || l.piece.size() + r.piece.size() != top.size) continue;
    l.piece = std::string_view(l.piece.data(), l.piece.size() + r.piece.size());
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<std::size_t>(r.next)].prev = top.left;
    r.piece = {};
    maybe_add(l.prev, top.left);
    maybe_add(top.left, l.next);
  }
  // UNUSED pieces are split back into the pieces they were merged from.
  auto resegment = [&](auto&& self, std::string_view w) -> void {
    std::int32_t id = piece_to_id(w);
    if (id >= 0 && is_unused(id)) {
      auto it = rev_merge.find(w);
      if (it != rev_merge.end()) {
        self(self, it->second.first);
        self(self, it->second.second);
        return;
      }
    }
    out.emplace_back(w, id);
  };
  for (std::int32_t i = sym.empty() ? -1 : 0; i >= 0; i = sym[static_cast<std::size_t>(i)].next) {
    resegment(resegment, sym[static_cast<std::size_t>(i)].piece);
  }
}

std::vector<std::pair<std::string_view, std::int32_t>> SentencePieceModel::Impl::segment_unigram(
    std::string_view s) const {
  // Character boundaries, and the character index of each byte offset that is one.
  std::vector<std::size_t> at;
  std::vector<std::int32_t> char_at(s.size() + 1, -1);
  for (std::size_t i = 0; i < s.size(); i += char_len(s, i)) {
    char_at[i] = static_cast<std::int32_t>(at.size());
    at.push_back(i);
  }
  char_at[s.size()] = static_cast<std::int32_t>(at.size());
  at.push_back(s.size());
  std::size_t n = at.size() - 1;
  struct Best {
    float score = 0;
    std::int32_t id = -1;
    std::size_t from = 0;  // character index where the last piece starts
    bool set = false;
  };
  std::vector<Best> best(n + 1);
  best[0].set = true;
  const float unk_score = min_score - 10.0f;
  for (std::size_t i = 0; i < n; ++i) {
    if (!best[i].set) continue;  // not reached: every position has a one-character node
    bool has_single = false;
    auto relax = [&](std::size_t j, std::int32_t id, float score) {
      float cand = best[i].score + score;
      if (!best[j].set || cand > best[j].score) best[j] = {cand, id, i, true};
    };
    // The pieces starting here, shortest first (the trie walk).
    std::int32_t node = 0;
    for (std::size_t b = at[i]; b < s.size(); ++b) {
      const PairMap::Value* child = trie_edges.find(node, static_cast<unsigned char>(s[b]));
      if (!child) break;
      node = child->id;
      std::int32_t id = trie_piece[static_cast<std::size_t>(node)];
      std::int32_t j = char_at[b + 1];
      if (id < 0 || j < 0 || is_unused(id)) continue;
      const PieceInfo& p = pieces[static_cast<std::size_t>(id)];
      float score = p.type == PieceType::kUserDefined
                        ? static_cast<float>(j - static_cast<std::int32_t>(i)) * max_score + 1.0f
                        : p.score;
      relax(static_cast<std::size_t>(j), id, score);
      if (static_cast<std::size_t>(j) == i + 1) has_single = true;
    }
    if (!has_single) relax(i + 1, unk, unk_score);
  }
  std::vector<std::pair<std::string_view, std::int32_t>> out;
  for (std::size_t j = n; j > 0; j = best[j].from) {
    out.emplace_back(s.substr(at[best[j].from], at[j] - at[best[j].from]), best[j].id);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

void SentencePieceModel::Impl::encode_text(std::string_view text, std::vector<std::int32_t>& ids) const {
  std::string normalized = normalize(text);
  if (normalized.empty()) return;
  auto segs = type == Type::kBpe ? segment_bpe(normalized) : segment_unigram(normalized);
  bool prev_unk = false;
  for (const auto& [piece, id] : segs) {
    bool is_unk = id == unk;
    if (is_unk && byte_fallback) {
      for (char c : piece) ids.push_back(byte_ids[static_cast<unsigned char>(c)]);
    } else if (!(is_unk && prev_unk)) {  // a run of unknown characters is one unknown piece
      ids.push_back(id);
    }
    prev_unk = is_unk;
  }
}

namespace {

// The model of a serialized ModelProto; `config` (may be null) names other bos/eos/pad pieces.
Result<std::shared_ptr<SentencePieceModel::Impl>> load_model(std::string_view proto,
                                                             const SentencePieceModel::Options& options,
                                                             const std::string& where, const TokenizerConfig* config) {
  using Impl = SentencePieceModel::Impl;
  using PieceType = SentencePieceModel::PieceType;
  using Type = SentencePieceModel::Type;
  auto impl = std::make_shared<Impl>();
  impl->options = options;
  std::uint64_t model_type = 1;
  std::string bos_piece = "<s>", eos_piece = "</s>", pad_piece = "<pad>";
  WireReader r(proto);
  while (!r.done()) {
    std::uint32_t field, wire;
    if (!r.tag(field, wire)) return make_error(ErrorCode::kCorrupt, "{}: malformed protobuf (bad field tag)", where);
    std::string_view sub;
    bool ok = true;
    if (field == 1) {  // SentencePiece
      ok = read_bytes(r, wire, sub);
      if (!ok) return make_error(ErrorCode::kCorrupt, "{}: field {} is truncated or has the wrong type", where, field);
      Impl::PieceInfo p;
      WireReader pr(sub);
      while (!pr.done() && ok) {
        std::uint32_t f, w;
        std::string_view s;
        std::uint64_t v = 0;
        if (!pr.tag(f, w)) {
          ok = false;
        } else if (f == 1) {
          ok = read_bytes(pr, w, s);
          p.piece = std::string(s);
        } else if (f == 2) {
          ok = read_float(pr, w, p.score);
        } else if (f == 3) {
          ok = read_varint(pr, w, v) && v >= 1 && v <= 6;
          p.type = static_cast<PieceType>(v);
        } else {
          ok = pr.skip(w);
        }
      }
      if (!ok) {
        return make_error(ErrorCode::kCorrupt, "{}: pieces[{}] is malformed (truncated, or an unknown type)", where,
                          impl->pieces.size());
      }
      impl->pieces.push_back(std::move(p));
    } else if (field == 2) {  // TrainerSpec
      ok = read_bytes(r, wire, sub);
      if (!ok) return make_error(ErrorCode::kCorrupt, "{}: field {} is truncated or has the wrong type", where, field);
      WireReader tr(sub);
      while (!tr.done() && ok) {
        std::uint32_t f, w;
        std::string_view s;
        std::uint64_t v = 0;
        if (!tr.tag(f, w)) {
          ok = false;
        } else if (f == 3) {
          ok = read_varint(tr, w, model_type);
        } else if (f == 24 || f == 35) {
          ok = read_varint(tr, w, v);
          (f == 24 ? impl->ws_as_suffix : impl->byte_fallback) = v != 0;
        } else if (f >= 46 && f <= 48) {  // bos_piece, eos_piece, pad_piece
          ok = read_bytes(tr, w, s);
          if (ok && !s.empty()) (f == 46 ? bos_piece : f == 47 ? eos_piece : pad_piece) = std::string(s);
        } else {
          ok = tr.skip(w);
        }
      }
      if (!ok) return make_error(ErrorCode::kCorrupt, "{}: trainer_spec is malformed", where);
    } else if (field == 3 || field == 5) {  // NormalizerSpec, denormalizer
      ok = read_bytes(r, wire, sub);
      if (!ok) return make_error(ErrorCode::kCorrupt, "{}: field {} is truncated or has the wrong type", where, field);
      RAGFT_TRY(NormalizerSpec spec,
                parse_normalizer_spec(sub, where + (field == 3 ? ": normalizer_spec" : ": denormalizer_spec")));
      if (field == 3) {
        impl->norm_spec = std::move(spec);
      } else {
        impl->denorm_spec = std::move(spec);
      }
    } else {
      ok = r.skip(wire);
    }
    if (!ok) return make_error(ErrorCode::kCorrupt, "{}: field {} is truncated or has the wrong type", where, field);
  }

  if (model_type == 1) {
    impl->type = Type::kUnigram;
  } else if (model_type == 2) {
    impl->type = Type::kBpe;
  } else {
    const char* name = model_type == 3 ? "WORD" : model_type == 4 ? "CHAR" : "unknown";
    return make_error(ErrorCode::kUnsupported, "{}: model_type {} ({}) is not supported (only UNIGRAM and BPE)", where,
                      model_type, name);
  }
  if (impl->pieces.empty()) return make_error(ErrorCode::kCorrupt, "{}: no pieces", where);
  auto charsmap = CharsMap::parse(impl->norm_spec.charsmap);
  if (!charsmap) return make_error(ErrorCode::kCorrupt, "{}: normalizer_spec.precompiled_charsmap is damaged", where);
  impl->norm_map = std::move(*charsmap);
  if (impl->denorm_spec) {
    auto dm = CharsMap::parse(impl->denorm_spec->charsmap);
    if (!dm) return make_error(ErrorCode::kCorrupt, "{}: denormalizer_spec.precompiled_charsmap is damaged", where);
    impl->denorm_map = std::move(*dm);
    if (impl->denorm_map.empty()) impl->denorm_spec.reset();
  }

  std::fill(std::begin(impl->byte_ids), std::end(impl->byte_ids), -1);
  for (std::size_t i = 0; i < impl->pieces.size(); ++i) {
    const auto& p = impl->pieces[i];
    auto id = static_cast<std::int32_t>(i);
    if (p.piece.empty()) return make_error(ErrorCode::kCorrupt, "{}: pieces[{}] is empty", where, i);
    bool normal = p.type == PieceType::kNormal || p.type == PieceType::kUserDefined || p.type == PieceType::kUnused;
    if (!(normal ? impl->normal : impl->reserved).insert(p.piece, id)) {
      return make_error(ErrorCode::kCorrupt, "{}: piece \"{}\" is defined twice", where, p.piece);
    }
    switch (p.type) {
      case PieceType::kUserDefined:
        impl->user_defined.add(p.piece, id);
        break;
      case PieceType::kUnknown:
        if (impl->unk >= 0) return make_error(ErrorCode::kCorrupt, "{}: more than one unknown piece", where);
        impl->unk = id;
        impl->specials.add(p.piece, id);
        break;
      case PieceType::kControl:
        impl->specials.add(p.piece, id);
        break;
      case PieceType::kByte: {
        int b = parse_byte_piece(p.piece, true);
        if (!impl->byte_fallback || b < 0) {
          return make_error(ErrorCode::kCorrupt, "{}: byte piece \"{}\" is invalid or byte_fallback is off", where,
                            p.piece);
        }
        impl->byte_ids[b] = id;
        break;
      }
      case PieceType::kNormal:
        impl->min_score = std::min(impl->min_score, p.score);
        impl->max_score = std::max(impl->max_score, p.score);
        break;
      case PieceType::kUnused:
        break;
    }
    if (normal) {  // into the trie
      std::int32_t node = 0;
      for (char c : p.piece) {
        const PairMap::Value* child = impl->trie_edges.find(node, static_cast<unsigned char>(c));
        if (child) {
          node = child->id;
        } else {
          auto next = static_cast<std::int32_t>(impl->trie_piece.size());
          impl->trie_piece.push_back(-1);
          impl->trie_edges.insert_or_assign(node, static_cast<unsigned char>(c), {0, next});
          node = next;
        }
      }
      impl->trie_piece[static_cast<std::size_t>(node)] = id;
    }
  }
  if (impl->unk < 0) return make_error(ErrorCode::kCorrupt, "{}: no unknown piece", where);
  if (impl->byte_fallback &&
      std::find(std::begin(impl->byte_ids), std::end(impl->byte_ids), -1) != std::end(impl->byte_ids)) {
    return make_error(ErrorCode::kCorrupt, "{}: byte_fallback is on but the 256 <0xNN> pieces are not all there",
                      where);
  }
  impl->user_defined.finish();
  // BPE can go word by word when no piece has other text before (after, for suffix models) a
  // whitespace symbol.
  std::string_view ws = impl->norm_spec.escape_whitespaces ? kSpaceSymbol : std::string_view(" ");
  impl->bpe_by_word = true;
  for (const auto& [piece, id] : impl->normal.entries()) {
    std::string_view rest = piece;
    auto strip_ws = [&](bool front) {
      while (rest.size() >= ws.size() &&
             (front ? rest.substr(0, ws.size()) : rest.substr(rest.size() - ws.size())) == ws) {
        front ? rest.remove_prefix(ws.size()) : rest.remove_suffix(ws.size());
      }
    };
    strip_ws(!impl->ws_as_suffix);
    if (rest.find(ws) != std::string_view::npos) {
      impl->bpe_by_word = false;
      break;
    }
  }
  impl->specials.finish();
  // bos / eos / pad: the named piece when it is a control piece (as SentencePieceProcessor).
  auto control = [&](const std::string& piece) {
    std::int32_t id = impl->reserved.find(piece);
    if (id < 0) return -1;
    return impl->pieces[static_cast<std::size_t>(id)].type == PieceType::kControl ? id : -1;
  };
  impl->bos = control(bos_piece);
  impl->eos = control(eos_piece);
  impl->pad = control(pad_piece);
  if (config) {  // tokenizer_config.json's tokens, when they name pieces
    auto pick = [&](const std::string& tok, std::int32_t& out) {
      if (tok.empty()) return;
      if (std::int32_t id = impl->reserved.find(tok); id >= 0) {
        out = id;
      } else if (std::int32_t id2 = impl->normal.find(tok); id2 >= 0) {
        out = id2;
      }
    };
    pick(config->bos_token, impl->bos);
    pick(config->eos_token, impl->eos);
    pick(config->pad_token, impl->pad);
  }
  return impl;
}

}  // namespace

Result<SentencePieceModel> SentencePieceModel::from_bytes(std::string_view proto, const Options& options,
                                                          std::string_view where) {
  RAGFT_TRY(auto impl, load_model(proto, options, std::string(where), nullptr));
  return SentencePieceModel(std::move(impl));
}

Result<SentencePieceModel> SentencePieceModel::from_file(const fs::path& path, const Options& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return make_error(ErrorCode::kNotFound, "{}: no such file", path.string());
  RAGFT_TRY(std::string bytes, Env::posix().read_file(path));
  return from_bytes(bytes, options, path.string());
}

Result<SentencePieceModel> SentencePieceModel::from_dir(const fs::path& dir) {
  RAGFT_TRY(TokenizerConfig config, TokenizerConfig::from_dir(dir));
  Options o;
  o.add_bos = config.add_bos_token.value_or(o.add_bos);
  o.add_eos = config.add_eos_token.value_or(o.add_eos);
  fs::path path = dir / "tokenizer.model";
  std::error_code ec;
  if (!fs::exists(path, ec)) return make_error(ErrorCode::kNotFound, "{}: no such file", path.string());
  RAGFT_TRY(std::string bytes, Env::posix().read_file(path));
  RAGFT_TRY(auto impl, load_model(bytes, o, path.string(), &config));
  return SentencePieceModel(std::move(impl));
}

std::vector<std::int32_t> SentencePieceModel::encode(std::string_view text, bool add_special_tokens) const {
  const Impl& m = *impl_;
  std::vector<std::int32_t> ids;
  if (add_special_tokens && m.options.add_bos && m.bos >= 0) ids.push_back(m.bos);
  if (!m.options.split_special) {
    m.encode_text(text, ids);
  } else {
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size();) {
      auto [len, id] = m.specials.match(text.substr(i));
      if (len == 0) {
        ++i;
        continue;
      }
      m.encode_text(text.substr(start, i - start), ids);
      ids.push_back(id);
      i += len;
      start = i;
    }
    m.encode_text(text.substr(start), ids);
  }
  if (add_special_tokens && m.options.add_eos && m.eos >= 0) ids.push_back(m.eos);
  return ids;
}

std::vector<std::string> SentencePieceModel::encode_pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  for (std::int32_t id : encode(text, false)) pieces.push_back(token(id));
  return pieces;
}

std::string SentencePieceModel::normalize(std::string_view text) const { return impl_->normalize(text); }

std::string SentencePieceModel::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
  const Impl& m = *impl_;
  std::string text;
  std::string bytes;  // a run of byte pieces
  auto flush_bytes = [&] {
    // As SentencePiece: valid sequences as they are, each ill-formed byte as U+FFFD.
    for (std::size_t i = 0; i < bytes.size();) {
      char32_t cp;
      std::size_t n = decode_utf8(bytes, i, cp);
      if (cp == 0xFFFD && bytes.compare(i, 3, "\xEF\xBF\xBD") != 0) {
        text += "\xEF\xBF\xBD";
      } else {
        text.append(bytes, i, n);
      }
      i += n;
    }
    bytes.clear();
  };
  bool is_bos_ws = true;     // the next piece may start the text
  bool bos_ws_seen = false;  // the previous piece had its leading "▁" dropped
  for (std::int32_t id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= m.pieces.size()) continue;
    const auto& p = m.pieces[static_cast<std::size_t>(id)];
    if (p.type == PieceType::kByte) {
      bytes += static_cast<char>(parse_byte_piece(p.piece, true));
      continue;
    }
    flush_bytes();
    if (bos_ws_seen || !text.empty()) is_bos_ws = false;
    bos_ws_seen = false;
    if (p.type == PieceType::kControl || p.type == PieceType::kUnknown) {
      if (!skip_special_tokens) text += p.piece;
      continue;
    }
    std::string_view piece = p.piece;
    if (is_bos_ws && (m.norm_spec.add_dummy_prefix || m.norm_spec.remove_extra_whitespaces)) {
      if (piece.substr(0, kSpaceSymbol.size()) == kSpaceSymbol) {
        piece.remove_prefix(kSpaceSymbol.size());
        bos_ws_seen = !m.norm_spec.remove_extra_whitespaces;
      }
    }
    for (std::size_t i = 0; i < piece.size();) {
      if (piece.substr(i, kSpaceSymbol.size()) == kSpaceSymbol) {
        text += ' ';
        i += kSpaceSymbol.size();
      } else {
        text += piece[i++];
      }
    }
  }
  flush_bytes();
  if (m.denorm_spec) text = run_normalizer(text, *m.denorm_spec, m.denorm_map, nullptr, false);
  return is_valid_utf8(text) ? text : utf8_lossy(text);
}

std::int32_t SentencePieceModel::id(std::string_view piece) const {
  if (std::int32_t id = impl_->reserved.find(piece); id >= 0) return id;
  return impl_->normal.find(piece);
}

const std::string& SentencePieceModel::token(std::int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || static_cast<std::size_t>(id) >= impl_->pieces.size()) return kEmpty;
  return impl_->pieces[static_cast<std::size_t>(id)].piece;
}

std::size_t SentencePieceModel::size() const { return impl_->pieces.size(); }

bool SentencePieceModel::is_special(std::int32_t id) const {
  PieceType t = piece_type(id);
  return t == PieceType::kControl || t == PieceType::kUnknown;
}

std::int32_t SentencePieceModel::bos_id() const { return impl_->bos; }
std::int32_t SentencePieceModel::eos_id() const { return impl_->eos; }
std::int32_t SentencePieceModel::pad_id() const { return impl_->pad; }
std::int32_t SentencePieceModel::unk_id() const { return impl_->unk; }
SentencePieceModel::Type SentencePieceModel::type() const { return impl_->type; }

float SentencePieceModel::score(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= impl_->pieces.size()) return 0;
  return impl_->pieces[static_cast<std::size_t>(id)].score;
}

SentencePieceModel::PieceType SentencePieceModel::piece_type(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= impl_->pieces.size()) return PieceType::kUnused;
  return impl_->pieces[static_cast<std::size_t>(id)].type;
}

const SentencePieceModel::Options& SentencePieceModel::options() const { return impl_->options; }

}  // namespace ragft
