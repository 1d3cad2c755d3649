// Embedders turn texts into fixed-size vectors for dense retrieval. One interface, named by
// config strings (STYLE.md "kind:key=value,..."):
//
//   sif:dim=100,epochs=5,...            the offline default, trained on the corpus
//                                       (train/sif_embedder.h)
//   bert:path=DIR,pool=mean,...         a BERT-family checkpoint run with libtorch
//   openai:url=http://host:port/v1,model=NAME,...   an OpenAI-compatible /v1/embeddings endpoint
//
// make_embedder() (train/embedders.h) builds one from its config string.
//
// Vectors are L2-normalised (the zero vector for a text with nothing to embed), so inner product
// is the cosine. model_id() names everything that determines a vector (the weights and every
// option that changes the output, not batch sizes or timeouts): caches key embeddings by it, and
// a different id means every chunk is embedded again.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace ragft {

// Some models embed queries and passages differently (instruction prefixes, two towers).
enum class EmbedRole { kQuery, kDocument };

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual int dim() const = 0;
  // Stable identity of the vectors this embedder produces (see above).
  virtual std::string model_id() const = 0;
  // The config string this embedder was made from (round-trips through make_embedder).
  virtual std::string config() const = 0;
  // Embeds `texts` into `out` (resized to texts.size() * dim(), row-major). All or nothing: on
  // error `out` is unspecified. Thread-safe unless an implementation says otherwise.
  virtual Status embed(const std::vector<std::string>& texts, EmbedRole role, std::vector<float>& out) = 0;
};

// L2-normalises `n` rows of `dim` floats in place (zero rows stay zero).
void l2_normalize_rows(float* rows, std::size_t n, int dim);

// Instruction prefixes for encoders trained with them: e5 ("query: ", "passage: "), bge's query
// instruction, nomic ("search_query: ", "search_document: "). The text of each role is sent as
// prefix + text.
struct EmbedPrefixes {
  std::string query, passage;
  bool empty() const { return query.empty() && passage.empty(); }
};

// `inner` with the prefixes prepended. model_id(): inner's, plus the passage prefix (stored
// vectors depend on it; the query prefix changes only query vectors, which are never stored).
// config(): inner's plus ",query_prefix=...,passage_prefix=..." (the non-empty ones).
std::unique_ptr<Embedder> with_prefixes(std::unique_ptr<Embedder> inner, EmbedPrefixes prefixes);

}  // namespace ragft
