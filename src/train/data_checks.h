// Checks run on classification data before training: label counts, rare classes, duplicates,
// near-duplicates, conflicting labels and train/eval overlap (leakage).
//
// Definitions:
//  - normalised text: ASCII letters lowercased, runs of whitespace collapsed to one space,
//    leading/trailing whitespace removed (other bytes unchanged).
//  - exact duplicate: an example whose normalised text equals an earlier example's; counted
//    once per extra copy.
//  - near-duplicate: an example whose analysed term sequence (text/analyzer.h, the given
//    options) equals an earlier example's while its normalised text differs from all of them.
//  - conflicting labels: a normalised text that occurs with different label sets.
//  - leakage: eval examples whose normalised text appears in the training data.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "text/analyzer.h"
#include "train/dataset.h"

namespace ragft {

struct DataCheckOptions {
  std::size_t min_per_class = 5;  // classes with fewer training examples are reported as rare
  std::size_t max_samples = 5;    // examples listed per finding
  AnalyzerOptions analyzer;       // for near-duplicates
};

struct DataFinding {
  std::size_t count = 0;
  nlohmann::json samples = nlohmann::json::array();  // a few {lines, text, labels}
};

struct DataReport {
  std::size_t examples = 0;
  std::size_t eval_examples = 0;
  bool multi_label = false;
  std::map<std::string, std::size_t> label_counts;  // training examples per label
  std::vector<std::string> rare_labels;             // fewer than min_per_class
  DataFinding exact_duplicates;
  DataFinding near_duplicates;
  DataFinding conflicting_labels;
  DataFinding leakage;  // eval texts found in train
  std::size_t min_per_class = 5;

  nlohmann::json to_json() const;
  // Human-readable, several lines, each ending with '\n'.
  std::string to_text() const;
};

std::string normalize_text(std::string_view text);

// `eval` may be null. kInvalidArgument for bad analyzer options.
Result<DataReport> check_data(const Dataset& train, const Dataset* eval, const DataCheckOptions& options = {});

}  // namespace ragft
