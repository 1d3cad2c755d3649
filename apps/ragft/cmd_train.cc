// ragft train classify|extract|rerank|generate, and ragft predict MODEL (dispatched by the model's task).
#include <fmt/format.h>

#include "apps/ragft/cli.h"
#include "train/model_manifest.h"

namespace ragft::cli {

void register_train(CLI::App& app, Globals& g, int& exit_code) {
  CLI::App* train = app.add_subcommand("train", "Train task models (classification, extraction), the reranker, and LoRA adapters of a local LLM");
  train->require_subcommand(1);
  register_train_classify(train, g, exit_code);
  register_train_extract(train, g, exit_code);
  register_train_rerank(train, g, exit_code);
  register_train_generate(train, g, exit_code);
}

namespace {
struct PredictArgs {
  std::string model;
  std::vector<std::string> files;
};

int run_predict(const Globals& g, const PredictArgs& a) {
  auto m = read_manifest(a.model);
  if (!m.ok()) return report(m.error());
  if (m->task == "classify") return predict_classify(g, a.model, a.files);
  return predict_extract(g, a.model, a.files);
}
}  // namespace

void register_predict(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand("predict", "Run a trained model on text: one input per line, "
                                                "from files or stdin");
  cmd->add_option("model", a->model, "Model directory (from ragft train)")->required();
  cmd->add_option("files", a->files, "Input files (default: stdin)");
  cmd->callback([&g, &exit_code, a] { exit_code = run_predict(g, *a); });
}

}  // namespace ragft::cli
