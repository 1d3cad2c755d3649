#include "decide/project.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kRepo = RAGFT_SOURCE_DIR;

fs::path temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "ragft-project-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) std::abort();
  return tmpl;
}

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

Result<Project> parse(const std::string& text) { return parse_project(text, "p.yaml", kRepo); }

// The error message of parsing `text`, which must fail with kInvalidArgument.
std::string error_of(const std::string& text) {
  auto r = parse(text);
  if (r.ok()) return "<parsed>";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().to_string();
  return r.error().message;
}

constexpr const char* kTrecYaml = R"(name: TREC question types
task: classification
data:
  train: data/trec-qc/train_5500.label
  eval: data/trec-qc/TREC_10.label
  format: trec
  encoding: latin-1
requirements:
  need: behaviour
  change: monthly
  latency_p95_ms: 50
  wrong_answer_cost: medium
  deadline_weeks: 4
  labeled_examples: 5452
bakeoff:
  arms: [rag, baseline, fine_tuned]
  fine_tuned: neural
  seed: 7
  freshness: 0.2
  bootstrap_samples: 500
  cache: cache-dir
)";

TEST(ProjectTest, ClassificationYamlWithRealFiles) {
  auto p = parse(kTrecYaml);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->name, "TREC question types");
  EXPECT_EQ(p->task, TaskType::kClassification);
  EXPECT_TRUE(p->file.empty());
  EXPECT_EQ(p->data.train, kRepo / "data/trec-qc/train_5500.label");
  EXPECT_EQ(p->data.eval, kRepo / "data/trec-qc/TREC_10.label");
  EXPECT_TRUE(p->data.train.is_absolute());
  EXPECT_EQ(p->data.format, "trec");
  EXPECT_EQ(p->data.encoding, "latin-1");
  EXPECT_TRUE(p->data.has_data());
  const Requirements& r = p->requirements;
  EXPECT_EQ(r.need.value, "behaviour");
  EXPECT_EQ(r.need.source, Source::kAnswered);
  EXPECT_EQ(r.latency_p95_ms.value, 50.0);
  EXPECT_EQ(r.latency_p95_ms.source, Source::kAnswered);
  EXPECT_EQ(r.deadline_weeks.value, 4.0);
  EXPECT_EQ(r.labeled_examples.value, 5452L);
  // Not in the file: defaults.
  EXPECT_EQ(r.sensitivity.value, "internal");
  EXPECT_EQ(r.sensitivity.source, Source::kDefault);
  EXPECT_FALSE(r.citations.value);
  EXPECT_EQ(r.citations.source, Source::kDefault);
  EXPECT_FALSE(r.quality_target.value.has_value());
  EXPECT_EQ(r.quality_target.source, Source::kDefault);
  // Arms come back in the canonical order.
  EXPECT_EQ(p->bakeoff.arms, (std::vector<std::string>{"baseline", "rag", "fine_tuned"}));
  EXPECT_EQ(p->bakeoff.fine_tuned, "neural");
  EXPECT_EQ(p->bakeoff.seed, 7u);
  EXPECT_DOUBLE_EQ(p->bakeoff.freshness, 0.2);
  EXPECT_EQ(p->bakeoff.bootstrap_samples, 500);
  EXPECT_EQ(p->bakeoff.cache, kRepo / "cache-dir");
}

