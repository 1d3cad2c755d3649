#include "decide/questionnaire.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <istream>
#include <limits>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <system_error>

#include <fmt/format.h>

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;
using Choices = std::span<const std::string_view>;

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The allowed value `s` names: an exact match or a unique prefix, case-insensitive.
std::optional<std::string> match_choice(std::string_view s, Choices allowed) {
  std::string low = lower(s);
  if (low == "behavior") low = "behaviour";
  std::optional<std::string> found;
  for (std::string_view a : allowed) {
    if (low == a) return std::string(a);
    if (!low.empty() && a.substr(0, low.size()) == low) {
      if (found) return std::nullopt;  // ambiguous prefix
      found = std::string(a);
    }
  }
  return found;
}

std::optional<bool> parse_yes_no(std::string_view s) {
  std::string low = lower(s);
  if (low == "y" || low == "yes" || low == "true") return true;
  if (low == "n" || low == "no" || low == "false") return false;
  return std::nullopt;
}

std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool is_no_value(std::string_view s) {
  std::string low = lower(s);
  return low == "none" || low == "null" || low == "unknown";
}

// Asks one question until its answer is accepted.
class Asker {
 public:
  explicit Asker(QuestionnaireIo io) : io_(io) {}

  // Prints "question [default]: " and reads a line. "?" prints `help` and asks again. Otherwise
  // `accept` gets the trimmed answer ("" when the user pressed Enter) and returns "" when it took
  // it, or the problem to print before asking again.
  Status ask(std::string_view question, std::string_view default_label, std::string_view help,
             const std::function<std::string(const std::string&)>& accept) {
    for (;;) {
      io_.out << question;
      if (!default_label.empty()) io_.out << " [" << default_label << "]";
      io_.out << ": " << std::flush;
      std::string line;
      if (!std::getline(io_.in, line)) {
        io_.out << "\n";
        return make_error(ErrorCode::kInvalidArgument, "input ended before the questionnaire was finished");
      }
      std::string a = trim(line);
      if (a == "?") {
        io_.out << help << "\n";
        continue;
      }
      std::string problem = accept(a);
      if (problem.empty()) return ok_status();
      io_.out << "  " << problem << " (type ? for help)\n";
    }
  }

  std::ostream& out() { return io_.out; }

 private:
  QuestionnaireIo io_;
};

template <typename T>
void set_answer(Answer<T>& a, T v) {
  a.value = std::move(v);
  a.source = Source::kAnswered;
}

Status ask_choice(Asker& q, Answer<std::string>& a, std::string_view question, std::string_view help, Choices allowed) {
  std::string text = fmt::format("{} ({})", question, fmt::join(allowed, " | "));
  return q.ask(text, a.value, help, [&](const std::string& s) -> std::string {
    if (s.empty()) return "";
    auto v = match_choice(s, allowed);
    if (!v) return fmt::format("expected one of {}, got \"{}\"", fmt::join(allowed, ", "), s);
    set_answer(a, *v);
    return "";
  });
}

Status ask_yes_no(Asker& q, Answer<bool>& a, std::string_view question, std::string_view help) {
  return q.ask(fmt::format("{} (yes | no)", question), a.value ? "yes" : "no", help,
               [&](const std::string& s) -> std::string {
                 if (s.empty()) return "";
                 auto v = parse_yes_no(s);
                 if (!v) return fmt::format("expected yes or no, got \"{}\"", s);
                 set_answer(a, *v);
                 return "";
               });
}

// A number in (0, hi], or none.
Status ask_optional_number(Asker& q, Answer<std::optional<double>>& a, std::string_view question,
                           std::string_view help, std::string_view expected, double hi) {
  std::string dflt = a.value ? fmt::format("{}", *a.value) : "none";
  return q.ask(question, dflt, help, [&](const std::string& s) -> std::string {
    if (s.empty()) return "";
    if (is_no_value(s)) {
      set_answer(a, std::optional<double>());
      return "";
    }
    auto v = parse_number(s);
    if (!v || *v <= 0 || *v > hi) return fmt::format("expected {}, got \"{}\"", expected, s);
    set_answer(a, std::optional<double>(*v));
    return "";
  });
}

// Resolves `s` against `base` like load_project() and checks that it exists.
std::string resolve_existing(std::string_view s, const fs::path& base, bool folder_ok, fs::path& out) {
  fs::path p(s);
  if (p.is_relative()) p = base / p;
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_relative_path()) p = p.parent_path();
  std::error_code ec;
  fs::file_status st = fs::status(p, ec);
  if (!fs::exists(st))
    return fmt::format("no such {}: {}", folder_ok ? "file or folder" : "file", p.string());
  if (!folder_ok && fs::is_directory(st)) return fmt::format("expected a file, got the folder {}", p.string());
  out = p;
  return "";
}

