// The neural contender trained from scratch (kind "neural"): a text CNN over subword (or word)
// tokens, trained with libtorch. No pretrained weights: the tokenizer and every weight come
// from the training examples.
//
// Tokens (default "word"): with tokenizer "bpe", byte-pair-encoding subwords (text/bpe.h) learnt on the
// lowercased training texts (normalize_text), `vocab` symbols at most; with "word", lowercased
// whitespace tokens seen at least twice, others mapped to <unk>.
// Network (arch "cnn"): embedding (emb_dim) -> convolutions of each width in `widths` with
// `filters` maps, ReLU, max over time -> dropout -> linear layer over the labels. Arch "bigru":
// embedding -> bidirectional GRU (hidden per direction) -> max and mean over time -> dropout ->
// linear.
//
// Training (train()): a stratified validation split (TrainOptions) keeps the weights of the
// epoch with the best validation accuracy (early stopping after `patience` epochs without a new
// best); AdamW with linear warm-up and decay; fixed seed. Progress goes to TrainOptions::on_step
// (per step) and TrainOptions::progress (per epoch).
//
// Files: model.json, weights.pt (torch::serialize archive of the named parameters),
// bpe.txt (BpeTokenizer::serialize) or vocab.txt (word). docs/formats/neural-model.md.
//
// Defined in libragft_torch.so (built with RAGFT_WITH_TORCH); torch-free code reaches it through
// train/neural_backend.h.
// Not thread-safe (as every Classifier).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "train/classifier.h"

namespace ragft {

struct NeuralOptions {
  // Defaults chosen on the validation splits of TREC-6 and SST-2 (mean accuracy; word tokens
  // beat BPE on both, lr 1e-3 edged out 2e-3): docs/benchmarks.md.
  std::string tokenizer = "word";  // "bpe" or "word"
  int vocab = 8000;               // bpe: symbols at most (the text may support fewer)
  std::string arch = "cnn";      // "cnn" or "bigru"
  int emb_dim = 128;
  std::vector<int> widths = {1, 2, 3, 4};  // cnn: kernel widths
  int filters = 128;                       // cnn: maps per width
  int hidden = 128;                        // bigru: units per direction
  double dropout = 0.5;
  double lr = 1e-3;
  double weight_decay = 0.01;
  double warmup = 0.05;  // share of the steps spent warming up
  int batch_size = 32;
  int epochs = 15;       // at most (also the length of the learning-rate decay)
  int patience = 4;      // epochs without a better validation accuracy before stopping
  int max_len = 128;     // tokens kept per text

  // "neural:tokenizer=word,vocab=8000,arch=cnn,emb=128,widths=1|2|3|4,filters=128,hidden=128,
  //  dropout=0.5,lr=0.001,wd=0.01,warmup=0.05,batch=32,epochs=15,patience=4,max_len=128"
  std::string to_config() const;
  // Accepts any subset of the keys (with or without the "neural:" prefix); unknown keys and bad
  // values -> kInvalidArgument naming the key.
  static Result<NeuralOptions> parse(std::string_view config);
};

class NeuralClassifier : public Classifier {
 public:
  ~NeuralClassifier() override;

  // Empty data or a single label -> kInvalidArgument; a build without libtorch -> kUnsupported.
  static Result<std::unique_ptr<NeuralClassifier>> train(const std::vector<Example>& examples,
                                                         const NeuralOptions& options, const TrainOptions& t);
  static Result<std::unique_ptr<NeuralClassifier>> load(const std::filesystem::path& dir, const ModelManifest& m);

  std::string kind() const override { return "neural"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  std::vector<float> distribution(std::string_view text) const override;
  Status save(const std::filesystem::path& dir) const override;

  // Token ids the network sees for `text` (after truncation to max_len); for tests.
  std::vector<std::int64_t> token_ids(std::string_view text) const;

  struct Impl;

 private:
  NeuralClassifier();
  std::vector<std::string> labels_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft
