#include "core/config_string.h"

namespace ragft {

Result<std::vector<std::pair<std::string, std::string>>> config_items(std::string_view config, std::string_view kind) {
  std::string_view body = config;
  if (body == kind) {
    body = {};
  } else if (body.size() > kind.size() && body.starts_with(kind) && body[kind.size()] == ':') {
    body.remove_prefix(kind.size() + 1);
  }
  std::vector<std::pair<std::string, std::string>> items;
  while (!body.empty()) {
    std::size_t comma = body.find(',');
    std::string_view item = body.substr(0, comma);
    body = comma == std::string_view::npos ? std::string_view{} : body.substr(comma + 1);
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument, "{} config \"{}\": \"{}\" is not key=value", kind, config, item);
    }
    items.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
  }
  return items;
}

}  // namespace ragft
