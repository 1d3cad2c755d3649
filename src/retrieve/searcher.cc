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
    for (const auto& t : q.terms) {
      terms_.push_back(t.term);
      hashes_.push_back(chunk_term_hash(t.term));
    }
  }
  const std::vector<std::string>& terms() const { return terms_; }
  const std::vector<std::uint64_t>& hashes() const { return hashes_; }  // chunk_term_hash() of each term
  bool contains(std::string_view term) const {
    for (const std::string& t : terms_) {
      if (t.size() == term.size() && std::memcmp(t.data(), term.data(), term.size()) == 0) return true;
    }
    return false;
  }

 private:
  std::vector<std::string> terms_;
  std::vector<std::uint64_t> hashes_;
};

// A word of a hit that matches a query term: bytes and code points in the chunk text.
struct Match {
  std::uint32_t byte_start, byte_end, char_start, char_end;
};

// The matches in `text`, analysing it now.
void find_matches(Analyzer& analyzer, const QueryTermSet& query_terms, const std::string& text,
                  std::vector<Match>& out) {
  analyzer.for_each_token(text, [&](std::string_view term, std::uint32_t start, std::uint32_t end) {
    if (query_terms.contains(term)) out.push_back({start, end, 0, 0});
  });
  CharOffsetCursor cursor(text);
  for (Match& m : out) {
    m.char_start = static_cast<std::uint32_t>(cursor.to_char(m.byte_start));
    m.char_end = static_cast<std::uint32_t>(cursor.to_char(m.byte_end));
  }
}

// The matches in a chunk text analysed before: the query's terms against the chunk's distinct
// terms, then its words.
void find_matches(const ChunkTerms& chunk, const QueryTermSet& query_terms, std::vector<Match>& out) {
  std::vector<char> matched(chunk.terms.size());
  bool any = false;
  const std::vector<std::uint64_t>& hashes = query_terms.hashes();
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    const std::int64_t t = chunk.find_term(query_terms.terms()[i], hashes[i]);
    if (t >= 0) matched[static_cast<std::size_t>(t)] = 1;
    any = any || t >= 0;
  }
  if (!any) return;
  for (const ChunkTerms::Word& w : chunk.words) {
    if (matched[w.term]) out.push_back({w.byte_start, w.byte_end, w.char_start, w.char_end});
  }
}

// Marks query-term matches in the hit's text and picks the densest window of about `width`
// chars as its snippet.
void highlight(Workspace& ws, const QueryTermSet& query_terms, std::size_t width, SearchHit& hit) {
  const std::string& text = hit.text;
  std::vector<Match> matches;
  if (ChunkTermsCache* cache = ws.chunk_terms_cache()) {
    std::shared_ptr<const ChunkTerms> chunk = cache->find(hit.chunk_id, text);
    if (!chunk) {
      auto analysed = std::make_shared<const ChunkTerms>(ChunkTerms::analyse(ws.analyzer(), text));
      cache->insert(hit.chunk_id, analysed);
      chunk = std::move(analysed);
    }
    find_matches(*chunk, query_terms, matches);
  } else {
    find_matches(ws.analyzer(), query_terms, text, matches);
  }
  hit.highlights.reserve(matches.size());
  for (const Match& m : matches) {
    hit.highlights.push_back({hit.char_start + m.char_start, hit.char_start + m.char_end});
  }
  // Window (in bytes) with the most matches, starting at a match.
  std::size_t best_start = 0, best_count = 0;
  for (std::size_t i = 0, j = 0; i < matches.size(); ++i) {
    while (j < matches.size() && matches[j].byte_end <= matches[i].byte_start + width) ++j;
    if (j - i > best_count) {
      best_count = j - i;
      best_start = matches[i].byte_start;
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
  for (const Match& m : matches) {
    if (m.byte_start < start || m.byte_end > end) continue;
    out.append(text, pos, m.byte_start - pos);
    out += "**";
    out.append(text, m.byte_start, m.byte_end - m.byte_start);
    out += "**";
    pos = m.byte_end;
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
    highlight(ws, query_terms, request.snippet_chars, hit);
    hits.push_back(std::move(hit));
  }
  return hits;
}

}  // namespace ragft