// Asks for one data file. `optional`: an empty answer leaves `out` empty.
Status ask_path(Asker& q, fs::path& out, std::string_view question, std::string_view help, const fs::path& base,
                bool optional, std::string_view empty_label = "none") {
  return q.ask(question, optional ? empty_label : std::string_view(), help, [&](const std::string& s) -> std::string {
    if (s.empty()) return optional ? "" : "a path is needed here";
    return resolve_existing(s, base, false, out);
  });
}

constexpr std::string_view kNameHelp =
    "A short name for the project; the report shows it in its title and the cache is keyed by it.";
constexpr std::string_view kTaskHelp =
    "retrieval: questions answered from documents (QA over documents; measured by nDCG@10).\n"
    "classification: one label (or several) per text (measured by accuracy).\n"
    "extraction: spans tagged in text, e.g. names of people and places (measured by F1).\n"
    "generation: answers written by a language model, against reference answers (measured by token F1,\n"
    "exact match or JSON-schema validity).";
constexpr std::string_view kSkipData = "none: no data, decide from the answers alone";
constexpr std::string_view kDataHelp =
    "Paths are relative to the folder the project file will be saved in, or absolute. With data, decide builds\n"
    "every arm on it and measures them; without (press Enter) it recommends from the answers alone.";

constexpr std::string_view kNeedHelp =
    "knowledge: the system must know facts that live in your documents (specs, policies, papers); RAG looks\n"
    "them up at query time. behaviour: it must respond in a particular way (pick one of your labels, tag\n"
    "spans, follow a format or tone); fine-tuning teaches that. both: it needs facts and a way of answering.";
constexpr std::string_view kChangeHelp =
    "How often the facts change. Knowledge that changes often favours RAG: a new document is searchable once\n"
    "indexed, while a fine-tuned model must be retrained. With a store history, decide measures the rate.";
constexpr std::string_view kCitationsHelp =
    "Whether each answer must point at the documents it came from (audits, regulated domains, user trust).\n"
    "RAG can cite what it retrieved; a fine-tuned model cannot say where it learned something.";
constexpr std::string_view kLatencyHelp =
    "The 95th-percentile time per query the application can afford, in milliseconds. Retrieval adds search\n"
    "time; a small fine-tuned model answers in microseconds. Arms over the budget are excluded. none: no budget.";
constexpr std::string_view kCostHelp =
    "low: a suggestion that is easy to ignore. medium: a user is misled or must redo work. high: money, safety\n"
    "or legal exposure. Higher costs ask for clearer evidence (confidence intervals that separate the arms).";
constexpr std::string_view kSensitivityHelp =
    "public: may be shared freely. internal: inside the organisation. restricted: personal, medical, legal or\n"
    "secret data. Data trained into a model's weights cannot be removed or access-controlled per document.";
constexpr std::string_view kAclHelp =
    "Whether different users may see different documents. RAG filters retrieved documents by the user's\n"
    "permissions at query time; a fine-tuned model has one set of weights for everyone.";
constexpr std::string_view kDeadlineHelp =
    "Weeks until it must ship. A short deadline favours what is quickest to build with the data at hand.\n"
    "none: no deadline.";
constexpr std::string_view kStyleHelp =
    "Whether outputs must always take one form: the same labels, fields, tone or template. Fine-tuning fixes\n"
    "behaviour in the weights; a prompted RAG reader varies more.";
constexpr std::string_view kLabeledHelp =
    "How many examples with their correct output (label, tags, relevant documents) you have. Fine-tuning needs\n"
    "them (hundreds to thousands); RAG can start without. With data, decide counts them itself.\n"
    "unknown: not sure; none: no labelled examples (0).";

constexpr std::string_view kLlmHelp =
    "The base language model the arms use: local:path=DIR for a Hugging Face Llama-family checkpoint on this\n"
    "machine (the fine-tuned arms train LoRA adapters on it), or openai:base_url=...,model=... for an\n"
    "OpenAI-compatible server (llama.cpp, vLLM, Ollama, OpenAI; the fine-tuned arms are then skipped).";

