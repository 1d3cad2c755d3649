// Progress of a long training run, reported per optimisation step by the neural contenders so
// that the CLI can draw a bar with loss and ETA (or print one line per epoch off a terminal), and
// the clock every trainer times itself with. Torch-free.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace ragft {

struct TrainProgress {
  std::string model;           // contender kind, e.g. "neural", "encoder", "tagger-neural"
  std::size_t run = 1;         // 1-based run of `runs` (a setting tried during selection, or the refit)
  std::size_t runs = 1;
  std::size_t epoch = 1;       // 1-based epoch of at most `epochs`
  std::size_t epochs = 1;
  std::size_t step = 0;        // optimisation steps done in this epoch, of `steps`
  std::size_t steps = 0;
  double loss = 0;             // mean training loss over the steps of this epoch so far
  double seconds = 0;          // since this run started
  bool epoch_end = false;      // true once per epoch, after validation
  double val_metric = -1;      // validation accuracy / F1 at epoch_end (-1: none)

  // Share of this run done, in [0, 1] (epochs may end early: early stopping).
  double fraction() const {
    if (epochs == 0 || steps == 0) return 0;
    return (static_cast<double>(epoch - 1) + static_cast<double>(step) / static_cast<double>(steps)) /
           static_cast<double>(epochs);
  }
};

using ProgressFn = std::function<void(const TrainProgress&)>;

// Seconds elapsed on the steady clock since `t0`, fractional: what trainers report as
// TrainProgress::seconds and record as train_seconds.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace ragft
