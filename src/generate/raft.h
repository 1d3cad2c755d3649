// RAFT training data (Zhang et al. 2024, "RAFT: Adapting Language Model to Domain Specific RAG"):
// questions with gold evidence over an indexed corpus become chat examples whose prompt is the
// RAG answerer's own (generate/prompt.h) with numbered sources — the oracle chunk and
// `distractors` hard negatives (BM25's best chunks of other documents), in a seeded random order
// — and whose answer quotes the oracle and cites it. A share `no_oracle` of the examples get
// distractors only; their answer is the template's abstain reply (default), or the reference
// answer without a citation (`no_oracle_answer=answer`, RAFT's original recipe, which pushes the
// model to memorise; questions without a reference answer still get the abstain reply). This feeds decide's fine-tuned + RAG arm and `ragft train generate`.
//
// Questions file (JSONL), one object per line:
//   {"id": "q1", "question": "...", "answer": "..." (optional),
//    "evidence": [{"doc_id": "ext id", "spans": [[start, end], ...]}, ...]}
// spans are code-point offsets into the document's text (optional: without them the oracle is
// the document's chunk sharing most words with the question, and its best such sentence is the
// quote). The oracle chunk is the chunk holding the first span; the quote is the text of the
// spans inside that chunk. A document id missing from the workspace, a span outside its text, or
// a question without evidence -> kInvalidArgument naming the line.
//
// Answer text: with a reference answer, "<answer> [n]" then "Evidence: \"<quote>\" [n]";
// without one, the quote itself cited: "<quote> [n]".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "generate/prompt.h"
#include "retrieve/workspace.h"

namespace ragft {

struct RaftEvidence {
  std::string doc_id;
  std::vector<std::pair<std::int64_t, std::int64_t>> spans;
};

struct RaftQuestion {
  std::string id, question, answer;
  std::vector<RaftEvidence> evidence;
};

// Reads the questions file above. Missing -> kNotFound; bad lines -> kInvalidArgument "file:line".
// Without `require_evidence`, "evidence" may be absent or empty (decide's generation task: the
// closed-book arms and the metrics need only the question and its answer).
Result<std::vector<RaftQuestion>> read_raft_questions(const std::filesystem::path& path, bool require_evidence = true);

struct RaftOptions {
  int distractors = 4;            // hard negatives per example, 0..50
  double no_oracle = 0.2;         // share of examples without the oracle, [0, 1]
  std::string no_oracle_answer = "abstain";  // abstain | answer
  std::size_t max_source_chars = 2000;       // longer source texts are cut (at a word boundary)
  std::uint64_t seed = 1;
  std::string tenant = "default";

  // "raft:distractors=4,no_oracle=0.2,no_oracle_answer=abstain,max_chars=2000,seed=1"; round-trips.
  std::string to_config() const;
  static Result<RaftOptions> parse(std::string_view config);
};

struct RaftExample {
  std::string question_id;
  bool has_oracle = true;
  int oracle_n = 0;                   // the oracle's [n]; 0 without it
  std::vector<PromptSource> sources;  // as numbered in the prompt
  RenderedPrompt prompt;
  std::string answer;                 // the assistant message
};

struct RaftStats {
  std::size_t examples = 0, with_oracle = 0, without_oracle = 0;
  std::size_t distractors = 0;       // sources that are not the oracle
  std::size_t short_of_distractors = 0;  // examples that got fewer than asked (small corpus)
};

Result<std::vector<RaftExample>> build_raft(Workspace& ws, const std::vector<RaftQuestion>& questions,
                                            const PromptTemplate& prompt, const RaftOptions& options,
                                            RaftStats* stats = nullptr);

// One line of OpenAI's fine-tuning chat JSONL: {"messages": [system?, user, assistant]}.
std::string raft_to_openai_jsonl(const RaftExample& example);

}  // namespace ragft
