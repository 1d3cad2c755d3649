#include "train/conll.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <utf8proc.h>

#include "core/lines.h"
#include "core/env.h"
#include "core/hash.h"
#include "core/utf8.h"
#include "evaluate/conlleval.h"

namespace ragft {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Empty when `tag` is a valid O / B- / I- / E- / S- tag, else the reason.
std::string check_tag(std::string_view tag) {
  if (tag == "O") return {};
  if (tag.size() < 3 || tag[1] != '-') return fmt::format("tag \"{}\" is not O or B-/I-/E-/S-TYPE", tag);
  char p = tag[0];
  if (p != 'B' && p != 'I' && p != 'E' && p != 'S') {
    return fmt::format("tag \"{}\" has prefix '{}' (expected B, I, E or S)", tag, p);
  }
  return {};
}

}  // namespace

Result<ConllData> parse_conll(std::string_view text, std::string_view name, const ConllOptions& options) {
  ConllData data;
  TaggedSentence cur;
  auto flush = [&] {
    if (!cur.tokens.empty()) {
      if (options.normalize_bio) {
        auto bio = to_bio(cur.tags);
        for (std::size_t i = 0; i < bio.size(); ++i) data.repaired_tags += bio[i] != cur.tags[i];
        cur.tags = std::move(bio);
      }
      data.sentences.push_back(std::move(cur));
    }
    cur = TaggedSentence{};
  };
  LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t line_no = lines.line_no();
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // UTF-8 BOM
    std::string_view t = trim(line);
    if (t.empty()) {
      flush();
      continue;
    }
    if (t.starts_with("-DOCSTART-")) {
      flush();
      continue;
    }
    std::string reason;
    std::string_view token, tag;
    auto tab = line.find('\t');
    if (tab != std::string_view::npos) {
      // token<TAB>...<TAB>tag: token is the first tab column, tag the last.
      token = trim(line.substr(0, tab));
      auto last_tab = line.rfind('\t');
      tag = trim(line.substr(last_tab + 1));
      if (token.empty()) reason = "empty token before the tab";
      else if (tag.empty()) reason = "missing tag after the tab";
    } else {
      auto cols = split_ws(t);
      if (cols.size() < 2) {
        reason = "one column only (expected token and tag)";
      } else {
        token = cols.front();
        tag = cols.back();
      }
    }
    if (reason.empty()) reason = check_tag(tag);
    if (reason.empty() && !is_valid_utf8(token)) reason = "token is not valid UTF-8";
    if (!reason.empty()) {
      std::string msg = fmt::format("{}:{}: {}", name, line_no, reason);
      if (options.strict) return make_error(ErrorCode::kInvalidArgument, "{} (fix the line or drop --strict)", msg);
      ++data.malformed_lines;
      if (data.warnings.size() < options.max_warnings) data.warnings.push_back(std::move(msg));
      continue;
    }
    if (cur.tokens.empty()) cur.line = line_no;
    cur.tokens.emplace_back(token);
    cur.tags.emplace_back(tag);
  }
  flush();
  return data;
}

Result<ConllData> read_conll(const std::filesystem::path& path, const ConllOptions& options) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  return parse_conll(text, path.string(), options);
}

std::string format_conll(const std::vector<TaggedSentence>& sentences) {
  std::string out;
  for (const auto& s : sentences) {
    for (std::size_t i = 0; i < s.tokens.size(); ++i) out += fmt::format("{}\t{}\n", s.tokens[i], s.tags[i]);
    out += '\n';
  }
  return out;
}

std::string conll_data_hash(const std::vector<TaggedSentence>& sentences) {
  std::string buf;
  for (const auto& s : sentences) {
    for (std::size_t i = 0; i < s.tokens.size(); ++i) {
      buf += s.tokens[i];
      buf += '\t';
      buf += s.tags[i];
      buf += '\n';
    }
    buf += '\n';
  }
  return content_hash(buf);
}

std::vector<EntityMention> entity_mentions(const std::vector<std::string>& tokens,
                                           const std::vector<std::string>& tags) {
  std::vector<EntityMention> out;
  for (const Chunk& c : extract_chunks(tags)) {
    EntityMention m;
    m.type = c.type;
    m.start = c.start;
    m.end = std::min(c.end, tokens.size());
    for (std::size_t i = m.start; i < m.end; ++i) {
      if (i > m.start) m.text += ' ';
      m.text += tokens[i];
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::string fold_case(std::string_view s) {
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  utf8proc_uint8_t* mapped = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                    static_cast<utf8proc_ssize_t>(s.size()), &mapped,
                                    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                                   UTF8PROC_CASEFOLD));
  if (n < 0) return std::string(s);
  std::string out(reinterpret_cast<char*>(mapped), static_cast<std::size_t>(n));
  std::free(mapped);
  return out;
}

namespace {

nlohmann::json split_checks(const std::vector<TaggedSentence>& sents) {
  std::size_t tokens = 0, entities = 0, empty = 0;
  std::map<std::string, std::size_t> per_type;
  for (const auto& s : sents) {
    tokens += s.tokens.size();
    auto ms = entity_mentions(s.tokens, s.tags);
    if (ms.empty()) ++empty;
    entities += ms.size();
    for (const auto& m : ms) ++per_type[m.type];
  }
  return {{"sentences", sents.size()},
          {"tokens", tokens},
          {"entities", entities},
          {"entities_per_type", per_type},
          {"mean_sentence_tokens", sents.empty() ? 0.0 : static_cast<double>(tokens) / static_cast<double>(sents.size())},
          {"sentences_without_entities", empty}};
}

}  // namespace

nlohmann::json extraction_data_checks(const std::vector<TaggedSentence>& train,
                                      const std::map<std::string, const std::vector<TaggedSentence>*>& evals) {
  nlohmann::json j = nlohmann::json::object();
  j["train"] = split_checks(train);
  std::set<std::string> seen;
  for (const auto& s : train) {
    for (const auto& m : entity_mentions(s.tokens, s.tags)) seen.insert(fold_case(m.text));
  }
  for (const auto& [name, sents] : evals) {
    if (!sents) continue;
    nlohmann::json e = split_checks(*sents);
    std::size_t unseen = 0, total = 0;
    std::map<std::string, std::size_t> unseen_per_type;
    for (const auto& s : *sents) {
      for (const auto& m : entity_mentions(s.tokens, s.tags)) {
        ++total;
        if (!seen.count(fold_case(m.text))) {
          ++unseen;
          ++unseen_per_type[m.type];
        }
      }
    }
    e["unseen_entities"] = unseen;
    e["unseen_entities_per_type"] = unseen_per_type;
    e["unseen_share"] = total == 0 ? 0.0 : static_cast<double>(unseen) / static_cast<double>(total);
    j[name] = std::move(e);
  }
  return j;
}

}  // namespace ragft
