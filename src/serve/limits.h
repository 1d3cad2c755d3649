// Bounds the server puts on a request, beyond the body size (ServeOptions::max_body_bytes).
// A request past one gets a 400 naming the field; nothing is truncated silently.
#pragma once

#include <cstddef>

namespace ragft::serve {

struct ServeLimits {
  // max_tokens / max_completion_tokens above this -> 400. A request that gives neither is sent
  // to the model with this bound, so no request generates without one.
  int max_tokens = 4096;
  std::size_t max_messages = 256;
  // The UTF-8 bytes of all message contents of a chat request together, and of all inputs of
  // an embeddings, classify or extract request together.
  std::size_t max_input_bytes = std::size_t{1} << 20;
  std::size_t max_stop = 4;                 // stop sequences (OpenAI's limit)
  std::size_t max_k = 50;                   // ragft.k: chunks retrieved for a RAG answer
  std::size_t max_embedding_inputs = 2048;  // strings per embeddings request (OpenAI's limit)
  std::size_t max_documents = 10000;        // documents (or ids) per document write request
  std::size_t max_task_inputs = 1024;       // strings per /v1/classify or /v1/extract request
  // Seconds a request may spend in its chat model (plain and RAG answers, streamed or not):
  // the model is stopped at the first check after that (deadline_chat.h) and the request gets
  // 504 "timeout" (a streamed answer that already sent text ends with an error event).
  int max_seconds = 300;
};

}  // namespace ragft::serve
