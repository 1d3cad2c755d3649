#include <cstdlib>
#include <mutex>
#include <thread>

#include <torch/torch.h>

#include "embed/torch_guard.h"

namespace ragft {

namespace {
int g_threads = 0;
std::once_flag g_once;
}  // namespace

void init_torch_threads() {
  std::call_once(g_once, [] {
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (const char* env = std::getenv("RAGFT_THREADS")) {
      int v = std::atoi(env);
      if (v > 0) n = v;
    }
    if (n < 1) n = 1;
    torch::set_num_threads(n);
    g_threads = n;
  });
}

int torch_threads() { return g_threads; }

}  // namespace ragft
