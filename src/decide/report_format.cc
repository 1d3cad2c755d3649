#include "decide/report_format.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ragft::decide::render {

namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Byte length of the first `n` code points of `s`.
std::size_t prefix_bytes(std::string_view s, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_continuation(s[i])) {
      if (seen == n) return i;
      ++seen;
    }
  }
  return s.size();
}

}  // namespace


const Json* get(const Json* j, std::initializer_list<std::string_view> path) {
  for (std::string_view key : path) {
    if (!j || !j->is_object()) return nullptr;
    auto it = j->find(key);
    if (it == j->end()) return nullptr;
    j = &*it;
  }
  if (!j || j->is_null()) return nullptr;
  return j;
}

std::optional<double> num(const Json* j, std::initializer_list<std::string_view> path) {
  const Json* v = get(j, path);
  if (!v || !v->is_number()) return std::nullopt;
  double d = v->get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<std::string> str(const Json* j, std::initializer_list<std::string_view> path) {
  const Json* v = get(j, path);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<bool> boolean(const Json* j, std::initializer_list<std::string_view> path) {
  const Json* v = get(j, path);
  if (!v || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

std::string str_or(const Json* j, std::initializer_list<std::string_view> path, std::string_view fallback) {
  auto s = str(j, path);
  return s ? *s : std::string(fallback);
}

std::vector<const Json*> objects(const Json* j) {
  std::vector<const Json*> out;
  if (!j || !j->is_array()) return out;
  for (const auto& e : *j) {
    if (e.is_object()) out.push_back(&e);
  }
  return out;
}

std::vector<std::string> strings(const Json* j) {
  std::vector<std::string> out;
  if (!j || !j->is_array()) return out;
  for (const auto& e : *j) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

std::string display(const Json* j) {
  if (!j || j->is_null()) return std::string(kDash);
  if (j->is_string()) return j->get<std::string>();
  if (j->is_boolean()) return j->get<bool>() ? "yes" : "no";
  if (j->is_number()) return format_number(num(j));
  // Replace invalid UTF-8 instead of throwing.
  return j->dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string format_sig(double v, int sig) {
  if (!std::isfinite(v)) return std::string(kDash);
  if (v == 0) return "0";
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  int decimals = std::max(0, sig - 1 - magnitude);
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string format_number(double v) {
  if (!std::isfinite(v)) return std::string(kDash);
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    auto n = static_cast<long long>(v);
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return n < 0 ? "-" + out : out;
  }
  return format_sig(v, 3);
}

std::string format_number(std::optional<double> v) { return v ? format_number(*v) : std::string(kDash); }

std::string format_quality(std::optional<double> v) {
  return v ? fmt::format("{:.3f}", *v) : std::string(kDash);
}

std::string format_quality_ci(const Json* q) {
  auto v = num(q, {"value"});
  if (!v) return std::string(kDash);
  auto lo = num(q, {"ci_low"});
  auto hi = num(q, {"ci_high"});
  if (!lo || !hi) return format_quality(v);
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", *v, *lo, *hi);
}

std::string format_ms(std::optional<double> v) { return v ? format_sig(*v, 3) : std::string(kDash); }

std::string format_duration(std::optional<double> s) {
  if (!s) return std::string(kDash);
  if (std::fabs(*s) < 120) return format_sig(*s, 3) + " s";
  if (std::fabs(*s) < 7200) return format_sig(*s / 60, 3) + " min";
  return format_sig(*s / 3600, 3) + " h";
}

std::string format_bytes(std::optional<double> b) {
  if (!b) return std::string(kDash);
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB"};
  double v = *b;
  std::size_t u = 0;
  while (std::fabs(v) >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  return (u == 0 ? format_number(std::round(v)) : format_sig(v, 3)) + " " + kUnits[u];
}

std::string format_share(std::optional<double> v) {
  if (!v) return std::string(kDash);
  return format_sig(*v * 100, 2) + "%";
}

std::string format_usd(std::optional<double> v) {
  if (!v) return std::string(kDash);
  std::string s = "$";
  s += *v >= 1000 ? format_number(std::round(*v)) : format_sig(*v, 3);
  return s;
}

std::vector<GenerationRow> generation_rows(const Json& report) {
  std::vector<GenerationRow> rows;
  for (const ArmView& a : arm_views(report)) {
    const Json* g = get(a.json, {"generative"});
    if (!g || !g->is_object()) continue;
    auto tokens = [&](std::string_view key) {
      auto v = num(a.json, {"tokens", key});
      return v ? format_sig(*v, 3) : std::string(kDash);
    };
    rows.push_back({a.id, format_quality(num(g, {"exact_match"})), format_quality(num(g, {"token_f1"})),
                    format_quality(num(g, {"citation_precision"})), format_quality(num(g, {"citation_recall"})),
                    format_share(num(g, {"abstention_rate"})), format_share(num(g, {"format_valid"})),
                    tokens("prompt_per_query"), tokens("completion_per_query"),
                    format_usd(num(a.json, {"cost", "per_1k_queries_usd"})), format_usd(num(a.json, {"cost", "training_usd"}))});
  }
  return rows;
}

std::array<std::string, 10> generation_cells(const GenerationRow& r) {
  return {r.exact_match,   r.token_f1,          r.citation_precision, r.citation_recall, r.abstention,
          r.format_valid,  r.prompt_tokens,     r.completion_tokens,  r.per_1k_queries,  r.training};
}

std::string decision_label(std::string_view d) {
  if (d == "rag") return "RAG";
  if (d == "fine_tune") return "Fine-tune";
  if (d == "fine_tune_rag") return "Fine-tune + RAG";
  if (d == "fix_data") return "Fix the data first";
  return std::string(d);
}

std::vector<ArmView> arm_views(const Json& report) {
  std::vector<ArmView> out;
  auto rec = str(&report, {"recommendation", "arm"});
  auto excluded = objects(get(report, {"recommendation", "excluded"}));
  std::size_t n = 0;
  for (const Json* a : objects(get(report, {"arms"}))) {
    ++n;
    ArmView v;
    v.json = a;
    v.id = str_or(a, {"id"}, fmt::format("arm {}", n));
    v.name = str_or(a, {"name"}, v.id);
    v.recommended = rec && !rec->empty() && *rec == v.id;
    for (const Json* e : excluded) {
      if (str(e, {"arm"}) == v.id) v.excluded = str_or(e, {"why"}, "");
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return !is_continuation(c); }));
}

std::string truncate(std::string_view s, std::size_t max_chars) {
  if (code_points(s) <= max_chars) return std::string(s);
  if (max_chars == 0) return {};
  return std::string(s.substr(0, prefix_bytes(s, max_chars - 1))) + "\u2026";
}

std::vector<std::string> wrap(std::string_view s, std::size_t max_chars) {
  std::vector<std::string> lines;
  std::string cur;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t sp = s.find(' ', pos);
    std::string_view word = s.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    pos = sp == std::string_view::npos ? s.size() : sp + 1;
    if (word.empty()) continue;
    std::string w = truncate(word, max_chars);
    if (cur.empty()) {
      cur = w;
    } else if (code_points(cur) + 1 + code_points(w) <= max_chars) {
      cur += ' ' + w;
    } else {
      lines.push_back(cur);
      cur = w;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace ragft::decide::render
