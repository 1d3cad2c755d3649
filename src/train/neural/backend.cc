// The entry point of libragft_torch.so: the table through which torch-free code reaches the
// libtorch contenders (train/neural_backend.h).
#include "train/neural_backend.h"

#include "embed/torch/bert_embedder.h"
#include "generate/torch/llama.h"
#include "generate/torch/lora_model.h"

namespace ragft {
namespace {

template <typename T, typename Base>
Result<std::unique_ptr<Base>> up(Result<std::unique_ptr<T>> r) {
  if (!r.ok()) return r.take_error();
  return std::unique_ptr<Base>(std::move(*r));
}

class LlamaTokenGenerator final : public TokenGenerator {
 public:
  explicit LlamaTokenGenerator(std::unique_ptr<LlamaModel> m) : m_(std::move(m)) {}
  Result<Generation> generate(std::span<const std::int32_t> prompt, const GenerateOptions& o) const override {
    return m_->generate(prompt, o);
  }
  const LlamaConfig& config() const override { return m_->config(); }
  std::string dtype() const override { return m_->dtype(); }

 private:
  std::unique_ptr<LlamaModel> m_;
};

const NeuralBackend kBackend = [] {
  NeuralBackend b;
  b.train_neural = [](const std::vector<Example>& e, const NeuralOptions& o, const TrainOptions& t) {
    return up<NeuralClassifier, Classifier>(NeuralClassifier::train(e, o, t));
  };
  b.load_neural = [](const std::filesystem::path& d, const ModelManifest& m) {
    return up<NeuralClassifier, Classifier>(NeuralClassifier::load(d, m));
  };
  b.train_encoder = [](const std::vector<Example>& e, const EncoderOptions& o, const TrainOptions& t) {
    return up<EncoderClassifier, Classifier>(EncoderClassifier::train(e, o, t));
  };
  b.load_encoder = [](const std::filesystem::path& d, const ModelManifest& m) {
    return up<EncoderClassifier, Classifier>(EncoderClassifier::load(d, m));
  };
  b.train_tagger = [](const std::vector<TaggedSentence>& tr, const std::vector<TaggedSentence>& va,
                      const NeuralTaggerOptions& o, const NeuralTaggerHooks& h) {
    return up<NeuralTagger, Extractor>(NeuralTagger::train(tr, va, o, h));
  };
  b.load_tagger = [](const std::filesystem::path& d, const ModelManifest& m) {
    return up<NeuralTagger, Extractor>(NeuralTagger::load(d, m));
  };
  b.load_bert_embedder = [](const BertEmbedderOptions& o) { return up<BertEmbedder, Embedder>(BertEmbedder::load(o)); };
  b.load_llama = [](const std::filesystem::path& dir, const LlamaOptions& o) -> Result<std::unique_ptr<TokenGenerator>> {
    RAGFT_TRY(std::unique_ptr<LlamaModel> m, LlamaModel::load(dir, o));
    return std::unique_ptr<TokenGenerator>(std::make_unique<LlamaTokenGenerator>(std::move(m)));
  };
  b.train_lora = [](const LoraTrainJob& job) { return train_lora(job); };
  return b;
}();

}  // namespace
}  // namespace ragft

extern "C" const ragft::NeuralBackend* ragft_torch_backend() { return &ragft::kBackend; }
