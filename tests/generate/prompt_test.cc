// Prompt templates: parsing, rendering and the errors users see when they edit one.
#include "generate/prompt.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

TEST(PromptTest, DefaultTemplateRendersNumberedSources) {
  const PromptTemplate& t = PromptTemplate::default_template();
  EXPECT_EQ(t.abstain_reply(), "NO_ANSWER");
  RenderedPrompt p = t.render("What do bees make?", {{1, "d1", "Bees", "Bees make honey."}, {2, "d2", "Ants", "Ants dig."}});
  EXPECT_NE(p.system.find("NO_ANSWER"), std::string::npos);
  EXPECT_EQ(p.user, "Sources:\n\n[1] Bees\nBees make honey.\n\n[2] Ants\nAnts dig.\n\nQuestion: What do bees make?");
  // The default text round-trips through parse.
  auto again = PromptTemplate::parse(PromptTemplate::default_text(), "x");
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->render("q", {}).user, t.render("q", {}).user);
}

TEST(PromptTest, CustomTemplateAndPlaceholdersInsideValuesStayLiteral) {
  auto t = PromptTemplate::parse("# mine\n[source]\n<{{doc_id}}#{{n}}> {{text}}\n[user]\n{{question}}\n---\n{{sources}}\n[abstain]\nIDK\n",
                                 "mine.txt");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  RenderedPrompt p = t->render("Q {{sources}}?", {{3, "a", "", "text with {{question}}"}});
  EXPECT_EQ(p.system, "");
  EXPECT_EQ(p.user, "Q {{sources}}?\n---\n<a#3> text with {{question}}");
  EXPECT_EQ(t->abstain_reply(), "IDK");
}

TEST(PromptTest, EditingMistakesAreNamed) {
  auto expect = [](std::string_view text, std::string_view needle) {
    auto t = PromptTemplate::parse(text, "p.txt");
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(t.error().message.find(needle), std::string::npos) << t.error().message;
  };
  expect("[source]\n{{text}}\n[abstain]\nNO\n", "no [user] section");
  expect("[source]\n{{txt}}\n[user]\n{{question}}\n[abstain]\nNO\n", "{{txt}}");
  expect("[source]\n{{text}}\n[user]\n{{sources}}\n[abstain]\nNO\n", "never says {{question}}");
  expect("[source]\n{{text}}\n[user]\n{{question}}\n[abstain]\nNO\n[user]\nx\n", "p.txt:7: section [user] appears twice");
  expect("[sauce]\n", "unknown section [sauce]");
  expect("hello\n[user]\n{{question}}\n", "p.txt:1: text before the first section");
  expect("[source]\n{{text}}\n[user]\n{{question}}\n[abstain]\nNO\nANSWER\n", "one non-empty line");
  auto missing = PromptTemplate::load("/nonexistent/prompt.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ragft
