// The query side of retrieve/searcher.h that needs neither a workspace nor an index: query
// analysis and the search-mode names. A file of its own so the fuzz targets (fuzz/CMakeLists.txt)
// can compile it with the server's request parsers, without the rest of retrieval.
#include <map>

#include "retrieve/searcher.h"

namespace ragft {

AnalyzedQuery analyze_query(Analyzer& analyzer, std::string_view text) {
  std::vector<std::string> terms;
  analyzer.terms(text, terms);
  std::map<std::string, float> weights;
  std::vector<std::string> order;
  for (auto& t : terms) {
    if (weights.emplace(t, 0.0f).second) order.push_back(t);
    weights[t] += 1.0f;
  }
  AnalyzedQuery q;
  for (auto& t : order) q.terms.push_back({t, weights[t]});
  return q;
}

Result<SearchMode> parse_search_mode(std::string_view name) {
  if (name == "bm25") return SearchMode::kBm25;
  if (name == "dense") return SearchMode::kDense;
  if (name == "hybrid") return SearchMode::kHybrid;
  return make_error(ErrorCode::kInvalidArgument, "search mode '{}' is unknown (use bm25, dense or hybrid)", name);
}

const char* search_mode_name(SearchMode mode) {
  switch (mode) {
    case SearchMode::kBm25: return "bm25";
    case SearchMode::kDense: return "dense";
    case SearchMode::kHybrid: return "hybrid";
  }
  return "?";
}

}  // namespace ragft
