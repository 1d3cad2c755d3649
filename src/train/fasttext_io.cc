#include "train/fasttext_io.h"

#include <exception>
#include <system_error>

#include <fasttext/fasttext.h>

namespace ragft {

Status save_fasttext_model(fasttext::FastText& ft, const std::filesystem::path& dir) {
  std::filesystem::path tmp = dir / "model.bin.tmp";
  try {
    ft.saveModel(tmp.string());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kIo, "cannot write {}: {}", tmp.string(), e.what());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, dir / "model.bin", ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot rename {}: {}", tmp.string(), ec.message());
  return ok_status();
}

}  // namespace ragft
