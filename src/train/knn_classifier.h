// The retrieval contender (kind "knn", the RAG way): the training examples are indexed with the
// foundation's BM25 index (one chunk per example, analysed with `analyzer`); a text is
// classified by its top-k neighbours, each voting for its labels with weight score / top score;
// the distribution is the normalised vote. A text with no neighbour (no term in common) gets the
// training label prior.
//
// Training (train()): k is chosen from `ks` on a stratified validation split (index built on the
// rest; ties keep the smaller k); the final index holds all examples (train + validation).
//
// Files: index/ (Bm25Index directory), labels.json {"examples": [[label index...] per chunk id],
// "prior": [...]}, model.json (extra: k, analyzer, bm25).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "index/lexical/bm25_index.h"
#include "text/analyzer.h"
#include "train/classifier.h"

namespace ragft {

struct KnnOptions {
  std::vector<int> ks = {1, 3, 5, 10, 20, 50};
  // Stemmed, but no stopwords: question words ("who", "when") carry the class in TREC.
  std::string analyzer = "analyzer:lang=english,stop=none,maxlen=64";
  std::string bm25 = Bm25Options{}.to_config();
  // "knn:ks=1|3|5|10|20|50,<bm25>,<analyzer>"
  std::string to_config() const;
};

class KnnClassifier : public Classifier {
 public:
  ~KnnClassifier() override;

  // Indexes `examples` (in a temporary directory until save()) with a fixed k.
  static Result<std::unique_ptr<KnnClassifier>> build(const std::vector<Example>& examples,
                                                      const std::vector<std::string>& labels,
                                                      const KnnOptions& options, int k);
  // k selection on a validation split, then the index over all examples. `split_model`, when
  // given, receives the model built on the split's training part (with the chosen k).
  static Result<std::unique_ptr<KnnClassifier>> train(const std::vector<Example>& examples, const KnnOptions& options,
                                                      const TrainOptions& t,
                                                      std::unique_ptr<KnnClassifier>* split_model = nullptr);
  static Result<std::unique_ptr<KnnClassifier>> load(const std::filesystem::path& dir, const ModelManifest& m);

  std::string kind() const override { return "knn"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  std::vector<float> distribution(std::string_view text) const override { return distribution_k(text, k_); }
  Status save(const std::filesystem::path& dir) const override;

  // The vote distribution of the top `k` neighbours.
  std::vector<float> distribution_k(std::string_view text, int k) const;
  // Vote distributions for every k in `ks` with one search (for selection).
  std::vector<std::vector<float>> distributions(std::string_view text, const std::vector<int>& ks) const;
  int k() const { return k_; }

 private:
  KnnClassifier();
  std::vector<float> vote(const std::vector<ScoredChunk>& hits, std::size_t k) const;
  std::vector<ScoredChunk> search(std::string_view text, std::size_t k) const;

  std::unique_ptr<Bm25Index> index_;
  std::filesystem::path index_dir_;
  bool owns_index_dir_ = false;  // a temporary directory removed with the model
  std::unique_ptr<Analyzer> analyzer_;
  KnnOptions options_;
  int k_ = 5;
  std::vector<std::string> labels_;
  std::vector<std::vector<std::uint32_t>> example_labels_;  // chunk id -> label indices
  std::vector<float> prior_;
  mutable std::vector<std::string> terms_;
};

}  // namespace ragft
