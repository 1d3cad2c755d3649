#include "serve/search_api.h"

#include <charconv>
#include <cstdint>
#include <iterator>

#include <fmt/format.h>

#include "core/utf8.h"

namespace ragft::serve {

namespace {

using nlohmann::json;

ParsedRetrieval parse(std::string_view body, const ServeLimits& limits, bool ask) {
  ParsedRetrieval out;
  auto fail = [&](ApiError e) {
    out.error = std::move(e);
    return out;
  };
  json j;
  if (auto e = parse_json_object(body, j)) return fail(std::move(*e));
  const char* text_field = ask ? "question" : "query";
  const char* known = ask ? "question, k, mode, filter, llm" : "query, k, mode, filter";
  RetrievalApiRequest r;
  bool has_text = false;
  for (const auto& [key, value] : j.items()) {
    if (key == text_field) {
      if (!value.is_string()) return fail(wrong_type(key, "a string", value));
      r.query = value.get<std::string>();
      has_text = true;
    } else if (key == "k") {
      if (value.is_null()) continue;
      std::int64_t k = 0;
      const JsonInt got = json_int64(value, k);
      if (got == JsonInt::kNotInteger) return fail(wrong_type("k", "an integer", value));
      if (got == JsonInt::kOutOfRange || k < 1 || k > static_cast<std::int64_t>(limits.max_k)) {
        return fail(bad_request("k", fmt::format("k={} must be in [1, {}]", value.dump(), limits.max_k), "out_of_range"));
      }
      r.k = static_cast<std::size_t>(k);
    } else if (key == "mode") {
      if (value.is_null()) continue;
      if (!value.is_string()) return fail(wrong_type("mode", "a string", value));
      auto mode = parse_search_mode(value.get<std::string>());
      if (!mode.ok()) return fail(bad_request("mode", fmt::format("mode: {}", mode.error().message)));
      r.mode = *mode;
    } else if (key == "filter") {
      if (value.is_null()) continue;
      if (!value.is_object()) return fail(wrong_type("filter", "an object of string values", value));
      for (const auto& [fk, fv] : value.items()) {
        if (!fv.is_string()) return fail(wrong_type("filter." + fk, "a string", fv));
        r.filter.emplace_back(fk, fv.get<std::string>());
      }
    } else if (ask && key == "llm") {
      if (!value.is_boolean()) return fail(wrong_type("llm", "a boolean", value));
      r.llm = value.get<bool>();
    } else if (key == "tenant" || key == "principal" || key == "as" || key == "groups") {
      return fail(bad_request(key,
                              fmt::format("{}: a request cannot choose whom it runs as; the identity comes from the "
                                          "server (its API key, or its --tenant/--as)",
                                          key),
                              "not_allowed"));
    } else {
      return fail(bad_request(key, fmt::format("unknown field {} (known: {})", key, known), "unknown_field"));
    }
  }
  if (!has_text) return fail(bad_request(text_field, fmt::format("{} is required", text_field), "missing_field"));
  if (r.query.find_first_not_of(" \t\r\n") == std::string::npos) {
    return fail(bad_request(text_field, fmt::format("{} is empty", text_field)));
  }
  if (r.query.size() > limits.max_input_bytes) {
    return fail(bad_request(text_field,
                            fmt::format("{} holds {} bytes, over the server's limit of {}", text_field, r.query.size(),
                                        limits.max_input_bytes),
                            "limit_exceeded"));
  }
  out.request = std::move(r);
  return out;
}

}  // namespace

ParsedRetrieval parse_search_request(std::string_view body, const ServeLimits& limits) {
  return parse(body, limits, /*ask=*/false);
}

ParsedRetrieval parse_ask_request(std::string_view body, const ServeLimits& limits) {
  return parse(body, limits, /*ask=*/true);
}

json search_hit_json(const SearchHit& h) {
  json hl = json::array();
  for (const auto& x : h.highlights) hl.push_back({x.char_start, x.char_end});
  return {{"rank", h.rank},          {"score", h.score},         {"doc_id", h.ext_id},
          {"title", h.title},        {"source", h.source},       {"chunk_id", h.chunk_id},
          {"char_start", h.char_start}, {"char_end", h.char_end}, {"page", h.page},
          {"snippet", h.snippet},    {"highlights", hl}};
}

namespace {

// `s` as a JSON string, as nlohmann's dump writes it with ensure_ascii=false and
// error_handler_t::replace: '"', '\\' and control characters escaped (the short escapes where
// JSON has them, else \u00xx), other bytes kept. A string that is not valid UTF-8 is left to
// nlohmann itself (it replaces bad sequences), so the bytes are the same either way.
void append_json_string(std::string& out, std::string_view s) {
  if (!is_valid_utf8(s)) {
    out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += '"';
  std::size_t run = 0;  // start of the bytes not copied yet
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
  }
  out.append(s, run, s.size() - run);
  out += '"';
}

// A double as nlohmann writes a number_float (shortest round-trip digits, "null" when not finite).
void append_json_double(std::string& out, double x) { out += json(x).dump(); }

void append_search_hit(std::string& out, const SearchHit& h) {
  auto o = std::back_inserter(out);
  // Keys in std::map (byte) order, as nlohmann's default object writes them.
  fmt::format_to(o, "{{\"char_end\":{},\"char_start\":{},\"chunk_id\":{},\"doc_id\":", h.char_end, h.char_start,
                 h.chunk_id);
  append_json_string(out, h.ext_id);
  out += ",\"highlights\":[";
  for (std::size_t i = 0; i < h.highlights.size(); ++i) {
    char buf[48];  // "[a,b]," for two int64: fmt::format_to per pair was a tenth of the body's time
    char* p = buf;
    if (i > 0) *p++ = ',';
    *p++ = '[';
    p = std::to_chars(p, buf + sizeof buf, h.highlights[i].char_start).ptr;
    *p++ = ',';
    p = std::to_chars(p, buf + sizeof buf, h.highlights[i].char_end).ptr;
    *p++ = ']';
    out.append(buf, p);
  }
  fmt::format_to(o, "],\"page\":{},\"rank\":{},\"score\":", h.page, h.rank);
  append_json_double(out, h.score);
  out += ",\"snippet\":";
  append_json_string(out, h.snippet);
  out += ",\"source\":";
  append_json_string(out, h.source);
  out += ",\"title\":";
  append_json_string(out, h.title);
  out += '}';
}

}  // namespace

std::string search_result_body(std::string_view query, SearchMode mode, const std::vector<SearchHit>& hits,
                               double took_ms) {
  std::string out;
  std::size_t size = 128 + query.size();
  for (const SearchHit& h : hits) size += 192 + h.ext_id.size() + h.snippet.size() + h.source.size() + h.title.size() +
                                          24 * h.highlights.size();
  out.reserve(size);
  out += "{\"hits\":[";
  for (std::size_t i = 0; i < hits.size(); ++i) {
    if (i > 0) out += ',';
    append_search_hit(out, hits[i]);
  }
  out += "],\"mode\":";
  append_json_string(out, search_mode_name(mode));
  out += ",\"object\":\"search.result\",\"query\":";
  append_json_string(out, query);
  out += ",\"took_ms\":";
  append_json_double(out, took_ms);
  out += '}';
  return out;
}

json answer_json(const Answer& ans) {
  json sources = json::array();
  for (const auto& c : ans.sources) {
    sources.push_back({{"n", c.n}, {"doc_id", c.doc_ext_id}, {"title", c.title}, {"source", c.source},
                       {"chunk_id", c.chunk_id}, {"char_start", c.char_start}, {"char_end", c.char_end},
                       {"page", c.page}, {"quote", c.quote}});
  }
  json sentences = json::array();
  for (const auto& s : ans.sentences) sentences.push_back({{"text", s.text}, {"citations", s.citations}});
  return {{"question", ans.question},     {"answer", ans.text()},   {"abstained", ans.abstained},
          {"confidence", ans.confidence}, {"sentences", sentences}, {"sources", sources},
          {"generator", ans.generator}};
}

json llm_info_json(const LlmAnswer& written) {
  json issues = json::array();
  for (const auto& i : written.citations.issues) {
    issues.push_back({{"sentence", i.sentence}, {"n", i.n}, {"message", i.message}});
  }
  json llm = {{"called", written.called_model},
              {"raw", written.raw},
              {"citations_read", written.citations.citations},
              {"citations_valid", written.citations.valid},
              {"issues", std::move(issues)},
              {"generation_ms", written.generation_ms}};
  if (written.usage) {
    llm["usage"] = {{"prompt_tokens", written.usage->prompt_tokens},
                    {"completion_tokens", written.usage->completion_tokens},
                    {"total_tokens", written.usage->total_tokens}};
  }
  return llm;
}

}  // namespace ragft::serve
