// The "fine-tuned + RAG" arm of a knowledge bake-off: BM25 retrieval followed by a linear
// reranker trained on the training judgments (plain C++, no libtorch).
//
// Features of a (query, candidate) pair, computed by features():
//   bm25_norm      BM25 score / the list's top score
//   bm25_rrank     1 / BM25 rank (rank from 1, in the order given)
//   bm25_log       ln(1 + BM25 score)
//   title_cover    share of the query's distinct terms found in the title
//   text_cover     share of the query's distinct terms found in the text
//   idf_cover      the same share for title + text, each term weighted by its idf (document
//                  frequencies counted over the distinct candidate docs seen in training)
//   bigram_match   share of the query's term bigrams found as adjacent terms in the text
//   log_len        ln(1 + terms in title + text)
//   cb_logp        ln(1e-5 + the closed-book model's probability for the doc), only when a
//                  ClosedBookModel is given: the fine-tuned model combined with retrieval
// Terms come from the project's Analyzer (english stemming, Snowball stopwords). Features are
// standardised with the mean and standard deviation of the training rows.
//
// Training: a linear score w.x, fitted with Adam on mini-batches of one query's list, either
// pairwise (RankNet: logistic loss on every (more relevant, less relevant) pair of a list) or
// pointwise (logistic loss on relevant >= 1), with an L2 penalty. Candidates missing from a
// list's judgments count as relevance 0.
//
// Thread safety: rerank() uses a per-instance analyzer and cache; one reranker per thread. The
// ClosedBookModel passed to train() or load() must outlive the reranker.
//
// File (save/load): reranker.json with magic, version, options, feature names, standardisation
// (mean, std), weights and the document frequencies idf_cover uses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"
#include "decide/closed_book.h"
#include "evaluate/trec.h"

namespace ragft {
class Analyzer;
}

namespace ragft::decide {

struct Candidate {
  std::string doc_id;
  double bm25 = 0;
  std::string title, text;
};

struct RerankerOptions {
  // Defaults chosen by 5-fold cross-validation on the 809 SciFact train queries with the
  // out-of-fold closed-book feature: pairwise 0.747 nDCG@10 (depth 100, l2 0.01) vs 0.745
  // (depth 50) vs pointwise 0.734; BM25 alone 0.701 (bench/e2e/decide_knowledge.cc --select).
  std::size_t depth = 100;          // candidates reranked (the rest keep their order below them)
  std::string loss = "pairwise";    // pairwise | pointwise
  double l2 = 0.01;
  int epochs = 30;
  double lr = 0.1;
  std::uint64_t seed = 1;

  // "rerank:depth=100,loss=pairwise,l2=0.01,epochs=30,lr=0.1,seed=1"; parse() accepts any
  // subset of the keys; unknown keys or bad values -> kInvalidArgument naming the key.
  std::string to_config() const;
  static Result<RerankerOptions> parse(std::string_view config);
  bool operator==(const RerankerOptions&) const = default;
};

class Reranker {
 public:
  ~Reranker();

  // `train_lists`: (query text, candidates in BM25 order); `judgments[i]`: doc id -> relevance
  // for list i. Lists are cut to `depth`. Sizes differ, no list with both a relevant and a
  // non-relevant candidate (pairwise) / no candidates at all (pointwise), or bad options ->
  // kInvalidArgument. `closed_book` may be null (no cb_logp feature); it is kept for rerank().
  // A closed-book model trained on these very queries scores their relevant docs far too well,
  // so the reranker would overrate it: either pass a model that has not seen them (e.g. trained
  // on pseudo-queries only), or pass `closed_book_scores`: per list, the probability of each of
  // its candidates from models that did not see that list's query
  // (ClosedBookModel::cross_fit_scores()); the training rows' cb_logp then comes from there.
  static Result<std::unique_ptr<Reranker>> train(
      const std::vector<std::pair<std::string, std::vector<Candidate>>>& train_lists,
      const std::vector<std::map<std::string, int>>& judgments, const ClosedBookModel* closed_book,
      const RerankerOptions& o, const std::vector<std::vector<float>>* closed_book_scores = nullptr);

  // The first `depth` candidates re-scored with the model, then the rest (scores below all
  // reranked ones, in the given order). Returns doc ids with scores, descending.
  std::vector<RunEntry> rerank(std::string_view query, const std::vector<Candidate>& candidates) const;
  // The same with the closed-book probability of each candidate given (e.g. computed out of
  // fold, or cached); ignored when the reranker has no closed-book feature.
  std::vector<RunEntry> rerank(std::string_view query, const std::vector<Candidate>& candidates,
                               const std::vector<float>& closed_book_scores) const;

  // Feature name -> weight (on standardised features), in feature order.
  std::vector<std::pair<std::string, double>> weights() const;
  // Raw (unstandardised) features of each candidate, rows in candidate order; names as weights().
  std::vector<std::vector<double>> features(std::string_view query, const std::vector<Candidate>& candidates) const;
  const RerankerOptions& options() const { return options_; }
  bool uses_closed_book() const { return closed_book_ != nullptr; }

  // Writes reranker.json into `dir` (created; atomic).
  Status save(const std::filesystem::path& dir) const;
  // Reads reranker.json from `dir`. A model trained with the closed-book feature needs
  // `closed_book` (the model it was trained with); kInvalidArgument when it is missing. No file
  // -> kNotFound; bad magic/version, features this build does not compute, or damaged values ->
  // kCorrupt.
  static Result<std::unique_ptr<Reranker>> load(const std::filesystem::path& dir, const ClosedBookModel* closed_book);

 private:
  Reranker();
  struct DocTerms {
    std::size_t text_hash = 0;
    std::vector<std::string> title, text;  // analysed terms, in order
  };
  const DocTerms& doc_terms(const Candidate& c) const;
  // features(), with the closed-book probabilities given (`cb`, one per candidate) or computed.
  std::vector<std::vector<double>> features(std::string_view query, const std::vector<Candidate>& candidates,
                                            const std::vector<float>* cb) const;
  std::vector<RunEntry> rerank_impl(std::string_view query, const std::vector<Candidate>& candidates,
                                    const std::vector<float>* cb) const;
  double idf(const std::string& term) const;

  RerankerOptions options_;
  const ClosedBookModel* closed_book_ = nullptr;
  std::vector<std::string> names_;
  std::vector<double> mean_, std_, w_;
  std::unordered_map<std::string, std::uint32_t> df_;  // term -> docs among training candidates
  std::size_t df_docs_ = 0;
  std::unique_ptr<Analyzer> analyzer_;
  mutable std::unordered_map<std::string, DocTerms> cache_;
  mutable std::vector<std::string> scratch_;
};

}  // namespace ragft::decide
