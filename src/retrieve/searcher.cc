#include "retrieve/searcher.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_set>

#include "core/utf8.h"
#include "text/sentences.h"

namespace ragft {

Result<FilterSpec> make_filter(Store& store, const SearchRequest& request) {
  FilterSpec filter;
  filter.tenant = request.tenant;
  if (request.principal) {
    RAGFT_TRY(std::optional<Principal> p, store.get_principal(request.tenant, *request.principal));
    if (!p) {
      return make_error(ErrorCode::kNotFound,
                        "unknown principal '{}' in tenant '{}'; add it with `ragft principal add {} "
                        "--groups G1,G2`",
                        *request.principal, request.tenant, *request.principal);
    }
    std::vector<std::string> groups = p->groups;
    groups.push_back("user:" + p->name);  // a document may admit a principal by name
    filter.groups = std::move(groups);
  }
  for (const auto& [key, value] : request.metadata) {
    RAGFT_TRY(std::vector<ChunkId> ids, store.chunks_with_metadata(key, value));
    if (filter.allowlist) {
      std::unordered_set<ChunkId> keep(ids.begin(), ids.end());
      std::erase_if(*filter.allowlist, [&](ChunkId id) { return !keep.count(id); });
    } else {
      filter.allowlist = std::move(ids);
    }
  }
  return filter;
}

namespace {

// Whether a term is one of a query's (deduplicated) terms: a linear scan by length and bytes,
// faster than hashing for the few terms of a query.
class QueryTermSet {
 public:
  explicit QueryTermSet(const AnalyzedQuery& q) {
    for (const auto& t : q.terms) terms_.push_back(t.term);
  }
  bool contains(std::string_view term) const {
    for (const std::string& t : terms_) {
      if (t.size() == term.size() && std::memcmp(t.data(), term.data(), term.size()) == 0) return true;
    }
    return false;
  }

 private:
  std::vector<std::string> terms_;
};

// Marks query-term matches in `text` and picks the densest window of about `width` chars.
void highlight(Analyzer& analyzer, const QueryTermSet& query_terms, const std::string& text,
               std::int64_t chunk_char_start, std::size_t width, SearchHit& hit) {
  std::vector<Span> matches;
  analyzer.for_each_token(text, [&](std::string_view term, std::uint32_t start, std::uint32_t end) {
    if (query_terms.contains(term)) matches.push_back({start, end});
  });
  CharOffsetCursor cursor(text);
  for (const Span& m : matches) {
    std::int64_t s = static_cast<std::int64_t>(cursor.to_char(m.start));
    std::int64_t e = static_cast<std::int64_t>(cursor.to_char(m.end));
    hit.highlights.push_back({chunk_char_start + s, chunk_char_start + e});
  }
  // Window (in bytes) with the most matches, starting at a match.
  std::size_t best_start = 0, best_count = 0;
  for (std::size_t i = 0, j = 0; i < matches.size(); ++i) {
    while (j < matches.size() && matches[j].end <= matches[i].start + width) ++j;
    if (j - i > best_count) {
      best_count = j - i;
      best_start = matches[i].start;
    }
  }
  std::size_t start = best_start > width / 4 ? best_start - width / 4 : 0;
  // Align to a word start.
  while (start > 0 && text[start - 1] != ' ' && text[start - 1] != '\n') --start;
  std::size_t end = std::min(text.size(), start + width);
  while (end < text.size() && text[end] != ' ' && text[end] != '\n') ++end;
  std::string out;
  if (start > 0) out += "…";
  std::size_t pos = start;
  for (const Span& m : matches) {
    if (m.start < start || m.end > end) continue;
    out.append(text, pos, m.start - pos);
    out += "**";
    out.append(text, m.start, m.end - m.start);
    out += "**";
    pos = m.end;
  }
  out.append(text, pos, end - pos);
  if (end < text.size()) out += "…";
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  hit.snippet = std::move(out);
}

}  // namespace

namespace {
// rank_chunks with the query already analysed (search() needs the terms for highlights too).
Result<std::vector<ScoredChunk>> rank_analyzed(Workspace& ws, const SearchRequest& request, const AnalyzedQuery& q,
                                               const FilterSpec& filter) {
  if (request.mode == SearchMode::kBm25) {
    if (q.terms.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "query \"{}\" has no searchable words (only stopwords or punctuation)",
                        request.query);
    }
    return ws.index().search(q.terms, request.k, filter);
  }
  RAGFT_TRY(DenseIndex * dense, ws.load_dense());  // loaded on the first dense query
  if (dense == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      "search mode {} needs a dense index, and workspace {} has none; build one with "
                      "`ragft index --embedder ict` (or another embedder config)",
                      search_mode_name(request.mode), ws.dir().string());
  }
  if (request.mode == SearchMode::kDense) return dense->search(request.query, request.k, filter);
  const std::size_t depth = std::max(request.k, request.candidates);
  std::vector<std::vector<ScoredChunk>> lists(2);
  if (!q.terms.empty()) lists[0] = ws.index().search(q.terms, depth, filter);
  RAGFT_TRY(lists[1], dense->search(request.query, depth, filter));
  return fuse(lists, request.fusion, request.k);
}
}  // namespace

Result<std::vector<ScoredChunk>> rank_chunks(Workspace& ws, const SearchRequest& request, const FilterSpec& filter) {
  // Dense search embeds the raw text: no terms needed.
  const AnalyzedQuery q =
      request.mode == SearchMode::kDense ? AnalyzedQuery{} : analyze_query(ws.analyzer(), request.query);
  return rank_analyzed(ws, request, q, filter);
}

Result<std::vector<SearchHit>> search(Workspace& ws, const SearchRequest& request) {
  AnalyzedQuery q = analyze_query(ws.analyzer(), request.query);
  RAGFT_TRY(FilterSpec filter, make_filter(ws.store(), request));
  RAGFT_TRY(std::vector<ScoredChunk> scored, rank_analyzed(ws, request, q, filter));
  const QueryTermSet query_terms(q);

  std::vector<ChunkId> ids;
  ids.reserve(scored.size());
  for (const ScoredChunk& c : scored) ids.push_back(c.id);
  // The index may be a snapshot older than the store (a server's readers: serve/ingestor.h): a
  // chunk deleted or replaced since is skipped, as the next snapshot will not have it.
  RAGFT_TRY(auto rows, ws.store().get_chunks_with_documents(ids));
  std::vector<SearchHit> hits;
  hits.reserve(scored.size());
  for (std::size_t i = 0; i < scored.size(); ++i) {
    if (!rows[i]) continue;
    Store::ChunkWithDocument& row = *rows[i];
    SearchHit hit;
    hit.chunk_id = row.chunk.id;
    hit.doc_id = row.chunk.doc_id;
    hit.ext_id = std::move(row.ext_id);
    hit.title = std::move(row.title);
    hit.source = std::move(row.source);
    hit.score = scored[i].score;
    hit.rank = static_cast<int>(hits.size() + 1);
    hit.char_start = row.chunk.char_start;
    hit.char_end = row.chunk.char_end;
    hit.page = row.chunk.page;
    hit.text = std::move(row.chunk.text);
    highlight(ws.analyzer(), query_terms, hit.text, hit.char_start, request.snippet_chars, hit);
    hits.push_back(std::move(hit));
  }
  return hits;
}

}  // namespace ragft
