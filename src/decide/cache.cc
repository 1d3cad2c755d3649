#include "decide/cache.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "core/hash.h"

namespace ragft::decide {

namespace fs = std::filesystem;

std::string Cache::key(const nlohmann::json& inputs) { return content_hash(inputs.dump()).substr(0, 20); }

fs::path Cache::path(const std::string& kind, const std::string& key) const {
  return dir_ / "results" / fmt::format("{}-{}.json", kind, key);
}

std::optional<nlohmann::json> Cache::get(const std::string& kind, const std::string& key) const {
  if (!enabled_) return std::nullopt;
  std::ifstream in(path(kind, key), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Status Cache::put(const std::string& kind, const std::string& key, const nlohmann::json& value) const {
  fs::path p = path(kind, key);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create cache directory {}: {}", p.parent_path().string(), ec.message());
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << value.dump();
    if (!out) return make_error(ErrorCode::kIo, "cannot write {}", tmp.string());
  }
  fs::rename(tmp, p, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot rename {} to {}: {}", tmp.string(), p.string(), ec.message());
  return ok_status();
}

Result<std::string> input_hash(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorCode::kIo, "cannot read {}", path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return content_hash(ss.str());
  }
  if (!fs::is_directory(path, ec)) return make_error(ErrorCode::kNotFound, "{} does not exist", path.string());
  std::vector<std::string> rows;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto mtime = it->last_write_time(ec).time_since_epoch().count();
    rows.push_back(fmt::format("{}\t{}\t{}", fs::relative(it->path(), path, ec).string(), it->file_size(ec), mtime));
  }
  if (ec) return make_error(ErrorCode::kIo, "cannot list {}: {}", path.string(), ec.message());
  std::sort(rows.begin(), rows.end());
  std::string all;
  for (const auto& r : rows) all += r + "\n";
  return content_hash(all);
}

}  // namespace ragft::decide
