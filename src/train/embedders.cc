#include "train/embedders.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/config_string.h"
#include "core/env.h"
#include "core/hash.h"
#include "core/log.h"
#include "embed/openai_embedder.h"
#include "train/ict_embedder.h"
#include "train/neural_backend.h"
#include "train/sif_embedder.h"

namespace ragft {

namespace {
std::string_view kind_of(std::string_view config) { return config.substr(0, config.find(':')); }

Error unknown_kind(std::string_view config) {
  return make_error(ErrorCode::kInvalidArgument,
                    "embedder '{}': unknown kind '{}' (use ict, sif, bert:path=DIR or "
                    "openai:url=URL,model=NAME)",
                    config, kind_of(config));
}

// A model trained on the corpus: loaded from its directory under context.model_dir (one per
// config), else trained on context.training_texts and saved there.
std::filesystem::path trained_model_dir(const std::filesystem::path& model_dir, std::string_view kind,
                                        const std::string& canonical_config) {
  return model_dir / fmt::format("{}-{}", kind, content_hash(canonical_config).substr(0, 16));
}

constexpr const char* kTrainedRecord = "trained.json";  // {"texts": N}

template <class Model, class Options>
Result<std::unique_ptr<Embedder>> trained_on_corpus(std::string_view kind, const Options& options,
                                                    const EmbedderContext& context) {
  const std::string config = options.to_config();
  if (context.model_dir.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "embedder {} needs a model directory to keep its trained model",
                      config);
  }
  const std::filesystem::path dir = trained_model_dir(context.model_dir, kind, config);
  if (std::filesystem::exists(dir / fmt::format("{}.json", kind))) {
    auto loaded = Model::load(dir);
    if (loaded.ok() && (*loaded)->config() == config) return std::unique_ptr<Embedder>(std::move(*loaded));
    log::warn("event=embedder_retrain dir={} reason=\"{}\"", dir.string(),
              loaded.ok() ? "config differs" : loaded.error().message);
  }
  if (!context.training_texts) {
    return make_error(ErrorCode::kInvalidArgument, "embedder {} has no trained model in {} and no texts to train on",
                      config, dir.string());
  }
  RAGFT_TRY(std::vector<std::string> texts, context.training_texts());
  log::info("event=embedder_train kind={} texts={}", kind, texts.size());
  RAGFT_TRY(std::unique_ptr<Model> trained, Model::train(texts, options));
  RAGFT_TRY_STATUS(trained->save(dir));
  RAGFT_TRY_STATUS(Env::posix().write_file_atomic(dir / kTrainedRecord, fmt::format("{{\"texts\": {}}}\n", texts.size())));
  return std::unique_ptr<Embedder>(std::move(trained));
}

// "bert:...,query_prefix=query: ,passage_prefix=passage: " -> the config without the prefix
// items, and the prefixes. Prefixes are for pretrained encoders (bert, openai) only.
struct SplitPrefixes {
  std::string config;
  EmbedPrefixes prefixes;
};
Result<SplitPrefixes> split_prefixes(std::string_view config) {
  SplitPrefixes out;
  const std::string_view kind = kind_of(config);
  if (config.find("query_prefix=") == std::string_view::npos && config.find("passage_prefix=") == std::string_view::npos) {
    out.config = std::string(config);
    return out;
  }
  if (kind != "bert" && kind != "openai") {
    return make_error(ErrorCode::kInvalidArgument,
                      "embedder '{}': query_prefix/passage_prefix apply to pretrained encoders (bert, openai), "
                      "not {}",
                      config, kind);
  }
  RAGFT_TRY(auto items, config_items(config, kind));
  out.config = std::string(kind);
  char sep = ':';
  for (const auto& [key, value] : items) {
    if (key == "query_prefix" || key == "passage_prefix") {
      std::string& slot = key == "query_prefix" ? out.prefixes.query : out.prefixes.passage;
      if (!slot.empty()) return make_error(ErrorCode::kInvalidArgument, "embedder '{}': {} given twice", config, key);
      slot = value;
      continue;
    }
    out.config += sep + key + "=" + value;
    sep = ',';
  }
  return out;
}

Result<std::string> canonical_inner_config(std::string_view config) {
  const std::string_view kind = kind_of(config);
  if (kind == "sif") {
    RAGFT_TRY(SifOptions o, SifOptions::parse(config));
    return o.to_config();
  }
  if (kind == "ict") {
    RAGFT_TRY(IctOptions o, IctOptions::parse(config));
    return o.to_config();
  }
  if (kind == "openai") {
    RAGFT_TRY(OpenAiEmbedderOptions o, OpenAiEmbedderOptions::parse(config));
    return o.to_config();
  }
  if (kind == "bert") {
    RAGFT_TRY(BertEmbedderOptions o, BertEmbedderOptions::parse(config));
    return o.to_config();
  }
  return unknown_kind(config);
}

Result<std::unique_ptr<Embedder>> make_inner_embedder(std::string_view config, const EmbedderContext& context) {
  const std::string_view kind = kind_of(config);
  if (kind == "sif") {
    RAGFT_TRY(SifOptions o, SifOptions::parse(config));
    return trained_on_corpus<SifEmbedder>("sif", o, context);
  }
  if (kind == "ict") {
    RAGFT_TRY(IctOptions o, IctOptions::parse(config));
    return trained_on_corpus<IctEmbedder>("ict", o, context);
  }
  if (kind == "openai") return make_openai_embedder(config);
  if (kind == "bert") return make_bert_embedder(config);
  return unknown_kind(config);
}
}  // namespace

