// RAFT training data: oracle + hard distractors in the answerer's prompt, answers quoting and
// citing the oracle, a seeded share without the oracle.
#include "generate/raft.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/utf8.h"
#include "generate/citations.h"

namespace ragft {
namespace {

std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_raft_XXXXXX").string();
  RAGFT_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

void add(Workspace& ws, const std::string& id, const std::string& title, const std::string& text) {
  NewDocument d;
  d.ext_id = id;
  d.source = "mem:" + id;
  d.format = "txt";
  d.title = title;
  d.text = text;
  d.content_hash = id + text;
  NewChunk c;
  c.char_end = static_cast<std::int64_t>(char_offset(text, text.size()));
  c.text = text;
  ASSERT_TRUE(ws.store().upsert(d, {c}).ok());
}

class RaftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    auto ws = Workspace::open(dir_);
    ASSERT_TRUE(ws.ok());
    ws_.emplace(std::move(*ws));
    add(*ws_, "bees", "Honey bees", "Bees live in hives. Honey bees dance to show where flowers grow.");
    add(*ws_, "wasps", "Wasps", "Wasps also live in nests and some dance near flowers.");
    add(*ws_, "ants", "Ants", "Ants live in colonies and follow scent trails to flowers.");
    add(*ws_, "lava", "Volcanoes", "Lava flows from the vent during an eruption.");
    add(*ws_, "moths", "Moths", "Moths fly to flowers at night and live a short time.");
    ASSERT_TRUE(ws_->catch_up().ok());
  }
  void TearDown() override {
    ws_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::optional<Workspace> ws_;
};

TEST_F(RaftTest, OracleAndDistractorsInThePromptAndTheAnswerCitesTheOracle) {
  // The span of "Honey bees dance to show where flowers grow." in the bees document.
  RaftQuestion q{"q1", "How do bees show where flowers are?", "", {{"bees", {{20, 64}}}}};
  RaftOptions o;
  o.distractors = 3;
  o.no_oracle = 0;
  RaftStats stats;
  auto ex = build_raft(*ws_, {q}, PromptTemplate::default_template(), o, &stats);
  ASSERT_TRUE(ex.ok()) << ex.error().to_string();
  ASSERT_EQ(ex->size(), 1u);
  const RaftExample& e = ex->front();
  ASSERT_TRUE(e.has_oracle);
  ASSERT_EQ(e.sources.size(), 4u);
  std::set<std::string> docs;
  for (const auto& s : e.sources) docs.insert(s.doc_id);
  EXPECT_EQ(docs.size(), 4u);  // one source per document
  EXPECT_TRUE(docs.count("bees"));
  EXPECT_FALSE(docs.count("lava"));  // shares no word with the question: not a hard negative
  EXPECT_EQ(e.sources[static_cast<std::size_t>(e.oracle_n - 1)].doc_id, "bees");
  EXPECT_EQ(e.answer, fmt::format("Honey bees dance to show where flowers grow. [{}]", e.oracle_n));
  EXPECT_NE(e.prompt.user.find(fmt::format("[{}] Honey bees\n", e.oracle_n)), std::string::npos) << e.prompt.user;
  EXPECT_NE(e.prompt.user.find("Question: How do bees show where flowers are?"), std::string::npos);
  EXPECT_EQ(stats.with_oracle, 1u);
  EXPECT_EQ(stats.distractors, 3u);
  EXPECT_EQ(stats.short_of_distractors, 0u);

  // The answer passes the answerer's own citation checks against the prompt's sources.
  Answer a;
  for (const auto& s : e.sources) {
    Citation c;
    c.n = s.n;
    c.title = s.title;
    c.quote = s.text;
    a.sources.push_back(c);
  }
  auto analyzer = Analyzer::create();
  ASSERT_TRUE(analyzer.ok());
  CitationReport r = read_citations(e.answer, a, *analyzer);
  EXPECT_EQ(r.valid, 1u);
  EXPECT_TRUE(r.issues.empty());

  // OpenAI fine-tuning chat JSONL.
  auto j = nlohmann::json::parse(raft_to_openai_jsonl(e));
  ASSERT_EQ(j["messages"].size(), 3u);
  EXPECT_EQ(j["messages"][0]["role"], "system");
  EXPECT_EQ(j["messages"][1]["content"], e.prompt.user);
  EXPECT_EQ(j["messages"][2]["role"], "assistant");
  EXPECT_EQ(j["messages"][2]["content"], e.answer);
}

TEST_F(RaftTest, ReferenceAnswersNoOracleShareAndDeterminism) {
  std::vector<RaftQuestion> qs;
  for (int i = 0; i < 10; ++i) {
    qs.push_back({"q" + std::to_string(i), "Where do ants find flowers?", "By scent trails", {{"ants", {}}}});
  }
  RaftOptions o;
  o.distractors = 2;
  o.no_oracle = 0.3;
  RaftStats stats;
  auto a = build_raft(*ws_, qs, PromptTemplate::default_template(), o, &stats);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(stats.with_oracle, 7u);
  EXPECT_EQ(stats.without_oracle, 3u);
  for (const auto& e : *a) {
    if (e.has_oracle) {
      // No spans: the oracle's sentence sharing most words with the question is quoted.
      EXPECT_EQ(e.answer, fmt::format("By scent trails [{}]\nEvidence: \"Ants live in colonies and follow scent trails to "
                                       "flowers.\" [{}]", e.oracle_n, e.oracle_n));
    } else {
      EXPECT_EQ(e.oracle_n, 0);
      EXPECT_EQ(e.answer, "NO_ANSWER");
      for (const auto& s : e.sources) EXPECT_NE(s.doc_id, "ants");
    }
  }
  auto b = build_raft(*ws_, qs, PromptTemplate::default_template(), o);
  ASSERT_TRUE(b.ok());
  for (std::size_t i = 0; i < a->size(); ++i) EXPECT_EQ((*a)[i].prompt.user, (*b)[i].prompt.user);
  o.no_oracle_answer = "answer";
  auto c = build_raft(*ws_, qs, PromptTemplate::default_template(), o);
  ASSERT_TRUE(c.ok());
  for (const auto& e : *c) {
    if (!e.has_oracle) {
      EXPECT_EQ(e.answer, "By scent trails");
    }
  }
}

TEST_F(RaftTest, BadQuestionsAreClearErrors) {
  auto missing = build_raft(*ws_, {{"q", "bees?", "", {{"nope", {}}}}}, PromptTemplate::default_template(), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("document nope is not in the workspace"), std::string::npos);
  auto outside = build_raft(*ws_, {{"q", "bees?", "", {{"bees", {{10, 500}}}}}}, PromptTemplate::default_template(), {});
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message.find("outside document bees"), std::string::npos) << outside.error().message;

  const auto file = dir_ / "q.jsonl";
  std::ofstream(file) << "{\"id\": \"a\", \"question\": \"bees?\", \"evidence\": [{\"doc_id\": \"bees\", \"spans\": [[0, 19]]}]}\n"
                      << "\n"
                      << "{\"id\": \"b\", \"question\": \"ants?\"}\n";
  auto read = read_raft_questions(file);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find("q.jsonl:3"), std::string::npos) << read.error().message;
  std::ofstream(file) << "{\"id\": 7, \"question\": \"bees?\", \"answer\": \"hives\", \"evidence\": [{\"doc_id\": \"bees\", "
                         "\"spans\": [[0, 19]]}]}\n";
  auto ok = read_raft_questions(file);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].id, "7");
  EXPECT_EQ((*ok)[0].evidence[0].spans[0], (std::pair<std::int64_t, std::int64_t>(0, 19)));
  auto cfg = RaftOptions::parse("raft:distractors=2,no_oracle=0.5,no_oracle_answer=answer,max_chars=500,seed=9");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(RaftOptions::parse(cfg->to_config())->to_config(), cfg->to_config());
  EXPECT_FALSE(RaftOptions::parse("raft:no_oracle=2").ok());
}

}  // namespace
}  // namespace ragft