TEST(ProjectTest, RetrievalJsonWithCorpusListAndAlias) {
  std::string json = R"({"name": "SciFact", "task": "qa",
    "data": {"corpus": ["data/scifact/corpus.jsonl.gz", "data/scifact/"], "queries": "data/scifact/queries.jsonl",
             "train_qrels": "data/scifact/qrels/train.tsv", "eval_qrels": "data/scifact/qrels/test.tsv"},
    "requirements": {"need": "knowledge", "citations": true, "latency_p95_ms": null, "quality_target": 0.6,
                     "acls": "yes", "labeled_examples": null}})";
  auto p = parse(json);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->task, TaskType::kRetrieval);
  ASSERT_EQ(p->data.corpus.size(), 2u);
  EXPECT_EQ(p->data.corpus[0], kRepo / "data/scifact/corpus.jsonl.gz");
  EXPECT_EQ(p->data.corpus[1], kRepo / "data/scifact");  // trailing slash dropped
  EXPECT_EQ(p->data.queries, kRepo / "data/scifact/queries.jsonl");
  EXPECT_EQ(p->data.train_qrels, kRepo / "data/scifact/qrels/train.tsv");
  EXPECT_EQ(p->data.eval_qrels, kRepo / "data/scifact/qrels/test.tsv");
  const Requirements& r = p->requirements;
  EXPECT_TRUE(r.citations.value);
  EXPECT_TRUE(r.acls.value);
  EXPECT_EQ(r.acls.source, Source::kAnswered);
  // An explicit null is an answer ("no budget"), not a default.
  EXPECT_FALSE(r.latency_p95_ms.value.has_value());
  EXPECT_EQ(r.latency_p95_ms.source, Source::kAnswered);
  EXPECT_EQ(r.labeled_examples.source, Source::kAnswered);
  EXPECT_EQ(r.quality_target.value, 0.6);
  EXPECT_EQ(p->bakeoff.arms.size(), 4u);  // default: all
}

TEST(ProjectTest, ClassificationJsonAndExtractionFromFiles) {
  auto c = parse(R"({"name": "t", "task": "classification",
                     "data": {"train": "data/trec-qc/train_5500.label", "eval": "data/trec-qc/TREC_10.label"}})");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->data.format, "");
  EXPECT_EQ(c->data.encoding, "utf-8");

  fs::path dir = temp_dir();
  write(dir / "ner/train.conll", "EU B-ORG\nrejects O\n");
  write(dir / "ner/test.conll", "Peter B-PER\n");
  write(dir / "sub/project.yaml",
        "name: NER\ntask: extraction\ndata:\n  train: ../ner/train.conll\n  eval: ../ner/test.conll\n"
        "requirements:\n  style_consistency: yes\n  quality_target: none\n");
  auto e = load_project(dir / "sub/project.yaml");
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->file, dir / "sub/project.yaml");
  EXPECT_EQ(e->task, TaskType::kExtraction);
  EXPECT_EQ(e->data.train, dir / "ner/train.conll");
  EXPECT_EQ(e->data.eval, dir / "ner/test.conll");
  EXPECT_TRUE(e->data.dev.empty());
  EXPECT_TRUE(e->requirements.style_consistency.value);
  EXPECT_EQ(e->requirements.quality_target.source, Source::kAnswered);
  EXPECT_FALSE(e->requirements.quality_target.value.has_value());

  write(dir / "p.json", R"({"name": "NER", "task": "extraction", "data": {"train": "ner/train.conll",
                           "dev": "ner/test.conll", "eval": "ner/test.conll"}})");
  auto j = load_project(dir / "p.json");
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_EQ(j->data.dev, dir / "ner/test.conll");
  fs::remove_all(dir);
}

TEST(ProjectTest, RequirementsOnlyProjectKeepsDefaults) {
  auto p = parse("name: Support bot\ntask: retrieval\n");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_FALSE(p->data.has_data());
  EXPECT_EQ(p->requirements, Requirements{});
  nlohmann::json j = p->requirements.to_json();
  for (auto& [key, v] : j.items()) EXPECT_EQ(v["source"], "default") << key;
  EXPECT_EQ(p->bakeoff, BakeoffSpec{});
  // Empty sections are the same as absent ones.
  auto q = parse("name: x\ntask: extraction\ndata:\nrequirements:\nbakeoff:\n");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_FALSE(q->data.has_data());
}

TEST(ProjectTest, RequirementsToJsonMatchesTheDesign) {
  Requirements r;
  r.need = {"behaviour", Source::kAnswered};
  r.latency_p95_ms = {50.0, Source::kAnswered};
  r.labeled_examples = {5452L, Source::kMeasured};
  nlohmann::json j = r.to_json();
  ASSERT_EQ(j.size(), 11u);
  EXPECT_EQ(j["need"], (nlohmann::json{{"value", "behaviour"}, {"source", "answered"}}));
  EXPECT_EQ(j["change"], (nlohmann::json{{"value", "monthly"}, {"source", "default"}}));
  EXPECT_EQ(j["citations"]["value"], false);
  EXPECT_EQ(j["latency_p95_ms"]["value"], 50.0);
  EXPECT_EQ(j["labeled_examples"]["value"], 5452);
  EXPECT_TRUE(j["labeled_examples"]["value"].is_number_integer());
  EXPECT_EQ(j["labeled_examples"]["source"], "measured");
  EXPECT_TRUE(j["quality_target"]["value"].is_null());
  EXPECT_TRUE(j["deadline_weeks"]["value"].is_null());
  for (const char* k : {"wrong_answer_cost", "sensitivity", "acls", "style_consistency"}) EXPECT_TRUE(j.contains(k)) << k;
}

