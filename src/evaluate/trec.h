// Relevance judgments, queries and runs in BEIR and TREC formats.
#pragma once

#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "core/result.h"

namespace ragft {

// qid -> docid -> graded relevance (0 = judged not relevant).
using Qrels = std::map<std::string, std::map<std::string, int>>;

struct RunEntry {
  std::string doc_id;
  double score = 0;
};
// qid -> entries (any order; metrics sort them as trec_eval does).
using Run = std::map<std::string, std::vector<RunEntry>>;

struct QueryRecord {
  std::string id;
  std::string text;
};

// BEIR TSV (header "query-id corpus-id score") or TREC ("qid iter docid rel"), auto-detected;
// CRLF tolerated. Malformed lines -> kInvalidArgument naming file:line.
Result<Qrels> read_qrels(const std::filesystem::path& path);
// BEIR queries.jsonl ({"_id","text"}) or TSV "qid<TAB>text", by content.
Result<std::vector<QueryRecord>> read_queries(const std::filesystem::path& path);
// TREC run: "qid Q0 docid rank score tag".
Result<Run> read_run(const std::filesystem::path& path);
// Writes entries sorted by score desc (ties by doc id desc, as trec_eval reads them),
// ranks from 1.
void write_run(std::ostream& out, const Run& run, const std::string& tag);

}  // namespace ragft
