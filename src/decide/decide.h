// `ragft decide`: the whole report — requirements, profile, bake-off, recommendation — as the
// JSON document of docs/decide-design.md. With no data in the project, the requirements-only
// plan (recommend.h plan_without_data).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "decide/generation.h"
#include "decide/project.h"

namespace ragft::decide {

struct DecideOptions {
  std::filesystem::path cache_dir;  // empty: project.bakeoff.cache, else <project dir>/.ragft-decide
  bool use_cache = true;
  std::function<void(const std::string&)> log;
  // Generation bake-offs (generation.h): substitutes for tests; empty: the real ones.
  OpenChatFn open_chat;
  TrainAdapterFn train_adapter;
};

// The cache directory decide() uses for `p` and `o`.
std::filesystem::path cache_dir_for(const Project& p, const DecideOptions& o);

Result<nlohmann::json> decide(const Project& project, const DecideOptions& options);

}  // namespace ragft::decide
