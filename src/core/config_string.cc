#include "core/config_string.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

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

Result<long long> config_int(std::string_view kind, std::string_view key, std::string_view value, long long lo,
                             long long hi) {
  long long v = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || v < lo || v > hi) {
    return make_error(ErrorCode::kInvalidArgument, "{} option {}=\"{}\" must be an integer in [{}, {}]", kind, key,
                      value, lo, hi);
  }
  return v;
}

Result<double> config_double(std::string_view kind, std::string_view key, std::string_view value, double lo,
                             double hi) {
  // std::from_chars for double needs GCC 11+; strtod on a NUL-terminated copy is portable.
  const std::string s(value);
  char* end = nullptr;
  const double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < lo || v > hi) {
    return make_error(ErrorCode::kInvalidArgument, "{} option {}=\"{}\" must be a number in [{}, {}]", kind, key,
                      value, lo, hi);
  }
  return v;
}

NestedConfig split_nested_config(std::string_view config, std::string_view nested) {
  const std::string marker = std::string(nested) + ":";
  for (std::size_t at = config.find(marker); at != std::string_view::npos; at = config.find(marker, at + 1)) {
    if (at > 0 && (config[at - 1] == ',' || config[at - 1] == ':')) {
      std::string_view head = config.substr(0, at - 1);
      return {head, config.substr(at)};
    }
  }
  return {config, {}};
}

}  // namespace ragft
