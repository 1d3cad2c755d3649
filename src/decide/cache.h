// The bake-off cache: one JSON file per finished arm (or freshness experiment), keyed by a hash
// of everything that determines its result — the task, the content hashes of the input files,
// the arm's config string, the seed — so a re-run with the same inputs reuses it and any change
// reruns it. Writes are atomic (temp file + rename): an interrupted run leaves no half entry.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace ragft::decide {

class Cache {
 public:
  explicit Cache(std::filesystem::path dir, bool enabled = true) : dir_(std::move(dir)), enabled_(enabled) {}
  // The key of a JSON description of the inputs (its canonical dump's content hash, shortened).
  static std::string key(const nlohmann::json& inputs);
  // The entry for (kind, key), or nullopt (missing, disabled, unreadable or not JSON).
  std::optional<nlohmann::json> get(const std::string& kind, const std::string& key) const;
  Status put(const std::string& kind, const std::string& key, const nlohmann::json& value) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path path(const std::string& kind, const std::string& key) const;
  std::filesystem::path dir_;
  bool enabled_;
};

// Content hash of a file, or of a folder's listing (relative path, size, mtime of every regular
// file, sorted). Missing -> kNotFound.
Result<std::string> input_hash(const std::filesystem::path& path);

}  // namespace ragft::decide
