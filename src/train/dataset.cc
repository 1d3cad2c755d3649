#include "train/dataset.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "core/lines.h"
#include "core/env.h"
#include "core/hash.h"
#include "core/utf8.h"

namespace ragft {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Collects examples and warnings; `bad` returns an error in strict mode.
class Builder {
 public:
  Builder(std::string_view name, const DataOptions& o) : o_(o) { ds_.source = std::string(name); }

  Status bad(std::size_t line, std::string_view reason) {
    std::string w = fmt::format("{}:{}: {}", ds_.source, line, reason);
    if (o_.strict) return Error{ErrorCode::kInvalidArgument, w + " (strict mode: fix or remove the line)"};
    ++ds_.skipped;
    if (ds_.warnings.size() < o_.max_warnings) ds_.warnings.push_back(std::move(w));
    return ok_status();
  }

  // Validates and adds; reasons for rejection go through bad().
  Status add(std::size_t line, std::string text, std::vector<std::string> labels) {
    if (o_.encoding == Encoding::kUtf8) {
      bool valid = is_valid_utf8(text);
      for (const auto& l : labels) valid = valid && is_valid_utf8(l);
      if (!valid) return bad(line, "invalid UTF-8 (use --encoding latin-1 for Latin-1 files)");
    }
    std::string_view t = trim(text);
    if (t.empty()) return bad(line, "empty text");
    std::vector<std::string> ls;
    for (auto& l : labels) {
      std::string_view tl = trim(l);
      if (tl.empty()) return bad(line, "empty label");
      if (std::find(ls.begin(), ls.end(), tl) == ls.end()) ls.emplace_back(tl);
    }
    if (ls.empty()) return bad(line, "no label");
    ds_.examples.push_back(Example{std::string(t), std::move(ls), line});
    return ok_status();
  }

  Dataset take() { return std::move(ds_); }

