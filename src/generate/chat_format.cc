#include "generate/chat_format.h"

#include <fmt/format.h>

namespace ragft {

namespace {

std::string_view trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// [system] user (assistant user)* : the turn structure llama2 and mistral accept.
Status check_alternation(ChatFormat f, const std::vector<ChatMessage>& m) {
  std::size_t i = !m.empty() && m[0].role == ChatRole::kSystem ? 1 : 0;
  if (i == m.size()) {
    return make_error(ErrorCode::kInvalidArgument, "{} chat: the messages need a user message", chat_format_name(f));
  }
  for (std::size_t k = i; k < m.size(); ++k) {
    const ChatRole want = (k - i) % 2 == 0 ? ChatRole::kUser : ChatRole::kAssistant;
    if (m[k].role != want) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{} chat: message {} is {} but must be {} (an optional system message first, then user and "
                        "assistant turns alternating)",
                        chat_format_name(f), k + 1, chat_role_name(m[k].role), chat_role_name(want));
    }
  }
  if (m.back().role != ChatRole::kUser) {
    return make_error(ErrorCode::kInvalidArgument, "{} chat: the last message must be the user's", chat_format_name(f));
  }
  return ok_status();
}

}  // namespace

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::kChatMl:
      return "chatml";
    case ChatFormat::kLlama3:
      return "llama3";
    case ChatFormat::kLlama2:
      return "llama2";
    case ChatFormat::kMistral:
      return "mistral";
  }
  return "?";
}

Result<ChatFormat> parse_chat_format(std::string_view name) {
  for (ChatFormat f : {ChatFormat::kChatMl, ChatFormat::kLlama3, ChatFormat::kLlama2, ChatFormat::kMistral}) {
    if (name == chat_format_name(f)) return f;
  }
  return make_error(ErrorCode::kInvalidArgument, "unknown chat format \"{}\" (chatml, llama3, llama2, mistral)", name);
}

Result<ChatFormat> detect_chat_format(std::string_view t) {
  if (t.find("<|im_start|>") != std::string_view::npos) return ChatFormat::kChatMl;
  if (t.find("<|start_header_id|>") != std::string_view::npos) return ChatFormat::kLlama3;
  if (t.find("[INST]") != std::string_view::npos) {
    return t.find("<<SYS>>") != std::string_view::npos ? ChatFormat::kLlama2 : ChatFormat::kMistral;
  }
  if (t.empty()) {
    return make_error(ErrorCode::kUnsupported,
                      "the checkpoint has no chat template; name its format (chatml, llama3, llama2, mistral)");
  }
  return make_error(ErrorCode::kUnsupported,
                    "the checkpoint's chat template is not one of chatml, llama3, llama2 or mistral; name the format "
                    "to use");
}

Result<std::string> render_chat(ChatFormat f, const std::vector<ChatMessage>& m, std::string_view bos,
                                std::string_view eos) {
  if (m.empty()) return make_error(ErrorCode::kInvalidArgument, "{} chat: no messages", chat_format_name(f));
  std::string out;
  switch (f) {
    case ChatFormat::kChatMl:
      for (const auto& msg : m) out += fmt::format("<|im_start|>{}\n{}<|im_end|>\n", chat_role_name(msg.role), msg.content);
      out += "<|im_start|>assistant\n";
      return out;
    case ChatFormat::kLlama3:
      out = std::string(bos);
      for (const auto& msg : m) {
        out += fmt::format("<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>", chat_role_name(msg.role),
                           trim(msg.content));
      }
      out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
    case ChatFormat::kLlama2: {
      RAGFT_TRY_STATUS(check_alternation(f, m));
      std::size_t i = 0;
      std::string system;
      if (m[0].role == ChatRole::kSystem) {
        system = fmt::format("<<SYS>>\n{}\n<</SYS>>\n\n", m[0].content);
        i = 1;
      }
      for (std::size_t k = i; k < m.size(); k += 2) {
        const std::string content = (k == i ? system : std::string()) + m[k].content;
        out += fmt::format("{}[INST] {} [/INST]", bos, trim(content));
        if (k + 1 < m.size()) out += fmt::format(" {} {}", trim(m[k + 1].content), eos);
      }
      return out;
    }
    case ChatFormat::kMistral: {
      RAGFT_TRY_STATUS(check_alternation(f, m));
      std::size_t i = 0;
      std::string system;
      if (m[0].role == ChatRole::kSystem) {
        system = m[0].content + "\n\n";
        i = 1;
      }
      out = std::string(bos);
      for (std::size_t k = i; k < m.size(); k += 2) {
        out += fmt::format("[INST] {}{} [/INST]", k == i ? system : "", m[k].content);
        if (k + 1 < m.size()) out += fmt::format("{}{}", m[k + 1].content, eos);
      }
      return out;
    }
  }
  return make_error(ErrorCode::kInternal, "unknown chat format");
}

std::vector<std::string> end_of_turn(ChatFormat f, std::string_view eos) {
  switch (f) {
    case ChatFormat::kChatMl:
      return {"<|im_end|>"};
    case ChatFormat::kLlama3:
      return {"<|eot_id|>"};
    case ChatFormat::kLlama2:
    case ChatFormat::kMistral:
      return {std::string(eos)};
  }
  return {std::string(eos)};
}

}  // namespace ragft
