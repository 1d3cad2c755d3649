#include "core/log.h"

#include <cstdlib>
#include <string_view>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace ragft::log {

namespace {
void ensure_stderr_logger() {
  static bool done = [] {
    auto logger = spdlog::stderr_color_mt("ragft");
    logger->set_pattern("%^%l%$ %v");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)done;
}
}  // namespace

void set_level(Level level) {
  ensure_stderr_logger();
  switch (level) {
    case Level::kDebug: spdlog::set_level(spdlog::level::debug); break;
    case Level::kInfo: spdlog::set_level(spdlog::level::info); break;
    case Level::kWarn: spdlog::set_level(spdlog::level::warn); break;
    case Level::kError: spdlog::set_level(spdlog::level::err); break;
    case Level::kOff: spdlog::set_level(spdlog::level::off); break;
  }
}

void init_from_env() {
  const char* env = std::getenv("RAGFT_LOG");
  std::string_view v = env ? env : "info";
  if (v == "debug") set_level(Level::kDebug);
  else if (v == "warn") set_level(Level::kWarn);
  else if (v == "error") set_level(Level::kError);
  else if (v == "off") set_level(Level::kOff);
  else set_level(Level::kInfo);
}

}  // namespace ragft::log
