#include "evaluate/classification.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/check.h"

namespace ragft {

ClassificationReport classification_report(const std::vector<std::string>& gold,
                                           const std::vector<std::string>& predicted,
                                           const std::vector<std::string>& labels) {
  RAGFT_CHECK(gold.size() == predicted.size());
  std::set<std::string> all(labels.begin(), labels.end());
  all.insert(gold.begin(), gold.end());
  all.insert(predicted.begin(), predicted.end());
  ClassificationReport r;
  r.n = gold.size();
  r.labels.assign(all.begin(), all.end());
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < r.labels.size(); ++i) index[r.labels[i]] = i;
  const std::size_t k = r.labels.size();
  r.confusion.assign(k, std::vector<std::size_t>(k, 0));
  std::size_t correct = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    ++r.confusion[index[gold[i]]][index[predicted[i]]];
    if (gold[i] == predicted[i]) ++correct;
  }
  r.accuracy = r.n ? static_cast<double>(correct) / static_cast<double>(r.n) : 0.0;
  double f1_sum = 0;
  for (std::size_t c = 0; c < k; ++c) {
    ClassMetrics m;
    m.label = r.labels[c];
    std::size_t tp = r.confusion[c][c];
    for (std::size_t j = 0; j < k; ++j) {
      m.support += r.confusion[c][j];
      m.predicted += r.confusion[j][c];
    }
    m.precision = m.predicted ? static_cast<double>(tp) / static_cast<double>(m.predicted) : 0.0;
    m.recall = m.support ? static_cast<double>(tp) / static_cast<double>(m.support) : 0.0;
    m.f1 = (m.precision + m.recall) > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
    f1_sum += m.f1;
    r.per_class.push_back(std::move(m));
  }
  r.macro_f1 = k ? f1_sum / static_cast<double>(k) : 0.0;
  return r;
}

nlohmann::json ClassificationReport::to_json() const {
  nlohmann::json pc = nlohmann::json::array();
  for (const auto& m : per_class) {
    pc.push_back({{"label", m.label}, {"precision", m.precision}, {"recall", m.recall}, {"f1", m.f1},
                  {"support", m.support}, {"predicted", m.predicted}});
  }
  return {{"n", n}, {"accuracy", accuracy}, {"macro_f1", macro_f1}, {"labels", labels},
          {"per_class", pc}, {"confusion", confusion}};
}

}  // namespace ragft
