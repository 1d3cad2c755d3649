// `local:path=DIR` chat models: a tiny random Llama checkpoint with a Qwen2-like tokenizer and a
// ChatML template, run through the backend table as `ragft ask --llm local:...` runs it.
#include "generate/local_chat.h"

#include <gtest/gtest.h>

#include <fstream>

#include "embed/bpe_tokenizer.h"
#include "embed/tokenizer_test_data.h"
#include "generate/chat_format.h"
#include "generate_torch/llama_test_util.h"
#include "train/neural_backend.h"

namespace ragft {
namespace {

using namespace testing;  // the tiny checkpoint (llama_test_util.h)

std::filesystem::path write_chat_checkpoint(const std::string& tag, bool with_template = true) {
  const auto dir = temp_dir(tag);
  TinySpec s;
  s.vocab = 400;  // >= the tokenizer's 256 bytes + merges + 3 added tokens
  write_tiny(dir, s);
  std::ofstream(dir / "tokenizer.json") << testdata::bpe_json(testdata::qwen2_spec());
  nlohmann::json tc = {{"eos_token", "<|im_end|>"}};
  if (with_template) {
    tc["chat_template"] =
        "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' "
        "}}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
  }
  std::ofstream(dir / "tokenizer_config.json") << tc.dump();
  return dir;
}

TEST(LocalChatTest, GeneratesFromTheRenderedPromptDeterministically) {
  const auto dir = write_chat_checkpoint("chat");
  auto model = make_chat_model("local:path=" + dir.string());
  ASSERT_TRUE(model.ok()) << model.error().to_string();
  EXPECT_EQ((*model)->config(), "local:path=" + dir.string() + ",format=auto,dtype=auto,threads=0");
  ChatRequest req;
  req.messages = {{ChatRole::kSystem, "Answer briefly."}, {ChatRole::kUser, "hello world"}};
  req.max_tokens = 6;
  auto a = (*model)->complete(req);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  auto b = (*model)->complete(req);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->text, b->text);  // greedy
  ASSERT_TRUE(a->usage.has_value());
  // The prompt is the ChatML rendering, tokenized without extra specials.
  auto tok = HfBpeTokenizer::from_dir(dir);
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  const std::string prompt = *render_chat(ChatFormat::kChatMl, req.messages);
  EXPECT_EQ(a->usage->prompt_tokens, static_cast<std::int64_t>(tok->encode(prompt, false).size()));
  EXPECT_LE(a->usage->completion_tokens, 6);
  EXPECT_GE(a->usage->completion_tokens, 1);
  EXPECT_TRUE(a->finish_reason == "length" || a->finish_reason == "stop") << a->finish_reason;

  std::string streamed;
  auto s = (*model)->stream(req, [&](std::string_view d) {
    streamed += d;
    return true;
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(streamed, a->text);

  req.json = true;
  auto json = (*model)->complete(req);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.error().code, ErrorCode::kUnsupported);
  std::filesystem::remove_all(dir);
}

TEST(LocalChatTest, ConfigAndCheckpointErrors) {
  const auto dir = write_chat_checkpoint("notemplate", /*with_template=*/false);
  auto no_template = make_chat_model("local:path=" + dir.string());
  ASSERT_FALSE(no_template.ok());
  EXPECT_EQ(no_template.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(no_template.error().message.find("name its format"), std::string::npos) << no_template.error().message;
  auto named = make_chat_model("local:path=" + dir.string() + ",format=chatml,dtype=fp32");
  ASSERT_TRUE(named.ok()) << named.error().to_string();
  EXPECT_FALSE(make_chat_model("local:format=chatml").ok());                         // no path
  EXPECT_FALSE(make_chat_model("local:path=" + dir.string() + ",format=vicuna").ok());
  EXPECT_FALSE(make_chat_model("local:path=" + dir.string() + ",dtype=fp8").ok());
  EXPECT_FALSE(make_chat_model("gguf:path=x").ok());
  auto missing = make_chat_model("local:path=/nonexistent/ckpt,format=chatml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragft
