#include "core/env.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ragft {

namespace fs = std::filesystem;

namespace {
Error io_error(std::string_view what, const fs::path& path) {
  return make_error(ErrorCode::kIo, "{} {}: {}", what, path.string(), std::strerror(errno));
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}
}  // namespace

Env& Env::posix() {
  static Env env;
  return env;
}

Result<std::string> Env::read_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(ErrorCode::kNotFound, "no such file: {}", path.string());
    return io_error("open", path);
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = io_error("read", path);
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Status Env::write_file_atomic(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", tmp);
  Status st = write_all(fd, data, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = io_error("fsync", tmp);
  ::close(fd);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = io_error("rename", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok_status();
}

Status Env::remove_file(const fs::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("unlink", path);
  return ok_status();
}

Status Env::create_dirs(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return make_error(ErrorCode::kIo, "create directory {}: {}", path.string(), ec.message());
  return ok_status();
}

namespace {
// Writes `data` at `offset` after cutting the file there; fsyncs when `sync`.
Status write_at(const fs::path& path, std::uint64_t offset, std::string_view data, bool sync) {
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open", path);
  struct stat st {};
  Status status = ok_status();
  if (::fstat(fd, &st) != 0) {
    status = io_error("stat", path);
  } else if (static_cast<std::uint64_t>(st.st_size) < offset) {
    status = make_error(ErrorCode::kCorrupt, "{} has {} bytes, fewer than the {} committed", path.string(),
                        st.st_size, offset);
  } else if (static_cast<std::uint64_t>(st.st_size) > offset && ::ftruncate(fd, static_cast<off_t>(offset)) != 0) {
    status = io_error("truncate", path);
  } else if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    status = io_error("seek", path);
  } else {
    status = write_all(fd, data, path);
    if (status.ok() && sync && ::fsync(fd) != 0) status = io_error("fsync", path);
  }
  ::close(fd);
  if (status.ok() && sync && !existed) {
    fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return status;
}
}  // namespace

Status Env::append_file(const fs::path& path, std::uint64_t offset, std::string_view data) {
  return write_at(path, offset, data, true);
}

Status FaultEnv::append_file(const fs::path& path, std::uint64_t offset, std::string_view data) {
  ++writes_;
  if (fail_from_ > 0 && writes_ >= fail_from_) {
    // A crash part-way: half the bytes reach the file, unsynced.
    RAGFT_TRY_STATUS(write_at(path, offset, data.substr(0, data.size() / 2), false));
    return make_error(ErrorCode::kIo, "injected write failure #{} on {}", writes_, path.string());
  }
  return Env::append_file(path, offset, data);
}

Status FaultEnv::write_file_atomic(const fs::path& path, std::string_view data) {
  ++writes_;
  if (fail_from_ > 0 && writes_ >= fail_from_) {
    return make_error(ErrorCode::kIo, "injected write failure #{} on {}", writes_, path.string());
  }
  return Env::write_file_atomic(path, data);
}

Result<MappedFile> MappedFile::open(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(ErrorCode::kNotFound, "no such file: {}", path.string());
    return io_error("open", path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Error e = io_error("stat", path);
    ::close(fd);
    return e;
  }
  MappedFile m;
  m.size_ = static_cast<std::size_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      Error e = io_error("mmap", path);
      ::close(fd);
      return e;
    }
    m.data_ = static_cast<const char*>(p);
  }
  ::close(fd);
  return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
}

}  // namespace ragft
