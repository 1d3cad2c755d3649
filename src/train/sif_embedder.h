// The offline default embedder, trained on the user's own corpus: fastText subword word vectors
// (skipgram, through the fastText library) combined by SIF weighting (Arora, Liang, Ma 2017, "A
// Simple but Tough-to-Beat Baseline for Sentence Embeddings"):
//
//   v(s) = 1/|s| * sum over words w of s of  a / (a + p(w)) * v(w)
//   v(s) -= (v(s) . u) u        u: first principal component (uncentred, as in the paper's
//                               TruncatedSVD) of the training texts' v(s)
//   embed(s) = v(s) / |v(s)|    (zero vector when s has no word or v(s) is zero)
//
// p(w) is the word's relative frequency over the analysed training texts (0 for words never
// seen, so they get weight 1). v(w) is fastText's word vector: the mean of the word's own vector
// and its character n-gram vectors; out-of-vocabulary words get their n-gram vectors only.
// Text is turned into words by one analyzer config, the same for training and embedding.
//
// Files (save/load): model.bin (fastText's own format), sif.json (config, pc, training hash),
// counts.tsv ("word<TAB>count" lines, sorted by word).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "embed/embedder.h"

namespace fasttext {
class FastText;
}

namespace ragft {

class Analyzer;

struct SifOptions {
  int dim = 100;       // word (and text) vector dimension
  int epochs = 5;      // fastText skipgram epochs
  int minn = 3;        // character n-gram lengths (minn=maxn=0: no subwords)
  int maxn = 6;
  int min_count = 2;   // words seen fewer times get no word vector of their own (subwords only)
  double lr = 0.05;
  int threads = 1;     // 1: reproducible for a seed
  std::uint64_t seed = 1;
  double a = 1e-3;     // SIF smoothing: weight a / (a + p(w))
  // Hash buckets for character n-grams: the model holds (words + bucket) * dim floats.
  // fastText's default of 2M would cost 0.8 GB at dim 100.
  int bucket = 200000;
  // text -> words, the same for training and embedding
  std::string analyzer = "analyzer:lang=english,stop=none,maxlen=64";

  // Round-trips through parse():
  // "sif:dim=100,epochs=5,minn=3,maxn=6,mincount=2,lr=0.05,threads=1,seed=1,a=0.001,bucket=200000,<analyzer>"
  // The analyzer config comes last (it holds commas itself). parse() accepts any subset of the
  // keys in any order, then optionally ",analyzer:..."; unknown keys, bad values and bad
  // analyzer configs -> kInvalidArgument naming the key.
  std::string to_config() const;
  static Result<SifOptions> parse(std::string_view config);
};

// SIF weight of a word of relative frequency p: a / (a + p).
inline double sif_weight(double a, double p) { return a / (a + p); }

// Immutable after train()/load(); embed() and embed_batch() are thread-safe (the analyzer is
// guarded by a mutex). As an Embedder its config is "sif:..." (SifOptions) and queries and
// documents are embedded alike.
class SifEmbedder final : public Embedder {
 public:
  ~SifEmbedder() override;

  // Trains word vectors on `texts` (skipgram), counts word frequencies over them and computes
  // the first principal component of the SIF-weighted text vectors (power iteration over at
  // most 20000 texts, sampled with `o.seed`). No texts, or no word reaching min_count ->
  // kInvalidArgument; bad options -> kInvalidArgument.
  static Result<std::unique_ptr<SifEmbedder>> train(const std::vector<std::string>& texts, const SifOptions& o);

  int dim() const override { return dim_; }
  const SifOptions& options() const { return options_; }
  // The removed direction (unit length; zero when the training texts had no vectors).
  const std::vector<float>& pc() const { return pc_; }
  // SIF weight of an analysed term (1 for terms never seen in training).
  double weight(const std::string& term) const;

  // L2-normalised embedding (dim floats). Text with no word (or only words without any vector)
  // -> the zero vector.
  std::vector<float> embed(std::string_view text) const;
  // Row-major, texts.size() * dim floats; `out` is resized.
  void embed_batch(const std::vector<std::string>& texts, std::vector<float>& out) const;

  // Stable id for embedding caches: "<config>@<32 hex digits>", the hash covering the training
  // texts' content hash and the principal component.
  std::string model_id() const override;
  std::string config() const override { return options_.to_config(); }
  Status embed(const std::vector<std::string>& texts, EmbedRole role, std::vector<float>& out) override;

  Status save(const std::filesystem::path& dir) const;
  // Missing or damaged files -> kCorrupt naming the file.
  static Result<std::unique_ptr<SifEmbedder>> load(const std::filesystem::path& dir);

 private:
  SifEmbedder();
  // Unnormalised SIF vector of analysed terms (before PC removal); false if no word had a vector.
  bool sif_vector(const std::vector<std::string>& terms, std::vector<double>& v) const;
  void cache_word_vectors();
  void embed_into(std::string_view text, std::vector<std::string>& terms, std::vector<double>& v, float* out) const;

  SifOptions options_;
  int dim_ = 0;
  std::unique_ptr<fasttext::FastText> ft_;
  std::unique_ptr<Analyzer> analyzer_;
  mutable std::mutex analyzer_mu_;
  std::vector<std::pair<std::string, std::uint64_t>> counts_;  // sorted by word
  std::uint64_t total_ = 0;
  std::vector<float> word_vectors_;  // fastText dictionary id -> vector (dim floats each)
  std::vector<float> pc_;
  std::string train_hash_;  // content hash of the training texts
};

}  // namespace ragft
