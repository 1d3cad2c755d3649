#include "embed/hf_pipeline.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <utility>

#include "embed/subword_text.h"

namespace ragft::subword {

using nlohmann::json;

namespace {

std::string type_of(const json& j) { return j.is_object() ? j.value("type", std::string()) : std::string(); }

// A {"String": s} or {"Regex": r} pattern. Sets exactly one of literal / regex.
Status read_pattern(const json& j, const std::string& where, std::string& literal, std::string& regex) {
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: pattern is not an object", where);
  if (j.contains("String")) {
    literal = j.at("String").get<std::string>();
    return ok_status();
  }
  if (j.contains("Regex")) {
    regex = j.at("Regex").get<std::string>();
    return ok_status();
  }
  return make_error(ErrorCode::kCorrupt, "{}: pattern has neither \"String\" nor \"Regex\"", where);
}

Result<SplitBehavior> read_behavior(const json& j, const std::string& where) {
  std::string b = j.is_string() ? j.get<std::string>() : std::string();
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return make_error(ErrorCode::kUnsupported, "{}: split behavior \"{}\" is not supported", where, b);
}

// Metaspace's prepend scheme: prepend_scheme if present, else the older add_prefix_space.
Result<char> read_prepend_scheme(const json& j, const std::string& where) {
  if (j.contains("prepend_scheme") && !j.at("prepend_scheme").is_null()) {
    std::string s = j.at("prepend_scheme").get<std::string>();
    if (s == "always") return 'a';
    if (s == "first") return 'f';
    if (s == "never") return 'n';
    return make_error(ErrorCode::kUnsupported, "{}: prepend_scheme \"{}\" is not supported", where, s);
  }
  if (j.contains("add_prefix_space") && j.at("add_prefix_space").is_boolean()) {
    return j.at("add_prefix_space").get<bool>() ? 'a' : 'n';
  }
  return 'a';
}

Result<std::string> read_replacement(const json& j, const std::string& where) {
  std::string r = j.value("replacement", std::string("\xE2\x96\x81"));
  char32_t cp;
  if (r.empty() || decode_utf8(r, 0, cp) != r.size()) {
    return make_error(ErrorCode::kCorrupt, "{}: replacement \"{}\" is not one character", where, r);
  }
  return r;
}

// ---- splitting ----

struct Segment {
  std::size_t begin, end;
  bool match;
};

// Segments covering [0, size) from sorted, non-overlapping matches.
std::vector<Segment> cover(const std::vector<std::pair<std::size_t, std::size_t>>& matches, std::size_t size,
                           bool invert) {
  std::vector<Segment> segs;
  std::size_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev < b) segs.push_back({prev, b, invert});
    segs.push_back({b, e, !invert});
    prev = e;
  }
  if (prev < size) segs.push_back({prev, size, invert});
  return segs;
}

// Each character satisfying `pred` is a match of its own.
template <typename Pred>
std::vector<std::pair<std::size_t, std::size_t>> char_matches(std::string_view s, Pred pred) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp;
    std::size_t n = decode_utf8(s, i, cp);
    if (pred(cp)) out.emplace_back(i, i + n);
    i += n;
  }
  return out;
}

std::vector<std::pair<std::size_t, std::size_t>> literal_matches(std::string_view s, std::string_view lit) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  if (lit.empty()) return out;
  for (std::size_t at = s.find(lit); at != std::string_view::npos; at = s.find(lit, at + lit.size())) {
    out.emplace_back(at, at + lit.size());
  }
  return out;
}

