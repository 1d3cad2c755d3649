#include "core/temp_file.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ragft {

namespace fs = std::filesystem;

TempFile::~TempFile() {
  std::error_code ec;
  if (!path_.empty()) fs::remove(path_, ec);
}

Result<TempFile> TempFile::write(std::string_view data, std::string_view prefix) {
  std::string tmpl = (fs::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return make_error(ErrorCode::kIo, "cannot create a temporary file in {}", fs::temp_directory_path().string());
  TempFile f{tmpl};
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      return make_error(ErrorCode::kIo, "cannot write the temporary file {}", tmpl);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return f;
}

}  // namespace ragft
