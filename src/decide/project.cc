#include "decide/project.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <span>
#include <iterator>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "train/dataset.h"

namespace ragft::decide {

namespace fs = std::filesystem;

Result<TaskType> parse_task_type(std::string_view s) {
  if (s == "retrieval" || s == "qa" || s == "qa-over-documents") return TaskType::kRetrieval;
  if (s == "classification") return TaskType::kClassification;
  if (s == "extraction") return TaskType::kExtraction;
  if (s == "generation") return TaskType::kGeneration;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown task \"{}\": use retrieval (or qa, qa-over-documents), classification, extraction or "
                    "generation",
                    s);
}

const char* task_type_name(TaskType t) {
  switch (t) {
    case TaskType::kRetrieval: return "retrieval";
    case TaskType::kClassification: return "classification";
    case TaskType::kExtraction: return "extraction";
    case TaskType::kGeneration: return "generation";
  }
  return "?";
}

const char* source_name(Source s) {
  switch (s) {
    case Source::kDefault: return "default";
    case Source::kAnswered: return "answered";
    case Source::kMeasured: return "measured";
  }
  return "?";
}

double change_interval_seconds(std::string_view change) {
  if (change == "hourly") return 3600.0;
  if (change == "daily") return 86400.0;
  if (change == "weekly") return 604800.0;
  if (change == "monthly") return 2629800.0;
  if (change == "yearly") return 31557600.0;
  if (change == "never") return std::numeric_limits<double>::infinity();
  return std::numeric_limits<double>::quiet_NaN();
}

namespace {

template <typename T>
nlohmann::json json_value(const T& v) { return nlohmann::json(v); }
template <typename T>
nlohmann::json json_value(const std::optional<T>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

template <typename T>
nlohmann::json answer_json(const Answer<T>& a) {
  return nlohmann::json{{"value", json_value(a.value)}, {"source", source_name(a.source)}};
}

}  // namespace

nlohmann::json Requirements::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["need"] = answer_json(need);
  j["change"] = answer_json(change);
  j["citations"] = answer_json(citations);
  j["latency_p95_ms"] = answer_json(latency_p95_ms);
  j["wrong_answer_cost"] = answer_json(wrong_answer_cost);
  j["sensitivity"] = answer_json(sensitivity);
  j["acls"] = answer_json(acls);
  j["deadline_weeks"] = answer_json(deadline_weeks);
  j["style_consistency"] = answer_json(style_consistency);
  j["labeled_examples"] = answer_json(labeled_examples);
  j["quality_target"] = answer_json(quality_target);
  return j;
}

