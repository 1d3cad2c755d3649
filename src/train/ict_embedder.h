// A dense retrieval embedder trained on the user's own corpus, with no labels: a bag-of-words
// encoder trained by the Inverse Cloze Task (Lee, Chang and Toutanova 2019, "Latent Retrieval
// for Weakly Supervised Open Domain Question Answering"): a sentence taken out of a text is a
// pseudo-query, and the rest of its text is the passage it must retrieve against the other
// passages of its batch (in-batch negatives, softmax over cosine similarities / tau, both
// directions).
//
// Encoder (the same for queries and passages):
//   u(s) = sum over distinct terms w of s of (1 + ln tf(w)) * idf(w) * E[w]
//   embed(s) = u(s) / |u(s)|        (zero vector when s has no term with a vector)
// idf(w) = ln(1 + N / df(w)) over the training texts; terms in fewer than `min_count` texts get
// no vector. Text becomes terms through one analyzer config (by default BM25's, so the terms the
// lexical index matches on). E is trained by row-wise Adagrad from N(0, 0.1) initial values.
//
// Texts are split into lines, then sentences; a text needs two sentences (a title line counts)
// to give a training pair, or one sentence of 8+ known terms, whose halves are the pair. Single-threaded and deterministic for a seed.
//
// Files (save/load): ict.json (config, training hash, dimensions), ict.bin ("RGFTICT1", u32 term
// count, each term as u32 length + bytes + f32 idf, then term count * dim f32 vectors).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "embed/embedder.h"

namespace ragft {

class Analyzer;

struct IctOptions {
  int dim = 128;
  int epochs = 10;
  int pairs = 4;         // pseudo-queries drawn per text per epoch
  int batch = 128;       // pairs per batch (the in-batch negatives)
  double lr = 0.2;       // Adagrad learning rate
  double tau = 0.1;      // softmax temperature (0.1 beat 0.05 on SciFact train queries)
  int min_count = 2;     // documents a term must occur in to get a vector
  std::uint64_t seed = 1;
  std::string analyzer;  // empty: the default analyzer (BM25's)

  // "ict:dim=128,epochs=10,pairs=4,batch=128,lr=0.2,tau=0.1,mincount=2,seed=1,analyzer:..."
  // (round-trips; parse() takes any subset of keys, then optionally ",analyzer:...").
  std::string to_config() const;
  static Result<IctOptions> parse(std::string_view config);
};

struct IctTrainReport {
  std::size_t texts = 0, pairs = 0, terms = 0;
  std::vector<double> epoch_loss;  // mean in-batch loss per epoch
};

class IctEmbedder final : public Embedder {
 public:
  ~IctEmbedder() override;
  // No texts, or no text with two sentences -> kInvalidArgument.
  static Result<std::unique_ptr<IctEmbedder>> train(const std::vector<std::string>& texts, const IctOptions& options,
                                                    IctTrainReport* report = nullptr);

  int dim() const override { return options_.dim; }
  std::string model_id() const override;
  std::string config() const override { return options_.to_config(); }
  // Thread-safe (the analyzer is guarded by a mutex).
  Status embed(const std::vector<std::string>& texts, EmbedRole role, std::vector<float>& out) override;
  const IctOptions& options() const { return options_; }

  Status save(const std::filesystem::path& dir) const;
  // Missing or damaged files -> kCorrupt naming the file.
  static Result<std::unique_ptr<IctEmbedder>> load(const std::filesystem::path& dir);

 private:
  IctEmbedder();
  IctOptions options_;
  std::unique_ptr<Analyzer> analyzer_;
  mutable std::mutex analyzer_mu_;
  std::vector<std::string> terms_;
  std::unordered_map<std::string, std::uint32_t> term_ids_;
  std::vector<float> idf_;
  std::vector<float> vectors_;  // terms_.size() * dim
  std::string train_hash_;
};

}  // namespace ragft
