#include "decide/arm.h"

#include <fstream>
#include <string>

#include "evaluate/latency.h"

namespace ragft::decide {

namespace {
nlohmann::json interval_json(const Interval& q) { return {{"value", q.value}, {"ci_low", q.low}, {"ci_high", q.high}}; }
}  // namespace

nlohmann::json ArmResult::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"name", name},
                      {"config", config},
                      {"capabilities",
                       {{"cites", capabilities.cites}, {"acl", capabilities.acl}, {"update", capabilities.update}}},
                      {"quality", interval_json(quality)},
                      {"build", {{"seconds", build_seconds}, {"peak_mb", peak_mb}, {"disk_bytes", disk_bytes}}},
                      {"cached", cached},
                      {"note", note}};
  if (latency_ms.empty()) {
    j["latency_ms"] = {{"p50", nullptr}, {"p95", nullptr}};
  } else {
    j["latency_ms"] = {{"p50", percentile(latency_ms, 0.50)}, {"p95", percentile(latency_ms, 0.95)}};
  }
  // Generation arms: every generative metric, and the token-cost model (decide/generation.h).
  for (const char* key : {"generative", "tokens", "cost"}) {
    if (extra.contains(key)) j[key] = extra[key];
  }
  return j;
}

nlohmann::json ArmResult::to_cache_json() const {
  nlohmann::json j = to_json();
  j["per_item"] = per_item;
  j["latency_samples_ms"] = latency_ms;
  j["extra"] = extra;
  return j;
}

std::optional<ArmResult> ArmResult::from_cache_json(const nlohmann::json& j) {
  try {
    ArmResult a;
    a.id = j.at("id").get<std::string>();
    a.name = j.at("name").get<std::string>();
    a.config = j.at("config").get<std::string>();
    const auto& c = j.at("capabilities");
    a.capabilities = {c.at("cites").get<bool>(), c.at("acl").get<bool>(), c.at("update").get<std::string>()};
    a.per_item = j.at("per_item").get<std::vector<double>>();
    const auto& q = j.at("quality");
    a.quality = {q.at("value").get<double>(), q.at("ci_low").get<double>(), q.at("ci_high").get<double>()};
    a.latency_ms = j.at("latency_samples_ms").get<std::vector<double>>();
    const auto& b = j.at("build");
    a.build_seconds = b.at("seconds").get<double>();
    a.peak_mb = b.at("peak_mb").get<double>();
    a.disk_bytes = b.at("disk_bytes").get<std::uint64_t>();
    a.note = j.value("note", "");
    a.extra = j.value("extra", nlohmann::json::object());
    a.cached = true;
    return a;
  } catch (const std::exception&) {
    return std::nullopt;  // an old or damaged cache entry: the arm is simply rerun
  }
}

double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return 0;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

std::uint64_t directory_bytes(const std::filesystem::path& dir) {
  std::error_code ec;
  std::uint64_t total = 0;
  if (std::filesystem::is_regular_file(dir, ec)) return std::filesystem::file_size(dir, ec);
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace ragft::decide