namespace {

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 6> kTopKeys = {"name", "task", "data", "requirements", "bakeoff", "generation"};
constexpr std::array<std::string_view, 4> kClassificationKeys = {"train", "eval", "format", "encoding"};
constexpr std::array<std::string_view, 3> kExtractionKeys = {"train", "dev", "eval"};
constexpr std::array<std::string_view, 4> kRetrievalKeys = {"corpus", "queries", "train_qrels", "eval_qrels"};
constexpr std::array<std::string_view, 3> kGenerationDataKeys = {"corpus", "train", "eval"};
constexpr std::array<std::string_view, 10> kGenerationKeys = {"llm",    "lora",   "raft",       "answer", "metric",
                                                              "schema", "prompt", "system", "max_tokens", "prices"};
constexpr std::array<std::string_view, 3> kPriceKeys = {"prompt", "completion", "training"};
constexpr std::array<std::string_view, 11> kRequirementKeys = {
    "need",     "change",         "citations",         "latency_p95_ms",   "wrong_answer_cost", "sensitivity",
    "acls",     "deadline_weeks", "style_consistency", "labeled_examples", "quality_target"};
constexpr std::array<std::string_view, 6> kBakeoffKeys = {"arms",      "fine_tuned",        "seed",
                                                          "freshness", "bootstrap_samples", "cache"};
constexpr std::array<std::string_view, 6> kTaskNames = {"retrieval", "qa", "qa-over-documents", "classification",
                                                        "extraction", "generation"};
constexpr std::array<std::string_view, 5> kFormatNames = {"jsonl", "csv", "fasttext", "trec", "sst"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean \"x\"?)" for the closest allowed value within edit distance 2, else "".
std::string did_you_mean(std::string_view got, Keys allowed) {
  std::string low = lower(got);
  std::string_view best;
  std::size_t best_d = 3;
  for (std::string_view a : allowed) {
    std::size_t d = edit_distance(low, a);
    // A key cut short or run on ("latency_p95" for "latency_p95_ms") counts as close too.
    std::size_t shorter = std::min(low.size(), a.size());
    if (d > 2 && shorter >= 4 && low.compare(0, shorter, a.substr(0, shorter)) == 0) d = 2;
    if (d < best_d) best_d = d, best = a;
  }
  return best.empty() ? std::string() : fmt::format(" (did you mean \"{}\"?)", best);
}

std::string json_quoted(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return json_quoted(n.Scalar());
}

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

bool is_none(const YAML::Node& n) {
  return !n.IsDefined() || n.IsNull() || (n.IsScalar() && lower(trim(n.Scalar())) == "none");
}

// A value and where it is: `path` is the dotted field path, `mark` its position.
struct Field {
  std::string key;
  YAML::Node value;
  YAML::Mark mark;
  std::string path;
};

const Field* find(const std::vector<Field>& fields, std::string_view key) {
  for (const Field& f : fields)
    if (f.key == key) return &f;
  return nullptr;
}

std::string child_path(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

class Parser {
 public:
  Parser(std::string_view file, const fs::path& base) : file_(file) {
    std::error_code ec;
    base_ = fs::absolute(base.empty() ? fs::path(".") : base, ec).lexically_normal();
    if (ec) base_ = base;
  }

  Result<Project> parse(const YAML::Node& root);

 private:
  Error error(const YAML::Mark& m, std::string_view path, std::string_view msg) const {
    int line = m.is_null() ? 1 : m.line + 1, col = m.is_null() ? 1 : m.column + 1;
    if (path.empty()) return make_error(ErrorCode::kInvalidArgument, "{}:{}:{}: {}", file_, line, col, msg);
    return make_error(ErrorCode::kInvalidArgument, "{}:{}:{}: {}: {}", file_, line, col, path, msg);
  }
  Error expected(const Field& f, std::string_view what) const {
    return error(f.mark, f.path, fmt::format("expected {}, got {}", what, describe(f.value)));
  }

  Result<std::vector<Field>> fields(const Field& map, Keys allowed, std::string_view allowed_note = {}) const;
  Status require(const Field& map, const std::vector<Field>& fields, std::string_view key, std::string_view what) const;
  Result<std::string> string(const Field& f, std::string_view what) const;
  Result<std::string> choice(const Field& f, Keys allowed) const;
  Result<bool> boolean(const Field& f) const;
  Result<std::optional<double>> number(const Field& f, std::string_view what, bool nullable, double lo, bool lo_open,
                                       double hi) const;
  Result<std::optional<long long>> integer(const Field& f, std::string_view what, bool nullable, long long lo,
                                           long long hi) const;
  enum class Check { kFile, kFileOrFolder, kNone };
  Result<fs::path> path(const Field& f, Check check) const;
  Status parse_data(const Field& f, TaskType task, DataSpec& d) const;
  Status parse_requirements(const Field& f, Requirements& r) const;
  Status parse_bakeoff(const Field& f, BakeoffSpec& b) const;
  Status parse_generation(const Field& f, GenerationSpec& g) const;

  std::string file_;
  fs::path base_;
};

Result<std::vector<Field>> Parser::fields(const Field& map, Keys allowed, std::string_view allowed_note) const {
  std::vector<Field> out;
  if (!map.value.IsDefined() || map.value.IsNull()) return out;
  std::string keys = fmt::format("{}", fmt::join(allowed, ", "));
  if (!map.value.IsMap())
    return expected(map, fmt::format("a mapping with keys {}", keys));
  for (auto it = map.value.begin(); it != map.value.end(); ++it) {
    YAML::Node k = it->first, v = it->second;  // copies: `it->` is a temporary
    if (!k.IsScalar()) return error(k.Mark(), map.path, fmt::format("expected a key name, got {}", describe(k)));
    Field f{k.Scalar(), v, v.Mark(), child_path(map.path, k.Scalar())};
    // An empty value (`key:`) is marked where the next token starts; point at the key instead.
    if (f.value.IsNull() || f.mark.is_null() || f.mark.line != k.Mark().line) f.mark = k.Mark();
    if (std::find(allowed.begin(), allowed.end(), f.key) == allowed.end())
      return error(k.Mark(), f.path,
                   fmt::format("unknown key{}; allowed keys{}: {}", did_you_mean(f.key, allowed), allowed_note, keys));
    if (const Field* first = find(out, f.key))
      return error(k.Mark(), f.path, fmt::format("duplicate key (first set at line {})", first->mark.line + 1));
    out.push_back(std::move(f));
  }
  return out;
}

Status Parser::require(const Field& map, const std::vector<Field>& fields, std::string_view key,
                       std::string_view what) const {
  if (find(fields, key)) return ok_status();
  return error(map.mark, child_path(map.path, key), fmt::format("missing required key ({})", what));
}

Result<std::string> Parser::string(const Field& f, std::string_view what) const {
  if (!f.value.IsScalar() || trim(f.value.Scalar()).empty()) return expected(f, what);
  return trim(f.value.Scalar());
}

Result<std::string> Parser::choice(const Field& f, Keys allowed) const {
  std::string what = fmt::format("one of {}", fmt::join(allowed, ", "));
  RAGFT_TRY(std::string s, string(f, what));
  std::string low = lower(s);
  if (low == "behavior") low = "behaviour";  // the American spelling is accepted too
  for (std::string_view a : allowed)
    if (low == a) return std::string(a);
  return error(f.mark, f.path, fmt::format("expected {}, got {}{}", what, describe(f.value), did_you_mean(s, allowed)));
}

Result<bool> Parser::boolean(const Field& f) const {
  if (f.value.IsScalar()) {
    std::string s = lower(trim(f.value.Scalar()));
    if (s == "true" || s == "yes") return true;
    if (s == "false" || s == "no") return false;
  }
  return expected(f, "true or false");
}

Result<std::optional<double>> Parser::number(const Field& f, std::string_view what, bool nullable, double lo,
                                             bool lo_open, double hi) const {
  if (nullable && is_none(f.value)) return std::optional<double>();
  if (!f.value.IsScalar()) return expected(f, what);
  std::string s = trim(f.value.Scalar());
  const char* b = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  double v = 0;
  auto [end, ec] = std::from_chars(b, s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < lo || (lo_open && v == lo) || v > hi)
    return expected(f, what);
  return std::optional<double>(v);
}

Result<std::optional<long long>> Parser::integer(const Field& f, std::string_view what, bool nullable, long long lo,
                                                 long long hi) const {
  if (nullable && is_none(f.value)) return std::optional<long long>();
  if (!f.value.IsScalar()) return expected(f, what);
  std::string s = trim(f.value.Scalar());
  const char* b = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  long long v = 0;
  auto [end, ec] = std::from_chars(b, s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return expected(f, what);
  return std::optional<long long>(v);
}

Result<fs::path> Parser::path(const Field& f, Check check) const {
  RAGFT_TRY(std::string s, string(f, "a path (relative to the project file's folder)"));
  fs::path p(s);
  if (p.is_relative()) p = base_ / p;
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_relative_path()) p = p.parent_path();  // "dir/" -> "dir"
  if (check == Check::kNone) return p;
  std::error_code ec;
  fs::file_status st = fs::status(p, ec);
  if (!fs::exists(st))
    return error(f.mark, f.path,
                 fmt::format("no such {}: {} (relative paths are resolved against {})",
                             check == Check::kFile ? "file" : "file or folder", p.string(), base_.string()));
  if (check == Check::kFile && fs::is_directory(st))
    return error(f.mark, f.path, fmt::format("expected a file, got the folder {}", p.string()));
  return p;
}

Status Parser::parse_data(const Field& f, TaskType task, DataSpec& d) const {
  if (!f.value.IsDefined() || f.value.IsNull()) return ok_status();  // `data:` with nothing: no data
  Keys allowed = task == TaskType::kRetrieval        ? Keys(kRetrievalKeys)
                 : task == TaskType::kClassification ? Keys(kClassificationKeys)
                 : task == TaskType::kGeneration     ? Keys(kGenerationDataKeys)
                                                     : Keys(kExtractionKeys);
  RAGFT_TRY(auto kv, fields(f, allowed, fmt::format(" for task {}", task_type_name(task))));
  for (const Field& x : kv) {
    if (x.key == "corpus") {
      if (x.value.IsSequence()) {
        if (x.value.size() == 0) return expected(x, "a path or a non-empty list of paths");
        for (std::size_t i = 0; i < x.value.size(); ++i) {
          YAML::Node e = x.value[i];
          Field ef{x.key, e, e.Mark().is_null() ? x.mark : e.Mark(), fmt::format("{}[{}]", x.path, i)};
          RAGFT_TRY(auto p, path(ef, Check::kFileOrFolder));
          d.corpus.push_back(std::move(p));
        }
      } else {
        if (!x.value.IsScalar()) return expected(x, "a path or a list of paths");
        RAGFT_TRY(auto p, path(x, Check::kFileOrFolder));
        d.corpus.push_back(std::move(p));
      }
    } else if (x.key == "format") {
      RAGFT_TRY(d.format, choice(x, kFormatNames));
    } else if (x.key == "encoding") {
      RAGFT_TRY(std::string s, string(x, "utf-8 or latin-1"));
      auto e = parse_encoding(lower(s));
      if (!e.ok()) return expected(x, "utf-8 or latin-1");
      d.encoding = *e == Encoding::kUtf8 ? "utf-8" : "latin-1";
    } else {
      RAGFT_TRY(fs::path p, path(x, Check::kFile));
      (x.key == "queries"       ? d.queries
       : x.key == "train_qrels" ? d.train_qrels
       : x.key == "eval_qrels"  ? d.eval_qrels
       : x.key == "train"       ? d.train
       : x.key == "dev"         ? d.dev
                                : d.eval) = std::move(p);
    }
  }
  const char* t = task_type_name(task);
  if (task == TaskType::kRetrieval) {
    RAGFT_TRY_STATUS(require(f, kv, "corpus", fmt::format("task {}: the documents, a path or a list of paths", t)));
    RAGFT_TRY_STATUS(require(f, kv, "queries", fmt::format("task {}: the queries file", t)));
    RAGFT_TRY_STATUS(require(f, kv, "eval_qrels", fmt::format("task {}: relevance judgments for evaluation", t)));
  } else {
    RAGFT_TRY_STATUS(require(f, kv, "train", fmt::format("task {}: the training file", t)));
    RAGFT_TRY_STATUS(require(f, kv, "eval", fmt::format("task {}: the evaluation file", t)));
  }
  return ok_status();
}

template <typename T, typename U>
void answer(Answer<T>& a, U&& v) {
  a.value = std::forward<U>(v);
  a.source = Source::kAnswered;
}

Status Parser::parse_requirements(const Field& f, Requirements& r) const {
  RAGFT_TRY(auto kv, fields(f, kRequirementKeys));
  for (const Field& x : kv) {
    const std::string& k = x.key;
    if (k == "need") {
      RAGFT_TRY(auto v, choice(x, kNeedValues));
      answer(r.need, v);
    } else if (k == "change") {
      RAGFT_TRY(auto v, choice(x, kChangeValues));
      answer(r.change, v);
    } else if (k == "wrong_answer_cost") {
      RAGFT_TRY(auto v, choice(x, kCostValues));
      answer(r.wrong_answer_cost, v);
    } else if (k == "sensitivity") {
      RAGFT_TRY(auto v, choice(x, kSensitivityValues));
      answer(r.sensitivity, v);
    } else if (k == "citations" || k == "acls" || k == "style_consistency") {
      RAGFT_TRY(bool v, boolean(x));
      answer(k == "citations" ? r.citations : k == "acls" ? r.acls : r.style_consistency, v);
    } else if (k == "latency_p95_ms") {
      RAGFT_TRY(auto v, number(x, "a positive number (milliseconds) or null", true, 0, true, 1e12));
      answer(r.latency_p95_ms, v);
    } else if (k == "deadline_weeks") {
      RAGFT_TRY(auto v, number(x, "a positive number (weeks) or null", true, 0, true, 1e6));
      answer(r.deadline_weeks, v);
    } else if (k == "quality_target") {
      RAGFT_TRY(auto v, number(x, "a number in (0, 1] (the task metric) or null", true, 0, true, 1));
      answer(r.quality_target, v);
    } else if (k == "labeled_examples") {
      RAGFT_TRY(auto v, integer(x, "a non-negative integer or null (unknown)", true, 0,
                                std::numeric_limits<long>::max()));
      answer(r.labeled_examples, v ? std::optional<long>(static_cast<long>(*v)) : std::nullopt);
    }
  }
  return ok_status();
}

Status Parser::parse_bakeoff(const Field& f, BakeoffSpec& b) const {
  RAGFT_TRY(auto kv, fields(f, kBakeoffKeys));
  for (const Field& x : kv) {
    if (x.key == "arms") {
      std::string what = fmt::format("a non-empty list of arms from {}", fmt::join(kArmIds, ", "));
      if (!x.value.IsSequence() || x.value.size() == 0) return expected(x, what);
      std::vector<std::string> arms;
      for (std::size_t i = 0; i < x.value.size(); ++i) {
        YAML::Node e = x.value[i];
        Field ef{x.key, e, e.Mark().is_null() ? x.mark : e.Mark(), fmt::format("{}[{}]", x.path, i)};
        RAGFT_TRY(std::string arm, choice(ef, kArmIds));
        if (std::find(arms.begin(), arms.end(), arm) != arms.end())
          return error(ef.mark, ef.path, fmt::format("arm \"{}\" is listed twice", arm));
        arms.push_back(std::move(arm));
      }
      b.arms.clear();
      for (std::string_view id : kArmIds)
        if (std::find(arms.begin(), arms.end(), id) != arms.end()) b.arms.emplace_back(id);
    } else if (x.key == "fine_tuned") {
      RAGFT_TRY(b.fine_tuned, choice(x, kFineTunedValues));
    } else if (x.key == "seed") {
      RAGFT_TRY(auto v, integer(x, "a non-negative integer", false, 0, std::numeric_limits<long long>::max()));
      b.seed = static_cast<std::uint64_t>(*v);
    } else if (x.key == "freshness") {
      RAGFT_TRY(auto v, number(x, "a number in [0, 0.5] (0 turns the freshness experiment off)", false, 0, false, 0.5));
      b.freshness = *v;
    } else if (x.key == "bootstrap_samples") {
      RAGFT_TRY(auto v, integer(x, "an integer in [100, 100000]", false, 100, 100000));
      b.bootstrap_samples = static_cast<int>(*v);
    } else if (x.key == "cache") {
      RAGFT_TRY(b.cache, path(x, Check::kNone));
    }
  }
  return ok_status();
}

Status Parser::parse_generation(const Field& f, GenerationSpec& g) const {
  RAGFT_TRY(auto kv, fields(f, kGenerationKeys));
  for (const Field& x : kv) {
    const std::string& k = x.key;
    if (k == "llm") {
      RAGFT_TRY(g.llm, string(x, "a chat model config string, \"local:path=DIR\" or \"openai:...\""));
      if (g.llm.rfind("local:", 0) != 0 && g.llm.rfind("openai:", 0) != 0)
        return expected(x, "a chat model config string, \"local:path=DIR\" or \"openai:...\"");
    } else if (k == "lora" || k == "raft" || k == "answer") {
      const char* kind = k == "lora" ? "lora:" : k == "raft" ? "raft:" : "llm:";
      RAGFT_TRY(std::string v, string(x, fmt::format("a config string \"{}key=value,...\"", kind)));
      if (v.rfind(kind, 0) != 0) return expected(x, fmt::format("a config string \"{}key=value,...\"", kind));
      (k == "lora" ? g.lora : k == "raft" ? g.raft : g.answer) = std::move(v);
    } else if (k == "metric") {
      RAGFT_TRY(g.metric, choice(x, kGenerationMetrics));
    } else if (k == "schema" || k == "prompt") {
      RAGFT_TRY(fs::path p, path(x, Check::kFile));
      (k == "schema" ? g.schema : g.prompt) = std::move(p);
    } else if (k == "system") {
      RAGFT_TRY(g.system, string(x, "the system message of the closed-book arms"));
    } else if (k == "max_tokens") {
      RAGFT_TRY(auto v, integer(x, "an integer in [1, 32768]", false, 1, 32768));
      g.max_tokens = static_cast<int>(*v);
    } else if (k == "prices") {
      RAGFT_TRY(auto prices, fields(x, kPriceKeys));
      for (const Field& y : prices) {
        RAGFT_TRY(auto v, number(y, "a non-negative number (USD per million tokens)", false, 0, false, 1e9));
        (y.key == "prompt" ? g.prices.prompt : y.key == "completion" ? g.prices.completion : g.prices.training) = *v;
      }
    }
  }
  if (g.metric == "json_valid" && g.schema.empty()) {
    const Field* m = find(kv, "metric");
    return error(m->mark, m->path, "json_valid needs generation.schema (the JSON schema answers must follow)");
  }
  return ok_status();
}

Result<Project> Parser::parse(const YAML::Node& root) {
  Project p;
  std::string keys = fmt::format("{}", fmt::join(kTopKeys, ", "));
  if (!root.IsDefined() || root.IsNull())
    return error(YAML::Mark(), "", fmt::format("the project file is empty: expected a mapping with keys {}", keys));
  Field top{"", root, root.Mark(), ""};
  if (!root.IsMap()) return expected(top, fmt::format("a mapping with keys {}", keys));
  RAGFT_TRY(auto kv, fields(top, kTopKeys));
  RAGFT_TRY_STATUS(require(top, kv, "name", "a non-empty string naming the project"));
  RAGFT_TRY(p.name, string(*find(kv, "name"), "a non-empty string naming the project"));
  RAGFT_TRY_STATUS(require(top, kv, "task", "retrieval, classification, extraction or generation"));
  const Field& task = *find(kv, "task");
  std::string task_what = "one of retrieval (aliases qa, qa-over-documents), classification, extraction, generation";
  RAGFT_TRY(std::string task_s, string(task, task_what));
  auto t = parse_task_type(lower(task_s));
  if (!t.ok())
    return error(task.mark, task.path,
                 fmt::format("expected {}, got {}{}", task_what, describe(task.value), did_you_mean(task_s, kTaskNames)));
  p.task = *t;
  if (const Field* x = find(kv, "data")) RAGFT_TRY_STATUS(parse_data(*x, p.task, p.data));
  if (const Field* x = find(kv, "requirements")) RAGFT_TRY_STATUS(parse_requirements(*x, p.requirements));
  if (const Field* x = find(kv, "bakeoff")) RAGFT_TRY_STATUS(parse_bakeoff(*x, p.bakeoff));
  if (const Field* x = find(kv, "generation")) {
    if (p.task != TaskType::kGeneration)
      return error(x->mark, x->path, fmt::format("only for task generation (this project's task is {})", task_type_name(p.task)));
    RAGFT_TRY_STATUS(parse_generation(*x, p.generation));
  }
  if (p.task == TaskType::kGeneration && p.data.has_data() && p.generation.llm.empty()) {
    const Field* x = find(kv, "generation");
    Field at = x ? *x : top;
    return error(at.mark, "generation.llm",
                 "missing required key (the model to bake off: \"local:path=DIR\" or \"openai:...\")");
  }
  return p;
}

}  // namespace

Result<Project> parse_project(std::string_view text, std::string_view name, const fs::path& base_dir) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return Parser(name, base_dir).parse(root);
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 1 : e.mark.line + 1, col = e.mark.is_null() ? 1 : e.mark.column + 1;
    return make_error(ErrorCode::kInvalidArgument, "{}:{}:{}: invalid YAML: {}", name, line, col, e.msg);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "{}: cannot read the project: {}", name, e.what());
  }
}

