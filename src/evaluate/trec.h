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
// CRLF tolerated, blank lines skipped. Malformed lines, a repeated (query, doc) pair or a file
// without judgments -> kInvalidArgument naming file:line. Unreadable file -> kIo / kNotFound.
Result<Qrels> read_qrels(const std::filesystem::path& path);
// BEIR queries.jsonl ({"_id","text"}) or TSV "qid<TAB>text", by content (first non-blank
// character '{' means jsonl). Other JSON fields are ignored; an integer "_id" is accepted.
// Bad JSON, missing fields, invalid UTF-8 or a repeated id -> kInvalidArgument "file:line: ...".
Result<std::vector<QueryRecord>> read_queries(const std::filesystem::path& path);
// TREC run: "qid Q0 docid rank score tag" (whitespace separated). Entries keep file order
// (metrics re-sort by score). Wrong field count, non-numeric rank/score or a doc repeated within
// a query -> kInvalidArgument "file:line: ...".
Result<Run> read_run(const std::filesystem::path& path);
// Writes entries sorted by score desc (ties by doc id desc, as trec_eval reads them),
// ranks from 1; scores printed in the shortest form that reads back exactly. Doc ids, query ids
// and the tag must be non-empty and free of whitespace (CHECKed).
void write_run(std::ostream& out, const Run& run, const std::string& tag);

}  // namespace ragft
