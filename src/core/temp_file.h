// A temporary file holding given bytes, removed when the object goes away (for libraries such
// as fastText that train from a file path).
#pragma once

#include <filesystem>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace ragft {

class TempFile {
 public:
  // Writes `data` to a new file in the system temp directory named "<prefix>XXXXXX".
  // kIo when it cannot be created or written.
  static Result<TempFile> write(std::string_view data, std::string_view prefix = "ragft-");
  TempFile(TempFile&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempFile(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

}  // namespace ragft