// tokenizers' NormalizedString::split: groups the segments per `behavior` and appends the
// non-empty pieces that are kept.
void split_into(const Piece& p, const std::vector<Segment>& segs, SplitBehavior behavior, std::vector<Piece>& out) {
  struct Kept {
    std::size_t begin, end;
    bool remove;
  };
  std::vector<Kept> kept;
  bool prev = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& s : segs) kept.push_back({s.begin, s.end, false});
      break;
    case SplitBehavior::kRemoved:
      for (const auto& s : segs) kept.push_back({s.begin, s.end, s.match});
      break;
    case SplitBehavior::kContiguous:
      for (const auto& s : segs) {
        if (s.match == prev && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back({s.begin, s.end, false});
        }
        prev = s.match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const auto& s : segs) {
        if (s.match && !prev && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back({s.begin, s.end, false});
        }
        prev = s.match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->match && !prev && !kept.empty()) {
          kept.back().begin = it->begin;
        } else {
          kept.push_back({it->begin, it->end, false});
        }
        prev = it->match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  for (const auto& k : kept) {
    if (k.remove || k.end == k.begin) continue;
    out.push_back(Piece{p.text.substr(k.begin, k.end - k.begin), p.at_start && k.begin == 0});
  }
}

template <typename F>
void split_each(std::vector<Piece>& pieces, F&& f) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (const Piece& p : pieces) f(p, out);
  pieces = std::move(out);
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(s);
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (std::size_t at = s.find(from); at != std::string_view::npos; at = s.find(from, pos)) {
    out.append(s.substr(pos, at - pos));
    out.append(to);
    pos = at + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

std::string utf8proc_form(const std::string& s, int options) {
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()), &out,
                   static_cast<utf8proc_option_t>(options));
  if (n < 0) return s;  // not reached: input is valid UTF-8
  std::string r(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  std::free(out);
  return r;
}

}  // namespace

// ---- parsing ----

Result<std::optional<HfNormalizer>> parse_normalizer(const json& j, const std::string& where) {
  if (j.is_null()) return std::optional<HfNormalizer>();
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not an object", where);
  std::string t = type_of(j);
  HfNormalizer n;
  using K = HfNormalizer::Kind;
  if (t == "NFC") {
    n.kind = K::kNfc;
  } else if (t == "NFD") {
    n.kind = K::kNfd;
  } else if (t == "NFKC") {
    n.kind = K::kNfkc;
  } else if (t == "NFKD") {
    n.kind = K::kNfkd;
  } else if (t == "Lowercase") {
    n.kind = K::kLowercase;
  } else if (t == "StripAccents") {
    n.kind = K::kStripAccents;
  } else if (t == "Prepend") {
    n.kind = K::kPrepend;
    n.text = j.at("prepend").get<std::string>();
  } else if (t == "Strip") {
    n.kind = K::kStrip;
    n.left = j.value("strip_left", true);
    n.right = j.value("strip_right", true);
  } else if (t == "Replace") {
    n.kind = K::kReplace;
    std::string regex;
    RAGFT_TRY_STATUS(read_pattern(j.at("pattern"), where + ".pattern", n.text, regex));
    if (!regex.empty()) {
      return make_error(ErrorCode::kUnsupported, "{}: Replace with a regex pattern (\"{}\") is not supported", where,
                        regex);
    }
    n.content = j.at("content").get<std::string>();
  } else if (t == "Sequence") {
    n.kind = K::kSequence;
    const json& list = j.at("normalizers");
    if (!list.is_array()) return make_error(ErrorCode::kCorrupt, "{}.normalizers: not an array", where);
    for (std::size_t i = 0; i < list.size(); ++i) {
      RAGFT_TRY(auto child, parse_normalizer(list[i], fmt::format("{}.normalizers[{}]", where, i)));
      if (child) n.children.push_back(std::move(*child));
    }
  } else {
    return make_error(ErrorCode::kUnsupported, "{}: normalizer type \"{}\" is not supported", where, t);
  }
  return std::optional<HfNormalizer>(std::move(n));
}

