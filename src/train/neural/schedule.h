// Learning-rate schedule and early stopping shared by the neural contenders. Torch-free.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace ragft {

// Linear warm-up from 0 to `peak` over the first `warmup` steps, then linear decay to 0 at
// `total`. `step` is 0-based; steps at or past `total` get 0.
inline double warmup_linear_lr(std::size_t step, std::size_t total, std::size_t warmup, double peak) {
  if (step >= total) return 0;
  if (warmup > 0 && step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  std::size_t rest = total - std::min(warmup, total);
  if (rest == 0) return peak;
  return peak * static_cast<double>(total - step) / static_cast<double>(rest);
}

// Linear warm-up from 0 to `peak` over the first `warmup` steps, then cosine decay from `peak`
// to `floor`, reached at the last step (total - 1). `step` is 0-based; steps at or past `total`
// get `floor`.
inline double warmup_cosine_lr(std::size_t step, std::size_t total, std::size_t warmup, double peak, double floor) {
  if (step >= total) return floor;
  if (warmup > 0 && step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const std::size_t rest = total - std::min(warmup, total);
  if (rest <= 1) return peak;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(rest - 1);
  return floor + (peak - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

// Tracks the best validation figure; stop() once `patience` epochs in a row did not beat it.
struct EarlyStopping {
  std::size_t patience = 3;
  double best = -1;
  std::size_t best_epoch = 0;  // 1-based; 0 before any update
  std::size_t bad_epochs = 0;

  // Returns true when `metric` is a new best (strictly greater).
  bool update(double metric, std::size_t epoch) {
    if (metric > best) {
      best = metric;
      best_epoch = epoch;
      bad_epochs = 0;
      return true;
    }
    ++bad_epochs;
    return false;
  }
  bool stop() const { return bad_epochs >= patience; }
};

}  // namespace ragft
