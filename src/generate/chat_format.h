// Chat prompt formats of the model families the local engine runs (generate/torch/llama.h):
// messages -> the prompt text a chat-tuned checkpoint was trained on, ending with the opening of
// the assistant's turn (transformers' apply_chat_template with add_generation_prompt=True).
// Torch-free.
//
//   chatml   Qwen2 / Qwen2.5, SmolLM2-Instruct:
//            <|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n
//   llama3   Llama 3.x Instruct: {bos}<|start_header_id|>{role}<|end_header_id|>\n\n{content,
//            trimmed}<|eot_id|> ... <|start_header_id|>assistant<|end_header_id|>\n\n
//   llama2   Llama 2 Chat: {bos}[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant}
//            {eos}{bos}[INST] {user} [/INST]   (each turn's text, the system block included,
//            trimmed at its ends)
//   mistral  Mistral Instruct v0.1-v0.3: {bos}[INST] {user} [/INST]{assistant}{eos}[INST] {user}
//            [/INST]; a system message is put before the first user message, separated by "\n\n".
//
// The families' templates sometimes add text of their own (Qwen2.5's and SmolLM2's default
// system message, Llama 3.1's "Cutting Knowledge Date"); these are not added: give a system
// message when the model expects one. Special tokens are written as text; the tokenizer maps them
// to their ids (generate them with add_special_tokens=false so BOS is not doubled).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "generate/chat.h"

namespace ragft {

enum class ChatFormat { kChatMl, kLlama3, kLlama2, kMistral };

const char* chat_format_name(ChatFormat f);
// "chatml", "llama3", "llama2", "mistral"; anything else -> kInvalidArgument listing them.
Result<ChatFormat> parse_chat_format(std::string_view name);
// The family of a checkpoint's Jinja chat template (tokenizer_config.json "chat_template"), by
// its markers: <|im_start|> -> chatml, <|start_header_id|> -> llama3, [INST] with <<SYS>> ->
// llama2, [INST] -> mistral. Empty or unrecognised -> kUnsupported (name the format instead).
Result<ChatFormat> detect_chat_format(std::string_view jinja_template);

// The prompt for `messages` (at least one). Roles must alternate as the format requires:
// llama2 and mistral take an optional first system message, then user/assistant turns starting
// and ending with user; otherwise -> kInvalidArgument naming the message.
Result<std::string> render_chat(ChatFormat f, const std::vector<ChatMessage>& messages, std::string_view bos = "<s>",
                                std::string_view eos = "</s>");

// Text that ends the assistant's turn (stop sequences): "<|im_end|>", "<|eot_id|>", or eos.
std::vector<std::string> end_of_turn(ChatFormat f, std::string_view eos = "</s>");

}  // namespace ragft
