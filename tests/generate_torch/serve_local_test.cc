// `ragft serve` over the local engine: a tiny random chat checkpoint behind the OpenAI-compatible
// server, driven by ragft's own OpenAI client, answers exactly as the engine does when called
// directly (greedy decoding is deterministic), whole and streamed.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "generate/local_chat.h"
#include "generate/openai_chat.h"
#include "generate_torch/chat_checkpoint.h"
#include "serve/server.h"

namespace ragft {
namespace {

TEST(ServeLocalTest, OpenAiClientThroughTheServerMatchesTheEngine) {
  const auto dir = testing::temp_dir("serve_local");
  testing::write_chat_checkpoint(dir / "base");
  auto local = make_chat_model("local:path=" + (dir / "base").string() + ",threads=1");
  ASSERT_TRUE(local.ok()) << local.error().to_string();
  std::shared_ptr<const ChatModel> engine(std::move(*local));

  serve::ServeOptions o;
  o.port = 0;
  o.threads = 2;
  o.keep_alive_timeout_s = 1;  // stop() waits for the client's idle keep-alive connection
  serve::ServeComponents c;
  c.chat = engine;
  auto server = serve::Server::make(o, std::move(c));
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start().ok());
  auto client = make_openai_chat("openai:url=http://127.0.0.1:" + std::to_string((*server)->port()) +
                                 "/v1,model=local,key_env=,retries=0,timeout_ms=60000");
  ASSERT_TRUE(client.ok()) << client.error().to_string();

  ChatRequest r;
  r.messages = {{ChatRole::kSystem, "Reply in JSON."}, {ChatRole::kUser, "cat"}};
  r.max_tokens = 12;
  r.temperature = 0;
  auto direct = engine->complete(r);
  ASSERT_TRUE(direct.ok()) << direct.error().to_string();
  ASSERT_FALSE(direct->text.empty());

  auto served = (*client)->complete(r);
  ASSERT_TRUE(served.ok()) << served.error().to_string();
  EXPECT_EQ(served->text, direct->text);
  EXPECT_EQ(served->finish_reason, direct->finish_reason);
  ASSERT_TRUE(served->usage && direct->usage);
  EXPECT_EQ(served->usage->prompt_tokens, direct->usage->prompt_tokens);
  EXPECT_EQ(served->usage->completion_tokens, direct->usage->completion_tokens);

  std::string deltas;
  auto streamed = (*client)->stream(r, [&](std::string_view d) {
    deltas += d;
    return true;
  });
  ASSERT_TRUE(streamed.ok()) << streamed.error().to_string();
  EXPECT_TRUE(streamed->streamed);
  EXPECT_EQ(deltas, direct->text);
  EXPECT_EQ(streamed->text, direct->text);

  // JSON mode is not something the local engine does: a 400 the client reports as such.
  ChatRequest json = r;
  json.json = true;
  json.messages[1].content = "cat, as JSON";
  auto refused = (*client)->complete(json);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().to_string();
  (*server)->stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragft
