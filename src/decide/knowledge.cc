#include "decide/knowledge.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "decide/arm.h"
#include "decide/cache.h"
#include "ingest/sync.h"

#include "evaluate/metrics.h"

namespace ragft::decide {

Result<Workspace> open_ws(const std::filesystem::path& dir, const Bm25Options& bm25,
                          const std::optional<DenseOptions>& dense) {
  WorkspaceOptions wo;
  wo.bm25 = bm25;
  wo.dense = dense;
  return Workspace::open(dir, wo);
}

Result<double> sync_into(Workspace& ws, const std::vector<std::filesystem::path>& paths) {
  Stopwatch w;
  SyncOptions so;
  RAGFT_TRY(auto summary, sync_paths(ws.store(), paths, so));
  if (summary.failed > 0 && summary.added + summary.changed + summary.unchanged == 0) {
    return make_error(ErrorCode::kInvalidArgument, "data.corpus: no document could be read ({} failed; first: {})",
                      summary.failed, summary.failures.empty() ? "?" : summary.failures.front());
  }
  RAGFT_TRY(auto caught, ws.catch_up());
  (void)caught;
  return w.seconds();
}

Result<nlohmann::json> corpus_hashes_of(const std::vector<std::filesystem::path>& corpus) {
  nlohmann::json h = nlohmann::json::object();
  for (const auto& path : corpus) {
    RAGFT_TRY(h[path.string()], input_hash(path));
  }
  return h;
}

std::filesystem::path corpus_dir(const std::filesystem::path& cache_dir, const nlohmann::json& corpus_hashes) {
  return cache_dir / ("corpus-" + Cache::key(corpus_hashes));
}

Result<Workspace> synced_corpus(const std::vector<std::filesystem::path>& corpus, const std::filesystem::path& cache_dir,
                                const std::function<void(const std::string&)>& log, double* seconds) {
  RAGFT_TRY(nlohmann::json hashes, corpus_hashes_of(corpus));
  std::filesystem::path dir = corpus_dir(cache_dir, hashes);
  if (log) log("indexing the corpus into " + dir.string());
  RAGFT_TRY(Workspace ws, open_ws(dir, Bm25Options{}));
  RAGFT_TRY(double s, sync_into(ws, corpus));
  if (seconds) *seconds = s;
  return ws;
}

Status load_maps(Corpus& c, bool with_docs) {
  c.chunk_doc.clear();
  std::unordered_map<DocId, std::string> ext;
  RAGFT_TRY(auto sources, c.ws->store().list_sources("default"));
  for (const auto& s : sources) ext[s.id] = s.ext_id;
  RAGFT_TRY_STATUS(c.ws->store().for_each_chunk([&](const ChunkRecord& ch, const ChunkAccess&) {
    c.chunk_doc[ch.id] = ext[ch.doc_id];
    return ok_status();
  }));
  if (!with_docs) return ok_status();
  c.docs.clear();
  c.doc_index.clear();
  for (const auto& s : sources) {
    RAGFT_TRY(auto rec, c.ws->store().get(s.id));
    if (!rec) continue;
    c.doc_index[rec->ext_id] = c.docs.size();
    c.docs.push_back({rec->ext_id, rec->title, rec->text});
  }
  return ok_status();
}

std::vector<RunEntry> ranked_docs(Corpus& c, const SearchRequest& how, std::string_view query, std::size_t depth) {
  SearchRequest r = how;
  r.query = std::string(query);
  r.k = depth * 3;
  FilterSpec all;
  auto ranked = rank_chunks(*c.ws, r, all);
  if (!ranked.ok()) return {};
  return best_chunk_per_doc(c, *ranked, depth);
}

std::vector<RunEntry> best_chunk_per_doc(const Corpus& c, const std::vector<ScoredChunk>& hits, std::size_t depth) {
  std::vector<RunEntry> out;
  std::unordered_set<std::string> seen;
  for (const ScoredChunk& h : hits) {
    auto it = c.chunk_doc.find(h.id);
    if (it == c.chunk_doc.end() || !seen.insert(it->second).second) continue;
    out.push_back({it->second, h.score});
    if (out.size() >= depth) break;
  }
  return out;
}

std::vector<RunEntry> bm25_docs(Corpus& c, std::string_view query, std::size_t depth) {
  return ranked_docs(c, SearchRequest{}, query, depth);
}

std::vector<Candidate> candidates(Corpus& c, std::string_view query, std::size_t depth) {
  std::vector<Candidate> out;
  for (const RunEntry& e : bm25_docs(c, query, depth)) {
    auto it = c.doc_index.find(e.doc_id);
    if (it == c.doc_index.end()) continue;
    const CorpusDoc& d = c.docs[it->second];
    out.push_back({e.doc_id, e.score, d.title, d.text});
  }
  return out;
}

double ndcg(std::vector<RunEntry> ranked, const std::map<std::string, int>& judged) {
  sort_like_trec_eval(ranked);
  return ndcg_at(ranked, judged, kCutoff);
}

QuerySet judged_queries(const std::vector<QueryRecord>& all, const Qrels& qrels) {
  QuerySet s;
  for (const auto& q : all) {
    auto it = qrels.find(q.id);
    if (it == qrels.end()) continue;
    bool relevant = std::any_of(it->second.begin(), it->second.end(), [](const auto& kv) { return kv.second >= 1; });
    if (!relevant) continue;
    s.queries.push_back(q);
    s.judged.push_back(it->second);
  }
  return s;
}

std::vector<TrainQuery> train_queries(const QuerySet& s, const std::unordered_set<std::string>& exclude_docs,
                                      const std::unordered_map<std::string, std::size_t>& known) {
  std::vector<TrainQuery> out;
  for (std::size_t i = 0; i < s.queries.size(); ++i) {
    TrainQuery t{s.queries[i].text, {}};
    for (const auto& [doc, rel] : s.judged[i]) {
      if (rel >= 1 && !exclude_docs.count(doc) && known.count(doc)) t.relevant_doc_ids.push_back(doc);
    }
    if (!t.relevant_doc_ids.empty()) out.push_back(std::move(t));
  }
  return out;
}

Result<std::unique_ptr<Reranker>> train_reranker(Corpus& c, const QuerySet& train, const ClosedBookModel& cb,
                                                 const ClosedBookOptions& cbo, const RerankerOptions& o) {
  std::vector<std::pair<std::string, std::vector<Candidate>>> lists;
  std::vector<std::map<std::string, int>> judgments;
  std::vector<TrainQuery> queries;
  std::vector<std::vector<std::string>> ids;
  for (std::size_t i = 0; i < train.queries.size(); ++i) {
    TrainQuery t{train.queries[i].text, {}};
    for (const auto& [doc, rel] : train.judged[i]) {
      if (rel >= 1 && c.doc_index.count(doc)) t.relevant_doc_ids.push_back(doc);
    }
    if (t.relevant_doc_ids.empty()) continue;
    lists.emplace_back(train.queries[i].text, candidates(c, train.queries[i].text, o.depth));
    judgments.push_back(train.judged[i]);
    ids.emplace_back();
    for (const auto& cand : lists.back().second) ids.back().push_back(cand.doc_id);
    queries.push_back(std::move(t));
  }
  RAGFT_TRY(auto scores, ClosedBookModel::cross_fit_scores(c.docs, queries, ids, cbo, kFolds));
  return Reranker::train(lists, judgments, &cb, o, &scores);
}

std::vector<RunEntry> rerank_with(const Reranker& rr, const ClosedBookModel& cb, std::string_view q,
                                  const std::vector<Candidate>& cands) {
  std::vector<std::string> ids;
  for (const auto& cand : cands) ids.push_back(cand.doc_id);
  return rr.rerank(q, cands, cb.score(q, ids));
}

Result<RerankedRetriever> RerankedRetriever::train(Corpus& c, const QuerySet& train, const ClosedBookOptions& cbo,
                                                   const RerankerOptions& o) {
  RerankedRetriever r;
  r.options = o;
  std::vector<TrainQuery> queries = train_queries(train, {}, c.doc_index);
  if (queries.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "reranker: no training query has a relevant document in the corpus");
  }
  RAGFT_TRY(r.closed_book, ClosedBookModel::train(c.docs, queries, cbo));
  RAGFT_TRY(r.reranker, train_reranker(c, train, *r.closed_book, cbo, o));
  r.bm25_config = c.ws->index().options().to_config();
  r.analyzer_config = c.ws->analyzer().options().to_config();
  r.train_query_count = queries.size();
  r.doc_count = c.docs.size();
  return r;
}

