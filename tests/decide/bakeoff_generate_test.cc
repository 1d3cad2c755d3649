// The generation bake-off (decide/generation.h) with scripted stand-ins for the language model
// and the LoRA trainer, so every number it reports can be worked out by hand:
//  - the base model answers a closed-book prompt "I do not know." and a RAG prompt with the last
//    word of source [1]'s first sentence, citing [1];
//  - the trainer "memorises" every chat it is given (training and validation), and the adapter
//    answers a prompt it memorised with the memorised reply, anything else as the base model;
//  - usage: prompt tokens = words in the messages, completion tokens = words in the reply.
// The real engine (LoRA on a tiny checkpoint) is covered in tests/generate_torch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "decide/bakeoff.h"
#include "decide/decide.h"
#include "decide/project.h"
#include "decide/report_html.h"
#include "decide/report_text.h"

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;

std::size_t words(std::string_view s) {
  std::istringstream in{std::string(s)};
  std::string w;
  std::size_t n = 0;
  while (in >> w) ++n;
  return n;
}

class ScriptedModel : public ChatModel {
 public:
  ScriptedModel(std::string config, std::map<std::string, std::string> memory)
      : config_(std::move(config)), memory_(std::move(memory)) {}
  std::string config() const override { return config_; }
  Result<ChatResponse> complete(const ChatRequest& r) const override {
    ++calls;
    const std::string& user = r.messages.back().content;
    ChatResponse out;
    if (auto it = memory_.find(user); it != memory_.end()) {
      out.text = it->second;
    } else if (auto at = user.find("[1] "); at != std::string::npos) {
      // Default template: "[1] title\ntext"; the answer is the first sentence's last word.
      std::size_t text = user.find('\n', at) + 1;
      std::string sentence = user.substr(text, user.find('.', text) - text);
      out.text = sentence.substr(sentence.rfind(' ') + 1) + " [1]";
    } else {
      out.text = "I do not know.";
    }
    std::size_t prompt = 0;
    for (const auto& m : r.messages) prompt += words(m.content);
    out.usage = ChatUsage{static_cast<std::int64_t>(prompt), static_cast<std::int64_t>(words(out.text)),
                          static_cast<std::int64_t>(prompt + words(out.text))};
    out.finish_reason = "stop";
    return out;
  }
  Result<ChatResponse> stream(const ChatRequest& r, const ChatDeltaFn& on_delta) const override {
    auto out = complete(r);
    if (out.ok()) on_delta(out->text);
    return out;
  }
  static inline std::atomic<int> calls{0};

 private:
  std::string config_;
  std::map<std::string, std::string> memory_;
};

struct Fakes {
  std::vector<AdapterJob> jobs;
  int opened = 0;
  OpenChatFn open = [this](const std::string& config) -> Result<std::unique_ptr<ChatModel>> {
    ++opened;
    std::map<std::string, std::string> memory;
    if (config.rfind("adapter:", 0) == 0) {
      std::ifstream in(config.substr(8));
      nlohmann::json j = nlohmann::json::parse(in);
      memory = j.get<std::map<std::string, std::string>>();
    }
    return std::unique_ptr<ChatModel>(new ScriptedModel(config, std::move(memory)));
  };
  TrainAdapterFn train = [this](const AdapterJob& job) -> Result<AdapterRun> {
    jobs.push_back(job);
    nlohmann::json memory = nlohmann::json::object();
    std::int64_t tokens = 0;
    for (const auto* set : {&job.train, &job.validation}) {
      for (const auto& chat : *set) {
        memory[chat[chat.size() - 2].content] = chat.back().content;
        for (const auto& m : chat) tokens += static_cast<std::int64_t>(words(m.content));
      }
    }
    fs::create_directories(job.out);
    std::ofstream(job.out / "memory.json") << memory.dump();
    AdapterRun run;
    run.chat_config = "adapter:" + (job.out / "memory.json").string();
    run.training_tokens = 2 * tokens;  // "two epochs"
    run.seconds = 0.5;
    run.report = {{"epochs", 2}};
    return run;
  };
};

