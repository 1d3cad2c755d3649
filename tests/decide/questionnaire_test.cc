#include "decide/questionnaire.h"

#include <filesystem>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kRepo = RAGFT_SOURCE_DIR;

struct Session {
  Result<Project> project;
  std::string out;
};

Session run(const std::string& answers, const fs::path& base = kRepo) {
  std::istringstream in(answers);
  std::ostringstream out;
  auto p = run_questionnaire({in, out}, base);
  return {std::move(p), out.str()};
}

// to_yaml() of the result reads back to the same Project.
void expect_round_trip(const Project& p) {
  std::string y = to_yaml(p, kRepo);
  auto back = parse_project(y, "q.yaml", kRepo);
  ASSERT_TRUE(back.ok()) << back.error().to_string() << "\n" << y;
  EXPECT_EQ(*back, p) << y;
}

TEST(QuestionnaireTest, ClassificationWithHelpBadAnswersAndDefaults) {
  std::string answers =
      "TREC\n"
      "classifcation\n"                  // typo: re-asked
      "class\n"                          // a unique prefix is enough
      "data/trec-qc/nope.label\n"        // missing: re-asked
      "data/trec-qc/train_5500.label\n"
      "data/trec-qc/TREC_10.label\n"
      "trec\n"
      "\n"                               // encoding: default
      "?\n"                              // need: help
      "maybe\n"                          // need: bad, re-asked
      "Behavior\n"
      "\n"                               // change: default
      "n\n"                              // citations
      "fast\n"                           // latency: bad
      "50\n"
      "\n"                               // wrong_answer_cost: default
      "public\n"
      "\n"                               // acls: default
      "none\n"                           // deadline
      "yes\n"                            // style
      "5452\n"
      "1.5\n"                            // quality target: out of range
      "0.85\n";
  Session r = run(answers);
  ASSERT_TRUE(r.project.ok()) << r.project.error().to_string() << "\n" << r.out;
  const Project& p = *r.project;
  EXPECT_EQ(p.name, "TREC");
  EXPECT_EQ(p.task, TaskType::kClassification);
  EXPECT_TRUE(p.file.empty());
  EXPECT_EQ(p.data.train, kRepo / "data/trec-qc/train_5500.label");
  EXPECT_EQ(p.data.eval, kRepo / "data/trec-qc/TREC_10.label");
  EXPECT_EQ(p.data.format, "trec");
  EXPECT_EQ(p.data.encoding, "utf-8");
  const Requirements& q = p.requirements;
  EXPECT_EQ(q.need.value, "behaviour");
  EXPECT_EQ(q.need.source, Source::kAnswered);
  EXPECT_EQ(q.change.value, "monthly");
  EXPECT_EQ(q.change.source, Source::kDefault);
  EXPECT_FALSE(q.citations.value);
  EXPECT_EQ(q.citations.source, Source::kAnswered);
  EXPECT_EQ(q.latency_p95_ms.value, 50.0);
  EXPECT_EQ(q.wrong_answer_cost.source, Source::kDefault);
  EXPECT_EQ(q.sensitivity.value, "public");
  EXPECT_EQ(q.acls.source, Source::kDefault);
  EXPECT_FALSE(q.deadline_weeks.value.has_value());
  EXPECT_EQ(q.deadline_weeks.source, Source::kAnswered);
  EXPECT_TRUE(q.style_consistency.value);
  EXPECT_EQ(q.labeled_examples.value, 5452L);
  EXPECT_EQ(q.quality_target.value, 0.85);

  // Defaults in brackets, help on "?", bad answers explained.
  EXPECT_THAT(r.out, HasSubstr("How often does the knowledge change? (never | yearly | monthly | weekly | daily | hourly) [monthly]: "));
  EXPECT_THAT(r.out, HasSubstr("Must answers cite their sources? (yes | no) [no]: "));
  EXPECT_THAT(r.out, HasSubstr("knowledge: the system must know facts"));
  EXPECT_THAT(r.out, HasSubstr("expected one of knowledge, behaviour, both, got \"maybe\""));
  EXPECT_THAT(r.out, HasSubstr("expected retrieval, classification, extraction or generation, got \"classifcation\""));
  EXPECT_THAT(r.out, HasSubstr("no such file: " + (kRepo / "data/trec-qc/nope.label").string()));
  EXPECT_THAT(r.out, HasSubstr("expected a positive number of milliseconds, or none, got \"fast\""));
  EXPECT_THAT(r.out, HasSubstr("Quality target: the accuracy that is good enough"));
  EXPECT_THAT(r.out, HasSubstr("expected a number in (0, 1], or none, got \"1.5\""));
  expect_round_trip(p);
}

