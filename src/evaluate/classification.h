// Single-label classification metrics (scikit-learn's definitions):
//  - accuracy = correct / n.
//  - per class c: precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2PR / (P + R);
//    a zero denominator gives 0 (scikit-learn's zero_division=0).
//  - macro-F1 = mean of per-class F1 over the classes that occur in gold or predicted labels
//    (plus any listed in `labels`, as scikit-learn does when labels= is given).
//  - confusion[g][p] = number of examples with gold class g predicted as class p, classes in
//    the order of ClassificationReport::labels (sorted).
// Pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ragft {

struct ClassMetrics {
  std::string label;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  std::size_t support = 0;    // gold examples of this class
  std::size_t predicted = 0;  // examples predicted as this class
};

struct ClassificationReport {
  std::size_t n = 0;
  double accuracy = 0;
  double macro_f1 = 0;
  std::vector<std::string> labels;  // sorted
  std::vector<ClassMetrics> per_class;            // same order as labels
  std::vector<std::vector<std::size_t>> confusion;  // [gold][predicted]

  nlohmann::json to_json() const;
};

// `gold` and `predicted` have the same length (a bug otherwise). `labels` adds classes that
// may occur in neither (they count in macro-F1 with F1 = 0). Empty input: all zeros.
ClassificationReport classification_report(const std::vector<std::string>& gold,
                                           const std::vector<std::string>& predicted,
                                           const std::vector<std::string>& labels = {});

}  // namespace ragft
