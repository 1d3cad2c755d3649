// The trained task models `ragft serve` offers on POST /v1/classify and POST /v1/extract
// (task_api.h): classifiers from `ragft train classify` and extractors from `ragft train
// extract`, each a model directory (train/model_manifest.h) served under a name.
//
// Naming: `--model NAME=DIR`, repeatable (parse_task_model_spec); a bare `--model DIR` is named
// after the directory's last component. The task (classify or extract) and the kind are read
// from DIR/model.json; every kind `ragft predict` loads is served the same way (load_classifier /
// load_extractor: linear, knn, neural, encoder and combo classifiers; tagger-knn, tagger-neural
// and tagger-combo extractors; the libtorch kinds through the lazily loaded backend,
// train/neural_backend.h, so this header and src/serve stay torch-free).
//
// Thread safety: load() happens once, at start-up; afterwards a TaskModels is immutable apart
// from its classifier pools, and classify()/extract() may be called concurrently from any
// number of request threads:
//  - Classifiers are not thread-safe (train/classifier.h: predict() uses per-instance buffers),
//    so each classifier is loaded `copies` times into a pool; a call leases one copy for its
//    whole batch and waits while every copy is busy. copies = 1 serialises the model (a mutex);
//    more copies cost the model's memory each (a linear model of the default size: ~22 MB).
//  - Extractors are thread-safe by contract (train/extractor.h; tagger-knn guards its analyzer
//    with a mutex, tagger-neural runs without autograd, tagger-combo is as safe as its members),
//    so each is loaded once and shared.
// The answers are the library's own: Classifier::predict() and extract_entities(), exactly what
// `ragft predict` prints for the same text.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "train/classifier.h"
#include "train/extractor.h"

namespace ragft::serve {

inline constexpr std::string_view kClassifyTask = "classify";

struct TaskModelSpec {
  std::string name;
  std::filesystem::path dir;
};

// "NAME=DIR" or "DIR" (named after its last path component, trailing slashes ignored). Names are
// 1..128 ASCII letters, digits and "._:-" (as OpenAI model ids); anything else, an empty name
// or an empty DIR -> kInvalidArgument naming the argument.
Result<TaskModelSpec> parse_task_model_spec(std::string_view arg);

struct TaskModelOptions {
  // Copies of each classifier kept for concurrent requests (see above), 1..256.
  std::size_t classifier_copies = 1;
};

// What /v1/models reports of a served model.
struct TaskModelInfo {
  std::string name;
  std::string task;                 // "classify" or "extract"
  std::string kind;                 // the manifest's kind: "linear", "tagger-knn", ...
  std::vector<std::string> labels;  // class labels, or entity types (the manifest's)
  std::string config;               // the manifest's config string
  std::filesystem::path dir;
};

class TaskModels {
 public:
  // Loads every model at once. A duplicate name -> kInvalidArgument; a model that cannot be
  // loaded -> its loader's error (kNotFound without model.json, kCorrupt, kUnsupported for an
  // unknown kind or a libtorch kind in a build without it; a task other than classify/extract
  // is kCorrupt from read_manifest), the message prefixed with "model NAME (DIR): ".
  static Result<std::unique_ptr<TaskModels>> load(const std::vector<TaskModelSpec>& specs,
                                                  const TaskModelOptions& options = {});
  ~TaskModels();
  TaskModels(const TaskModels&) = delete;
  TaskModels& operator=(const TaskModels&) = delete;

  // Every served model, in the order given to load().
  const std::vector<TaskModelInfo>& models() const { return info_; }
  // The model named `name`, or null.
  const TaskModelInfo* find(std::string_view name) const;
  // Names of the models of one task, in load order.
  std::vector<std::string> names(std::string_view task) const;

  // The classifier `name` on each text, in order (Classifier::predict: every label,
  // score-descending). An unknown name or a model of the other task -> kNotFound /
  // kInvalidArgument naming it. Waits while every copy of the model is busy.
  Result<std::vector<Prediction>> classify(std::string_view name, const std::vector<std::string>& texts) const;
  // The extractor `name` on each text, in order (extract_entities). Errors as classify().
  Result<std::vector<ExtractedText>> extract(std::string_view name, const std::vector<std::string>& texts) const;

 private:
  struct Pool;
  struct Served;
  TaskModels();
  Result<const Served*> served(std::string_view name, std::string_view task) const;

  std::vector<TaskModelInfo> info_;
  std::vector<std::unique_ptr<Served>> served_;  // same order as info_
};

}  // namespace ragft::serve