std::vector<RunEntry> RerankedRetriever::rank(Corpus& c, std::string_view query) const {
  return reranker->rerank(query, candidates(c, query, options.depth));
}

namespace {
constexpr const char* kRetrieverMagic = "ragft-reranked-retriever";
constexpr int kRetrieverVersion = 1;
}  // namespace

Status RerankedRetriever::save(const std::filesystem::path& dir) const {
  if (!reranker || !closed_book) return make_error(ErrorCode::kInvalidArgument, "reranked retriever: nothing trained to save");
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  RAGFT_TRY_STATUS(closed_book->save(dir / "closed_book"));
  RAGFT_TRY_STATUS(reranker->save(dir));
  // retriever.json last: its presence says the directory is complete.
  nlohmann::json j = {{"magic", kRetrieverMagic},       {"version", kRetrieverVersion},
                      {"rerank", options.to_config()},  {"bm25", bm25_config},
                      {"analyzer", analyzer_config},    {"train_queries", train_query_count},
                      {"documents", doc_count}};
  return Env::posix().write_file_atomic(dir / "retriever.json", j.dump(2));
}

Result<RerankedRetriever> RerankedRetriever::load(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "retriever.json";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return make_error(ErrorCode::kNotFound, "{} does not exist: not a trained retriever (ragft train rerank)", file.string());
  }
  RAGFT_TRY(std::string text, Env::posix().read_file(file));
  RerankedRetriever r;
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("magic", "") != kRetrieverMagic || j.value("version", 0) != kRetrieverVersion) {
      return make_error(ErrorCode::kCorrupt, "{}: not a version {} trained retriever", file.string(), kRetrieverVersion);
    }
    auto o = RerankerOptions::parse(j.at("rerank").get<std::string>());
    if (!o.ok()) return make_error(ErrorCode::kCorrupt, "{}: {}", file.string(), o.error().message);
    r.options = *o;
    r.bm25_config = j.at("bm25").get<std::string>();
    r.analyzer_config = j.at("analyzer").get<std::string>();
    r.train_query_count = j.at("train_queries").get<std::size_t>();
    r.doc_count = j.at("documents").get<std::size_t>();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: {}", file.string(), e.what());
  }
  RAGFT_TRY(r.closed_book, ClosedBookModel::load(dir / "closed_book"));
  RAGFT_TRY(r.reranker, Reranker::load(dir, r.closed_book.get()));
  if (!(r.reranker->options() == r.options)) {
    return make_error(ErrorCode::kCorrupt, "{}: reranker.json was trained with {}, retriever.json says {}",
                      dir.string(), r.reranker->options().to_config(), r.options.to_config());
  }
  return r;
}

