#include "generate/prompt.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/env.h"

namespace ragft {

namespace {

constexpr std::string_view kDefault = R"(# ragft prompt template: answering from numbered sources.
# Sections: [system], [source] ({{n}} {{title}} {{text}} {{doc_id}}), [user] ({{sources}} {{question}}), [abstain].
[system]
You answer questions using only the numbered sources you are given. Write a short answer in plain sentences. End every sentence with the numbers of the sources that support it, in square brackets, like [1] or [2][3]. Do not use knowledge that is not in the sources. If the sources do not contain the answer, reply with exactly NO_ANSWER and nothing else.
[source]
[{{n}}] {{title}}
{{text}}
[user]
Sources:

{{sources}}

Question: {{question}}
[abstain]
NO_ANSWER
)";

std::string trim_blank_lines(std::string_view s) {
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    const std::string_view line = s.substr(0, nl);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) break;
    s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
  }
  while (!s.empty()) {
    const std::size_t nl = s.rfind('\n');
    const std::string_view line = nl == std::string_view::npos ? s : s.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) break;
    s.remove_suffix(nl == std::string_view::npos ? s.size() : s.size() - nl);
  }
  return std::string(s);
}

// Replaces {{name}} placeholders; `allowed` lists the names of this section.
Status check_placeholders(std::string_view text, const std::vector<std::string_view>& allowed,
                          std::string_view origin, std::string_view section) {
  for (std::size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at + 2)) {
    const std::size_t end = text.find("}}", at + 2);
    if (end == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument, "{}: [{}] has an unclosed {{{{", origin, section);
    }
    const std::string_view name = text.substr(at + 2, end - at - 2);
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string names;
      for (auto a : allowed) names += fmt::format("{}{{{{{}}}}}", names.empty() ? "" : ", ", a);
      return make_error(ErrorCode::kInvalidArgument, "{}: [{}] uses {{{{{}}}}}; it may use {}", origin, section, name,
                        names.empty() ? "no placeholders" : names);
    }
  }
  return ok_status();
}

std::string substitute(std::string_view text, const std::map<std::string_view, std::string_view>& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (std::size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", pos)) {
    const std::size_t end = text.find("}}", at + 2);
    if (end == std::string_view::npos) break;
    out.append(text.substr(pos, at - pos));
    auto it = values.find(text.substr(at + 2, end - at - 2));
    if (it != values.end()) out.append(it->second);
    pos = end + 2;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace

std::string PromptTemplate::default_text() { return std::string(kDefault); }

const PromptTemplate& PromptTemplate::default_template() {
  static const PromptTemplate t = *parse(kDefault, "<default>");
  return t;
}

Result<PromptTemplate> PromptTemplate::parse(std::string_view text, std::string_view origin) {
  std::map<std::string, std::string> sections;
  std::string current;
  std::string body;
  std::size_t line_no = 0;
  auto close = [&]() {
    if (!current.empty()) sections[current] = trim_blank_lines(body);
    body.clear();
  };
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    std::string_view bare = line;
    if (!bare.empty() && bare.back() == '\r') bare.remove_suffix(1);
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']' &&
        bare.find_first_of(" \t[]", 1) == bare.size() - 1) {
      const std::string name(bare.substr(1, bare.size() - 2));
      if (name != "system" && name != "source" && name != "user" && name != "abstain") {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}:{}: unknown section [{}] (sections: [system], [source], [user], [abstain])", origin,
                          line_no, name);
      }
      if (sections.count(name) || name == current) {
        return make_error(ErrorCode::kInvalidArgument, "{}:{}: section [{}] appears twice", origin, line_no, name);
      }
      close();
      current = name;
      continue;
    }
    if (current.empty()) {
      if (bare.empty() || bare.front() == '#') continue;
      return make_error(ErrorCode::kInvalidArgument, "{}:{}: text before the first section (start with [system] or [user])",
                        origin, line_no);
    }
    body.append(bare);
    body.push_back('\n');
  }
  close();
  for (const char* need : {"source", "user", "abstain"}) {
    if (!sections.count(need)) return make_error(ErrorCode::kInvalidArgument, "{}: no [{}] section", origin, need);
  }
  PromptTemplate t;
  t.text_ = std::string(text);
  t.system_ = sections.count("system") ? sections["system"] : std::string();
  t.source_ = sections["source"];
  t.user_ = sections["user"];
  t.abstain_ = sections["abstain"];
  RAGFT_TRY_STATUS(check_placeholders(t.system_, {}, origin, "system"));
  RAGFT_TRY_STATUS(check_placeholders(t.source_, {"n", "title", "text", "doc_id"}, origin, "source"));
  RAGFT_TRY_STATUS(check_placeholders(t.user_, {"sources", "question"}, origin, "user"));
  RAGFT_TRY_STATUS(check_placeholders(t.abstain_, {}, origin, "abstain"));
  if (t.abstain_.empty() || t.abstain_.find('\n') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "{}: [abstain] must be one non-empty line", origin);
  }
  if (t.user_.find("{{question}}") == std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "{}: [user] never says {{{{question}}}}", origin);
  }
  return t;
}

Result<PromptTemplate> PromptTemplate::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return make_error(ErrorCode::kNotFound, "prompt template {} does not exist (`ragft prompt > FILE` writes the default)",
                      path.string());
  }
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  return parse(text, path.string());
}

RenderedPrompt PromptTemplate::render(std::string_view question, const std::vector<PromptSource>& sources) const {
  std::string rendered;
  for (const PromptSource& s : sources) {
    if (!rendered.empty()) rendered += "\n\n";
    const std::string n = std::to_string(s.n);
    rendered += substitute(source_, {{"n", n}, {"title", s.title}, {"text", s.text}, {"doc_id", s.doc_id}});
  }
  return {system_, substitute(user_, {{"sources", rendered}, {"question", question}})};
}

}  // namespace ragft
