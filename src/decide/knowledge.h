// The corpus side of a knowledge task, shared by decide's retrieval bake-off and
// `ragft eval retrieval --rerank`: a workspace over the corpus with its chunk -> document map,
// documents ranked by any search mode, judged query sets, and the trained retriever of the
// "fine-tuned + RAG" arm (BM25 candidates re-ranked by a model trained on the judgments, with
// the closed-book model's score as a feature).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "decide/closed_book.h"
#include "decide/reranker.h"
#include "evaluate/trec.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"

namespace ragft::decide {

inline constexpr std::size_t kDepth = 100;  // documents ranked per query
inline constexpr int kCutoff = 10;          // nDCG@10
inline constexpr int kFolds = 3;            // out-of-fold closed-book scores for the reranker's training

// A synced workspace over the corpus and the chunk -> document map queries need.
struct Corpus {
  std::unique_ptr<Workspace> ws;
  std::unordered_map<ChunkId, std::string> chunk_doc;
  std::vector<CorpusDoc> docs;
  std::unordered_map<std::string, std::size_t> doc_index;
};

// A workspace over a bake-off's corpus (BM25 with `bm25`; a dense index with `dense`).
Result<Workspace> open_ws(const std::filesystem::path& dir, const Bm25Options& bm25,
                          const std::optional<DenseOptions>& dense = std::nullopt);
// Syncs `paths` into `ws` and brings its index up to date; returns the seconds taken. No document
// readable -> kInvalidArgument naming data.corpus.
Result<double> sync_into(Workspace& ws, const std::vector<std::filesystem::path>& paths);
// {"<path>": "<content hash>"} of the corpus files and folders (cache keys).
Result<nlohmann::json> corpus_hashes_of(const std::vector<std::filesystem::path>& corpus);
// The cached workspace directory for a corpus with those hashes.
std::filesystem::path corpus_dir(const std::filesystem::path& cache_dir, const nlohmann::json& corpus_hashes);

// The cached workspace of a corpus (corpus_dir under `cache_dir`), opened with default BM25 and
// synced with the files; `seconds` (optional) gets the sync time. `log` (may be empty) gets one
// progress line.
Result<Workspace> synced_corpus(const std::vector<std::filesystem::path>& corpus, const std::filesystem::path& cache_dir,
                                const std::function<void(const std::string&)>& log, double* seconds = nullptr);

// Fills chunk_doc and, when `with_docs`, docs and doc_index from the workspace's store.
Status load_maps(Corpus& c, bool with_docs);

// Documents ranked by their best chunk, in the order of `how` (mode and fusion; BM25 when
// default). A query the mode cannot rank (no searchable words) ranks nothing.
std::vector<RunEntry> ranked_docs(Corpus& c, const SearchRequest& how, std::string_view query, std::size_t depth);
// Ranked chunks -> at most `depth` documents, each scored by its best (first) chunk; chunks
// missing from c.chunk_doc are skipped. Ask the ranker for ~3 chunks per document wanted.
std::vector<RunEntry> best_chunk_per_doc(const Corpus& c, const std::vector<ScoredChunk>& hits, std::size_t depth);
std::vector<RunEntry> bm25_docs(Corpus& c, std::string_view query, std::size_t depth);
// The BM25 top `depth` documents with their titles and texts (the reranker's candidates).
std::vector<Candidate> candidates(Corpus& c, std::string_view query, std::size_t depth);
// nDCG@10 of a ranking (sorted as trec_eval does).
double ndcg(std::vector<RunEntry> ranked, const std::map<std::string, int>& judged);

struct QuerySet {
  std::vector<QueryRecord> queries;               // with at least one relevant judgment
  std::vector<std::map<std::string, int>> judged;  // aligned
};
QuerySet judged_queries(const std::vector<QueryRecord>& all, const Qrels& qrels);
// Training queries for the closed-book model: relevant documents known to `known` and not in
// `exclude_docs`; queries left without one are dropped.
std::vector<TrainQuery> train_queries(const QuerySet& s, const std::unordered_set<std::string>& exclude_docs,
                                      const std::unordered_map<std::string, std::size_t>& known);

// The reranker over BM25 candidates with the closed-book model's probability as a feature. The
// feature's training values are out-of-fold (a closed-book model that saw a query would score
// its relevant documents too well and the reranker would over-trust it); at query time `cb`,
// trained on every training query, supplies it.
Result<std::unique_ptr<Reranker>> train_reranker(Corpus& c, const QuerySet& train, const ClosedBookModel& cb,
                                                 const ClosedBookOptions& cbo, const RerankerOptions& o);
// Reranks with the closed-book feature taken from `cb` (e.g. the model of the freshness
// experiment's "before" state) instead of the reranker's own.
std::vector<RunEntry> rerank_with(const Reranker& rr, const ClosedBookModel& cb, std::string_view q,
                                  const std::vector<Candidate>& cands);

// What RerankedRetriever::search() saw, for staleness warnings: candidate documents the
// closed-book model was not trained with score as if it had never heard of them.
struct RerankServeStats {
  std::size_t candidates = 0;        // documents reranked
  std::size_t unknown_to_model = 0;  // of which unknown to the closed-book model
};

// The whole "fine-tuned retriever": a closed-book model trained on the corpus and the training
// queries, and the reranker trained with it. `c` must hold its documents (load_maps with_docs).
//
// Saved (`ragft train rerank`, decide's fine_tuned_rag arm) as a directory: retriever.json
// (magic, version, reranker options, the BM25 and analyzer configs of the workspace it was
// trained on, how many queries and documents), reranker.json and closed_book/.
struct RerankedRetriever {
  std::unique_ptr<ClosedBookModel> closed_book;
  std::unique_ptr<Reranker> reranker;
  RerankerOptions options;
  // Provenance: the workspace's BM25 and analyzer configs at training time (the reranker's
  // BM25 features were measured with them), training queries and corpus documents.
  std::string bm25_config, analyzer_config;
  std::size_t train_query_count = 0, doc_count = 0;

  // No training query with a relevant document in the corpus -> kInvalidArgument.
  static Result<RerankedRetriever> train(Corpus& c, const QuerySet& train, const ClosedBookOptions& cbo,
                                         const RerankerOptions& o);
  std::vector<RunEntry> rank(Corpus& c, std::string_view query) const;

  Status save(const std::filesystem::path& dir) const;
  // No retriever.json -> kNotFound; damaged files -> kCorrupt.
  static Result<RerankedRetriever> load(const std::filesystem::path& dir);

  // Serving: the request's BM25 hits (its tenant, principal and metadata filters applied inside
  // the index) grouped into documents by their best chunk, the top `options.depth` documents
  // reranked with their full title and text from the store, and the best chunk of each of the
  // top request.k documents returned, scored by the reranker (scores compare within one query
  // only). request.mode must be BM25 (kInvalidArgument otherwise).
  Result<std::vector<SearchHit>> search(Workspace& ws, const SearchRequest& request,
                                        RerankServeStats* stats = nullptr) const;
};

}  // namespace ragft::decide
