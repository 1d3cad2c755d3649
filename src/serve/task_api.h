// The wire format of POST /v1/classify and POST /v1/extract: trained task models (task_models.h)
// behind the server (httplib-free, so it is tested without sockets). Both read no workspace
// data, so any authenticated identity may call them.
//
// POST /v1/classify  {"model": string (optional when the server serves exactly one classifier),
//                     "input": string | [string, ...] (1..ServeLimits::max_task_inputs strings,
//                              ServeLimits::max_input_bytes of UTF-8 together),
//                     "top_k": integer >= 1 (default: every label; more than the model has: all)}
//   -> {"object": "list", "model": NAME,
//       "data": [{"object": "classification", "index": i, "label": TOP, "score": P,
//                 "labels": [{"label", "score"}, ...]}],            (top_k of them, score-descending)
//       "took_ms"}
//   label/score and labels are what `ragft --json predict MODEL` prints for the same text
//   (Classifier::predict: probabilities summing to 1 over all labels; ties in label order).
// POST /v1/extract   {"model": string (optional with exactly one extractor), "input": as above}
//   -> {"object": "list", "model": NAME,
//       "data": [{"object": "extraction", "index": i, "tokens": [...], "tags": [...],
//                 "entities": [{"text", "type", "char_start", "char_end", "token_start",
//                               "token_end"}]}],
//       "took_ms"}
//   as `ragft --json predict MODEL` for an extraction model (train/extractor.h
//   extract_entities): the input is split on whitespace into tokens, tagged BIO; char_start and
//   char_end are code points of the input string, end exclusive; token_start/token_end index
//   `tokens`; text is exactly the input's characters [char_start, char_end).
//
// Errors: not a JSON object -> 400 invalid_json / invalid_type; an unknown field -> 400
// unknown_field naming it; a wrong type -> 400 invalid_type naming the field (input[3] for an
// element); no input, an empty array -> 400 naming input; past a limit -> 400 limit_exceeded;
// top_k < 1 -> 400 out_of_range. The handler adds: no model of the task served -> 400 no_model
// (saying how to serve one); "model" missing while several are served -> 400 missing_field
// listing them; an unknown model -> 404 model_not_found naming it; a model of the other task
// -> 400 wrong_task.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/api_error.h"
#include "serve/limits.h"
#include "serve/task_models.h"

namespace ragft::serve {

struct TaskApiRequest {
  std::optional<std::string> model;  // absent (or null): the one model of the task
  std::vector<std::string> input;    // a single string is one input
  std::optional<std::size_t> top_k;  // classify only; unset: every label
};

struct ParsedTask {
  std::optional<TaskApiRequest> request;
  ApiError error;  // the 400 naming the field, when request is empty
};
ParsedTask parse_classify_request(std::string_view body, const ServeLimits& limits);
ParsedTask parse_extract_request(std::string_view body, const ServeLimits& limits);

// One element of "data" (see above). `top_k` 0: every label.
nlohmann::json classification_json(const Prediction& p, std::size_t index, std::size_t top_k = 0);
nlohmann::json extraction_json(const ExtractedText& t, std::size_t index);

// A served task model as GET /v1/models lists it, in OpenAI's shape plus "ragft_task" and
// "ragft": {"id", "object": "model", "created", "owned_by": "ragft", "ragft_task": "classify" |
// "extract", "ragft": {"kind": TASK, "model_kind", "labels", "config"}} (model_kind is the
// manifest's kind; labels are class labels or entity types).
nlohmann::json task_model_json(const TaskModelInfo& m, std::int64_t created);

}  // namespace ragft::serve
