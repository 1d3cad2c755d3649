// Chat formats against the families' own Jinja templates. The expected strings were rendered by
// @huggingface/jinja (npm, run outside the repo) from the chat_template of Qwen2.5 (chatml),
// Meta-Llama-3-Instruct, Llama-2-chat and Mistral-7B-Instruct-v0.1, with bos "<s>", eos "</s>"
// and add_generation_prompt.
#include "generate/chat_format.h"

#include <gtest/gtest.h>

namespace ragft {
namespace {

const std::vector<ChatMessage> kWithSystem = {{ChatRole::kSystem, "You are terse."},
                                              {ChatRole::kUser, " What is lava? "},
                                              {ChatRole::kAssistant, "Molten rock. "},
                                              {ChatRole::kUser, "And magma?\n"}};
const std::vector<ChatMessage> kNoSystem = {
    {ChatRole::kUser, "Hi there"}, {ChatRole::kAssistant, " Hello!"}, {ChatRole::kUser, "Bye"}};

std::string render(ChatFormat f, const std::vector<ChatMessage>& m) {
  auto r = render_chat(f, m);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : std::string();
}

TEST(ChatFormatTest, MatchesTheFamiliesTemplates) {
  EXPECT_EQ(render(ChatFormat::kChatMl, kWithSystem),
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n What is lava? <|im_end|>\n<|im_start|>"
            "assistant\nMolten rock. <|im_end|>\n<|im_start|>user\nAnd magma?\n<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render(ChatFormat::kChatMl, kNoSystem),
            "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n Hello!<|im_end|>\n<|im_start|>user\nBye<|im_"
            "end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render(ChatFormat::kLlama3, kWithSystem),
            "<s><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_"
            "header_id|>\n\nWhat is lava?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nMolten rock.<|eot_"
            "id|><|start_header_id|>user<|end_header_id|>\n\nAnd magma?<|eot_id|><|start_header_id|>assistant<|end_"
            "header_id|>\n\n");
  EXPECT_EQ(render(ChatFormat::kLlama3, kNoSystem),
            "<s><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_"
            "id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>"
            "assistant<|end_header_id|>\n\n");
  EXPECT_EQ(render(ChatFormat::kLlama2, kWithSystem),
            "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\n What is lava? [/INST] Molten rock. </s><s>[INST] And magma? "
            "[/INST]");
  EXPECT_EQ(render(ChatFormat::kLlama2, kNoSystem), "<s>[INST] Hi there [/INST] Hello! </s><s>[INST] Bye [/INST]");
  EXPECT_EQ(render(ChatFormat::kMistral, kNoSystem), "<s>[INST] Hi there [/INST] Hello!</s>[INST] Bye [/INST]");
  // Mistral's template has no system role: ours puts it before the first user message.
  EXPECT_EQ(render(ChatFormat::kMistral, {{ChatRole::kSystem, "Be brief."}, {ChatRole::kUser, "Hi"}}),
            "<s>[INST] Be brief.\n\nHi [/INST]");
}

TEST(ChatFormatTest, DetectionNamesAndTurnErrors) {
  EXPECT_EQ(*detect_chat_format("{{ '<|im_start|>' + message.role }}"), ChatFormat::kChatMl);
  EXPECT_EQ(*detect_chat_format("'<|start_header_id|>' + message['role']"), ChatFormat::kLlama3);
  EXPECT_EQ(*detect_chat_format("[INST] <<SYS>>"), ChatFormat::kLlama2);
  EXPECT_EQ(*detect_chat_format("'[INST] ' + message['content']"), ChatFormat::kMistral);
  EXPECT_EQ(detect_chat_format("{{ messages }}").error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(detect_chat_format("").error().code, ErrorCode::kUnsupported);
  for (ChatFormat f : {ChatFormat::kChatMl, ChatFormat::kLlama3, ChatFormat::kLlama2, ChatFormat::kMistral}) {
    EXPECT_EQ(*parse_chat_format(chat_format_name(f)), f);
  }
  EXPECT_FALSE(parse_chat_format("vicuna").ok());
  auto twice = render_chat(ChatFormat::kLlama2, {{ChatRole::kUser, "a"}, {ChatRole::kUser, "b"}});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("message 2 is user but must be assistant"), std::string::npos)
      << twice.error().message;
  EXPECT_FALSE(render_chat(ChatFormat::kMistral, {{ChatRole::kUser, "a"}, {ChatRole::kAssistant, "b"}}).ok());
  EXPECT_FALSE(render_chat(ChatFormat::kChatMl, {}).ok());
  EXPECT_EQ(end_of_turn(ChatFormat::kChatMl), std::vector<std::string>{"<|im_end|>"});
  EXPECT_EQ(end_of_turn(ChatFormat::kLlama3), std::vector<std::string>{"<|eot_id|>"});
  EXPECT_EQ(end_of_turn(ChatFormat::kMistral, "</s>"), std::vector<std::string>{"</s>"});
}

}  // namespace
}  // namespace ragft
