#include "decide/bakeoff.h"

#include <algorithm>

namespace ragft::decide {

ArmLedger::ArmLedger(const Project& project, const BakeoffOptions& options, nlohmann::json inputs,
                     std::map<std::string, std::string> configs)
    : project_(project),
      options_(options),
      inputs_(std::move(inputs)),
      configs_(std::move(configs)),
      cache_(options.cache_dir, options.use_cache) {}

bool ArmLedger::wanted(const std::string& id) const {
  const auto& arms = project_.bakeoff.arms;
  return std::find(arms.begin(), arms.end(), id) != arms.end();
}

std::string ArmLedger::key(const std::string& id) const {
  nlohmann::json k = inputs_;
  k["arm"] = id;
  k["config"] = configs_.count(id) ? configs_.at(id) : std::string();
  return Cache::key(k);
}

std::size_t ArmLedger::load(const std::function<bool(const ArmResult&)>& usable) {
  std::size_t n = 0;
  for (std::string_view idv : kArmIds) {
    const std::string id(idv);
    if (!wanted(id)) continue;
    auto j = cache_.get("arm", key(id));
    if (!j) continue;
    auto a = ArmResult::from_cache_json(*j);
    if (!a || (usable && !usable(*a))) continue;
    done_[id] = std::move(*a);
    ++n;
    if (options_.log) options_.log(id + ": cached");
  }
  return n;
}

Status ArmLedger::finish(ArmResult arm) {
  RAGFT_TRY_STATUS(cache_.put("arm", key(arm.id), arm.to_cache_json()));
  std::string id = arm.id;
  done_[id] = std::move(arm);
  return ok_status();
}

Result<nlohmann::json> ArmLedger::freshness(const std::vector<ArmResult>& arms, double fraction,
                                            const std::function<Result<nlohmann::json>()>& run) const {
  nlohmann::json k = inputs_;
  k["freshness"] = fraction;
  for (const auto& a : arms) k["arms"].push_back(a.config);
  const std::string key = Cache::key(k);
  if (auto j = cache_.get("freshness", key)) {
    if (options_.log) options_.log("freshness: cached");
    return *j;
  }
  RAGFT_TRY(nlohmann::json result, run());
  if (!result.is_null()) RAGFT_TRY_STATUS(cache_.put("freshness", key, result));
  return result;
}

std::vector<ArmResult> ArmLedger::take() {
  std::vector<ArmResult> out;
  for (std::string_view idv : kArmIds) {
    auto it = done_.find(std::string(idv));
    if (it != done_.end()) out.push_back(std::move(it->second));
  }
  done_.clear();
  return out;
}

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
    case TaskType::kGeneration:
      return profile_generation(project, options);
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
    case TaskType::kGeneration:
      return run_generation_bakeoff(project, options);
  }
  return make_error(ErrorCode::kInternal, "unknown task type");
}

}  // namespace ragft::decide