Result<std::string> canonical_embedder_config(std::string_view config) {
  RAGFT_TRY(SplitPrefixes split, split_prefixes(config));
  RAGFT_TRY(std::string canonical, canonical_inner_config(split.config));
  if (!split.prefixes.query.empty()) canonical += ",query_prefix=" + split.prefixes.query;
  if (!split.prefixes.passage.empty()) canonical += ",passage_prefix=" + split.prefixes.passage;
  return canonical;
}

std::optional<std::size_t> trained_corpus_size(std::string_view config, const std::filesystem::path& model_dir) {
  const std::string_view kind = kind_of(config);
  if (kind != "ict" && kind != "sif") return std::nullopt;
  auto canonical = canonical_embedder_config(config);
  if (!canonical.ok()) return std::nullopt;
  auto text = Env::posix().read_file(trained_model_dir(model_dir, kind, *canonical) / kTrainedRecord);
  if (!text.ok()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("texts") || !j["texts"].is_number_unsigned()) return std::nullopt;
  return j["texts"].get<std::size_t>();
}

Status forget_trained_model(std::string_view config, const std::filesystem::path& model_dir) {
  const std::string_view kind = kind_of(config);
  if (kind != "ict" && kind != "sif") {
    return make_error(ErrorCode::kInvalidArgument, "embedder {} is not trained on the corpus: nothing to retrain", config);
  }
  RAGFT_TRY(std::string canonical, canonical_embedder_config(config));
  std::error_code ec;
  std::filesystem::remove_all(trained_model_dir(model_dir, kind, canonical), ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot remove the {} model under {}: {}", kind, model_dir.string(), ec.message());
  return ok_status();
}

bool trained_model_is_stale(std::size_t trained_on, std::size_t now) {
  return now >= 2 * trained_on && now >= trained_on + 1000;
}

Result<std::unique_ptr<Embedder>> make_embedder(std::string_view config, const EmbedderContext& context) {
  RAGFT_TRY(SplitPrefixes split, split_prefixes(config));
  RAGFT_TRY(std::unique_ptr<Embedder> inner, make_inner_embedder(split.config, context));
  return with_prefixes(std::move(inner), std::move(split.prefixes));
}

}  // namespace ragft