TEST(QuestionnaireTest, RetrievalWithSeveralCorpusPathsAndAllDefaults) {
  std::string answers =
      "SciFact\n"
      "qa\n"
      "data/scifact/corpus.jsonl.gz, data/missing\n"  // one path missing: re-asked
      "data/scifact/corpus.jsonl.gz, data/scifact/\n"
      "data/scifact\n"                                 // a folder where a file is needed: re-asked
      "data/scifact/queries.jsonl\n"
      "\n"                                             // train_qrels: optional
      "data/scifact/qrels/test.tsv\n" +
      std::string(11, '\n');
  Session r = run(answers);
  ASSERT_TRUE(r.project.ok()) << r.project.error().to_string() << "\n" << r.out;
  const Project& p = *r.project;
  EXPECT_EQ(p.task, TaskType::kRetrieval);
  EXPECT_EQ(p.data.corpus, (std::vector<fs::path>{kRepo / "data/scifact/corpus.jsonl.gz", kRepo / "data/scifact"}));
  EXPECT_EQ(p.data.queries, kRepo / "data/scifact/queries.jsonl");
  EXPECT_TRUE(p.data.train_qrels.empty());
  EXPECT_EQ(p.data.eval_qrels, kRepo / "data/scifact/qrels/test.tsv");
  EXPECT_EQ(p.requirements, Requirements{});  // every answer a default
  EXPECT_THAT(r.out, HasSubstr("no such file or folder: " + (kRepo / "data/missing").string()));
  EXPECT_THAT(r.out, HasSubstr("expected a file, got the folder"));
  EXPECT_THAT(r.out, HasSubstr("Quality target: the nDCG@10"));
  expect_round_trip(p);
}

TEST(QuestionnaireTest, GenerationAsksForQuestionsCorpusAndModel) {
  std::string answers =
      "SciFact verdicts\n"
      "generation\n"
      "data/scifact/evidence-train.jsonl\n"
      "data/scifact/evidence-test.jsonl\n"
      "data/scifact/corpus.jsonl.gz\n"
      "gpt-4\n"                                  // not a config string: re-asked
      "local:path=models/base\n" +
      std::string(11, '\n');
  Session r = run(answers);
  ASSERT_TRUE(r.project.ok()) << r.project.error().to_string() << "\n" << r.out;
  const Project& p = *r.project;
  EXPECT_EQ(p.task, TaskType::kGeneration);
  EXPECT_EQ(p.data.train, kRepo / "data/scifact/evidence-train.jsonl");
  EXPECT_EQ(p.data.eval, kRepo / "data/scifact/evidence-test.jsonl");
  EXPECT_EQ(p.data.corpus, (std::vector<fs::path>{kRepo / "data/scifact/corpus.jsonl.gz"}));
  EXPECT_EQ(p.generation.llm, "local:path=models/base");
  EXPECT_THAT(r.out, HasSubstr("expected local:path=DIR or openai:..., got \"gpt-4\""));
  EXPECT_THAT(r.out, HasSubstr("Quality target: the answer F1"));
  expect_round_trip(p);
}

TEST(QuestionnaireTest, EmptyDataAnswerSkipsData) {
  fs::path base = kRepo / "data";
  std::istringstream in("\nextraction\n\nknowledge\nhourly\ny\n2\nhigh\nrestricted\ny\n3\nn\nunknown\nnone\n");
  std::ostringstream out;
  auto p = run_questionnaire({in, out}, base);
  ASSERT_TRUE(p.ok()) << p.error().to_string() << "\n" << out.str();
  EXPECT_EQ(p->name, "data");  // default: the folder's name
  EXPECT_EQ(p->task, TaskType::kExtraction);
  EXPECT_FALSE(p->data.has_data());
  EXPECT_EQ(p->requirements.change.value, "hourly");
  EXPECT_EQ(p->requirements.latency_p95_ms.value, 2.0);
  EXPECT_EQ(p->requirements.wrong_answer_cost.value, "high");
  EXPECT_TRUE(p->requirements.acls.value);
  EXPECT_EQ(p->requirements.deadline_weeks.value, 3.0);
  EXPECT_EQ(p->requirements.labeled_examples.source, Source::kAnswered);
  EXPECT_FALSE(p->requirements.labeled_examples.value.has_value());
  EXPECT_EQ(p->requirements.quality_target.source, Source::kAnswered);
  EXPECT_THAT(out.str(), HasSubstr("Project name [data]: "));
  EXPECT_THAT(out.str(), HasSubstr("Quality target: the F1"));
  expect_round_trip(*p);
}

TEST(QuestionnaireTest, EndOfInputIsAnError) {
  for (const char* answers : {"", "name\n", "name\nretrieval\n\nboth\n", "n\nclassification\ndata/trec-qc/TREC_10.label\n"}) {
    Session r = run(answers);
    ASSERT_FALSE(r.project.ok()) << answers;
    EXPECT_EQ(r.project.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.project.error().message, "input ended before the questionnaire was finished");
  }
  // Re-asking forever on bad answers still ends at end of input.
  Session r = run("x\nretrieval\n\nmaybe\nmaybe\nmaybe\n");
  ASSERT_FALSE(r.project.ok());
}

}  // namespace
}  // namespace ragft::decide
