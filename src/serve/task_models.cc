#include "serve/task_models.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "train/model_manifest.h"

namespace ragft::serve {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '-';
  });
}

}  // namespace

Result<TaskModelSpec> parse_task_model_spec(std::string_view arg) {
  TaskModelSpec spec;
  if (const auto eq = arg.find('='); eq != std::string_view::npos) {
    spec.name = std::string(arg.substr(0, eq));
    spec.dir = std::string(arg.substr(eq + 1));
    if (spec.dir.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "--model \"{}\": no model directory after \"=\" (NAME=DIR)", arg);
    }
  } else {
    spec.dir = std::string(arg);
    if (spec.dir.empty()) return make_error(ErrorCode::kInvalidArgument, "--model: empty (NAME=DIR or DIR)");
    std::filesystem::path p = spec.dir.lexically_normal();
    if (!p.has_filename()) p = p.parent_path();  // "models/trec/" -> "models/trec"
    spec.name = p.filename().string();
  }
  if (!valid_name(spec.name)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--model \"{}\": the model name \"{}\" must be 1 to 128 letters, digits or ._:- (give one with "
                      "NAME=DIR)",
                      arg, spec.name);
  }
  return spec;
}

// Copies of one classifier; acquire() waits for a free one.
struct TaskModels::Pool {
  std::vector<std::unique_ptr<Classifier>> copies;
  std::mutex mu;
  std::condition_variable freed;
  std::vector<Classifier*> idle;

  class Lease {
   public:
    Lease(Pool& pool, Classifier* c) : pool_(pool), c_(c) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      {
        std::lock_guard lock(pool_.mu);
        pool_.idle.push_back(c_);
      }
      pool_.freed.notify_one();
    }
    const Classifier& operator*() const { return *c_; }

   private:
    Pool& pool_;
    Classifier* c_;
  };

  Classifier* acquire() {
    std::unique_lock lock(mu);
    freed.wait(lock, [this] { return !idle.empty(); });
    Classifier* c = idle.back();
    idle.pop_back();
    return c;
  }
};

struct TaskModels::Served {
  std::unique_ptr<Pool> classifiers;           // task classify
  std::unique_ptr<const Extractor> extractor;  // task extract
};

TaskModels::TaskModels() = default;
TaskModels::~TaskModels() = default;

Result<std::unique_ptr<TaskModels>> TaskModels::load(const std::vector<TaskModelSpec>& specs,
                                                     const TaskModelOptions& options) {
  if (options.classifier_copies < 1 || options.classifier_copies > 256) {
    return make_error(ErrorCode::kInvalidArgument, "task models: classifier_copies={} must be in [1, 256]",
                      options.classifier_copies);
  }
  std::unique_ptr<TaskModels> out(new TaskModels());
  for (const TaskModelSpec& spec : specs) {
    const std::string where = fmt::format("model {} ({})", spec.name, spec.dir.string());
    if (out->find(spec.name)) {
      return make_error(ErrorCode::kInvalidArgument, "{}: the name {} is given twice; name each model with NAME=DIR",
                        where, spec.name);
    }
    auto prefixed = [&](const Error& e) { return Error{e.code, fmt::format("{}: {}", where, e.message)}; };
    auto manifest = read_manifest(spec.dir);
    if (!manifest.ok()) return prefixed(manifest.error());
    auto served = std::make_unique<Served>();
    if (manifest->task == kClassifyTask) {
      served->classifiers = std::make_unique<Pool>();
      for (std::size_t i = 0; i < options.classifier_copies; ++i) {
        auto c = load_classifier(spec.dir);
        if (!c.ok()) return prefixed(c.error());
        served->classifiers->idle.push_back(c->get());
        served->classifiers->copies.push_back(std::move(*c));
      }
    } else if (manifest->task == kExtractTask) {
      auto e = load_extractor(spec.dir);
      if (!e.ok()) return prefixed(e.error());
      served->extractor = std::move(*e);
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: task \"{}\" is not served (classify or extract: models from `ragft train classify` or "
                        "`ragft train extract`)",
                        where, manifest->task);
    }
    out->info_.push_back(TaskModelInfo{spec.name, manifest->task, manifest->kind, manifest->labels, manifest->config,
                                       spec.dir});
    out->served_.push_back(std::move(served));
  }
  return out;
}

const TaskModelInfo* TaskModels::find(std::string_view name) const {
  for (const auto& m : info_) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::vector<std::string> TaskModels::names(std::string_view task) const {
  std::vector<std::string> out;
  for (const auto& m : info_) {
    if (m.task == task) out.push_back(m.name);
  }
  return out;
}

Result<const TaskModels::Served*> TaskModels::served(std::string_view name, std::string_view task) const {
  for (std::size_t i = 0; i < info_.size(); ++i) {
    if (info_[i].name != name) continue;
    if (info_[i].task != task) {
      return make_error(ErrorCode::kInvalidArgument, "model {} is a {} model, not a {} model", name, info_[i].task,
                        task);
    }
    return served_[i].get();
  }
  return make_error(ErrorCode::kNotFound, "no model named {}", name);
}

Result<std::vector<Prediction>> TaskModels::classify(std::string_view name, const std::vector<std::string>& texts) const {
  RAGFT_TRY(const Served* s, served(name, kClassifyTask));
  Pool::Lease lease(*s->classifiers, s->classifiers->acquire());
  std::vector<Prediction> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back((*lease).predict(t));
  return out;
}

Result<std::vector<ExtractedText>> TaskModels::extract(std::string_view name, const std::vector<std::string>& texts) const {
  RAGFT_TRY(const Served* s, served(name, kExtractTask));
  std::vector<ExtractedText> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(extract_entities(*s->extractor, t));
  return out;
}

}  // namespace ragft::serve