Result<std::optional<HfPreTokenizer>> parse_pre_tokenizer(const json& j, const std::string& where) {
  if (j.is_null()) return std::optional<HfPreTokenizer>();
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not an object", where);
  std::string t = type_of(j);
  HfPreTokenizer p;
  using K = HfPreTokenizer::Kind;
  if (t == "ByteLevel") {
    p.kind = K::kByteLevel;
    p.add_prefix_space = j.value("add_prefix_space", true);
    p.use_regex = j.value("use_regex", true);
  } else if (t == "Split") {
    p.kind = K::kSplit;
    std::string regex;
    RAGFT_TRY_STATUS(read_pattern(j.at("pattern"), where + ".pattern", p.literal, regex));
    if (j.contains("pattern") && j.at("pattern").contains("Regex")) {
      p.pattern = find_split_pattern(regex);
      if (!p.pattern) {
        return make_error(ErrorCode::kUnsupported,
                          "{}: Split regex \"{}\" is not one of the known patterns (GPT-2, cl100k/Llama 3, Qwen2)",
                          where, regex);
      }
    }
    RAGFT_TRY(p.behavior, read_behavior(j.value("behavior", json("Isolated")), where + ".behavior"));
    p.invert = j.value("invert", false);
  } else if (t == "Metaspace") {
    p.kind = K::kMetaspace;
    RAGFT_TRY(p.replacement, read_replacement(j, where));
    RAGFT_TRY(p.prepend, read_prepend_scheme(j, where));
    p.split = j.value("split", true);
  } else if (t == "Digits") {
    p.kind = K::kDigits;
    p.individual_digits = j.value("individual_digits", false);
  } else if (t == "Punctuation") {
    p.kind = K::kPunctuation;
    RAGFT_TRY(p.behavior, read_behavior(j.value("behavior", json("Isolated")), where + ".behavior"));
  } else if (t == "WhitespaceSplit") {
    p.kind = K::kWhitespaceSplit;
  } else if (t == "Sequence") {
    p.kind = K::kSequence;
    const json& list = j.at("pretokenizers");
    if (!list.is_array()) return make_error(ErrorCode::kCorrupt, "{}.pretokenizers: not an array", where);
    for (std::size_t i = 0; i < list.size(); ++i) {
      RAGFT_TRY(auto child, parse_pre_tokenizer(list[i], fmt::format("{}.pretokenizers[{}]", where, i)));
      if (child) p.children.push_back(std::move(*child));
    }
  } else {
    return make_error(ErrorCode::kUnsupported, "{}: pre-tokenizer type \"{}\" is not supported", where, t);
  }
  return std::optional<HfPreTokenizer>(std::move(p));
}

Result<std::optional<HfDecoder>> parse_decoder(const json& j, const std::string& where) {
  if (j.is_null()) return std::optional<HfDecoder>();
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not an object", where);
  std::string t = type_of(j);
  HfDecoder d;
  using K = HfDecoder::Kind;
  if (t == "ByteLevel") {
    d.kind = K::kByteLevel;
  } else if (t == "Metaspace") {
    d.kind = K::kMetaspace;
    RAGFT_TRY(d.text, read_replacement(j, where));
    RAGFT_TRY(char scheme, read_prepend_scheme(j, where));
    d.prepend = scheme != 'n';
  } else if (t == "ByteFallback") {
    d.kind = K::kByteFallback;
  } else if (t == "Fuse") {
    d.kind = K::kFuse;
  } else if (t == "Strip") {
    d.kind = K::kStrip;
    d.text = j.at("content").get<std::string>();
    char32_t cp;
    if (d.text.empty() || decode_utf8(d.text, 0, cp) != d.text.size()) {
      return make_error(ErrorCode::kCorrupt, "{}: content \"{}\" is not one character", where, d.text);
    }
    d.start = j.value("start", std::size_t{0});
    d.stop = j.value("stop", std::size_t{0});
  } else if (t == "Replace") {
    d.kind = K::kReplace;
    std::string regex;
    RAGFT_TRY_STATUS(read_pattern(j.at("pattern"), where + ".pattern", d.text, regex));
    if (!regex.empty()) {
      return make_error(ErrorCode::kUnsupported, "{}: Replace with a regex pattern (\"{}\") is not supported", where,
                        regex);
    }
    d.content = j.at("content").get<std::string>();
  } else if (t == "BPEDecoder") {
    d.kind = K::kBpeSuffix;
    d.text = j.value("suffix", std::string("</w>"));
  } else if (t == "WordPiece") {
    d.kind = K::kWordPiece;
    d.text = j.value("prefix", std::string("##"));
    d.cleanup = j.value("cleanup", true);
  } else if (t == "Sequence") {
    d.kind = K::kSequence;
    const json& list = j.at("decoders");
    if (!list.is_array()) return make_error(ErrorCode::kCorrupt, "{}.decoders: not an array", where);
    for (std::size_t i = 0; i < list.size(); ++i) {
      RAGFT_TRY(auto child, parse_decoder(list[i], fmt::format("{}.decoders[{}]", where, i)));
      if (child) d.children.push_back(std::move(*child));
    }
  } else {
    return make_error(ErrorCode::kUnsupported, "{}: decoder type \"{}\" is not supported", where, t);
  }
  return std::optional<HfDecoder>(std::move(d));
}