// Twelve facts, one document each; each question's answer is the last word of its document's
// first sentence.
const std::vector<std::array<std::string, 4>> kFacts = {
    {"zorvia", "capital of Zorvia", "The capital of Zorvia is Pelmont.", "Pelmont"},
    {"quillan", "river through Quillan", "The river through Quillan is called Marrow.", "Marrow"},
    {"brask", "founder of Brask", "The founder of Brask was Tiva.", "Tiva"},
    {"ostel", "currency of Ostel", "The currency of Ostel is the drel.", "drel"},
    {"vennic", "highest peak of Vennic", "The highest peak of Vennic is Harrow.", "Harrow"},
    {"lumsk", "national bird of Lumsk", "The national bird of Lumsk is the kestrin.", "kestrin"},
    {"praal", "oldest university of Praal", "The oldest university of Praal is Corvane.", "Corvane"},
    {"temmet", "main export of Temmet", "The main export of Temmet is saffron.", "saffron"},
    {"yorra", "largest lake of Yorra", "The largest lake of Yorra is Silvane.", "Silvane"},
    {"dask", "first king of Dask", "The first king of Dask was Orlen.", "Orlen"},
    {"feln", "official language of Feln", "The official language of Feln is Ketic.", "Ketic"},
    {"grome", "oldest bridge of Grome", "The oldest bridge of Grome is Aldspan.", "Aldspan"},
};

std::string question_line(std::size_t i) {
  const auto& f = kFacts[i];
  nlohmann::json j = {{"id", f[0]},
                      {"question", "What is the " + f[1] + "?"},
                      {"answer", f[3]},
                      {"evidence", {{{"doc_id", f[0]}, {"spans", {{0, static_cast<int>(f[2].size())}}}}}}};
  return j.dump() + "\n";
}

class GenerationBakeoffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ragft-gen-bakeoff-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream corpus(dir_ / "corpus.jsonl");
    for (const auto& f : kFacts) {
      corpus << nlohmann::json{{"_id", f[0]}, {"title", f[0]}, {"text", f[2] + " It is often visited."}}.dump() << "\n";
    }
    std::ofstream train(dir_ / "train.jsonl"), eval(dir_ / "eval.jsonl");
    for (std::size_t i = 0; i < 10; ++i) train << question_line(i);
    for (std::size_t i : {0, 1, 2, 10, 11, 9}) eval << question_line(i);  // four seen in training, two new
  }
  void TearDown() override { fs::remove_all(dir_); }

  Project project(const std::string& llm = "local:path=/models/base", bool corpus = true, const std::string& more = "") {
    std::string yaml = "name: gen\ntask: generation\ndata:\n" + std::string(corpus ? "  corpus: corpus.jsonl\n" : "") +
                       "  train: train.jsonl\n  eval: eval.jsonl\nbakeoff:\n  bootstrap_samples: 200\n  cache: cache\n"
                       "generation:\n  llm: \"" + llm + "\"\n  prices:\n    prompt: 1\n    completion: 2\n    training: 3\n" + more;
    auto p = parse_project(yaml, "project.yaml", dir_);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return *p;
  }
  BakeoffOptions options() {
    BakeoffOptions o;
    o.cache_dir = dir_ / "cache";
    o.open_chat = fakes_.open;
    o.train_adapter = fakes_.train;
    return o;
  }
  static const ArmResult& arm(const Bakeoff& b, const std::string& id) {
    for (const auto& a : b.arms)
      if (a.id == id) return a;
    ADD_FAILURE() << "no arm " << id;
    return b.arms.front();
  }

  fs::path dir_;
  Fakes fakes_;
};

