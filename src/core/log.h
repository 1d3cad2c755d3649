// Logging facade over spdlog. Library code logs to stderr only; stdout is for data.
// Events are short `key=value` lines; nothing per posting or per token.
#pragma once

#include <spdlog/spdlog.h>

namespace ragft::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };

// Sets the process-wide level (default: info, or RAGFT_LOG=debug|info|warn|error|off).
void set_level(Level level);
void init_from_env();

template <typename... Args>
void debug(spdlog::format_string_t<Args...> f, Args&&... args) { spdlog::debug(f, std::forward<Args>(args)...); }
template <typename... Args>
void info(spdlog::format_string_t<Args...> f, Args&&... args) { spdlog::info(f, std::forward<Args>(args)...); }
template <typename... Args>
void warn(spdlog::format_string_t<Args...> f, Args&&... args) { spdlog::warn(f, std::forward<Args>(args)...); }
template <typename... Args>
void error(spdlog::format_string_t<Args...> f, Args&&... args) { spdlog::error(f, std::forward<Args>(args)...); }

}  // namespace ragft::log
