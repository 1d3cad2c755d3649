// Shared by the classifier tests (tests/train and tests/train_neural).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "train/dataset.h"

namespace ragft::testing {

// A fresh, empty directory under the system temp dir, unique per process.
inline std::filesystem::path classify_temp_dir(const std::string& name) {
  std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("ragft-classify-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p;
}

// 30 short examples, 3 classes, 10 each: two topic words per text plus shared filler.
inline std::vector<Example> tiny_topics() {
  const std::vector<std::pair<std::string, std::vector<std::string>>> topics = {
      {"sport", {"football", "goal", "match", "team", "score", "player", "coach", "league", "stadium", "referee"}},
      {"food", {"pizza", "pasta", "bread", "cheese", "soup", "salad", "butter", "garlic", "onion", "pepper"}},
      {"weather", {"rain", "sun", "snow", "wind", "cloud", "storm", "fog", "thunder", "frost", "drizzle"}}};
  const std::vector<std::string> filler = {"today", "we saw", "there was", "what about", "i like"};
  std::vector<Example> out;
  for (const auto& [label, words] : topics) {
    for (std::size_t i = 0; i < words.size(); ++i) {
      out.push_back(Example{filler[i % filler.size()] + " " + words[i] + " and " + words[(i + 3) % words.size()],
                            {label}, out.size() + 1});
    }
  }
  return out;
}

}  // namespace ragft::testing
