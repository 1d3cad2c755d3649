#include "evaluate/trec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/lines.h"
#include "core/check.h"
#include "core/env.h"
#include "core/utf8.h"
#include "evaluate/metrics.h"

namespace ragft {
namespace {

// Calls fn(line, line_number) for each line of `text`; a trailing '\r' is stripped (CRLF files)
// and line numbers count from 1. A final line without '\n' is still visited.
template <typename Fn>
Status for_each_line(std::string_view text, Fn&& fn) {
  LineCursor lines(text);
  std::string_view line;
  while (lines.next(line)) RAGFT_TRY_STATUS(fn(line, lines.line_no()));
  return ok_status();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return is_space(c); });
}

// Splits on runs of whitespace.
std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) break;
    std::size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string_view> split_tab(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t t = line.find('\t', pos);
    if (t == std::string_view::npos) {
      out.push_back(line.substr(pos));
      return out;
    }
    out.push_back(line.substr(pos, t - pos));
    pos = t + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, long long& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

bool parse_double(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty() && std::isfinite(out);
}

Error line_error(const std::filesystem::path& path, std::size_t line_no, std::string reason) {
  return make_error(ErrorCode::kInvalidArgument, "{}:{}: {}", path.string(), line_no, reason);
}

// Graded relevance must fit an int; trec_eval treats it as a small integer.
Status add_judgment(Qrels& qrels, const std::filesystem::path& path, std::size_t line_no,
                    std::string_view qid, std::string_view doc, std::string_view rel_text) {
  long long rel = 0;
  if (!parse_int(rel_text, rel) || rel < -1000000 || rel > 1000000) {
    return line_error(path, line_no,
                      fmt::format("relevance '{}' is not an integer; expected e.g. 0, 1 or 2",
                                  rel_text));
  }
  auto& judged = qrels[std::string(qid)];
  auto [it, inserted] = judged.emplace(std::string(doc), static_cast<int>(rel));
  if (!inserted) {
    return line_error(path, line_no,
                      fmt::format("duplicate judgment for query '{}' doc '{}'; keep one line per "
                                  "(query, doc) pair",
                                  qid, doc));
  }
  return ok_status();
}

}  // namespace

Result<Qrels> read_qrels(const std::filesystem::path& path) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  enum class Format { kUnknown, kBeir, kTrec };
  Format format = Format::kUnknown;
  Qrels qrels;
  Status st = for_each_line(text, [&](std::string_view line, std::size_t line_no) -> Status {
    if (is_blank(line)) return ok_status();
    if (format == Format::kUnknown) {
      auto cols = split_tab(line);
      if (cols.size() == 3 && trim(cols[0]) == "query-id") {
        format = Format::kBeir;
        return ok_status();  // the header
      }
      auto fields = split_ws(line);
      if (cols.size() == 3) {
        format = Format::kBeir;  // BEIR TSV without its header
      } else if (fields.size() == 4) {
        format = Format::kTrec;
      } else {
        return line_error(path, line_no,
                          fmt::format("cannot tell the qrels format: expected BEIR TSV "
                                      "'query-id<TAB>corpus-id<TAB>score' or TREC 'qid 0 docid "
                                      "rel', got {} tab-separated / {} whitespace-separated fields",
                                      cols.size(), fields.size()));
      }
    }
    if (format == Format::kBeir) {
      auto cols = split_tab(line);
      if (cols.size() != 3) {
        return line_error(path, line_no,
                          fmt::format("expected 3 tab-separated fields (query-id, corpus-id, "
                                      "score), got {}",
                                      cols.size()));
      }
      std::string_view qid = trim(cols[0]), doc = trim(cols[1]);
      if (qid.empty() || doc.empty()) return line_error(path, line_no, "empty query or corpus id");
      return add_judgment(qrels, path, line_no, qid, doc, trim(cols[2]));
    }
    auto fields = split_ws(line);
    if (fields.size() != 4) {
      return line_error(path, line_no,
                        fmt::format("expected 4 whitespace-separated fields (qid iter docid rel), "
                                    "got {}",
                                    fields.size()));
    }
    return add_judgment(qrels, path, line_no, fields[0], fields[2], fields[3]);
  });
  RAGFT_TRY_STATUS(std::move(st));
  if (qrels.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: no relevance judgments found; expected BEIR TSV or TREC qrels lines",
                      path.string());
  }
  return qrels;
}

