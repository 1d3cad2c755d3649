// init_torch_threads() for a build without libtorch (RAGFT_WITH_TORCH=OFF).
#ifndef RAGFT_WITH_TORCH
#include "embed/torch_guard.h"

namespace ragft {
void init_torch_threads() {}
int torch_threads() { return 0; }
}  // namespace ragft
#endif