// Generation: questions with reference answers, an optional corpus, and the base model.
Status ask_generation_data(Asker& q, Project& p, const fs::path& base) {
  DataSpec& d = p.data;
  RAGFT_TRY_STATUS(ask_path(q, d.train, "Training questions (JSONL: question, answer, optional evidence)", kDataHelp,
                            base, true, kSkipData));
  if (d.train.empty()) return ok_status();
  RAGFT_TRY_STATUS(ask_path(q, d.eval, "Evaluation questions (same format)", kDataHelp, base, false));
  fs::path corpus;
  RAGFT_TRY_STATUS(ask_path(q, corpus, "Corpus the answers come from (a file or folder; optional)", kDataHelp, base, true));
  if (!corpus.empty()) d.corpus = {corpus};
  return q.ask("Base model (local:path=DIR or openai:...)", "", kLlmHelp, [&](const std::string& s) -> std::string {
    if (s.rfind("local:", 0) != 0 && s.rfind("openai:", 0) != 0)
      return fmt::format("expected local:path=DIR or openai:..., got \"{}\"", s);
    p.generation.llm = s;
    return "";
  });
}

Status ask_data(Asker& q, Project& p, const fs::path& base) {
  DataSpec& d = p.data;
  if (p.task == TaskType::kRetrieval) {
    bool skipped = false;
    RAGFT_TRY_STATUS(q.ask("Corpus: document files or folders, separated by commas", kSkipData, kDataHelp,
                           [&](const std::string& s) -> std::string {
                             d.corpus.clear();
                             if (s.empty()) return skipped = true, "";
                             std::size_t start = 0;
                             while (start <= s.size()) {
                               std::size_t end = std::min(s.find(',', start), s.size());
                               std::string item = trim(std::string_view(s).substr(start, end - start));
                               start = end + 1;
                               if (item.empty()) continue;
                               fs::path one;
                               std::string problem = resolve_existing(item, base, true, one);
                               if (!problem.empty()) return d.corpus.clear(), problem;
                               d.corpus.push_back(one);
                             }
                             return d.corpus.empty() ? "a path is needed here" : "";
                           }));
    if (skipped) return ok_status();
    RAGFT_TRY_STATUS(ask_path(q, d.queries, "Queries file (BEIR jsonl or TSV)", kDataHelp, base, false));
    RAGFT_TRY_STATUS(ask_path(q, d.train_qrels, "Training judgments (qrels TSV; optional)", kDataHelp, base, true));
    return ask_path(q, d.eval_qrels, "Evaluation judgments (qrels TSV)", kDataHelp, base, false);
  }
  if (p.task == TaskType::kGeneration) return ask_generation_data(q, p, base);
  bool cls = p.task == TaskType::kClassification;
  RAGFT_TRY_STATUS(ask_path(q, d.train, cls ? "Training file (labelled examples)" : "Training file (CoNLL)", kDataHelp,
                            base, true, kSkipData));
  if (d.train.empty()) return ok_status();
  if (!cls) RAGFT_TRY_STATUS(ask_path(q, d.dev, "Validation file (CoNLL; optional)", kDataHelp, base, true));
  RAGFT_TRY_STATUS(ask_path(q, d.eval, cls ? "Evaluation file" : "Evaluation file (CoNLL)", kDataHelp, base, false));
  if (!cls) return ok_status();
  static constexpr std::array<std::string_view, 5> kFormats = {"jsonl", "csv", "fasttext", "trec", "sst"};
  RAGFT_TRY_STATUS(q.ask("File format (jsonl | csv | fasttext | trec | sst)", "by extension",
                         "The format of both files; by default it follows the file extension.",
                         [&](const std::string& s) -> std::string {
                           if (s.empty()) return "";
                           auto v = match_choice(s, kFormats);
                           if (!v) return fmt::format("expected one of jsonl, csv, fasttext, trec, sst, got \"{}\"", s);
                           d.format = *v;
                           return "";
                         }));
  static constexpr std::array<std::string_view, 2> kEncodings = {"utf-8", "latin-1"};
  return q.ask("Encoding (utf-8 | latin-1)", d.encoding, "The text encoding of both files.",
               [&](const std::string& s) -> std::string {
                 if (s.empty()) return "";
                 std::string low = lower(s);
                 if (low == "utf8") low = "utf-8";
                 if (low == "latin1" || low == "iso-8859-1") low = "latin-1";
                 auto v = match_choice(low, kEncodings);
                 if (!v) return fmt::format("expected utf-8 or latin-1, got \"{}\"", s);
                 d.encoding = *v;
                 return "";
               });
}

