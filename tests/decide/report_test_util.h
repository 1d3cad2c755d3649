// Helpers for the report renderer tests (report_test.cc, chromium_test.cc).
#pragma once

#include <cctype>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ragft::decide::testing {

inline nlohmann::json load_fixture(const std::string& name) {
  std::ifstream in(std::string(RAGFT_SOURCE_DIR) + "/tests/decide/testdata/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

inline std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

// The <svg id="ID" ...>...</svg> element (charts do not nest svgs); "" when absent.
inline std::string chart(std::string_view html, std::string_view id) {
  auto start = html.find("<svg id=\"" + std::string(id) + "\"");
  if (start == std::string_view::npos) return {};
  auto end = html.find("</svg>", start);
  if (end == std::string_view::npos) return {};
  return std::string(html.substr(start, end + 6 - start));
}

// Elements whose class list holds every one of `tokens` ("point" matches class="point
// recommended" but not class="point-label").
inline std::size_t count_class(std::string_view html, std::initializer_list<std::string_view> tokens) {
  std::size_t n = 0;
  constexpr std::string_view kAttr = " class=\"";
  for (auto p = html.find(kAttr); p != std::string_view::npos; p = html.find(kAttr, p + 1)) {
    auto b = p + kAttr.size();
    auto e = html.find('"', b);
    if (e == std::string_view::npos) break;
    std::vector<std::string> have;
    std::istringstream words{std::string(html.substr(b, e - b))};
    for (std::string w; words >> w;) have.push_back(w);
    bool all = true;
    for (auto t : tokens) {
      bool found = false;
      for (const auto& h : have) found = found || h == t;
      all = all && found;
    }
    if (all) ++n;
  }
  return n;
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "" when `html` can make no network or file request; otherwise what would. Checks every tag:
// no <script>, <link>, <iframe>, <object>, <embed>, <base>, <img>; src/href-like attributes only
// "#fragment" or "data:"; no url(...) other than url(#...) in any attribute or <style>; no @import.
// Raw '<' only starts real tags: text from the report is escaped.
inline std::string external_reference(std::string_view html_in) {
  std::string html = lower(html_in);
  auto bad_urls = [](std::string_view s) -> std::string {
    for (auto p = s.find("url("); p != std::string_view::npos; p = s.find("url(", p + 4)) {
      auto v = s.substr(p + 4);
      while (!v.empty() && (v.front() == ' ' || v.front() == '"' || v.front() == '\'')) v.remove_prefix(1);
      if (v.empty() || v.front() != '#') return std::string(s.substr(p, 40));
    }
    if (s.find("@import") != std::string_view::npos) return "@import";
    return {};
  };
  for (auto p = html.find('<'); p != std::string::npos; p = html.find('<', p + 1)) {
    auto e = html.find('>', p);
    if (e == std::string::npos) return "unterminated tag";
    std::string_view tag(html.data() + p + 1, e - p - 1);
    std::size_t name_end = 0;
    while (name_end < tag.size() && !std::isspace(static_cast<unsigned char>(tag[name_end])) && tag[name_end] != '/') {
      ++name_end;
    }
    std::string name(tag.substr(0, name_end));
    for (const char* banned : {"script", "link", "iframe", "object", "embed", "base", "img", "frame", "audio",
                               "video", "source", "image", "use", "feimage", "meta"}) {
      if (name == banned && !(name == "meta" && tag.find("http-equiv") == std::string_view::npos)) {
        return "<" + name + ">";
      }
    }
    if (name == "style") {
      auto close = html.find("</style>", e);
      if (close == std::string::npos) return "unterminated <style>";
      if (auto b = bad_urls(std::string_view(html).substr(e, close - e)); !b.empty()) return "<style> " + b;
    }
    // Attributes: name="value" (the renderer always quotes with ").
    std::size_t i = name_end;
    while (i < tag.size()) {
      auto eq = tag.find("=\"", i);
      if (eq == std::string_view::npos) break;
      auto ns = tag.rfind(' ', eq);
      std::size_t name_start = ns == std::string_view::npos ? 0 : ns + 1;
      std::string attr(tag.substr(name_start, eq - name_start));
      auto ve = tag.find('"', eq + 2);
      if (ve == std::string_view::npos) return "unterminated attribute in <" + name + ">";
      std::string_view value = tag.substr(eq + 2, ve - eq - 2);
      i = ve + 1;
      if (attr.rfind("data-", 0) == 0 || attr.rfind("aria-", 0) == 0) continue;
      for (const char* link : {"src", "href", "xlink:href", "srcset", "poster", "action", "formaction", "background",
                               "ping", "cite", "longdesc", "manifest", "data", "codebase", "archive"}) {
        if (attr == link && !value.empty() && value.front() != '#' && value.rfind("data:", 0) != 0) {
          return attr + "=\"" + std::string(value) + "\"";
        }
      }
      if (auto b = bad_urls(value); !b.empty()) return attr + ": " + b;
    }
  }
  return {};
}

}  // namespace ragft::decide::testing
