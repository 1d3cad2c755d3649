#include "evaluate/generative.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <utf8proc.h>

#include "core/utf8.h"

namespace ragft {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_punct(utf8proc_int32_t c) {
  if (c < 128) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  switch (utf8proc_category(c)) {
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

bool is_space(utf8proc_int32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
         utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

std::vector<std::string> answer_tokens(std::string_view text) {
  const std::string clean = sanitize_utf8(text);
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty() && cur != "a" && cur != "an" && cur != "the") words.push_back(cur);
    cur.clear();
  };
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(clean.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(clean.size());
  while (left > 0) {
    utf8proc_int32_t c = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &c);
    if (n <= 0) break;  // unreachable after sanitize_utf8
    p += n;
    left -= n;
    if (is_space(c)) {
      flush();
      continue;
    }
    if (is_punct(c)) continue;  // removed, not a separator (SQuAD: "don't" -> "dont")
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t len = utf8proc_encode_char(utf8proc_tolower(c), buf);
    cur.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  }
  flush();
  return words;
}

double f1_tokens(const std::vector<std::string>& pred, const std::vector<std::string>& ref) {
  if (pred.empty() || ref.empty()) return pred.empty() && ref.empty() ? 1.0 : 0.0;
  std::map<std::string_view, int> counts;
  for (const auto& t : ref) ++counts[t];
  std::size_t common = 0;
  for (const auto& t : pred) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double p = static_cast<double>(common) / static_cast<double>(pred.size());
  const double r = static_cast<double>(common) / static_cast<double>(ref.size());
  return 2 * p * r / (p + r);
}

bool overlaps(const EvidenceSpan& a, const EvidenceSpan& b) {
  return a.doc_id == b.doc_id && a.end > a.start && b.end > b.start && a.start < b.end && b.start < a.end;
}

// ---- JSON schema ----

class SchemaValidator {
 public:
  explicit SchemaValidator(const nlohmann::json& root) : root_(root) {}

  Status check(const nlohmann::json& v, const nlohmann::json& s, const std::string& path, int depth) {
    if (depth > 64) return make_error(ErrorCode::kUnsupported, "JSON schema: nesting deeper than 64 (recursive $ref?)");
    if (s.is_boolean()) {
      if (s.get<bool>()) return ok_status();
      return fail(path, "false", "no value is allowed here");
    }
    if (!s.is_object()) return make_error(ErrorCode::kUnsupported, "JSON schema at {}: a schema must be an object or a boolean", at(path));
    for (const auto& [key, arg] : s.items()) {
      RAGFT_TRY_STATUS(keyword(v, s, key, arg, path, depth));
    }
    return ok_status();
  }

 private:
  static std::string at(const std::string& path) { return path.empty() ? "/" : path; }

  static Error fail(const std::string& path, std::string_view keyword, const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, "{} fails \"{}\": {}", at(path), keyword, why);
  }

  static bool type_is(const nlohmann::json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "number") return v.is_number();
    if (t == "integer") {
      if (v.is_number_integer()) return true;
      if (!v.is_number_float()) return false;
      const double d = v.get<double>();
      return std::isfinite(d) && std::floor(d) == d;
    }
    return false;
  }

  static std::string type_name(const nlohmann::json& v) {
    if (v.is_number_integer()) return "integer";
    if (v.is_number()) return "number";
    return v.type_name();
  }

  static bool known_type(const std::string& t) {
    return t == "object" || t == "array" || t == "string" || t == "boolean" || t == "null" || t == "number" ||
           t == "integer";
  }

