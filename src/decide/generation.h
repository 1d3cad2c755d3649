// The generation bake-off (task "generation"): a language model answers questions (or follows
// instructions) and the answers are scored against reference answers. Four arms on the same eval
// questions, each answered by the chat model of generation.llm or an adapter trained on it:
//
//   baseline        the base model, closed book: [system] + the question.
//   rag             the base model answering from the top chunks BM25 retrieves from the corpus,
//                   citing them [n] (generate/llm_answer.h); abstains when retrieval is weak.
//   fine_tuned      a LoRA adapter trained on the training questions and their reference
//                   answers (closed-book prompts, as the baseline's), answering closed book.
//   fine_tuned_rag  RAFT (generate/raft.h): an adapter trained on RAG prompts holding the oracle
//                   chunk and distractors, answering through the same RAG pipeline.
//
// Quality per eval question: token F1 or exact match against the reference answer (an
// abstention scores 0), or 1/0 JSON-schema validity (generation.metric). For RAFT-style answers
// ("<answer> [n]\nEvidence: ..."), only the text before a line starting "Evidence:" is scored, and
// citation markers never are. The arms' "generative" object adds every metric of
// evaluate/generative.h (EM, F1, citation precision/recall against the gold evidence spans,
// abstention rate, format validity); "tokens" and "cost" hold the token-cost model:
//   prompt and completion tokens per query (as the model reports them; retrieved context
//   included), training tokens (examples' tokens x epochs), and with generation.prices the cost
//   per 1,000 queries and of training, in USD.
//
// Arms are skipped, with the reason logged and kept in the report, when the data does not allow
// them: the retrieval arms without data.corpus, fine_tuned_rag without gold evidence in the
// training file, the fine-tuned arms when generation.llm is not a local checkpoint (an adapter
// can only be trained here on a local model; export the data with `ragft train generate
// --export-openai` to train elsewhere).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "generate/chat.h"

namespace ragft::decide {

// One LoRA training run the fine-tuned arms ask for.
struct AdapterJob {
  std::string llm;  // the base chat model config ("local:path=DIR,...")
  std::vector<std::vector<ChatMessage>> train, validation;  // each ends with the assistant's answer
  std::string lora;                                          // "lora:..." config
  std::filesystem::path out;                                 // the adapter directory to write
};

struct AdapterRun {
  std::string chat_config;          // the chat model config that serves base + adapter
  std::int64_t training_tokens = 0;  // tokens seen, all epochs
  double seconds = 0;
  nlohmann::json report = nlohmann::json::object();  // the trainer's own report
};

using OpenChatFn = std::function<Result<std::unique_ptr<ChatModel>>(const std::string& config)>;
using TrainAdapterFn = std::function<Result<AdapterRun>(const AdapterJob& job)>;

// The defaults: make_chat_model (generate/local_chat.h), and LoRA training with the local engine
// (libragft_torch.so; kUnsupported without libtorch).
Result<std::unique_ptr<ChatModel>> open_chat_model(const std::string& config);
Result<AdapterRun> train_lora_adapter(const AdapterJob& job);

}  // namespace ragft::decide