Result<std::vector<SearchHit>> RerankedRetriever::search(Workspace& ws, const SearchRequest& request,
                                                         RerankServeStats* stats) const {
  if (request.mode != SearchMode::kBm25) {
    return make_error(ErrorCode::kInvalidArgument, "the trained reranker re-ranks BM25 candidates; use --mode bm25 with it");
  }
  SearchRequest r = request;
  r.k = std::max(request.k, options.depth) * 3;  // ~3 chunks per document wanted
  RAGFT_TRY(std::vector<SearchHit> hits, ragft::search(ws, r));
  std::vector<SearchHit> best;  // each document's best chunk, in BM25 order
  std::unordered_set<DocId> seen;
  for (SearchHit& h : hits) {
    if (!seen.insert(h.doc_id).second) continue;
    best.push_back(std::move(h));
    if (best.size() >= options.depth) break;
  }
  std::vector<Candidate> cands;
  cands.reserve(best.size());
  std::unordered_map<std::string, std::size_t> by_ext;
  RerankServeStats st;
  for (std::size_t i = 0; i < best.size(); ++i) {
    RAGFT_TRY(std::optional<DocumentRecord> rec, ws.store().get(best[i].doc_id));
    if (!rec) continue;  // removed since the index was caught up
    by_ext[best[i].ext_id] = i;
    cands.push_back({best[i].ext_id, best[i].score, rec->title, rec->text});
    st.unknown_to_model += !closed_book->knows(best[i].ext_id);
  }
  st.candidates = cands.size();
  if (stats) *stats = st;
  std::vector<SearchHit> out;
  for (const RunEntry& e : reranker->rerank(request.query, cands)) {
    if (out.size() >= request.k) break;
    SearchHit h = std::move(best[by_ext.at(e.doc_id)]);
    h.score = static_cast<float>(e.score);
    h.rank = static_cast<int>(out.size() + 1);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace ragft::decide