TEST(ProjectTest, NamesAndIntervals) {
  EXPECT_EQ(*parse_task_type("qa-over-documents"), TaskType::kRetrieval);
  EXPECT_EQ(*parse_task_type("qa"), TaskType::kRetrieval);
  EXPECT_EQ(*parse_task_type("extraction"), TaskType::kExtraction);
  EXPECT_EQ(parse_task_type("ner").error().code, ErrorCode::kInvalidArgument);
  EXPECT_STREQ(task_type_name(TaskType::kClassification), "classification");
  EXPECT_STREQ(source_name(Source::kMeasured), "measured");
  EXPECT_EQ(change_interval_seconds("hourly"), 3600.0);
  EXPECT_EQ(change_interval_seconds("daily"), 86400.0);
  EXPECT_EQ(change_interval_seconds("weekly"), 604800.0);
  EXPECT_EQ(change_interval_seconds("monthly"), 2629800.0);
  EXPECT_EQ(change_interval_seconds("yearly"), 31557600.0);
  EXPECT_TRUE(std::isinf(change_interval_seconds("never")));
}

// ---- errors ----

TEST(ProjectTest, MalformedYamlNamesLineAndColumn) {
  EXPECT_THAT(error_of("name: x\ntask: [classification\nrequirements:\n"), HasSubstr("p.yaml:3:"));
  EXPECT_THAT(error_of("name: x\ntask: [classification\n"), HasSubstr("invalid YAML"));
  EXPECT_THAT(error_of("name: x\n  task: b: c\n"), HasSubstr("p.yaml:2:"));
  EXPECT_THAT(error_of(R"({"name": "x", "task": )"), HasSubstr("p.yaml:1:"));
  // Nothing that yaml-cpp can throw on gets out.
  for (const char* bad : {"{", "[", "\t- x", "a: *nope", "- - -\n:", "\"unterminated", "!!binary x: 1", "\xff\xfe\x00",
                          "name: &a [*a]", "name: x\nname: y\n", "? [a]\n: b\n", "---\n...\n---\n"}) {
    auto r = parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_THAT(error_of(""), HasSubstr("p.yaml:1:1: the project file is empty"));
  EXPECT_THAT(error_of("- name: x\n"), HasSubstr("p.yaml:1:1: expected a mapping with keys name, task, data, requirements, bakeoff, generation, got a list"));
}

TEST(ProjectTest, ValueErrorNamesFileLineColumnAndField) {
  std::string text = "name: x\ntask: retrieval\nrequirements:\n  need: knowledge\n  change: daily\n  citations: true\n"
                     "  latency_p95_ms: fast\n";
  EXPECT_EQ(error_of(text),
            "p.yaml:7:19: requirements.latency_p95_ms: expected a positive number (milliseconds) or null, got \"fast\"");
}

TEST(ProjectTest, UnknownKeysSuggestTheClosestAllowedKey) {
  std::string m = error_of("name: x\ntask: retrieval\nrequirements:\n  latency_p95: 5\n");
  EXPECT_THAT(m, HasSubstr("p.yaml:4:3: requirements.latency_p95: unknown key (did you mean \"latency_p95_ms\"?)"));
  EXPECT_THAT(m, HasSubstr("allowed keys: need, change, citations, latency_p95_ms"));
  m = error_of("name: x\ntask: retrieval\ncolour: blue\n");
  EXPECT_THAT(m, HasSubstr("p.yaml:3:1: colour: unknown key; allowed keys: name, task, data, requirements, bakeoff"));
  EXPECT_THAT(m, Not(HasSubstr("did you mean")));
  // Data keys depend on the task.
  m = error_of("name: x\ntask: classification\ndata:\n  corpus: data\n");
  EXPECT_THAT(m, HasSubstr("p.yaml:4:3: data.corpus: unknown key; allowed keys for task classification: train, eval, format, encoding"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nbakeoff:\n  seeds: 3\n"), HasSubstr("bakeoff.seeds: unknown key (did you mean \"seed\"?)"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nrequirements:\n  need: both\n  need: knowledge\n"),
              HasSubstr("p.yaml:5:3: requirements.need: duplicate key (first set at line 4)"));
}

TEST(ProjectTest, WrongNodeTypes) {
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nrequirements: [need]\n"),
              HasSubstr("p.yaml:3:15: requirements: expected a mapping with keys need, change"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nrequirements:\n  citations: [true]\n"),
              HasSubstr("p.yaml:4:14: requirements.citations: expected true or false, got a list"));
  EXPECT_THAT(error_of("name: {a: 1}\ntask: retrieval\n"), HasSubstr("p.yaml:1:7: name: expected a non-empty string"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\ndata:\n  corpus: {a: b}\n"),
              HasSubstr("p.yaml:4:11: data.corpus: expected a path or a list of paths, got a mapping"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nbakeoff:\n  arms: rag\n"),
              HasSubstr("bakeoff.arms: expected a non-empty list of arms from baseline, rag, fine_tuned, fine_tuned_rag, got \"rag\""));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nbakeoff:\n  arms: []\n"), HasSubstr("bakeoff.arms: expected a non-empty list"));
}

TEST(ProjectTest, BadEnumValues) {
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nrequirements:\n  need: knowlege\n"),
              HasSubstr("p.yaml:4:9: requirements.need: expected one of knowledge, behaviour, both, got \"knowlege\" "
                        "(did you mean \"knowledge\"?)"));
  EXPECT_THAT(error_of("name: x\ntask: classifcation\n"),
              HasSubstr("p.yaml:2:7: task: expected one of retrieval (aliases qa, qa-over-documents), classification, "
                        "extraction, generation, got \"classifcation\" (did you mean \"classification\"?)"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nrequirements:\n  change: sometimes\n"),
              HasSubstr("requirements.change: expected one of never, yearly, monthly, weekly, daily, hourly"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nbakeoff:\n  arms: [rag, finetuned]\n"),
              HasSubstr("p.yaml:4:15: bakeoff.arms[1]: expected one of baseline, rag, fine_tuned, fine_tuned_rag, got "
                        "\"finetuned\" (did you mean \"fine_tuned\"?)"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\nbakeoff:\n  arms: [rag, rag]\n"), HasSubstr("bakeoff.arms[1]: arm \"rag\" is listed twice"));
  EXPECT_THAT(error_of("name: x\ntask: classification\ndata:\n  train: data/trec-qc/TREC_10.label\n"
                       "  eval: data/trec-qc/TREC_10.label\n  encoding: ascii\n"),
              HasSubstr("p.yaml:6:13: data.encoding: expected utf-8 or latin-1, got \"ascii\""));
  // American spelling and case are accepted.
  auto p = parse("name: x\ntask: Classification\nrequirements:\n  need: Behavior\n");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->requirements.need.value, "behaviour");
}

TEST(ProjectTest, OutOfRangeNumbers) {
  auto req = [](const std::string& kv) { return error_of("name: x\ntask: retrieval\nrequirements:\n  " + kv + "\n"); };
  auto bake = [](const std::string& kv) { return error_of("name: x\ntask: retrieval\nbakeoff:\n  " + kv + "\n"); };
  EXPECT_THAT(req("quality_target: 1.5"), HasSubstr("p.yaml:4:19: requirements.quality_target: expected a number in (0, 1]"));
  EXPECT_THAT(req("quality_target: 0"), HasSubstr("got \"0\""));
  EXPECT_THAT(req("latency_p95_ms: -3"), HasSubstr("requirements.latency_p95_ms: expected a positive number"));
  EXPECT_THAT(req("deadline_weeks: 0"), HasSubstr("requirements.deadline_weeks: expected a positive number (weeks)"));
  EXPECT_THAT(req("labeled_examples: 12.5"), HasSubstr("requirements.labeled_examples: expected a non-negative integer"));
  EXPECT_THAT(req("labeled_examples: -1"), HasSubstr("got \"-1\""));
  EXPECT_THAT(req("latency_p95_ms: .inf"), HasSubstr("requirements.latency_p95_ms"));
  EXPECT_THAT(bake("freshness: 0.7"), HasSubstr("p.yaml:4:14: bakeoff.freshness: expected a number in [0, 0.5]"));
  EXPECT_THAT(bake("bootstrap_samples: 10"), HasSubstr("bakeoff.bootstrap_samples: expected an integer in [100, 100000], got \"10\""));
  EXPECT_THAT(bake("seed: -1"), HasSubstr("bakeoff.seed: expected a non-negative integer"));
  EXPECT_THAT(bake("fine_tuned: bert"), HasSubstr("bakeoff.fine_tuned: expected one of linear, neural"));
  EXPECT_THAT(req("citations: maybe"), HasSubstr("requirements.citations: expected true or false, got \"maybe\""));
  auto ok = parse("name: x\ntask: retrieval\nrequirements:\n  latency_p95_ms: none\n  quality_target: 1\n  labeled_examples: 0\n"
                  "bakeoff:\n  freshness: 0\n");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->requirements.labeled_examples.value, 0L);
  EXPECT_EQ(ok->bakeoff.freshness, 0.0);
}

TEST(ProjectTest, MissingRequiredKeys) {
  EXPECT_THAT(error_of("task: retrieval\n"), HasSubstr("p.yaml:1:1: name: missing required key"));
  EXPECT_THAT(error_of("name: x\n"), HasSubstr("p.yaml:1:1: task: missing required key"));
  EXPECT_THAT(error_of("name: \"  \"\ntask: retrieval\n"), HasSubstr("name: expected a non-empty string"));
  EXPECT_THAT(error_of("name: x\ntask: classification\ndata:\n  train: data/trec-qc/train_5500.label\n"),
              HasSubstr("p.yaml:3:1: data.eval: missing required key (task classification: the evaluation file)"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\ndata:\n  corpus: data/scifact\n  queries: data/scifact/queries.jsonl\n"),
              HasSubstr("data.eval_qrels: missing required key"));
  EXPECT_THAT(error_of("name: x\ntask: extraction\ndata:\n  eval: data/trec-qc/TREC_10.label\n"),
              HasSubstr("data.train: missing required key"));
}

TEST(ProjectTest, MissingDataFilesNameTheFieldAndResolvedPath) {
  std::string m = error_of("name: x\ntask: classification\ndata:\n  train: data/trec-qc/nope.label\n"
                           "  eval: data/trec-qc/TREC_10.label\n");
  EXPECT_THAT(m, HasSubstr("p.yaml:4:10: data.train: no such file: " + (kRepo / "data/trec-qc/nope.label").string()));
  m = error_of("name: x\ntask: retrieval\ndata:\n  corpus:\n    - data/scifact\n    - data/missing-folder\n"
               "  queries: data/scifact/queries.jsonl\n  eval_qrels: data/scifact/qrels/test.tsv\n");
  EXPECT_THAT(m, HasSubstr("p.yaml:6:7: data.corpus[1]: no such file or folder: " + (kRepo / "data/missing-folder").string()));
  m = error_of("name: x\ntask: retrieval\ndata:\n  corpus: data/scifact\n  queries: data/scifact\n"
               "  eval_qrels: data/scifact/qrels/test.tsv\n");
  EXPECT_THAT(m, HasSubstr("data.queries: expected a file, got the folder"));

  auto missing = load_project(fs::path(temp_dir()) / "absent.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(ProjectTest, LoadProjectErrorsUseTheGivenFileName) {
  fs::path dir = temp_dir();
  write(dir / "project.yaml", "name: x\ntask: retrieval\nrequirements:\n  wrong_answer_cost: huge\n");
  auto r = load_project(dir / "project.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr((dir / "project.yaml").string() + ":4:22: requirements.wrong_answer_cost"));
  fs::remove_all(dir);
}

// ---- to_yaml ----

TEST(ProjectTest, ToYamlRoundTripsAndShowsEveryQuestion) {
  auto p = parse(kTrecYaml);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  std::string y = to_yaml(*p, kRepo);
  // Paths under base_dir are relative; defaults are commented out.
  EXPECT_THAT(y, HasSubstr("  train: data/trec-qc/train_5500.label"));
  EXPECT_THAT(y, HasSubstr("  need: behaviour"));
  EXPECT_THAT(y, HasSubstr("  # sensitivity: internal"));
  EXPECT_THAT(y, HasSubstr("  # quality_target: null"));
  EXPECT_THAT(y, HasSubstr("  # citations: false"));
  for (const char* k : {"need", "change", "citations", "latency_p95_ms", "wrong_answer_cost", "sensitivity", "acls",
                        "deadline_weeks", "style_consistency", "labeled_examples", "quality_target"})
    EXPECT_THAT(y, HasSubstr(std::string(k) + ": ")) << k;
  auto back = parse_project(y, "back.yaml", kRepo);
  ASSERT_TRUE(back.ok()) << back.error().to_string() << "\n" << y;
  EXPECT_EQ(*back, *p) << y;

  // Elsewhere: paths outside base_dir stay absolute.
  fs::path dir = temp_dir();
  std::string y2 = to_yaml(*p, dir);
  EXPECT_THAT(y2, HasSubstr("train: " + (kRepo / "data/trec-qc/train_5500.label").string()));
  write(dir / "project.yaml", y2);
  auto loaded = load_project(dir / "project.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string() << "\n" << y2;
  Project expected = *p;
  expected.file = dir / "project.yaml";
  EXPECT_EQ(*loaded, expected);
  fs::remove_all(dir);
}

TEST(ProjectTest, ToYamlRoundTripsEveryTaskAndOddValues) {
  Project r;
  r.name = "Quotes \"and\" colons: # not a comment\n\tnor this: é";
  r.task = TaskType::kRetrieval;
  r.data.corpus = {kRepo / "data/scifact/corpus.jsonl.gz", kRepo / "data/scifact"};
  r.data.queries = kRepo / "data/scifact/queries.jsonl";
  r.data.eval_qrels = kRepo / "data/scifact/qrels/test.tsv";
  r.requirements.need = {"knowledge", Source::kAnswered};
  r.requirements.latency_p95_ms = {std::nullopt, Source::kAnswered};
  r.requirements.quality_target = {0.123456789, Source::kAnswered};
  r.requirements.deadline_weeks = {1.5, Source::kAnswered};
  r.requirements.labeled_examples = {0L, Source::kAnswered};
  r.requirements.acls = {true, Source::kAnswered};
  r.bakeoff.arms = {"rag", "fine_tuned_rag"};
  r.bakeoff.seed = 123456789012345ULL;
  r.bakeoff.freshness = 0.0;
  r.bakeoff.cache = kRepo / "some cache";

  Project none;
  none.name = "no data";
  none.task = TaskType::kExtraction;

  Project cls;
  cls.name = "c";
  cls.data.train = kRepo / "data/trec-qc/train_5500.label";
  cls.data.eval = kRepo / "data/trec-qc/TREC_10.label";

  for (const Project& p : {r, none, cls}) {
    std::string y = to_yaml(p, kRepo);
    auto back = parse_project(y, "back.yaml", kRepo);
    ASSERT_TRUE(back.ok()) << back.error().to_string() << "\n" << y;
    EXPECT_EQ(*back, p) << y;
  }
  EXPECT_THAT(to_yaml(none, kRepo), HasSubstr("# data:"));
  EXPECT_THAT(to_yaml(r, kRepo), HasSubstr("    - data/scifact/corpus.jsonl.gz\n"));

  // Measured values are written commented out and read back as defaults.
  Project m = cls;
  m.requirements.labeled_examples = {5452L, Source::kMeasured};
  std::string y = to_yaml(m, kRepo);
  EXPECT_THAT(y, HasSubstr("# labeled_examples: 5452"));
  auto back = parse_project(y, "back.yaml", kRepo);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->requirements.labeled_examples, Answer<std::optional<long>>{});
}

// Every example in docs/decide.md's "Project file" section is a valid project.
TEST(ProjectTest, DocumentationExamplesParse) {
  std::ifstream in(kRepo / "docs/decide.md");
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t begin = doc.find("\n## Project file");
  ASSERT_NE(begin, std::string::npos);
  std::size_t end = doc.find("\n## ", begin + 1);
  std::string section = doc.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  // The examples' paths: ../../data/... as from examples/<name>/, and ner/*.conll beside the file.
  fs::path dir = temp_dir();
  fs::create_directory_symlink(kRepo / "data", dir / "data");
  fs::path base = dir / "examples/x";
  for (const char* f : {"train", "dev", "test"}) write(base / "ner" / (std::string(f) + ".conll"), "Peter B-PER\n");
  int examples = 0;
  for (std::size_t at = 0; (at = section.find("```", at)) != std::string::npos;) {
    std::size_t nl = section.find('\n', at);
    std::string lang = section.substr(at + 3, nl - at - 3);
    std::size_t close = section.find("\n```", nl);
    ASSERT_NE(close, std::string::npos);
    std::string body = section.substr(nl + 1, close - nl);
    at = close + 4;
    if (lang != "yaml" && lang != "json") continue;
    ++examples;
    auto p = parse_project(body, "example", base);
    EXPECT_TRUE(p.ok()) << p.error().to_string() << "\n" << body;
  }
  EXPECT_GE(examples, 4);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ragft::decide

namespace ragft::decide {
namespace {

constexpr const char* kGenerationYaml = R"(name: SciFact verdicts
task: generation
data:
  corpus: data/scifact/corpus.jsonl.gz
  train: data/scifact/evidence-train.jsonl
  eval: data/scifact/evidence-test.jsonl
generation:
  llm: "local:path=models/base"
  lora: "lora:rank=4"
  metric: exact_match
  system: Answer with one word.
  max_tokens: 16
  prices:
    prompt: 0.15
    completion: 0.6
)";

TEST(ProjectTest, GenerationSectionParsesAndRoundTrips) {
  auto p = parse(kGenerationYaml);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->task, TaskType::kGeneration);
  EXPECT_EQ(p->generation.llm, "local:path=models/base");
  EXPECT_EQ(p->generation.lora, "lora:rank=4");
  EXPECT_EQ(p->generation.metric, "exact_match");
  EXPECT_EQ(p->generation.system, "Answer with one word.");
  EXPECT_EQ(p->generation.max_tokens, 16);
  EXPECT_DOUBLE_EQ(p->generation.prices.prompt, 0.15);
  EXPECT_DOUBLE_EQ(p->generation.prices.completion, 0.6);
  EXPECT_DOUBLE_EQ(p->generation.prices.training, 0);
  ASSERT_EQ(p->data.corpus.size(), 1u);
  std::string y = to_yaml(*p, kRepo);
  auto back = parse_project(y, "back.yaml", kRepo);
  ASSERT_TRUE(back.ok()) << back.error().to_string() << "\n" << y;
  EXPECT_EQ(*back, *p) << y;
  EXPECT_THAT(y, HasSubstr("generation:\n"));
}

TEST(ProjectTest, GenerationErrorsNameTheField) {
  std::string base = kGenerationYaml;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_THAT(error_of(with("  llm: \"local:path=models/base\"\n", "")), HasSubstr("generation.llm: missing required key"));
  EXPECT_THAT(error_of(with("local:path=models/base", "gpt-4")), HasSubstr("generation.llm: expected a chat model config"));
  EXPECT_THAT(error_of(with("metric: exact_match", "metric: json_valid")), HasSubstr("json_valid needs generation.schema"));
  EXPECT_THAT(error_of(with("metric: exact_match", "metric: bleu")), HasSubstr("generation.metric: expected one of f1"));
  EXPECT_THAT(error_of(with("lora:rank=4", "rank=4")), HasSubstr("generation.lora: expected a config string \"lora:"));
  EXPECT_THAT(error_of(with("prompt: 0.15", "prompt: -1")), HasSubstr("generation.prices.prompt: expected a non-negative"));
  EXPECT_THAT(error_of(with("max_tokens: 16", "max_tokens: 0")), HasSubstr("generation.max_tokens"));
  EXPECT_THAT(error_of("name: x\ntask: retrieval\ngeneration:\n  llm: local:path=m\n"),
              HasSubstr("generation: only for task generation"));
  // Without data the model may be left open (decide then plans from the requirements alone).
  EXPECT_TRUE(parse("name: x\ntask: generation\n").ok());
  EXPECT_THAT(error_of(with("  train:", "  queries:")), HasSubstr("unknown key"));
}

}  // namespace
}  // namespace ragft::decide
