#include "decide/knowledge.h"

#include <algorithm>

#include "evaluate/metrics.h"

namespace ragft::decide {

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
  return r;
}

std::vector<RunEntry> RerankedRetriever::rank(Corpus& c, std::string_view query) const {
  return reranker->rerank(query, candidates(c, query, options.depth));
}

}  // namespace ragft::decide