Status ask_requirements(Asker& q, TaskType task, Requirements& r) {
  RAGFT_TRY_STATUS(ask_choice(q, r.need, "Does the model need knowledge or behaviour?", kNeedHelp, kNeedValues));
  RAGFT_TRY_STATUS(ask_choice(q, r.change, "How often does the knowledge change?", kChangeHelp, kChangeValues));
  RAGFT_TRY_STATUS(ask_yes_no(q, r.citations, "Must answers cite their sources?", kCitationsHelp));
  RAGFT_TRY_STATUS(ask_optional_number(q, r.latency_p95_ms, "Latency budget per query, p95 in milliseconds (or none)",
                                       kLatencyHelp, "a positive number of milliseconds, or none", 1e12));
  RAGFT_TRY_STATUS(ask_choice(q, r.wrong_answer_cost, "How costly is a wrong answer?", kCostHelp, kCostValues));
  RAGFT_TRY_STATUS(ask_choice(q, r.sensitivity, "How sensitive is the data?", kSensitivityHelp, kSensitivityValues));
  RAGFT_TRY_STATUS(ask_yes_no(q, r.acls, "Must users see only the documents they may access?", kAclHelp));
  RAGFT_TRY_STATUS(ask_optional_number(q, r.deadline_weeks, "Weeks until it must ship (or none)", kDeadlineHelp,
                                       "a positive number of weeks, or none", 1e6));
  RAGFT_TRY_STATUS(ask_yes_no(q, r.style_consistency, "Must outputs keep one consistent style or format?", kStyleHelp));
  std::string dflt = r.labeled_examples.value ? fmt::format("{}", *r.labeled_examples.value) : "unknown";
  RAGFT_TRY_STATUS(q.ask("How many labelled examples do you have? (a number, none or unknown)", dflt, kLabeledHelp,
                         [&](const std::string& s) -> std::string {
                           if (s.empty()) return "";
                           std::string low = lower(s);
                           if (low == "none") return set_answer(r.labeled_examples, std::optional<long>(0)), "";
                           if (low == "unknown") return set_answer(r.labeled_examples, std::optional<long>()), "";
                           long v = -1;
                           auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
                           if (ec != std::errc() || end != s.data() + s.size() || v < 0)
                             return fmt::format("expected a whole number of examples (0 or more), none or unknown, got \"{}\"", s);
                           set_answer(r.labeled_examples, std::optional<long>(v));
                           return "";
                         }));
  const char* metric = task == TaskType::kRetrieval        ? "nDCG@10"
                       : task == TaskType::kClassification ? "accuracy"
                       : task == TaskType::kGeneration     ? "answer F1"
                                                           : "F1";
  std::string help = fmt::format(
      "The {} the task needs to be useful, as a number in (0, 1], e.g. 0.85. Arms below it are flagged, and if no\n"
      "arm reaches it the report says so. none: no target.",
      metric);
  return ask_optional_number(q, r.quality_target, fmt::format("Quality target: the {} that is good enough (or none)", metric),
                             help, "a number in (0, 1], or none", 1.0);
}

}  // namespace

Result<Project> run_questionnaire(QuestionnaireIo io, const fs::path& base_dir) {
  Asker q(io);
  Project p;
  std::error_code ec;
  fs::path base = fs::absolute(base_dir.empty() ? fs::path(".") : base_dir, ec).lexically_normal();
  if (ec) base = base_dir;
  if (!base.has_filename() && base.has_relative_path()) base = base.parent_path();
  q.out() << "ragft decide: a few questions about your task. Press Enter to accept the [default]; type ? for help.\n";

  std::string default_name = base.filename().string();
  if (default_name.empty()) default_name = "my project";
  RAGFT_TRY_STATUS(q.ask("Project name", default_name, kNameHelp, [&](const std::string& s) -> std::string {
    p.name = s.empty() ? default_name : s;
    return "";
  }));
  static constexpr std::array<std::string_view, 4> kTasks = {"retrieval", "classification", "extraction", "generation"};
  RAGFT_TRY_STATUS(q.ask("Task (retrieval | classification | extraction | generation)", "", kTaskHelp,
                         [&](const std::string& s) -> std::string {
                           std::string low = lower(s);
                           if (low == "qa" || low == "qa-over-documents") low = "retrieval";
                           auto v = s.empty() ? std::nullopt : match_choice(low, kTasks);
                           if (!v)
                             return fmt::format("expected retrieval, classification, extraction or generation, got \"{}\"", s);
                           p.task = *parse_task_type(*v);
                           return "";
                         }));
  RAGFT_TRY_STATUS(ask_data(q, p, base));
  q.out() << "Now the requirements: what the system must do, in the framework's order.\n";
  RAGFT_TRY_STATUS(ask_requirements(q, p.task, p.requirements));
  q.out() << "All questions answered.\n";
  return p;
}

}  // namespace ragft::decide
