// The LLM answerer with a scripted model: numbered sources in the prompt, citations checked,
// and each way of abstaining.
#include "generate/llm_answer.h"

#include <gtest/gtest.h>

#include <mutex>

#include "core/check.h"
#include "core/utf8.h"

namespace ragft {
namespace {

std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_llm_XXXXXX").string();
  RAGFT_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

// Replies with `reply` and records the requests it saw.
class ScriptedModel final : public ChatModel {
 public:
  explicit ScriptedModel(std::string reply) : reply_(std::move(reply)) {}
  std::string config() const override { return "scripted"; }
  Result<ChatResponse> complete(const ChatRequest& request) const override {
    std::lock_guard<std::mutex> lock(mu_);
    requests.push_back(request);
    ChatResponse r;
    r.text = reply_;
    r.usage = ChatUsage{100, 20, 120};
    return r;
  }
  Result<ChatResponse> stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const override {
    auto r = complete(request);
    if (r.ok()) on_delta(r->text);
    return r;
  }
  mutable std::vector<ChatRequest> requests;

 private:
  std::string reply_;
  mutable std::mutex mu_;
};

class LlmAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    auto ws = Workspace::open(dir_);
    ASSERT_TRUE(ws.ok());
    ws_.emplace(std::move(*ws));
    add("bees", "Honey bees", "Honey bees communicate the location of flowers with a waggle dance.");
    add("lava", "Volcanoes", "Lava flows from the vent during an eruption.");
    ASSERT_TRUE(ws_->catch_up().ok());
  }
  void TearDown() override {
    ws_.reset();
    std::filesystem::remove_all(dir_);
  }
  void add(const std::string& id, const std::string& title, const std::string& text) {
    NewDocument d;
    d.ext_id = id;
    d.source = "mem:" + id;
    d.format = "txt";
    d.title = title;
    d.text = text;
    d.content_hash = id;
    NewChunk c;
    c.char_end = static_cast<std::int64_t>(char_offset(text, text.size()));
    c.text = text;
    ASSERT_TRUE(ws_->store().upsert(d, {c}).ok());
  }
  Result<LlmAnswer> ask(const std::string& q, const ChatModel& m, LlmAnswerOptions o = {}) {
    SearchRequest r;
    r.query = q;
    r.k = o.chunks;
    auto hits = search(*ws_, r);
    if (!hits.ok()) return hits.error();
    return answer_with_llm(*ws_, r, std::move(*hits), m, PromptTemplate::default_template(), o);
  }
  std::filesystem::path dir_;
  std::optional<Workspace> ws_;
};

TEST_F(LlmAnswerTest, SourcesAreNumberedInThePromptAndCitationsChecked) {
  ScriptedModel model("Bees show where flowers are with a waggle dance [1]. Lava is hot [2][5].");
  auto a = ask("How do honey bees show where flowers are?", model);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_EQ(model.requests.size(), 1u);
  const ChatRequest& req = model.requests[0];
  ASSERT_EQ(req.messages.size(), 2u);
  EXPECT_EQ(req.messages[0].role, ChatRole::kSystem);
  EXPECT_NE(req.messages[1].content.find("[1] Honey bees\nHoney bees communicate"), std::string::npos)
      << req.messages[1].content;
  EXPECT_NE(req.messages[1].content.find("Question: How do honey bees show where flowers are?"), std::string::npos);
  EXPECT_EQ(req.temperature, 0.0);
  EXPECT_TRUE(a->called_model);
  EXPECT_FALSE(a->answer.abstained);
  ASSERT_EQ(a->answer.sentences.size(), 2u);
  EXPECT_EQ(a->answer.sentences[0].citations, std::vector<int>{1});
  EXPECT_EQ(a->answer.sources[0].doc_ext_id, "bees");
  // Only the bees document matches the question: [2] and [5] name no source.
  EXPECT_EQ(a->answer.sources.size(), 1u);
  EXPECT_EQ(a->citations.valid, 1u);
  ASSERT_TRUE(a->usage.has_value());
  EXPECT_EQ(a->usage->completion_tokens, 20);
  bool unknown = false;
  for (const auto& i : a->citations.issues) unknown = unknown || (i.kind == CitationIssue::Kind::kUnknownSource && i.n == 5);
  EXPECT_TRUE(unknown);
}

TEST_F(LlmAnswerTest, AbstainsWithoutCallingTheModelWhenRetrievalIsWeak) {
  ScriptedModel model("anything [1]");
  auto a = ask("honey and quantum chromodynamics entanglement spectroscopy", model);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_TRUE(a->answer.abstained);
  EXPECT_FALSE(a->called_model);
  EXPECT_TRUE(model.requests.empty());
  EXPECT_NE(a->answer.abstain_reason.find("key terms"), std::string::npos) << a->answer.abstain_reason;
}

TEST_F(LlmAnswerTest, ModelAbstentionAndUngroundedAnswersAreWithheld) {
  ScriptedModel no_answer("  NO_ANSWER \n");
  auto a = ask("How do honey bees show where flowers are?", no_answer);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->called_model);
  EXPECT_TRUE(a->answer.abstained);
  EXPECT_NE(a->answer.abstain_reason.find("no answer"), std::string::npos);

  ScriptedModel uncited("Bees use pheromones only.");
  auto b = ask("How do honey bees show where flowers are?", uncited);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->answer.abstained);
  EXPECT_EQ(b->raw, "Bees use pheromones only.");
  LlmAnswerOptions lenient;
  lenient.require_citations = false;
  auto c = ask("How do honey bees show where flowers are?", uncited, lenient);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->answer.abstained);
  EXPECT_FALSE(c->citations.issues.empty());  // the uncited sentence is reported
}

TEST_F(LlmAnswerTest, ConfigRoundTrips) {
  auto o = LlmAnswerOptions::parse("llm:chunks=3,min_retrieval=0.5,max_tokens=64,temperature=0.7,cite_support=0.2,require_citations=0");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->chunks, 3u);
  EXPECT_FALSE(o->require_citations);
  EXPECT_EQ(LlmAnswerOptions::parse(o->to_config())->to_config(), o->to_config());
  EXPECT_FALSE(LlmAnswerOptions::parse("llm:chunks=0").ok());
  EXPECT_FALSE(LlmAnswerOptions::parse("llm:colour=red").ok());
}

}  // namespace
}  // namespace ragft
