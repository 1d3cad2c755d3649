// Writing a fastText model into a model directory: model.bin, atomically (a temp file renamed
// into place), with fastText's exceptions turned into kIo errors. `dir` must exist.
#pragma once

#include <filesystem>

#include "core/result.h"

namespace fasttext {
class FastText;
}

namespace ragft {

Status save_fasttext_model(fasttext::FastText& ft, const std::filesystem::path& dir);

}  // namespace ragft
