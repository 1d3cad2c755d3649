// Env: the file-system seam. Everything that persists goes through an Env so tests can inject
// faults (FaultEnv fails the Nth write). Env::posix() is thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ragft {

class Env {
 public:
  virtual ~Env() = default;
  static Env& posix();

  virtual Result<std::string> read_file(const std::filesystem::path& path);
  // Writes to `path.tmp`, fsyncs it, renames over `path` and fsyncs the directory: after it
  // returns ok, a crash leaves either the old or the new contents, never a mix.
  virtual Status write_file_atomic(const std::filesystem::path& path, std::string_view data);
  virtual Status remove_file(const std::filesystem::path& path);
  virtual Status create_dirs(const std::filesystem::path& path);
  // Append with a committed length, for logs whose length is recorded elsewhere (the commit
  // point): cuts `path` to `offset` bytes (dropping a torn or uncommitted tail), writes `data`
  // there and fsyncs the file (and its directory when the file was created). After ok, the first
  // offset + data.size() bytes are durable. On error the bytes past `offset` are unspecified.
  // A missing file is created when `offset` is 0; a file shorter than `offset` -> kCorrupt.
  virtual Status append_file(const std::filesystem::path& path, std::uint64_t offset, std::string_view data);
};

// Fails every write from the Nth on (counting from 1) with ErrorCode::kIo; 0 never fails. Both
// write_file_atomic and append_file count as writes; a failed append first writes the first half
// of its data unsynced, as a crash in the middle of it would leave it (a torn tail).
class FaultEnv : public Env {
 public:
  explicit FaultEnv(int fail_from_write = 0) : fail_from_(fail_from_write) {}
  Status write_file_atomic(const std::filesystem::path& path, std::string_view data) override;
  Status append_file(const std::filesystem::path& path, std::uint64_t offset, std::string_view data) override;
  int writes() const { return writes_; }

 private:
  int fail_from_;
  int writes_ = 0;
};

// A read-only memory map of a whole file. Movable, not copyable. Empty files map to size 0.
class MappedFile {
 public:
  static Result<MappedFile> open(const std::filesystem::path& path);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ragft