 private:
  const DataOptions& o_;
  Dataset ds_;
};

// Calls fn(line_no, line) for every non-blank line, '\r' stripped.
template <typename Fn>
Status for_each_line(std::string_view content, Fn&& fn) {
  LineCursor lines(content);
  std::string_view line;
  while (lines.next(line)) {
    if (trim(line).empty()) continue;
    RAGFT_TRY_STATUS(fn(lines.line_no(), line));
  }
  return ok_status();
}

Status parse_jsonl(std::string_view content, const DataOptions& o, Builder& b) {
  return for_each_line(content, [&](std::size_t n, std::string_view line) -> Status {
    if (o.encoding == Encoding::kUtf8 && !is_valid_utf8(line)) {
      return b.bad(n, "invalid UTF-8 (use --encoding latin-1 for Latin-1 files)");
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return b.bad(n, "invalid JSON");
    if (!j.is_object()) return b.bad(n, "not a JSON object");
    auto t = j.find(o.text_column);
    if (t == j.end() || !t->is_string()) {
      return b.bad(n, fmt::format("missing string field \"{}\"", o.text_column));
    }
    auto l = j.find(o.label_column);
    if (l == j.end()) return b.bad(n, fmt::format("missing field \"{}\"", o.label_column));
    std::vector<std::string> labels;
    auto one = [&](const nlohmann::json& v) -> bool {
      if (v.is_string()) labels.push_back(v.get<std::string>());
      else if (v.is_number_integer() || v.is_boolean()) labels.push_back(v.dump());
      else return false;
      return true;
    };
    bool ok = true;
    if (l->is_array()) {
      for (const auto& v : *l) ok = ok && one(v);
    } else {
      ok = one(*l);
    }
    if (!ok) return b.bad(n, fmt::format("field \"{}\" must be a string, an integer or a list of them", o.label_column));
    return b.add(n, t->get<std::string>(), std::move(labels));
  });
}

// RFC 4180 records: fields separated by ',', records by CRLF or LF; a quoted field may hold
// commas, newlines and doubled quotes. Calls fn(first_line, fields) per record.
template <typename Fn>
Status for_each_csv_record(std::string_view s, std::string_view name, Fn&& fn) {
  std::size_t i = 0;
  std::size_t line = 1;
  while (i < s.size()) {
    std::size_t start_line = line;
    std::vector<std::string> fields;
    std::string field;
    bool bad_quote = false;
    while (true) {
      if (i < s.size() && s[i] == '"' && field.empty()) {
        ++i;
        bool closed = false;
        while (i < s.size()) {
          char c = s[i++];
          if (c == '"') {
            if (i < s.size() && s[i] == '"') {
              field += '"';
              ++i;
            } else {
              closed = true;
              break;
            }
          } else {
            if (c == '\n') ++line;
            field += c;
          }
        }
        if (!closed) {
          return make_error(ErrorCode::kInvalidArgument, "{}:{}: unterminated quoted field", name, start_line);
        }
        // After the closing quote only a separator or the end of the record may follow.
        while (i < s.size() && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
          bad_quote = true;
          field += s[i++];
        }
      } else {
        while (i < s.size() && s[i] != ',' && s[i] != '\n') field += s[i++];
        if (!field.empty() && field.back() == '\r' && (i >= s.size() || s[i] == '\n')) field.pop_back();
      }
      fields.push_back(std::move(field));
      field.clear();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == '\r') ++i;
      if (i < s.size() && s[i] == '\n') {
        ++i;
        ++line;
      }
      break;
    }
    bool blank = fields.size() == 1 && trim(fields[0]).empty();
    if (!blank) RAGFT_TRY_STATUS(fn(start_line, fields, bad_quote));
  }
  return ok_status();
}

Status parse_csv(std::string_view content, const DataOptions& o, Builder& b, std::string_view name) {
  bool have_header = false;
  std::size_t text_col = 0, label_col = 0, ncols = 0;
  return for_each_csv_record(content, name, [&](std::size_t n, const std::vector<std::string>& f, bool bad_quote) -> Status {
    if (!have_header) {
      have_header = true;
      ncols = f.size();
      auto find = [&](const std::string& col, std::size_t& out) -> Status {
        for (std::size_t k = 0; k < f.size(); ++k) {
          if (trim(f[k]) == col) {
            out = k;
            return ok_status();
          }
        }
        std::string have;
        for (const auto& h : f) {
          if (!have.empty()) have += ", ";
          have += h;
        }
        return make_error(ErrorCode::kInvalidArgument,
                          "{}:{}: no column \"{}\" in the header (columns: {}); choose with --text-column/--label-column",
                          name, n, col, have);
      };
      RAGFT_TRY_STATUS(find(o.text_column, text_col));
      RAGFT_TRY_STATUS(find(o.label_column, label_col));
      return ok_status();
    }
    if (bad_quote) return b.bad(n, "text after a closing quote");
    if (f.size() != ncols) return b.bad(n, fmt::format("{} fields, the header has {}", f.size(), ncols));
    return b.add(n, f[text_col], {f[label_col]});
  });
}

Status parse_fasttext(std::string_view content, Builder& b) {
  static constexpr std::string_view kPrefix = "__label__";
  return for_each_line(content, [&](std::size_t n, std::string_view line) -> Status {
    std::vector<std::string> labels;
    std::string text;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_space(line[i])) ++i;
      std::size_t j = i;
      while (j < line.size() && !is_space(line[j])) ++j;
      if (j == i) break;
      std::string_view tok = line.substr(i, j - i);
      if (tok.substr(0, kPrefix.size()) == kPrefix) {
        if (tok.size() == kPrefix.size()) return b.bad(n, "empty __label__");
        labels.emplace_back(tok.substr(kPrefix.size()));
      } else {
        if (!text.empty()) text += ' ';
        text += tok;
      }
      i = j;
    }
    if (labels.empty()) return b.bad(n, "no __label__ token");
    return b.add(n, std::move(text), std::move(labels));
  });
}

// "LABEL rest": the first whitespace-separated token and the remainder.
std::pair<std::string_view, std::string_view> split_first(std::string_view line) {
  line = trim(line);
  std::size_t sp = 0;
  while (sp < line.size() && !is_space(line[sp])) ++sp;
  return {line.substr(0, sp), trim(line.substr(sp))};
}

