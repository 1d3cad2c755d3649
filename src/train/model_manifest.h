// A trained model is a directory: `model.json` (this manifest) plus the files its kind needs.
// The manifest is what `ragft predict`, `ragft eval` and `decide` read first.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace ragft {

inline constexpr int kModelFormatVersion = 1;

struct ModelManifest {
  int format_version = kModelFormatVersion;
  std::string task;   // "classify" or "extract"
  std::string kind;   // e.g. "linear", "knn", "combo", "tagger-knn"
  std::vector<std::string> labels;  // class labels, or entity types for extraction
  std::string train_data_hash;      // content_hash of the training examples as loaded
  std::string config;               // config string that reproduces the model
  nlohmann::json metrics = nlohmann::json::object();  // validation/eval figures recorded at training
  double train_seconds = 0;
  nlohmann::json extra = nlohmann::json::object();    // kind-specific settings
};

// Writes `dir/model.json` atomically (creating `dir`).
Status write_manifest(const std::filesystem::path& dir, const ModelManifest& m);
// Reads and validates `dir/model.json`: missing -> kNotFound, malformed or missing fields ->
// kCorrupt naming the field, newer format_version -> kUnsupported.
Result<ModelManifest> read_manifest(const std::filesystem::path& dir);

}  // namespace ragft
