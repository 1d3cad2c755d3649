// The "fine-tuned, closed-book" arm of a knowledge bake-off: a fastText classifier whose labels
// are document ids (in the spirit of differentiable-search-index work), mapping a question
// straight to documents without reading the corpus at query time.
//
// Training data (train()): every training query, labelled with all its relevant documents and
// repeated `query_repeat` times, plus pseudo-queries generated from every document's own text:
// its title, a few of its sentences spread evenly over the text (sentences longer than
// `window` words are cut into windows), and optionally the whole document. Text is normalised
// with the project's Analyzer (default: english stemming, Snowball stopwords), the same way for
// training and prediction.
//
// Loss: hierarchical softmax ("hs", the default: an update costs log2(labels) dot products) or
// "ova" / "ns" / "softmax". Defaults chosen on SciFact *train* queries (docs + 80% of them for
// training, nDCG@10 on the other 20%; bench/e2e/decide_knowledge.cc --select): hs 0.46-0.54
// across seeds in ~25 s on 2 cores; ns 0.36; ova 0.19 after 5 epochs in 214 s (too slow for
// 5183 labels); 4 pseudo-queries 0.45, all sentences 0.49, no whole-doc example 0.48. dim 128,
// 40 epochs, lr 1, word bigrams or 3 copies of each query: no gain beyond the seed-to-seed
// spread (about +-0.04 on 162 held-out queries).
//
// Thread safety: rank() and score() use a per-instance analyzer; one model per thread.
// Files (save/load): closed_book.json (magic, version, options, doc ids) and model.bin
// (fastText's own format).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "evaluate/trec.h"

namespace fasttext {
class FastText;
}

namespace ragft {
class Analyzer;
}

namespace ragft::decide {

struct CorpusDoc {
  std::string id, title, text;
};

struct TrainQuery {
  std::string text;
  std::vector<std::string> relevant_doc_ids;  // ids not among the docs are an error
};

struct ClosedBookOptions {
  // Pseudo-queries per document, the title included (0: title plus every sentence/window).
  int pseudo_queries_per_doc = 8;
  int window = 30;           // longest pseudo-query in words; longer sentences are cut
  bool full_doc = true;      // also one example with the whole document (title + text)
  int query_repeat = 1;      // copies of each training query
  std::string loss = "hs";   // hs | ova | ns | softmax
  int dim = 64;
  double lr = 0.5;
  int epochs = 20;
  int word_ngrams = 1;
  int bucket = 200000;       // hash buckets for word n-grams (used only when word_ngrams > 1)
  int threads = 0;           // 0: std::thread::hardware_concurrency(); 1 is reproducible for a seed
  std::uint64_t seed = 1;
  // Analyzer config (analyzer.h) used to normalise text.
  std::string analyzer = "analyzer:lang=english,stop=snowball,maxlen=64";

  // "closedbook:pq=8,window=30,full=1,qrep=1,loss=hs,dim=64,lr=0.5,epochs=20,ngrams=1,
  //  bucket=200000,threads=0,seed=1,analyzer:lang=english,stop=snowball,maxlen=64"
  // (the analyzer config last). parse() accepts any subset of the keys, in any order, with the
  // analyzer config last; unknown keys or bad values -> kInvalidArgument naming the key.
  std::string to_config() const;
  static Result<ClosedBookOptions> parse(std::string_view config);
  bool operator==(const ClosedBookOptions&) const = default;
};

// What one training run took.
struct ClosedBookTrainInfo {
  std::size_t examples = 0;        // fastText training lines
  std::size_t pseudo_queries = 0;  // of which generated from documents
  double seconds = 0;              // wall time of train(), data preparation included
};

class ClosedBookModel {
 public:
  ~ClosedBookModel();

  // Trains on `queries` plus pseudo-queries from `docs` (see the file comment). Every doc id
  // becomes a label. No docs, a repeated doc id, a query relevant to an unknown doc, or bad
  // options -> kInvalidArgument.
  static Result<std::unique_ptr<ClosedBookModel>> train(const std::vector<CorpusDoc>& docs,
                                                        const std::vector<TrainQuery>& queries,
                                                        const ClosedBookOptions& o);

  // Top-k document ids, score-descending (ties by doc id), scores being the model's
  // probabilities (for "hs"/"softmax" they sum to at most 1; for "ova"/"ns" each is a sigmoid).
  // A query with no known word -> empty.
  std::vector<RunEntry> rank(std::string_view query, std::size_t k) const;
  // The model's probability for each of `doc_ids`, in that order (0 for an unknown id or a query
  // with no known word).
  std::vector<float> score(std::string_view query, const std::vector<std::string>& doc_ids) const;

  std::size_t labels() const { return doc_ids_.size(); }
  // Whether `doc_id` was a label when the model was trained (documents added later score 0).
  bool knows(const std::string& doc_id) const { return id_index_.count(doc_id) > 0; }
  const ClosedBookOptions& options() const { return options_; }
  const ClosedBookTrainInfo& train_info() const { return info_; }

  // Writes closed_book.json and model.bin into `dir` (created). load(): kNotFound without
  // closed_book.json, kCorrupt for a bad magic/version or damaged files.
  Status save(const std::filesystem::path& dir) const;
  static Result<std::unique_ptr<ClosedBookModel>> load(const std::filesystem::path& dir);

  // Out-of-fold scores, for training a reranker on the closed-book feature without leakage: the
  // queries are split into `folds` parts (round robin after a seeded shuffle); for each part a
  // model is trained on the docs plus the other parts, and scores, for each query of the part,
  // the doc ids in candidate_ids[query] (as score() does). Result: one vector per query, in
  // `queries` order. folds < 2 or a size mismatch -> kInvalidArgument.
  static Result<std::vector<std::vector<float>>> cross_fit_scores(
      const std::vector<CorpusDoc>& docs, const std::vector<TrainQuery>& queries,
      const std::vector<std::vector<std::string>>& candidate_ids, const ClosedBookOptions& o, int folds);

  // The pseudo-queries train() generates for one document (exposed for tests and reports).
  static std::vector<std::string> pseudo_queries(const CorpusDoc& doc, const ClosedBookOptions& o);

 private:
  ClosedBookModel();
  std::string normalize(std::string_view text) const;
  // Probability of every fastText label id for `query` (empty when no known word).
  std::vector<float> all_probabilities(std::string_view query) const;
  Status map_labels();

  ClosedBookOptions options_;
  ClosedBookTrainInfo info_;
  std::unique_ptr<fasttext::FastText> ft_;
  std::unique_ptr<Analyzer> analyzer_;
  std::vector<std::string> doc_ids_;   // our label index -> doc id
  std::vector<int> ft_to_ours_;        // fastText label id -> our label index
  std::vector<int> ours_to_ft_;
  std::unordered_map<std::string, int> id_index_;  // doc id -> our label index
  mutable std::vector<std::string> terms_;
};

}  // namespace ragft::decide
