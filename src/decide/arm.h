// One arm of the bake-off and the measurements every arm gets: quality per eval item (with a
// bootstrap interval), single-thread latency per query, and the cost of building it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "decide/project.h"  // kArmIds
#include "evaluate/bootstrap.h"

namespace ragft::decide {

struct ArmCapabilities {
  bool cites = false;  // can point at the source (document span or labelled neighbour) behind an answer
  bool acl = false;    // can enforce per-document access control at query time
  std::string update = "none";  // how new knowledge gets in: "none", "incremental", "retrain"
};

struct ArmResult {
  std::string id;      // one of kArmIds
  std::string name;    // human-readable
  std::string config;  // config string(s) that rerun it
  ArmCapabilities capabilities;
  // Quality per eval item (1/0 correctness, per-query nDCG@10, ...); empty for statistics that
  // are not means (entity F1), which set `quality` directly.
  std::vector<double> per_item;
  Interval quality;
  std::vector<double> latency_ms;  // one sample per eval item (single thread)
  double build_seconds = 0;
  double peak_mb = 0;              // peak resident memory while building (VmHWM after a reset)
  std::uint64_t disk_bytes = 0;    // the saved model or index
  bool cached = false;
  std::string note;
  // Arm-specific facts later steps need (e.g. the chosen k), kept in the cache.
  nlohmann::json extra = nlohmann::json::object();

  // The "arms[]" object of docs/decide-design.md (per_item omitted); generation arms add the
  // "generative", "tokens" and "cost" objects kept in `extra`.
  nlohmann::json to_json() const;
  // Everything, per_item and latency samples included, for the cache.
  nlohmann::json to_cache_json() const;
  static std::optional<ArmResult> from_cache_json(const nlohmann::json& j);
};

// Peak resident set size of this process since the last reset_peak_rss(), in MB (VmHWM from
// /proc/self/status; 0 where unavailable).
double peak_rss_mb();
// Resets the peak (writes "5" to /proc/self/clear_refs); false where the kernel does not allow it,
// in which case peaks are process-lifetime maxima (still an upper bound).
bool reset_peak_rss();

// Total size of the regular files under `dir` (0 when it cannot be listed).
std::uint64_t directory_bytes(const std::filesystem::path& dir);

class Stopwatch {
 public:
  Stopwatch() : t0_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }
  double ms() const { return seconds() * 1e3; }

 private:
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace ragft::decide
