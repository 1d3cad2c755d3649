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

}  // namespace ragft