  Status keyword(const nlohmann::json& v, const nlohmann::json& s, const std::string& key, const nlohmann::json& arg,
                 const std::string& path, int depth) {
    auto bad_schema = [&](std::string_view what) {
      return make_error(ErrorCode::kUnsupported, "JSON schema at {}: \"{}\" {}", at(path), key, what);
    };
    if (key == "type") {
      std::vector<std::string> types;
      if (arg.is_string()) {
        types.push_back(arg.get<std::string>());
      } else if (arg.is_array()) {
        for (const auto& t : arg) {
          if (!t.is_string()) return bad_schema("must name types");
          types.push_back(t.get<std::string>());
        }
      } else {
        return bad_schema("must be a type name or a list of them");
      }
      for (const auto& t : types) {
        if (!known_type(t)) return bad_schema(fmt::format("names an unknown type \"{}\"", t));
        if (type_is(v, t)) return ok_status();
      }
      return fail(path, "type", fmt::format("expected {}, got {}", arg.dump(), type_name(v)));
    }
    if (key == "enum") {
      if (!arg.is_array()) return bad_schema("must be an array");
      for (const auto& e : arg) {
        if (e == v) return ok_status();
      }
      return fail(path, "enum", fmt::format("{} is not one of {}", v.dump(), arg.dump()));
    }
    if (key == "const") return arg == v ? ok_status() : Status(fail(path, "const", fmt::format("expected {}", arg.dump())));
    if (key == "properties") {
      if (!arg.is_object()) return bad_schema("must be an object");
      if (!v.is_object()) return ok_status();
      for (const auto& [name, sub] : arg.items()) {
        auto it = v.find(name);
        if (it != v.end()) RAGFT_TRY_STATUS(check(*it, sub, path + "/" + name, depth + 1));
      }
      return ok_status();
    }
    if (key == "required") {
      if (!arg.is_array()) return bad_schema("must be an array");
      if (!v.is_object()) return ok_status();
      for (const auto& name : arg) {
        if (!name.is_string()) return bad_schema("must list property names");
        if (!v.contains(name.get<std::string>())) {
          return fail(path, "required", fmt::format("property \"{}\" is missing", name.get<std::string>()));
        }
      }
      return ok_status();
    }
    if (key == "additionalProperties") {
      if (!v.is_object()) return ok_status();
      const nlohmann::json* props = s.contains("properties") ? &s.at("properties") : nullptr;
      for (const auto& [name, sub] : v.items()) {
        if (props && props->contains(name)) continue;
        if (arg.is_boolean() && !arg.get<bool>()) {
          return fail(path, "additionalProperties", fmt::format("property \"{}\" is not allowed", name));
        }
        RAGFT_TRY_STATUS(check(sub, arg, path + "/" + name, depth + 1));
      }
      return ok_status();
    }
    if (key == "items") {
      if (!v.is_array()) return ok_status();
      for (std::size_t i = 0; i < v.size(); ++i) RAGFT_TRY_STATUS(check(v[i], arg, path + "/" + std::to_string(i), depth + 1));
      return ok_status();
    }
    if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength") {
      if (!arg.is_number_unsigned() && !arg.is_number_integer()) return bad_schema("must be a non-negative integer");
      const auto limit = arg.get<std::int64_t>();
      const bool items = key.ends_with("Items");
      if (items ? !v.is_array() : !v.is_string()) return ok_status();
      const auto n = static_cast<std::int64_t>(items ? v.size() : char_offset(v.get_ref<const std::string&>(),
                                                                               v.get_ref<const std::string&>().size()));
      const bool ok = key.starts_with("min") ? n >= limit : n <= limit;
      if (ok) return ok_status();
      return fail(path, key, fmt::format("{} {} against a limit of {}", n, items ? "items" : "characters", limit));
    }
    if (key == "pattern") {
      if (!arg.is_string()) return bad_schema("must be a string");
      if (!v.is_string()) return ok_status();
      try {
        const std::regex re(arg.get<std::string>(), std::regex::ECMAScript);
        if (std::regex_search(v.get<std::string>(), re)) return ok_status();
      } catch (const std::regex_error& e) {
        return bad_schema(fmt::format("is not a regular expression this build reads: {}", e.what()));
      }
      return fail(path, "pattern", fmt::format("{} does not match {}", v.dump(), arg.get<std::string>()));
    }
    if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" || key == "exclusiveMaximum") {
      if (!arg.is_number()) return bad_schema("must be a number");
      if (!v.is_number()) return ok_status();
      const double x = v.get<double>(), lim = arg.get<double>();
      const bool ok = key == "minimum" ? x >= lim : key == "maximum" ? x <= lim : key == "exclusiveMinimum" ? x > lim : x < lim;
      return ok ? ok_status() : Status(fail(path, key, fmt::format("{} against {}", v.dump(), arg.dump())));
    }
    if (key == "anyOf" || key == "oneOf" || key == "allOf") {
      if (!arg.is_array() || arg.empty()) return bad_schema("must be a non-empty array");
      std::size_t passed = 0;
      std::string first_error;
      for (const auto& sub : arg) {
        Status st = check(v, sub, path, depth + 1);
        if (st.ok()) {
          ++passed;
        } else if (st.error().code != ErrorCode::kInvalidArgument) {
          return st;
        } else if (key == "allOf") {
          return st;
        } else if (first_error.empty()) {
          first_error = st.error().message;
        }
      }
      if (key == "allOf" || (key == "anyOf" && passed > 0) || (key == "oneOf" && passed == 1)) return ok_status();
      if (key == "oneOf" && passed > 1) return fail(path, key, fmt::format("matches {} alternatives, not exactly one", passed));
      return fail(path, key, "matches no alternative (first: " + first_error + ")");
    }
    if (key == "$ref") {
      if (!arg.is_string()) return bad_schema("must be a string");
      const std::string ref = arg.get<std::string>();
      constexpr std::string_view kDefs = "#/$defs/";
      if (!ref.starts_with(kDefs) || !root_.contains("$defs") || !root_.at("$defs").contains(ref.substr(kDefs.size()))) {
        return bad_schema(fmt::format("\"{}\" is not a local #/$defs/NAME", ref));
      }
      return check(v, root_.at("$defs").at(ref.substr(kDefs.size())), path, depth + 1);
    }
    static const std::set<std::string> kIgnored = {"title", "description", "default", "examples", "$schema",
                                                   "$id",   "format",      "strict",  "name",     "$defs",
                                                   "$comment"};
    if (kIgnored.count(key)) return ok_status();
    return bad_schema("is not supported");
  }

  const nlohmann::json& root_;
};

