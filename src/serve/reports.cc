#include "serve/reports.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>

#include <fmt/format.h>

#include "core/env.h"
#include "core/utf8.h"

namespace ragft::serve {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFileNames[2] = {"report.html", "report.json"};

struct Located {
  std::string name;
  fs::path html, json;  // real paths, inside the root
};

Result<fs::path> real_root(const fs::path& dir) {
  std::error_code ec;
  fs::path root = fs::canonical(dir, ec);
  if (ec) return make_error(ErrorCode::kIo, "reports directory {}: {}", dir.string(), ec.message());
  if (!fs::is_directory(root, ec)) {
    return make_error(ErrorCode::kIo, "reports directory {} is not a directory", dir.string());
  }
  return root;
}

// DIR's own report's name.
std::string root_name(const fs::path& root) {
  std::string name = root.filename().string();
  return name.empty() || !ReportShelf::name_problem(name).empty() ? "report" : name;
}

bool inside(const fs::path& root, const fs::path& real) {
  const fs::path rel = real.lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && *rel.begin() != ".";
}

// The report in directory `d` when it holds one inside `root` (symlinks followed).
std::optional<Located> locate(const fs::path& root, const fs::path& d, std::string name) {
  Located out{std::move(name), {}, {}};
  for (int i = 0; i < 2; ++i) {
    std::error_code ec;
    fs::path real = fs::canonical(d / kFileNames[i], ec);
    if (ec || !inside(root, real) || !fs::is_regular_file(real, ec) || ec) return std::nullopt;
    (i == 0 ? out.html : out.json) = std::move(real);
  }
  return out;
}

std::string url_component(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

json string_at(const json& j, std::initializer_list<const char*> path) {
  const json* at = &j;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &(*at)[key];
  }
  return at->is_string() ? *at : json(nullptr);
}

json summary(const Located& r) {
  json out = {{"name", r.name},
              {"html_url", "/reports/" + url_component(r.name)},
              {"json_url", "/v1/reports/" + url_component(r.name)}};
  struct ::stat st {};
  std::int64_t ms = 0;
  if (::stat(r.json.c_str(), &st) == 0) ms = std::int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000;
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  char when[32] = "";
  if (::gmtime_r(&secs, &tm)) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  out["modified"] = when;
  out["modified_unix_ms"] = ms;
  json report;
  std::string error;
  auto bytes = Env::posix().read_file(r.json);
  if (!bytes.ok()) {
    error = bytes.error().message;
  } else {
    report = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
    if (report.is_discarded()) {
      error = "report.json is not valid JSON";
    } else if (!report.is_object()) {
      error = "report.json is not a JSON object";
    }
  }
  json title = string_at(report, {"project", "name"});
  out["title"] = title.is_null() ? json(r.name) : title;
  out["task"] = string_at(report, {"project", "task"});
  out["decision"] = string_at(report, {"recommendation", "decision"});
  out["arm"] = string_at(report, {"recommendation", "arm"});
  out["headline"] = string_at(report, {"recommendation", "headline"});
  out["metric"] = string_at(report, {"metric", "label"});
  if (!error.empty()) out["error"] = error;
  return out;
}

}  // namespace

std::string ReportShelf::name_problem(std::string_view name) {
  if (name.empty()) return "a report name is empty";
  if (name.front() == '.') return "a report name may not start with '.'";
  if (name.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos) {
    return "a report name is one directory name under --reports: no '/', '\\' or NUL";
  }
  if (!is_valid_utf8(name)) return "a report name must be UTF-8";
  return {};
}

Result<json> ReportShelf::list() const {
  RAGFT_TRY(fs::path root, real_root(dir_));
  std::vector<Located> found;
  const std::string own = root_name(root);
  const std::optional<Located> at_root = locate(root, root, own);
  if (at_root) found.push_back(*at_root);
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec) return make_error(ErrorCode::kIo, "reports directory {}: {}", dir_.string(), ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name_problem(name).empty() || (name == own && at_root)) continue;
    std::error_code dir_ec;
    if (!fs::is_directory(it->path(), dir_ec)) continue;
    if (auto r = locate(root, it->path(), name)) found.push_back(std::move(*r));
  }
  if (ec) return make_error(ErrorCode::kIo, "reports directory {}: {}", dir_.string(), ec.message());
  json data = json::array();
  for (const Located& r : found) data.push_back(summary(r));
  std::sort(data.begin(), data.end(), [](const json& a, const json& b) {
    const auto ma = a["modified_unix_ms"].get<std::int64_t>(), mb = b["modified_unix_ms"].get<std::int64_t>();
    return ma != mb ? ma > mb : a["name"].get<std::string>() < b["name"].get<std::string>();
  });
  return data;
}

Result<std::string> ReportShelf::read(std::string_view name, ReportFile file) const {
  if (std::string why = name_problem(name); !why.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "report name '{}': {}", sanitize_utf8(name), why);
  }
  RAGFT_TRY(fs::path root, real_root(dir_));
  std::optional<Located> r;
  if (name == root_name(root)) r = locate(root, root, std::string(name));
  if (!r) r = locate(root, root / std::string(name), std::string(name));
  if (!r) return make_error(ErrorCode::kNotFound, "no report named '{}' (GET /v1/reports lists them)", name);
  return Env::posix().read_file(file == ReportFile::kHtml ? r->html : r->json);
}

}  // namespace ragft::serve
