// Builds an Embedder (embed/embedder.h) from its config string:
//
//   ict[:key=value,...]          the default: trained on the corpus (train/ict_embedder.h)
//   sif[:key=value,...]          trained on the corpus the first time (train/sif_embedder.h),
//                                then loaded from `model_dir`
//   bert:path=DIR[,...]          a BERT-family checkpoint, run by libragft_torch.so
//   openai:url=URL,model=NAME[,...]   an OpenAI-compatible /v1/embeddings endpoint
//
// bert and openai also take query_prefix=TEXT and passage_prefix=TEXT (instruction prefixes such
// as e5's "query: " and "passage: "; no commas; embed/embedder.h with_prefixes).
//
// An unknown kind or bad options -> kInvalidArgument naming the config.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/embedder.h"

namespace ragft {

struct EmbedderContext {
  // Where trainable embedders keep their models: one subdirectory per config.
  std::filesystem::path model_dir;
  // The texts a trainable embedder learns from, fetched only when it has no model yet.
  std::function<Result<std::vector<std::string>>()> training_texts;
};

// The config with the kind's defaults filled in ("sif" -> "sif:dim=100,...").
Result<std::string> canonical_embedder_config(std::string_view config);

Result<std::unique_ptr<Embedder>> make_embedder(std::string_view config, const EmbedderContext& context);

// Trainable embedders (ict, sif) learn from the corpus as it is when their model is first
// needed; later documents are embedded with that model. How many texts the model of `config`
// under `model_dir` was trained on: nullopt when the kind is not trained on the corpus, it has no
// model there yet, or the model predates this record.
std::optional<std::size_t> trained_corpus_size(std::string_view config, const std::filesystem::path& model_dir);
// Deletes the trained model of `config` under `model_dir`, so that the next make_embedder trains
// a new one on the corpus as it is then (a new model id: every chunk is embedded again).
Status forget_trained_model(std::string_view config, const std::filesystem::path& model_dir);
// The advice rule `ragft index` applies: retrain once the corpus has doubled since training and
// grown by at least 1000 texts.
bool trained_model_is_stale(std::size_t trained_on, std::size_t now);

}  // namespace ragft