Status parse_trec(std::string_view content, const DataOptions& o, Builder& b) {
  return for_each_line(content, [&](std::size_t n, std::string_view line) -> Status {
    auto [label, text] = split_first(line);
    std::size_t colon = label.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == label.size()) {
      return b.bad(n, "expected COARSE:fine before the question");
    }
    std::string l(o.trec_fine ? label : label.substr(0, colon));
    return b.add(n, std::string(text), {std::move(l)});
  });
}

Status parse_sst(std::string_view content, Builder& b) {
  return for_each_line(content, [&](std::size_t n, std::string_view line) -> Status {
    auto [label, text] = split_first(line);
    return b.add(n, std::string(text), {std::string(label)});
  });
}

}  // namespace

Result<DataFormat> parse_data_format(std::string_view name) {
  if (name == "jsonl") return DataFormat::kJsonl;
  if (name == "csv") return DataFormat::kCsv;
  if (name == "fasttext") return DataFormat::kFastText;
  if (name == "trec") return DataFormat::kTrec;
  if (name == "sst") return DataFormat::kSst;
  return make_error(ErrorCode::kInvalidArgument, "unknown data format \"{}\": use jsonl, csv, fasttext, trec or sst", name);
}

const char* data_format_name(DataFormat f) {
  switch (f) {
    case DataFormat::kJsonl: return "jsonl";
    case DataFormat::kCsv: return "csv";
    case DataFormat::kFastText: return "fasttext";
    case DataFormat::kTrec: return "trec";
    case DataFormat::kSst: return "sst";
  }
  return "?";
}

Result<Encoding> parse_encoding(std::string_view name) {
  if (name == "utf-8" || name == "utf8" || name == "UTF-8") return Encoding::kUtf8;
  if (name == "latin-1" || name == "latin1" || name == "iso-8859-1" || name == "ISO-8859-1") return Encoding::kLatin1;
  return make_error(ErrorCode::kInvalidArgument, "unknown encoding \"{}\": use utf-8 or latin-1", name);
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::vector<std::string> labels_of(const std::vector<Example>& examples) {
  std::set<std::string> s;
  for (const auto& e : examples) s.insert(e.labels.begin(), e.labels.end());
  return {s.begin(), s.end()};
}

std::vector<std::string> Dataset::labels() const { return labels_of(examples); }

bool Dataset::multi_label() const {
  return std::any_of(examples.begin(), examples.end(), [](const Example& e) { return e.labels.size() > 1; });
}

std::string Dataset::content_hash() const { return examples_hash(examples); }

std::string examples_hash(const std::vector<Example>& examples) {
  std::string buf;
  for (const auto& e : examples) {
    buf += e.text;
    for (const auto& l : e.labels) {
      buf += '\x1f';
      buf += l;
    }
    buf += '\x1e';
  }
  return ragft::content_hash(buf);
}

Result<Dataset> parse_examples(std::string_view content, std::string_view name, const DataOptions& o) {
  std::string converted;
  if (o.encoding == Encoding::kLatin1) {
    converted = latin1_to_utf8(content);
    content = converted;
  }
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);  // UTF-8 BOM
  Builder b(name, o);
  switch (o.format) {
    case DataFormat::kJsonl: RAGFT_TRY_STATUS(parse_jsonl(content, o, b)); break;
    case DataFormat::kCsv: RAGFT_TRY_STATUS(parse_csv(content, o, b, name)); break;
    case DataFormat::kFastText: RAGFT_TRY_STATUS(parse_fasttext(content, b)); break;
    case DataFormat::kTrec: RAGFT_TRY_STATUS(parse_trec(content, o, b)); break;
    case DataFormat::kSst: RAGFT_TRY_STATUS(parse_sst(content, b)); break;
  }
  return b.take();
}

Result<Dataset> load_examples(const std::filesystem::path& path, const DataOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return make_error(ErrorCode::kNotFound, "data file {} does not exist", path.string());
  }
  RAGFT_TRY(std::string content, Env::posix().read_file(path));
  return parse_examples(content, path.string(), options);
}

}  // namespace ragft