Result<std::vector<QueryRecord>> read_queries(const std::filesystem::path& path) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  std::size_t first = text.find_first_not_of(" \t\r\n");
  bool jsonl = first != std::string::npos && text[first] == '{';
  std::vector<QueryRecord> out;
  std::set<std::string> seen;
  Status st = for_each_line(text, [&](std::string_view line, std::size_t line_no) -> Status {
    if (is_blank(line)) return ok_status();
    if (!is_valid_utf8(line)) return line_error(path, line_no, "not valid UTF-8");
    QueryRecord rec;
    if (jsonl) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        return line_error(path, line_no, fmt::format("invalid JSON: {}", e.what()));
      }
      if (!j.is_object()) return line_error(path, line_no, "expected a JSON object per line");
      auto id = j.find("_id");
      if (id == j.end()) return line_error(path, line_no, "missing field \"_id\"");
      if (id->is_string()) {
        rec.id = id->get<std::string>();
      } else if (id->is_number_integer()) {
        rec.id = id->dump();
      } else {
        return line_error(path, line_no, "field \"_id\" must be a string or an integer");
      }
      auto txt = j.find("text");
      if (txt == j.end() || !txt->is_string()) {
        return line_error(path, line_no, "missing or non-string field \"text\"");
      }
      rec.text = txt->get<std::string>();
    } else {
      std::size_t tab = line.find('\t');
      if (tab == std::string_view::npos) {
        return line_error(path, line_no, "expected 'qid<TAB>text' (no tab found)");
      }
      rec.id = std::string(trim(line.substr(0, tab)));
      rec.text = std::string(line.substr(tab + 1));
    }
    if (rec.id.empty()) return line_error(path, line_no, "empty query id");
    if (!seen.insert(rec.id).second) {
      return line_error(path, line_no, fmt::format("duplicate query id '{}'", rec.id));
    }
    out.push_back(std::move(rec));
    return ok_status();
  });
  RAGFT_TRY_STATUS(std::move(st));
  return out;
}

Result<Run> read_run(const std::filesystem::path& path) {
  RAGFT_TRY(std::string text, Env::posix().read_file(path));
  Run run;
  std::map<std::string, std::set<std::string>> seen;
  Status st = for_each_line(text, [&](std::string_view line, std::size_t line_no) -> Status {
    if (is_blank(line)) return ok_status();
    auto f = split_ws(line);
    if (f.size() != 6) {
      return line_error(path, line_no,
                        fmt::format("expected 6 fields 'qid Q0 docid rank score tag', got {}",
                                    f.size()));
    }
    long long rank = 0;
    if (!parse_int(f[3], rank)) {
      return line_error(path, line_no, fmt::format("rank '{}' is not an integer", f[3]));
    }
    double score = 0;
    if (!parse_double(f[4], score)) {
      return line_error(path, line_no, fmt::format("score '{}' is not a finite number", f[4]));
    }
    std::string qid(f[0]), doc(f[2]);
    if (!seen[qid].insert(doc).second) {
      return line_error(path, line_no,
                        fmt::format("duplicate doc '{}' for query '{}' (trec_eval rejects these)",
                                    doc, qid));
    }
    run[qid].push_back(RunEntry{std::move(doc), score});
    return ok_status();
  });
  RAGFT_TRY_STATUS(std::move(st));
  return run;
}

void write_run(std::ostream& out, const Run& run, const std::string& tag) {
  auto has_space = [](std::string_view s) {
    return s.empty() || std::any_of(s.begin(), s.end(), [](char c) { return is_space(c) || c == '\n'; });
  };
  RAGFT_CHECK(!has_space(tag));
  for (const auto& [qid, entries] : run) {
    RAGFT_CHECK(!has_space(qid));
    std::vector<RunEntry> sorted = entries;
    sort_like_trec_eval(sorted);
    std::size_t rank = 0;
    for (const auto& e : sorted) {
      RAGFT_CHECK(!has_space(e.doc_id));
      // {} prints the shortest representation that reads back to the same double.
      out << fmt::format("{} Q0 {} {} {} {}\n", qid, e.doc_id, ++rank, e.score, tag);
    }
  }
}

}  // namespace ragft