Result<Project> load_project(const fs::path& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return make_error(ErrorCode::kNotFound, "{}: project file not found", path.string());
  if (fs::is_directory(st))
    return make_error(ErrorCode::kInvalidArgument, "{}: expected a project file, got a folder", path.string());
  std::ifstream in(path, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (!in.is_open() || in.bad()) return make_error(ErrorCode::kIo, "{}: cannot read the project file", path.string());
  fs::path abs = fs::absolute(path, ec).lexically_normal();
  if (ec) abs = path;
  RAGFT_TRY(Project p, parse_project(text, path.string(), abs.parent_path()));
  p.file = abs;
  return p;
}

// ---- to_yaml ----

namespace {

std::string yaml_string(std::string_view s) { return json_quoted(s); }

std::string yaml_path(const fs::path& p, const fs::path& base) {
  std::string s = p.string();
  if (p.is_absolute() && !base.empty()) {
    std::error_code ec;
    fs::path b = fs::absolute(base, ec).lexically_normal();
    fs::path rel = p.lexically_relative(b);
    if (!ec && !rel.empty() && *rel.begin() != "..") s = rel.string();
  }
  bool plain = !s.empty() && s[0] != '-' && s[0] != '?' && s[0] != ':' && s[0] != '!' && s[0] != '&' &&
               s[0] != '*' && s[0] != '~' && lower(s) != "null" && lower(s) != "none";
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/' || c == '_' || c == '-' || c == '+'))
      plain = false;
  return plain ? s : json_quoted(s);
}

std::string yaml_number(double v) { return fmt::format("{}", v); }
template <typename T>
std::string yaml_value(const std::optional<T>& v) { return v ? fmt::format("{}", *v) : "null"; }
std::string yaml_value(bool v) { return v ? "true" : "false"; }
std::string yaml_value(const std::string& v) { return v; }

// `s` padded with spaces to `width`, and at least two spaces before a comment.
std::string pad(std::string s, std::size_t width) {
  s.resize(std::max(width, s.size() + 2), ' ');
  return s;
}

struct Writer {
  std::string out;
  // "  # comment" above, then "  key: value   # hint", commented out unless answered.
  template <typename T>
  void answer(std::string_view key, const Answer<T>& a, std::string_view comment, std::string_view hint) {
    out += fmt::format("  # {}\n", comment);
    std::string line = fmt::format("{}{}: {}", a.source == Source::kAnswered ? "" : "# ", key, yaml_value(a.value));
    out += fmt::format("  {}# {}{}\n", pad(line, 34), hint, a.source == Source::kMeasured ? " (measured from the data)" : "");
  }
  void line(std::string_view indent, std::string_view key, std::string_view value, std::string_view hint = {}) {
    std::string l = fmt::format("{}{}: {}", indent, key, value);
    if (hint.empty()) out += l + "\n";
    else out += fmt::format("{}# {}\n", pad(l, 36), hint);
  }
};

void write_data(Writer& w, const Project& p, const fs::path& base) {
  const DataSpec& d = p.data;
  if (!d.has_data()) {
    w.out += "# data:   # optional: without data, decide recommends from the requirements alone\n";
    if (p.task == TaskType::kRetrieval)
      w.out += "#   corpus: docs/            # files or folders (a path or a list)\n#   queries: queries.jsonl\n"
               "#   train_qrels: qrels/train.tsv   # optional\n#   eval_qrels: qrels/test.tsv\n";
    else if (p.task == TaskType::kClassification)
      w.out += "#   train: train.jsonl\n#   eval: test.jsonl\n#   format: jsonl   # jsonl | csv | fasttext | trec | sst\n"
               "#   encoding: utf-8   # utf-8 | latin-1\n";
    else if (p.task == TaskType::kGeneration)
      w.out += "#   corpus: docs/            # optional: the documents the retrieval arms answer from\n"
               "#   train: train.jsonl       # questions with reference answers (and gold evidence)\n"
               "#   eval: test.jsonl\n";
    else
      w.out += "#   train: train.conll\n#   dev: dev.conll   # optional\n#   eval: test.conll\n";
    return;
  }
  w.out += "data:   # paths are relative to this file's folder\n";
  auto path_or_comment = [&](std::string_view key, const fs::path& v, std::string_view hint) {
    if (v.empty()) w.out += fmt::format("  # {}:   # {}\n", key, hint);
    else w.line("  ", key, yaml_path(v, base), hint);
  };
  if (p.task == TaskType::kRetrieval || (p.task == TaskType::kGeneration && !d.corpus.empty())) {
    if (d.corpus.size() == 1) {
      w.line("  ", "corpus", yaml_path(d.corpus[0], base), "files or folders (a path or a list)");
    } else {
      w.out += "  corpus:   # files or folders\n";
      for (const fs::path& c : d.corpus) w.out += fmt::format("    - {}\n", yaml_path(c, base));
    }
  }
  if (p.task == TaskType::kRetrieval) {
    path_or_comment("queries", d.queries, "BEIR jsonl or TSV");
    path_or_comment("train_qrels", d.train_qrels, "optional: judgments to train the fine-tuned arms");
    path_or_comment("eval_qrels", d.eval_qrels, "judgments the arms are measured on");
  } else {
    path_or_comment("train", d.train, "training examples");
    if (p.task == TaskType::kExtraction) path_or_comment("dev", d.dev, "optional: validation file");
    path_or_comment("eval", d.eval, "the examples the arms are measured on");
    if (p.task == TaskType::kClassification) {
      if (d.format.empty()) w.out += "  # format: jsonl                    # jsonl | csv | fasttext | trec | sst; default: by extension\n";
      else w.line("  ", "format", d.format, "jsonl | csv | fasttext | trec | sst");
      w.line("  ", "encoding", d.encoding.empty() ? "utf-8" : d.encoding, "utf-8 | latin-1");
    }
  }
}

void write_generation(Writer& w, const GenerationSpec& g, const fs::path& base) {
  w.out += "generation:\n";
  if (g.llm.empty()) w.out += "  # llm: \"local:path=models/base\"   # the base model: local:path=DIR or openai:...\n";
  else w.line("  ", "llm", yaml_string(g.llm), "the base model");
  w.line("  ", "lora", yaml_string(g.lora), "LoRA training of the fine-tuned arms");
  w.line("  ", "raft", yaml_string(g.raft), "RAFT data of the fine-tuned + RAG arm");
  w.line("  ", "answer", yaml_string(g.answer), "RAG answering options");
  w.line("  ", "metric", g.metric, "f1 | exact_match | json_valid");
  if (!g.schema.empty()) w.line("  ", "schema", yaml_path(g.schema, base), "JSON schema of the answers");
  if (!g.prompt.empty()) w.line("  ", "prompt", yaml_path(g.prompt, base), "prompt template file");
  if (!g.system.empty()) w.line("  ", "system", yaml_string(g.system), "system message of the closed-book arms");
  w.line("  ", "max_tokens", fmt::format("{}", g.max_tokens));
  w.out += "  prices:   # USD per million tokens\n";
  w.line("    ", "prompt", yaml_number(g.prices.prompt));
  w.line("    ", "completion", yaml_number(g.prices.completion));
  w.line("    ", "training", yaml_number(g.prices.training));
}

}  // namespace

std::string to_yaml(const Project& p, const fs::path& base_dir) {
  Writer w;
  w.out += "# ragft decide project file: the task, its data, and the answers to the framework's questions.\n"
           "# Schema: docs/decide.md. Commented-out answers show the default; uncomment to answer.\n";
  w.line("", "name", yaml_string(p.name));
  w.line("", "task", task_type_name(p.task), "retrieval | classification | extraction | generation");
  write_data(w, p, base_dir);
  const Requirements& r = p.requirements;
  w.out += "requirements:\n";
  w.answer("need", r.need, "Does the model need knowledge (facts from your documents) or behaviour (labels, format, style)?",
           "knowledge | behaviour | both");
  w.answer("change", r.change, "How often does that knowledge change?", "never | yearly | monthly | weekly | daily | hourly");
  w.answer("citations", r.citations, "Must answers cite the documents they come from?", "true | false");
  w.answer("latency_p95_ms", r.latency_p95_ms, "Latency budget per query, 95th percentile.", "milliseconds, or null: none");
  w.answer("wrong_answer_cost", r.wrong_answer_cost, "How costly is a wrong answer?", "low | medium | high");
  w.answer("sensitivity", r.sensitivity, "How sensitive is the data?", "public | internal | restricted");
  w.answer("acls", r.acls, "Must each user see only the documents they may access?", "true | false");
  w.answer("deadline_weeks", r.deadline_weeks, "Time until it must ship.", "weeks, or null: none");
  w.answer("style_consistency", r.style_consistency, "Must outputs keep one consistent style or format?", "true | false");
  w.answer("labeled_examples", r.labeled_examples, "Labelled examples (input and correct output) available.",
           "count, or null: unknown");
  w.answer("quality_target", r.quality_target, "Metric value that is good enough (accuracy, nDCG@10 or F1).",
           "in (0, 1], or null: none");
  const BakeoffSpec& b = p.bakeoff;
  w.out += "bakeoff:\n";
  w.line("  ", "arms", fmt::format("[{}]", fmt::join(b.arms, ", ")), "baseline | rag | fine_tuned | fine_tuned_rag");
  w.line("  ", "fine_tuned", b.fine_tuned, "linear (fastText) | neural (libtorch)");
  w.line("  ", "seed", fmt::format("{}", b.seed));
  w.line("  ", "freshness", yaml_number(b.freshness), "share held back as new knowledge, in [0, 0.5]; 0: off");
  w.line("  ", "bootstrap_samples", fmt::format("{}", b.bootstrap_samples), "100..100000");
  if (b.cache.empty()) w.out += "  # cache: .ragft-decide            # default: .ragft-decide/<name hash> next to this file\n";
  else w.line("  ", "cache", yaml_path(b.cache, base_dir), "finished arms are cached here");
  if (p.task == TaskType::kGeneration) write_generation(w, p.generation, base_dir);
  return w.out;
}

}  // namespace ragft::decide
