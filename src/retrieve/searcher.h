// Lexical retrieval over a Workspace: analyses the query, resolves the principal to an ACL
// filter, searches the BM25 index (filters applied inside the index) and joins hits with the
// store (document id, title, offsets) and a highlighted snippet.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "retrieve/workspace.h"

namespace ragft {

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

// Top-k chunks with store details. A query with no searchable terms -> kInvalidArgument.
Result<std::vector<SearchHit>> search(Workspace& ws, const SearchRequest& request);

}  // namespace ragft
