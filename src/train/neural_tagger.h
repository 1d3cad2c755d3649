// "tagger-neural": a BiLSTM-CRF sequence tagger trained from the data alone (no pretrained
// embeddings), built on libtorch. Torch-free header: the network lives behind a pimpl in
// train/neural/neural_tagger.cc, part of libragft_torch.so (train/neural_backend.h).
//
// Per token the input is the concatenation of
//  - a word embedding (`wdim`) of the case-folded token with digits mapped to '0'; the vocabulary
//    is the training tokens seen at least `min_count` times, plus PAD (id 0) and UNK (id 1).
//    During training a word seen only once is replaced by UNK with probability `unk_drop`, so
//    that UNK learns to stand for unseen words;
//  - a character CNN over the token's UTF-8 bytes (`cdim`-dim byte embeddings, `cfilters`
//    filters of width 3, max-pooled over the first 24 bytes): spelling of unseen words;
//  - a word-shape embedding (`sdim`, 0 disables): capitalisation pattern (lower, Title, UPPER,
//    mixed), digits, @mention, #hashtag, URL, punctuation.
// A bidirectional LSTM (`hidden` units, half per direction, `layers` layers) gives each token
// emission scores for the tags O, B-X, I-X; a linear-chain CRF (transition, start and end scores)
// scores whole tag sequences. Training minimises the CRF negative log-likelihood (forward
// algorithm); prediction is Viterbi decoding. BIO is enforced by constraint in both: O->I-X,
// B-X/I-X->I-Y (X != Y) and a sentence starting with I-X are forbidden, so every decoded
// sequence is valid BIO.
//
// train() runs Adam with a linear warm-up/decay schedule (schedule.h), gradient-norm clipping and
// dropout, for at most `epochs` epochs; after each epoch the validation entity F1 (conlleval) is
// computed, the best weights are kept, and training stops after `patience` epochs without a new
// best. Validation = the given sentences, else every 10th training sentence is held out (and not
// trained on); a set too small to split validates on the training sentences themselves.
// Deterministic for a given seed and thread count.
//
// Thread safety: predict() may be called concurrently (it runs without autograd and changes no
// state); train and save need exclusive access. No libtorch exception leaves this API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "train/extractor.h"
#include "train/progress.h"

namespace ragft {

inline constexpr std::string_view kNeuralTaggerKind = "tagger-neural";

struct NeuralTaggerOptions {
  std::size_t wdim = 100;      // word embedding size
  std::size_t cdim = 30;       // byte embedding size of the character CNN (0 disables the CNN)
  std::size_t cfilters = 100;  // character CNN filters (its output size)
  std::size_t sdim = 10;       // word-shape embedding size (0 disables)
  std::size_t hidden = 200;    // BiLSTM output size (hidden/2 per direction; even)
  std::size_t layers = 1;      // BiLSTM layers
  double dropout = 0.5;        // on the LSTM input and output
  double unk_drop = 0.5;       // chance a training word seen once is replaced by UNK
  std::size_t min_count = 1;   // vocabulary: minimum count of a (folded) training token
  double lr = 0.002;           // peak learning rate (Adam)
  double weight_decay = 0;     // Adam L2 weight decay
  double clip = 5;             // gradient-norm clip (0 disables)
  std::size_t batch = 16;      // sentences per step
  std::size_t epochs = 30;     // maximum epochs
  std::size_t patience = 5;    // early stopping: epochs without a better validation F1
  double warmup = 0.02;        // share of all steps spent warming up the learning rate
  std::uint64_t seed = 1;

  // Round-trips: "tagger-neural:wdim=100,cdim=30,cfilters=100,sdim=10,hidden=200,layers=1,
  // dropout=0.5,unk_drop=0.5,min_count=1,lr=0.002,wd=0,clip=5,batch=16,epochs=30,patience=5,
  // warmup=0.02,seed=1" (one line). parse() accepts any subset of the keys (the rest keep their
  // defaults), with or without the "tagger-neural:" prefix, and rejects unknown keys and bad or
  // out-of-range values with kInvalidArgument naming the key.
  std::string to_config() const;
  static Result<NeuralTaggerOptions> parse(std::string_view config);
  friend bool operator==(const NeuralTaggerOptions&, const NeuralTaggerOptions&) = default;
};

// Callbacks during training (both optional): `progress` after every optimisation step (model
// "tagger-neural") and once per epoch with epoch_end = true; `log` one line per epoch
// ("epoch 3/30: loss 2.41 val F1 0.3712 (best) 41.2 s").
struct NeuralTaggerHooks {
  ProgressFn progress;
  std::function<void(const std::string&)> log;
};

class NeuralTagger : public Extractor {
 public:
  // Trains on `train` (empty -> kInvalidArgument; no entity at all -> kInvalidArgument).
  // Records train_data_hash, train_seconds and metrics["validation"] (conlleval json plus
  // "source", "best_epoch", "epochs_run").
  static Result<std::unique_ptr<NeuralTagger>> train(const std::vector<TaggedSentence>& train,
                                                     const std::vector<TaggedSentence>& validation,
                                                     const NeuralTaggerOptions& options,
                                                     const NeuralTaggerHooks& hooks = {});
  // Opens a directory written by save() (called by load_extractor()). Missing or damaged
  // weights/vocabulary -> kCorrupt.
  static Result<std::unique_ptr<NeuralTagger>> load(const std::filesystem::path& dir,
                                                    const ModelManifest& manifest);

  ~NeuralTagger() override;

  std::string kind() const override { return std::string(kNeuralTaggerKind); }
  std::vector<std::string> predict(const std::vector<std::string>& tokens) const override;
  std::vector<std::string> labels() const override;
  std::string config() const override { return options_.to_config(); }
  nlohmann::json extra() const override;
  const NeuralTaggerOptions& options() const { return options_; }
  // Tag inventory in emission order: "O", then B-X, I-X per entity type (sorted).
  const std::vector<std::string>& tags() const;

  struct Impl;

 protected:
  Status save_files(const std::filesystem::path& dir) const override;

 private:
  NeuralTagger();

  NeuralTaggerOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragft
