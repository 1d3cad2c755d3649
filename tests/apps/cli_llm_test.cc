// `ragft ask --llm`: the whole path against an OpenAI-compatible server on loopback (a fake
// that answers with a scripted completion and records the request).
#include <gtest/gtest.h>


#include "apps/fake_chat_server.h"
#include "apps/test_util.h"

namespace ragft {
namespace {

using testing::make_temp_dir;
using testing::quote;
using testing::run_ragft;
using testing::write_file;
using testing::ChatServer;

TEST(CliLlmTest, AskWithAModelBehindAnOpenAiCompatibleServer) {
  const auto root = make_temp_dir("ragft_cli_llm_");
  write_file(root / "docs" / "volcano.md",
             "# Volcanoes\n\nA volcano is a rupture in the crust of a planet. Lava flows from the vent during an "
             "eruption.\n");
  write_file(root / "docs" / "bees.txt", "Honey bees communicate the location of flowers with a waggle dance.\n");
  const std::string ws = "--data " + quote((root / "ws").string());
  ASSERT_EQ(run_ragft(ws + " index " + quote((root / "docs").string())).exit_code, 0);

  ChatServer server("Lava flows out of the vent during an eruption [1].");
  auto r = run_ragft(ws + " --json ask " + quote("What flows from the vent during an eruption?") + " --llm " +
                     quote(server.config()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["abstained"].get<bool>()) << j;
  ASSERT_EQ(j["sentences"].size(), 1u);
  EXPECT_EQ(j["sentences"][0]["citations"], nlohmann::json::array({1}));
  EXPECT_NE(j["sources"][0]["doc_id"].get<std::string>().find("volcano.md"), std::string::npos);
  EXPECT_TRUE(j["llm"]["called"].get<bool>());
  EXPECT_EQ(j["llm"]["usage"]["completion_tokens"], 12);
  EXPECT_EQ(j["llm"]["citations_valid"], 1);
  auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0]["model"], "fake");
  const std::string user = bodies[0]["messages"].back()["content"];
  EXPECT_NE(user.find("[1] Volcanoes"), std::string::npos) << user;

  // A question the corpus cannot answer: abstains without calling the model.
  auto none = run_ragft(ws + " --json ask " + quote("Who won the chess olympiad in 1994?") + " --llm " +
                        quote(server.config()));
  ASSERT_EQ(none.exit_code, 0) << none.out;
  auto nj = nlohmann::json::parse(none.out);
  EXPECT_TRUE(nj["abstained"].get<bool>());
  EXPECT_EQ(server.bodies().size(), 1u);

  // --prompt without --llm, and a bad template, are clear errors.
  auto stray = run_ragft(ws + " ask lava --prompt x.txt", true);
  EXPECT_EQ(stray.exit_code, 1);
  EXPECT_NE(stray.out.find("--llm"), std::string::npos) << stray.out;
  write_file(root / "bad_prompt.txt", "[user]\nno question here\n");
  auto bad = run_ragft(ws + " ask lava --llm " + quote(server.config()) + " --prompt " +
                           quote((root / "bad_prompt.txt").string()),
                       true);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("bad_prompt.txt"), std::string::npos) << bad.out;
  std::filesystem::remove_all(root);
}

TEST(CliLlmTest, GenerateSendsThePromptClosedBook) {
  ChatServer server("Pelmont.");
  auto r = run_ragft("--json generate " + quote("What is the capital of Zorvia?") + " --llm " + quote(server.config()) +
                     " --system " + quote("Answer in one word.") + " --max-tokens 8 --temperature 0 --stop END");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], "Pelmont.");
  EXPECT_EQ(j["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 90);
  auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  ASSERT_EQ(bodies[0]["messages"].size(), 2u);
  EXPECT_EQ(bodies[0]["messages"][0]["role"], "system");
  EXPECT_EQ(bodies[0]["messages"][0]["content"], "Answer in one word.");
  EXPECT_EQ(bodies[0]["messages"][1]["content"], "What is the capital of Zorvia?");
  EXPECT_EQ(bodies[0]["max_tokens"], 8);
  EXPECT_EQ(bodies[0]["temperature"], 0);
  EXPECT_EQ(bodies[0]["stop"], nlohmann::json::array({"END"}));

  auto plain = run_ragft("generate hello --llm " + quote(server.config()));
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_NE(plain.out.find("Pelmont."), std::string::npos) << plain.out;

  auto bad = run_ragft("generate hello --llm nonsense:x", true);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("nonsense"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace ragft