double mean_or_nan(double sum, std::size_t n) { return n ? sum / static_cast<double>(n) : kNaN; }

}  // namespace

std::string normalize_answer(std::string_view text) {
  std::string out;
  for (const auto& w : answer_tokens(text)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

double exact_match(std::string_view prediction, const std::vector<std::string>& references) {
  const std::string p = normalize_answer(prediction);
  for (const auto& r : references) {
    if (normalize_answer(r) == p) return 1.0;
  }
  return 0.0;
}

double token_f1(std::string_view prediction, const std::vector<std::string>& references) {
  const auto p = answer_tokens(prediction);
  double best = 0.0;
  for (const auto& r : references) best = std::max(best, f1_tokens(p, answer_tokens(r)));
  return best;
}

double CitationScore::precision() const {
  if (cited == 0) return gold == 0 ? 1.0 : 0.0;
  return static_cast<double>(supported) / static_cast<double>(cited);
}

double CitationScore::recall() const {
  return gold == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(gold);
}

CitationScore score_citations(const std::vector<EvidenceSpan>& cited, const std::vector<EvidenceSpan>& gold) {
  CitationScore s;
  s.cited = cited.size();
  s.gold = gold.size();
  for (const auto& c : cited) {
    s.supported += std::any_of(gold.begin(), gold.end(), [&](const EvidenceSpan& g) { return overlaps(c, g); });
  }
  for (const auto& g : gold) {
    s.found += std::any_of(cited.begin(), cited.end(), [&](const EvidenceSpan& c) { return overlaps(c, g); });
  }
  return s;
}

Status validate_json_schema(const nlohmann::json& value, const nlohmann::json& schema) {
  return SchemaValidator(schema).check(value, schema, "", 0);
}

Status validate_json_text(std::string_view text, const nlohmann::json& schema) {
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    std::string head(text.substr(0, 60));
    return make_error(ErrorCode::kInvalidArgument, "not JSON: \"{}{}\"", head, text.size() > 60 ? "..." : "");
  }
  return validate_json_schema(value, schema);
}

GenerativeSummary summarize_generative(const std::vector<GenerativeItem>& items, const nlohmann::json& schema) {
  GenerativeSummary s;
  s.items = items.size();
  double em = 0, f1 = 0, prec = 0, rec = 0, abst = 0, fmt_ok = 0;
  for (const auto& it : items) {
    s.abstained += it.abstained;
    if (!it.answerable) {
      ++s.unanswerable;
      abst += it.abstained;
      continue;
    }
    if (!it.references.empty()) {
      ++s.scored_answers;
      if (!it.abstained) {
        em += exact_match(it.prediction, it.references);
        f1 += token_f1(it.prediction, it.references);
      }
    }
    if (!it.gold.empty()) {
      ++s.scored_recall;
      CitationScore c = score_citations(it.abstained ? std::vector<EvidenceSpan>{} : it.cited, it.gold);
      rec += c.recall();
      if (!it.abstained) {
        ++s.scored_precision;
        prec += c.precision();
      }
    }
    if (!schema.is_null() && !it.abstained) {
      ++s.scored_format;
      fmt_ok += validate_json_text(it.prediction, schema).ok();
    }
  }
  s.abstention_rate = mean_or_nan(static_cast<double>(s.abstained), s.items);
  s.exact_match = mean_or_nan(em, s.scored_answers);
  s.token_f1 = mean_or_nan(f1, s.scored_answers);
  s.citation_precision = mean_or_nan(prec, s.scored_precision);
  s.citation_recall = mean_or_nan(rec, s.scored_recall);
  s.correct_abstention = mean_or_nan(abst, s.unanswerable);
  s.format_valid = mean_or_nan(fmt_ok, s.scored_format);
  return s;
}

}  // namespace ragft