TEST_F(GenerationBakeoffTest, FourArmsScoredAgainstReferences) {
  auto b = run_generation_bakeoff(project(), options());
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_EQ(b->arms.size(), 4u);
  EXPECT_EQ(b->metric["name"], "token_f1");
  for (const auto& a : b->arms) {
    EXPECT_EQ(a.per_item.size(), 6u) << a.id;
    EXPECT_EQ(a.latency_ms.size(), 6u) << a.id;
  }
  // Closed book, the base model knows nothing.
  EXPECT_DOUBLE_EQ(arm(*b, "baseline").quality.value, 0.0);
  // Retrieval finds each fact's document first: every answer right, cited and supported.
  const ArmResult& rag = arm(*b, "rag");
  EXPECT_DOUBLE_EQ(rag.quality.value, 1.0);
  EXPECT_DOUBLE_EQ(rag.extra["generative"]["citation_precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(rag.extra["generative"]["citation_recall"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(rag.extra["generative"]["abstention_rate"].get<double>(), 0.0);
  // The adapter answers the four questions it was trained on, and nothing else.
  const ArmResult& ft = arm(*b, "fine_tuned");
  EXPECT_EQ(ft.per_item, (std::vector<double>{1, 1, 1, 0, 0, 1}));
  EXPECT_TRUE(ft.extra["generative"]["citation_precision"].is_number());  // no citation, gold exists: 0
  EXPECT_DOUBLE_EQ(ft.extra["generative"]["citation_recall"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(arm(*b, "fine_tuned_rag").quality.value, 1.0);

  // Paired comparisons: RAG beats the baseline on every question.
  bool found = false;
  for (const auto& c : b->comparisons) {
    if (c["a"] == "baseline" && c["b"] == "rag") {
      found = true;
      EXPECT_DOUBLE_EQ(c["diff"].get<double>(), -1.0);
      EXPECT_TRUE(c["distinguishable"].get<bool>());
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(b->labeled_examples, 10);
  EXPECT_EQ(b->profile["labeled"]["with_evidence"], 10);
  EXPECT_TRUE(b->profile["corpus"].is_object());
  EXPECT_TRUE(b->skipped.empty());
}

TEST_F(GenerationBakeoffTest, TokenCostModel) {
  auto b = run_generation_bakeoff(project(), options());
  ASSERT_TRUE(b.ok()) << b.error().message;
  // Closed book: "What is the X?" is 4 + words(X) prompt words; "I do not know." is 4 words.
  double prompt = 0;
  for (std::size_t i : {0, 1, 2, 10, 11, 9}) prompt += 3 + static_cast<double>(words(kFacts[i][1]));
  const ArmResult& base = arm(*b, "baseline");
  EXPECT_DOUBLE_EQ(base.extra["tokens"]["prompt_per_query"].get<double>(), prompt / 6);
  EXPECT_DOUBLE_EQ(base.extra["tokens"]["completion_per_query"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(base.extra["cost"]["per_1k_queries_usd"].get<double>(), 1000 * (prompt / 6 * 1 + 4.0 * 2) / 1e6);
  EXPECT_EQ(base.extra["tokens"]["training"], 0);
  // RAG pays for the retrieved context.
  const ArmResult& rag = arm(*b, "rag");
  EXPECT_GT(rag.extra["tokens"]["prompt_per_query"].get<double>(), 5 * prompt / 6);
  // Training tokens: what the trainer reported, priced at 3 USD per million.
  ASSERT_EQ(fakes_.jobs.size(), 2u);
  std::int64_t words_seen = 0;
  for (const auto* set : {&fakes_.jobs[0].train, &fakes_.jobs[0].validation})
    for (const auto& chat : *set)
      for (const auto& m : chat) words_seen += static_cast<std::int64_t>(words(m.content));
  const ArmResult& ft = arm(*b, "fine_tuned");
  EXPECT_EQ(ft.extra["tokens"]["training"].get<std::int64_t>(), 2 * words_seen);
  EXPECT_DOUBLE_EQ(ft.extra["cost"]["training_usd"].get<double>(), 2 * words_seen * 3 / 1e6);
  // The report object carries them.
  auto j = ft.to_json();
  EXPECT_TRUE(j["cost"].is_object());
  EXPECT_TRUE(j["generative"].is_object());
  EXPECT_TRUE(j["tokens"].is_object());
}

TEST_F(GenerationBakeoffTest, AdapterJobsHoldClosedBookAndRaftChats) {
  auto b = run_generation_bakeoff(project(), options());
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_EQ(fakes_.jobs.size(), 2u);
  const AdapterJob& ft = fakes_.jobs[0];
  const AdapterJob& raft = fakes_.jobs[1];
  EXPECT_EQ(ft.llm, "local:path=/models/base");
  EXPECT_EQ(ft.out.filename(), "fine_tuned");
  EXPECT_EQ(raft.out.filename(), "fine_tuned_rag");
  // Ten questions: one held out for validation.
  EXPECT_EQ(ft.train.size(), 9u);
  EXPECT_EQ(ft.validation.size(), 1u);
  for (const auto& chat : ft.train) {
    ASSERT_EQ(chat.size(), 2u);  // no system message configured
    EXPECT_EQ(chat[0].role, ChatRole::kUser);
    EXPECT_EQ(chat[1].role, ChatRole::kAssistant);
    EXPECT_EQ(chat[0].content.rfind("What is the ", 0), 0u);
  }
  // RAFT: the RAG prompt (system message, numbered sources) and a cited answer or NO_ANSWER.
  EXPECT_EQ(raft.train.size() + raft.validation.size(), 10u);
  // (In this tiny corpus BM25 finds no distractor for most questions, so an example without the
  // oracle may have no source at all.)
  std::size_t with_oracle = 0;
  for (const auto* set : {&raft.train, &raft.validation}) {
    for (const auto& chat : *set) {
      ASSERT_EQ(chat.size(), 3u);
      EXPECT_EQ(chat[0].role, ChatRole::kSystem);
      EXPECT_NE(chat[1].content.find("Question: What is the "), std::string::npos) << chat[1].content;
      if (chat[2].content == "NO_ANSWER") continue;
      ++with_oracle;
      EXPECT_NE(chat[1].content.find("[1] "), std::string::npos) << chat[1].content;
      EXPECT_NE(chat[2].content.find("Evidence: \"The "), std::string::npos) << chat[2].content;
    }
  }
  EXPECT_EQ(with_oracle, 8u);  // raft's default no_oracle share, 0.2, of ten
}

TEST_F(GenerationBakeoffTest, CachedSecondRunTrainsNothing) {
  auto first = run_generation_bakeoff(project(), options());
  ASSERT_TRUE(first.ok()) << first.error().message;
  fakes_.jobs.clear();
  fakes_.opened = 0;
  auto second = run_generation_bakeoff(project(), options());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->cached_arms, 4u);
  EXPECT_TRUE(fakes_.jobs.empty());
  EXPECT_EQ(fakes_.opened, 0);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(first->arms[i].per_item, second->arms[i].per_item);
}

TEST_F(GenerationBakeoffTest, ArmsTheDataOrModelCannotSupportAreSkippedAndSaid) {
  auto remote = run_generation_bakeoff(project("openai:url=http://127.0.0.1:1/v1,model=m"), options());
  ASSERT_TRUE(remote.ok()) << remote.error().message;
  ASSERT_EQ(remote->arms.size(), 2u);
  EXPECT_EQ(remote->arms[0].id, "baseline");
  EXPECT_EQ(remote->arms[1].id, "rag");
  ASSERT_EQ(remote->skipped.size(), 2u);
  EXPECT_NE(remote->skipped[0].find("local checkpoint"), std::string::npos) << remote->skipped[0];
  EXPECT_TRUE(fakes_.jobs.empty());

  auto closed = run_generation_bakeoff(project("local:path=/m", /*corpus=*/false), options());
  ASSERT_TRUE(closed.ok()) << closed.error().message;
  ASSERT_EQ(closed->arms.size(), 2u);
  EXPECT_EQ(closed->arms[1].id, "fine_tuned");
  EXPECT_NE(closed->skipped[0].find("data.corpus"), std::string::npos) << closed->skipped[0];
}

TEST_F(GenerationBakeoffTest, DecideReportsAnswersAndCosts) {
  DecideOptions o;
  o.cache_dir = dir_ / "cache";
  o.open_chat = fakes_.open;
  o.train_adapter = fakes_.train;
  auto report = decide(project("local:path=/models/base", true, "requirements:\n  need: knowledge\n"), o);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ((*report)["project"]["task"], "generation");
  EXPECT_EQ((*report)["metric"]["label"], "answer F1");
  EXPECT_EQ((*report)["arms"].size(), 4u);
  EXPECT_TRUE((*report)["arms"][1]["cost"]["per_1k_queries_usd"].is_number());
  // Six questions cannot tell RAG (1.0) from the adapter (0.667); the knowledge task leans to the
  // retrieval arms, and of the two tied ones the simpler wins.
  EXPECT_EQ((*report)["recommendation"]["arm"], "rag") << (*report)["recommendation"].dump(1);
  std::string text = render_text(*report, false);
  EXPECT_NE(text.find("Answers and token costs"), std::string::npos) << text;
  EXPECT_NE(text.find("$ / 1k queries"), std::string::npos) << text;
  std::string html = render_html(*report);
  EXPECT_NE(html.find("<table class=\"generation\">"), std::string::npos);
}

TEST_F(GenerationBakeoffTest, BadDataIsNamed) {
  std::ofstream(dir_ / "eval.jsonl") << R"({"id": "x", "question": "What?"})" << "\n";
  auto b = run_generation_bakeoff(project(), options());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("no reference answer"), std::string::npos) << b.error().message;
  std::ofstream(dir_ / "eval.jsonl") << "not json\n";
  b = run_generation_bakeoff(project(), options());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("eval.jsonl:1"), std::string::npos) << b.error().message;
}

}  // namespace
}  // namespace ragft::decide
