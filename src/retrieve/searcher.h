// Retrieval over a Workspace: resolves the principal to an ACL filter, ranks chunks by BM25, by
// dense similarity, or by both fused (filters applied inside each index, never after), and joins
// hits with the store (document id, title, offsets) and a highlighted snippet.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "retrieve/fusion.h"
#include "retrieve/workspace.h"

namespace ragft {

enum class SearchMode { kBm25, kDense, kHybrid };

// "bm25", "dense", "hybrid"; anything else -> kInvalidArgument listing them.
Result<SearchMode> parse_search_mode(std::string_view name);
const char* search_mode_name(SearchMode mode);

struct SearchRequest {
  std::string query;
  std::size_t k = 10;
  std::string tenant = "default";
  // nullopt: the local owner (no ACL check within the tenant). Otherwise the principal's name,
  // resolved through the store's principals table; unknown -> kNotFound.
  std::optional<std::string> principal;
  // Metadata equality filters (all must hold).
  std::vector<std::pair<std::string, std::string>> metadata;
  std::size_t snippet_chars = 240;
  // kDense and kHybrid need the workspace's dense index.
  SearchMode mode = SearchMode::kBm25;
  // Hybrid: how the BM25 and dense lists are fused (weights in that order), and how many
  // candidates each list contributes (at least k).
  FusionOptions fusion;
  std::size_t candidates = 100;
};

struct Highlight {
  std::int64_t char_start = 0;  // code points, relative to the document text
  std::int64_t char_end = 0;
};

struct SearchHit {
  ChunkId chunk_id = 0;
  DocId doc_id = 0;
  std::string ext_id;
  std::string title;
  std::string source;
  float score = 0;
  int rank = 0;                 // 1-based
  std::int64_t char_start = 0;  // chunk span in the document, code points
  std::int64_t char_end = 0;
  int page = 0;
  std::string text;             // chunk text
  std::string snippet;          // window of the chunk text, matched words wrapped in ** **
  std::vector<Highlight> highlights;  // matched words in the whole chunk, document offsets
};

struct AnalyzedQuery {
  std::vector<QueryTerm> terms;  // deduplicated; weight = occurrences
};

AnalyzedQuery analyze_query(Analyzer& analyzer, std::string_view text);

// Resolves tenant/principal/metadata into a FilterSpec for the index.
Result<FilterSpec> make_filter(Store& store, const SearchRequest& request);

// The ranked chunks of `request` (mode, k, fusion) under `filter`, without store details.
// BM25 with a query of no searchable terms -> kInvalidArgument; dense or hybrid without a dense
// index -> kInvalidArgument saying how to build one.
Result<std::vector<ScoredChunk>> rank_chunks(Workspace& ws, const SearchRequest& request, const FilterSpec& filter);

// Top-k chunks with store details.
Result<std::vector<SearchHit>> search(Workspace& ws, const SearchRequest& request);

}  // namespace ragft
