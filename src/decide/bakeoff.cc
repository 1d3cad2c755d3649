#include "decide/bakeoff.h"

#include <algorithm>

namespace ragft::decide {

void set_quality(ArmResult& arm, int samples, std::uint64_t seed) {
  arm.quality = bootstrap_mean(arm.per_item, samples, 0.95, seed);
}

nlohmann::json compare_arms(const std::vector<ArmResult>& arms, int samples, std::uint64_t seed) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < arms.size(); ++i) {
    for (std::size_t j = i + 1; j < arms.size(); ++j) {
      const ArmResult& a = arms[i];
      const ArmResult& b = arms[j];
      if (a.per_item.empty() || a.per_item.size() != b.per_item.size()) continue;
      Interval d = paired_bootstrap_diff(a.per_item, b.per_item, samples, 0.95, seed);
      out.push_back({{"a", a.id},
                     {"b", b.id},
                     {"diff", d.value},
                     {"ci_low", d.low},
                     {"ci_high", d.high},
                     {"distinguishable", d.low > 0 || d.high < 0}});
    }
  }
  return out;
}

Result<nlohmann::json> profile_project(const Project& project, const BakeoffOptions& options) {
  if (!project.data.has_data()) return make_error(ErrorCode::kInvalidArgument, "the project has no data to profile");
  switch (project.task) {
    case TaskType::kClassification:
      return profile_classification(project);
    case TaskType::kRetrieval:
      return profile_retrieval(project, options);
    case TaskType::kExtraction:
      return profile_extraction(project);
  }
  return make_error(ErrorCode::kInternal, "unknown task type");
}

Result<Bakeoff> run_bakeoff(const Project& project, const BakeoffOptions& options) {
  if (!project.data.has_data()) {
    return make_error(ErrorCode::kInvalidArgument, "the project has no data: nothing to bake off");
  }
  switch (project.task) {
    case TaskType::kClassification:
      return run_classification_bakeoff(project, options);
    case TaskType::kRetrieval:
      return run_retrieval_bakeoff(project, options);
    case TaskType::kExtraction:
      return run_extraction_bakeoff(project, options);
  }
  return make_error(ErrorCode::kInternal, "unknown task type");
}

}  // namespace ragft::decide
