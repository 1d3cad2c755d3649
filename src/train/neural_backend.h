// The libtorch contenders (neural, encoder, tagger-neural) live in a shared library,
// libragft_torch.so, that is loaded on first use: loading libtorch costs every process ~0.4 s of
// CPU and ~150 MB (its operator registry initialises at load), which `ragft search`, `ragft
// index` and the other commands that never touch a neural model must not pay.
//
// Torch-free code reaches those models only through this table. The classes themselves
// (neural_classifier.h, encoder_classifier.h, neural_tagger.h, embed/torch/bert_embedder.h) are
// defined in the library; code linked against it (its tests) may use them directly.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/bert_embedder_options.h"
#include "embed/embedder.h"
#include "generate/lora.h"
#include "generate/token_generator.h"
#include "generate/torch/llama.h"  // torch-free header: LlamaOptions
#include "train/classifier.h"
#include "train/encoder_classifier.h"
#include "train/extractor.h"
#include "train/neural_classifier.h"
#include "train/neural_tagger.h"

namespace ragft {

inline constexpr int kNeuralBackendAbi = 4;

struct NeuralBackend {
  int abi = kNeuralBackendAbi;
  Result<std::unique_ptr<Classifier>> (*train_neural)(const std::vector<Example>&, const NeuralOptions&,
                                                      const TrainOptions&) = nullptr;
  Result<std::unique_ptr<Classifier>> (*load_neural)(const std::filesystem::path&, const ModelManifest&) = nullptr;
  Result<std::unique_ptr<Classifier>> (*train_encoder)(const std::vector<Example>&, const EncoderOptions&,
                                                       const TrainOptions&) = nullptr;
  Result<std::unique_ptr<Classifier>> (*load_encoder)(const std::filesystem::path&, const ModelManifest&) = nullptr;
  Result<std::unique_ptr<Extractor>> (*train_tagger)(const std::vector<TaggedSentence>& train,
                                                     const std::vector<TaggedSentence>& validation,
                                                     const NeuralTaggerOptions&, const NeuralTaggerHooks&) = nullptr;
  Result<std::unique_ptr<Extractor>> (*load_tagger)(const std::filesystem::path&, const ModelManifest&) = nullptr;
  // Since abi 2.
  Result<std::unique_ptr<Embedder>> (*load_bert_embedder)(const BertEmbedderOptions&) = nullptr;
  // Since abi 3: a Llama-family checkpoint directory (generate/torch/llama.h LlamaModel::load).
  Result<std::unique_ptr<TokenGenerator>> (*load_llama)(const std::filesystem::path&, const LlamaOptions&) = nullptr;
  // Since abi 4: LoRA training of a Llama-family checkpoint (generate/torch/lora_model.h).
  Result<LoraReport> (*train_lora)(const LoraTrainJob&) = nullptr;
};

// The library's table, loading it on the first call (thread-safe): RAGFT_TORCH_LIB if set, else
// libragft_torch.so beside the executable, else the dynamic loader's search path. A build
// without libtorch, or a missing library -> kUnsupported saying so; an incompatible library
// -> kUnsupported naming both versions.
Result<const NeuralBackend*> neural_backend();

// The BERT checkpoint embedder for a "bert:path=DIR,..." config string
// (embed/bert_embedder_options.h, embed/torch/bert_embedder.h): bad options -> kInvalidArgument,
// no libtorch -> kUnsupported (as neural_backend()), then the loader's errors (a missing
// checkpoint -> kNotFound).
Result<std::unique_ptr<Embedder>> make_bert_embedder(std::string_view config);

// The local decoder for a checkpoint directory: no libtorch -> kUnsupported, then the loader's
// errors (missing files -> kNotFound, damaged -> kCorrupt, unsupported architecture -> kUnsupported).
Result<std::unique_ptr<TokenGenerator>> make_token_generator(const std::filesystem::path& dir, const LlamaOptions& options);

}  // namespace ragft

// Defined by libragft_torch.so.
extern "C" const ragft::NeuralBackend* ragft_torch_backend();