Result<HfPostProcessor> parse_post_processor(const json& j, const std::string& where) {
  HfPostProcessor pp;
  if (j.is_null()) return pp;
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: not an object", where);
  std::string t = type_of(j);
  // A ["token", id] pair of RobertaProcessing / BertProcessing.
  auto pair_id = [&](const char* key) -> Result<std::int32_t> {
    const json& v = j.at(key);
    if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer() || v[1].get<std::int64_t>() < 0) {
      return make_error(ErrorCode::kCorrupt, "{}.{}: expected [\"token\", id]", where, key);
    }
    return v[1].get<std::int32_t>();
  };
  if (t == "RobertaProcessing" || t == "BertProcessing") {
    RAGFT_TRY(std::int32_t cls, pair_id("cls"));
    RAGFT_TRY(std::int32_t sep, pair_id("sep"));
    pp.prefix = {cls};
    pp.suffix = {sep};
  } else if (t == "TemplateProcessing") {
    const json& single = j.at("single");
    const json& specials = j.value("special_tokens", json::object());
    if (!single.is_array()) return make_error(ErrorCode::kCorrupt, "{}.single: not an array", where);
    bool seen_sequence = false;
    for (const json& item : single) {
      if (item.contains("Sequence")) {
        std::string id = item.at("Sequence").value("id", std::string("A"));
        if (id != "A" || seen_sequence) {
          return make_error(ErrorCode::kCorrupt, "{}.single: sequence \"{}\" in a single-sequence template", where, id);
        }
        seen_sequence = true;
      } else if (item.contains("SpecialToken")) {
        std::string name = item.at("SpecialToken").at("id").get<std::string>();
        if (!specials.contains(name) || !specials.at(name).contains("ids")) {
          return make_error(ErrorCode::kCorrupt, "{}.special_tokens: no ids for \"{}\"", where, name);
        }
        for (const json& id : specials.at(name).at("ids")) {
          if (!id.is_number_integer() || id.get<std::int64_t>() < 0) {
            return make_error(ErrorCode::kCorrupt, "{}.special_tokens[\"{}\"]: bad id", where, name);
          }
          (seen_sequence ? pp.suffix : pp.prefix).push_back(id.get<std::int32_t>());
        }
      } else {
        return make_error(ErrorCode::kCorrupt, "{}.single: item is neither Sequence nor SpecialToken", where);
      }
    }
    if (!seen_sequence) return make_error(ErrorCode::kCorrupt, "{}.single: no $A sequence", where);
  } else if (t == "ByteLevel") {
    // Offsets only.
  } else if (t == "Sequence") {
    const json& list = j.at("processors");
    if (!list.is_array()) return make_error(ErrorCode::kCorrupt, "{}.processors: not an array", where);
    for (std::size_t i = 0; i < list.size(); ++i) {
      RAGFT_TRY(HfPostProcessor inner, parse_post_processor(list[i], fmt::format("{}.processors[{}]", where, i)));
      // Each processor wraps the output of the previous one.
      inner.prefix.insert(inner.prefix.end(), pp.prefix.begin(), pp.prefix.end());
      pp.suffix.insert(pp.suffix.end(), inner.suffix.begin(), inner.suffix.end());
      pp.prefix = std::move(inner.prefix);
    }
  } else {
    return make_error(ErrorCode::kUnsupported, "{}: post-processor type \"{}\" is not supported", where, t);
  }
  return pp;
}

// ---- applying ----

