#include "generate/chat.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace ragft {

const char* chat_role_name(ChatRole role) {
  switch (role) {
    case ChatRole::kSystem:
      return "system";
    case ChatRole::kUser:
      return "user";
    case ChatRole::kAssistant:
      return "assistant";
  }
  return "user";
}

Status ChatRequest::validate() const {
  auto bad = [](std::string_view field, std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument, "chat request: {} {}", field, why);
  };
  if (messages.empty()) return bad("messages", "must hold at least one message");
  if (max_tokens < 0) return bad("max_tokens", fmt::format("={} must be >= 0 (0: not sent)", max_tokens));
  if (temperature && !(std::isfinite(*temperature) && *temperature >= 0 && *temperature <= 2)) {
    return bad("temperature", fmt::format("={} must be in [0, 2]", *temperature));
  }
  if (top_p && !(std::isfinite(*top_p) && *top_p > 0 && *top_p <= 1)) {
    return bad("top_p", fmt::format("={} must be in (0, 1]", *top_p));
  }
  for (std::size_t i = 0; i < stop.size(); ++i) {
    if (stop[i].empty()) return bad(fmt::format("stop[{}]", i), "is empty");
  }
  if (!json_schema.empty()) {
    try {
      if (!nlohmann::json::parse(json_schema).is_object()) return bad("json_schema", "is not a JSON object");
    } catch (const nlohmann::json::exception& e) {
      return bad("json_schema", fmt::format("is not JSON ({})", e.what()));
    }
    if (json_schema_name.empty() || json_schema_name.size() > 64) {
      return bad("json_schema_name", "must be 1 to 64 characters");
    }
    for (char c : json_schema_name) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      if (!ok) return bad("json_schema_name", fmt::format("\"{}\" must match [A-Za-z0-9_-]", json_schema_name));
    }
  }
  return ok_status();
}

}  // namespace ragft
