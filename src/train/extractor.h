// Extraction models (BIO sequence labelling): the interface every extraction kind implements,
// and load_extractor(), which opens a model directory by its manifest's kind.
//
// A saved extractor is a directory with model.json (train/model_manifest.h, task "extract",
// labels = entity types) plus the files of its kind.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "train/conll.h"
#include "train/model_manifest.h"

namespace ragft {

inline constexpr std::string_view kExtractTask = "extract";

// What training recorded, kept in the manifest.
struct ExtractorRecord {
  std::string train_data_hash;  // conll_data_hash of the training sentences
  nlohmann::json metrics = nlohmann::json::object();  // e.g. {"dev":{conlleval json}}
  double train_seconds = 0;
};

// Splits a line on whitespace (spaces, tabs, CR/LF): the tokenisation predict_text() uses.
std::vector<std::string> whitespace_tokens(std::string_view text);
// The same tokens as byte ranges [first, second) of `text`, in order.
std::vector<std::pair<std::size_t, std::size_t>> whitespace_token_spans(std::string_view text);

class Extractor {
 public:
  virtual ~Extractor() = default;

  // The manifest kind, e.g. "tagger-knn".
  virtual std::string kind() const = 0;
  // One BIO tag per token ("O", "B-TYPE", "I-TYPE"); an empty input gives an empty output.
  // Thread safety: implementations make predict() safe to call concurrently.
  virtual std::vector<std::string> predict(const std::vector<std::string>& tokens) const = 0;
  // Entity types the model can emit, sorted.
  virtual std::vector<std::string> labels() const = 0;
  // The config string that reproduces the model (ModelManifest::config).
  virtual std::string config() const = 0;
  // Kind-specific settings for ModelManifest::extra.
  virtual nlohmann::json extra() const = 0;

  // Writes the kind's files into `dir` (created if missing), then model.json last.
  Status save(const std::filesystem::path& dir) const;

  // Whitespace-tokenises `text` and tags it.
  struct TaggedText {
    std::vector<std::string> tokens;
    std::vector<std::string> tags;
  };
  TaggedText predict_text(std::string_view text) const;

  const ExtractorRecord& record() const { return record_; }
  ExtractorRecord& record() { return record_; }

 protected:
  // Writes the kind's own files (everything but model.json) into the existing `dir`.
  virtual Status save_files(const std::filesystem::path& dir) const = 0;

 private:
  ExtractorRecord record_;
};

// An entity found in a text (extract_entities()): its type, its whitespace tokens
// [token_start, token_end) (the start/end of entity_mentions()), and its span of the text
// [char_start, char_end) in code points (core/utf8.h), from the first byte of its first token
// to the last byte of its last. `text` is exactly that span of the input, so whitespace inside
// an entity is kept as given (entity_mentions() joins the tokens by single spaces instead; the
// two agree when the tokens are one space apart).
struct TextEntity {
  std::string text;
  std::string type;
  std::size_t token_start = 0;
  std::size_t token_end = 0;
  std::size_t char_start = 0;
  std::size_t char_end = 0;
};
struct ExtractedText {
  std::vector<std::string> tokens;  // whitespace_tokens(text)
  std::vector<std::string> tags;    // one BIO tag per token, the model's predict()
  std::vector<TextEntity> entities; // in text order
};
// Tags `text` as predict_text() does and locates each entity in it. Thread-safe as the
// model's predict() is. Offsets count code points of `text` as given (invalid UTF-8 is not
// repaired: each byte that does not continue a sequence counts as one).
ExtractedText extract_entities(const Extractor& model, std::string_view text);

// Opens a saved extraction model: reads model.json, checks task == "extract" (else
// kInvalidArgument naming the task), and dispatches on kind ("tagger-knn", "tagger-neural",
// "tagger-combo"); an unknown kind -> kUnsupported, as is "tagger-neural" in a build without
// libtorch. Missing directory/manifest -> kNotFound; damaged files -> kCorrupt.
Result<std::unique_ptr<Extractor>> load_extractor(const std::filesystem::path& dir);

}  // namespace ragft