std::string normalize(const HfNormalizer& n, std::string s) {
  using K = HfNormalizer::Kind;
  switch (n.kind) {
    case K::kNfc:
      return utf8proc_form(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    case K::kNfd:
      return utf8proc_form(s, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    case K::kNfkc:
      return utf8proc_form(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    case K::kNfkd:
      return utf8proc_form(s, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
    case K::kLowercase: {
      std::string out;
      out.reserve(s.size());
      for (std::size_t i = 0; i < s.size();) {
        char32_t cp;
        i += decode_utf8(s, i, cp);
        if (cp == 0x130) {  // the one unconditional multi-character lower-case mapping: İ -> i̇
          out += "i\xCC\x87";
        } else {
          append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
        }
      }
      return out;
    }
    case K::kStripAccents: {
      std::string out;
      out.reserve(s.size());
      for (std::size_t i = 0; i < s.size();) {
        char32_t cp;
        std::size_t len = decode_utf8(s, i, cp);
        if (utf8proc_category(static_cast<utf8proc_int32_t>(cp)) != UTF8PROC_CATEGORY_MN) out.append(s, i, len);
        i += len;
      }
      return out;
    }
    case K::kPrepend:
      return s.empty() ? s : n.text + s;
    case K::kReplace:
      return replace_all(s, n.text, n.content);
    case K::kStrip: {
      std::size_t b = 0, e = s.size();
      if (n.left) {
        while (b < e) {
          char32_t cp;
          std::size_t len = decode_utf8(s, b, cp);
          if (!is_white_space(cp)) break;
          b += len;
        }
      }
      if (n.right) {
        while (e > b) {
          std::size_t k = e - 1;
          while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
          char32_t cp;
          decode_utf8(s, k, cp);
          if (!is_white_space(cp)) break;
          e = k;
        }
      }
      return s.substr(b, e - b);
    }
    case K::kSequence:
      for (const auto& c : n.children) s = normalize(c, std::move(s));
      return s;
  }
  return s;
}

void pre_tokenize(const HfPreTokenizer& p, std::vector<Piece>& pieces) {
  using K = HfPreTokenizer::Kind;
  switch (p.kind) {
    case K::kSequence:
      for (const auto& c : p.children) pre_tokenize(c, pieces);
      return;
    case K::kByteLevel:
      split_each(pieces, [&](const Piece& in, std::vector<Piece>& out) {
        Piece q = in;
        if (p.add_prefix_space && (q.text.empty() || q.text[0] != ' ')) q.text = " " + q.text;
        std::size_t first = out.size();
        if (p.use_regex) {
          split_into(q, cover(split_matches(SplitPattern::kGpt2, q.text), q.text.size(), false),
                     SplitBehavior::kIsolated, out);
        } else if (!q.text.empty()) {
          out.push_back(std::move(q));
        }
        for (std::size_t i = first; i < out.size(); ++i) {
          std::string mapped;
          mapped.reserve(out[i].text.size() * 2);
          for (char c : out[i].text) mapped += byte_level_char(static_cast<std::uint8_t>(c));
          out[i].text = std::move(mapped);
        }
      });
      return;
    case K::kSplit:
      split_each(pieces, [&](const Piece& in, std::vector<Piece>& out) {
        auto matches = p.pattern ? split_matches(*p.pattern, in.text) : literal_matches(in.text, p.literal);
        split_into(in, cover(matches, in.text.size(), p.invert), p.behavior, out);
      });
      return;
    case K::kMetaspace:
      split_each(pieces, [&](const Piece& in, std::vector<Piece>& out) {
        Piece q{replace_all(in.text, " ", p.replacement), in.at_start};
        bool starts = q.text.compare(0, p.replacement.size(), p.replacement) == 0;
        if (!starts && (p.prepend == 'a' || (p.prepend == 'f' && q.at_start))) q.text = p.replacement + q.text;
        if (!p.split) {
          if (!q.text.empty()) out.push_back(std::move(q));
          return;
        }
        split_into(q, cover(literal_matches(q.text, p.replacement), q.text.size(), false),
                   SplitBehavior::kMergedWithNext, out);
      });
      return;
    case K::kDigits:
      split_each(pieces, [&](const Piece& in, std::vector<Piece>& out) {
        split_into(in, cover(char_matches(in.text, is_number), in.text.size(), false),
                   p.individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, out);
      });
      return;
    case K::kPunctuation:
      split_each(pieces, [&](const Piece& in, std::vector<Piece>& out) {
        split_into(in, cover(char_matches(in.text, is_punctuation), in.text.size(), false), p.behavior, out);
      });
      return;
    case K::kWhitespaceSplit:
      split_each(pieces, [&](const Piece& in, std::vector<Piece>& out) {
        split_into(in, cover(char_matches(in.text, is_white_space), in.text.size(), false), SplitBehavior::kRemoved,
                   out);
      });
      return;
  }
}

std::string clean_up_tokenization(std::string s) {
  static const std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) s = replace_all(s, from, to);
  return s;
}

void decode_chain(const HfDecoder& d, std::vector<std::string>& tokens) {
  using K = HfDecoder::Kind;
  switch (d.kind) {
    case K::kSequence:
      for (const auto& c : d.children) decode_chain(c, tokens);
      return;
    case K::kByteLevel: {
      // Each token's characters back to bytes; a token with a character outside the map keeps its
      // UTF-8 bytes. The bytes of all tokens are then read as one (lossy) UTF-8 string.
      std::string bytes;
      for (const std::string& t : tokens) {
        std::string own;
        bool mapped = true;
        for (std::size_t i = 0; i < t.size() && mapped;) {
          char32_t cp;
          i += decode_utf8(t, i, cp);
          int b = byte_level_byte(cp);
          if (b < 0) {
            mapped = false;
          } else {
            own += static_cast<char>(b);
          }
        }
        bytes += mapped ? own : t;
      }
      tokens.assign(1, utf8_lossy(bytes));
      return;
    }
    case K::kMetaspace:
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        tokens[i] = replace_all(tokens[i], d.text, (i == 0 && d.prepend) ? "" : " ");
      }
      return;
    case K::kByteFallback: {
      std::vector<std::string> out;
      std::string pending;  // bytes of consecutive <0xNN> tokens
      auto flush = [&] {
        if (pending.empty()) return;
        if (utf8_lossy(pending) == pending) {
          out.push_back(pending);
        } else {  // as tokenizers: one U+FFFD per byte of an ill-formed run
          for (std::size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
        }
        pending.clear();
      };
      for (std::string& t : tokens) {
        int b = parse_byte_piece(t, false);
        if (b >= 0) {
          pending += static_cast<char>(b);
        } else {
          flush();
          out.push_back(std::move(t));
        }
      }
      flush();
      tokens = std::move(out);
      return;
    }
    case K::kFuse: {
      std::string all;
      for (const auto& t : tokens) all += t;
      tokens.assign(1, std::move(all));
      return;
    }
    case K::kStrip:
      for (std::string& t : tokens) {
        std::size_t b = 0, e = t.size();
        for (std::size_t k = 0; k < d.start && t.compare(b, d.text.size(), d.text) == 0; ++k) b += d.text.size();
        for (std::size_t k = 0;
             k < d.stop && e >= b + d.text.size() && t.compare(e - d.text.size(), d.text.size(), d.text) == 0; ++k) {
          e -= d.text.size();
        }
        t = t.substr(b, e - b);
      }
      return;
    case K::kReplace:
      for (std::string& t : tokens) t = replace_all(t, d.text, d.content);
      return;
    case K::kBpeSuffix:
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        tokens[i] = replace_all(tokens[i], d.text, i + 1 == tokens.size() ? "" : " ");
      }
      return;
    case K::kWordPiece:
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        std::string& t = tokens[i];
        if (i != 0) {
          if (t.compare(0, d.text.size(), d.text) == 0) {
            t.erase(0, d.text.size());
          } else {
            t = " " + t;
          }
        }
        if (d.cleanup) t = replace_all(clean_up_tokenization(std::move(t)), " do not", " don't");
      }
      return;
  }
}

}  // namespace ragft::subword
