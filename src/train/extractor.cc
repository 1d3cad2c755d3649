#include "train/extractor.h"

#include "core/env.h"
#include "core/utf8.h"
#include "train/combo_tagger.h"
#include "train/knn_tagger.h"
#include "train/neural_backend.h"
#include "train/neural_tagger.h"

namespace ragft {

std::vector<std::pair<std::size_t, std::size_t>> whitespace_token_spans(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (i < text.size()) {
    while (i < text.size() && space(text[i])) ++i;
    std::size_t j = i;
    while (j < text.size() && !space(text[j])) ++j;
    if (j > i) out.emplace_back(i, j);
    i = j;
  }
  return out;
}

std::vector<std::string> whitespace_tokens(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& [b, e] : whitespace_token_spans(text)) out.emplace_back(text.substr(b, e - b));
  return out;
}

ExtractedText extract_entities(const Extractor& model, std::string_view text) {
  const auto spans = whitespace_token_spans(text);
  ExtractedText out;
  out.tokens.reserve(spans.size());
  for (const auto& [b, e] : spans) out.tokens.emplace_back(text.substr(b, e - b));
  out.tags = model.predict(out.tokens);
  CharOffsetCursor cursor(text);  // the entities come in token order: ascending byte offsets
  for (EntityMention& m : entity_mentions(out.tokens, out.tags)) {
    if (m.start >= m.end) continue;
    const std::size_t b = spans[m.start].first, e = spans[m.end - 1].second;
    TextEntity t;
    t.type = std::move(m.type);
    t.token_start = m.start;
    t.token_end = m.end;
    t.char_start = cursor.to_char(b);
    t.char_end = cursor.to_char(e);
    t.text = std::string(text.substr(b, e - b));
    out.entities.push_back(std::move(t));
  }
  return out;
}

Extractor::TaggedText Extractor::predict_text(std::string_view text) const {
  TaggedText t;
  t.tokens = whitespace_tokens(text);
  t.tags = predict(t.tokens);
  return t;
}

Status Extractor::save(const std::filesystem::path& dir) const {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  RAGFT_TRY_STATUS(save_files(dir));
  ModelManifest m;
  m.task = std::string(kExtractTask);
  m.kind = kind();
  m.labels = labels();
  m.train_data_hash = record_.train_data_hash;
  m.config = config();
  m.metrics = record_.metrics;
  m.train_seconds = record_.train_seconds;
  m.extra = extra();
  return write_manifest(dir, m);
}

Result<std::unique_ptr<Extractor>> load_extractor(const std::filesystem::path& dir) {
  RAGFT_TRY(ModelManifest m, read_manifest(dir));
  if (m.task != kExtractTask) {
    return make_error(ErrorCode::kInvalidArgument, "{} is a \"{}\" model, not an extraction model", dir.string(),
                      m.task);
  }
  if (m.kind == kKnnTaggerKind) {
    RAGFT_TRY(std::unique_ptr<KnnTagger> t, KnnTagger::load(dir, m));
    return std::unique_ptr<Extractor>(std::move(t));
  }
  if (m.kind == kNeuralTaggerKind) {
    RAGFT_TRY(const NeuralBackend* backend, neural_backend());
    return backend->load_tagger(dir, m);
  }
  if (m.kind == kComboTaggerKind) {
    RAGFT_TRY(std::unique_ptr<ComboTagger> t, ComboTagger::load(dir, m));
    return std::unique_ptr<Extractor>(std::move(t));
  }
  return make_error(ErrorCode::kUnsupported, "{}: extraction model kind \"{}\" is not supported by this build",
                    dir.string(), m.kind);
}

}  // namespace ragft
