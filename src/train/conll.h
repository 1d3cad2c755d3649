// CoNLL sequence-labelling data: one token per line (`token<TAB>tag`, or whitespace-separated
// columns where the tag is the last column and the token the first), a blank (or
// whitespace-only) line between sentences, `-DOCSTART-` lines skipped.
//
// Tags are "O" or PREFIX-TYPE with PREFIX one of B, I, E, S (BIO, IOB1 and BIOES/IOBES are
// accepted). By default tags are normalised to canonical BIO with conlleval's chunk rules
// (evaluate/conlleval.h): an I-X that does not continue an X chunk becomes B-X, E-X/S-X become
// I-X/B-X.
//
// Malformed lines (one column only, a tag that is not O/B-/I-/E-/S- with a non-empty type,
// invalid UTF-8) are reported as "FILE:LINE: reason" warnings and the line is dropped from its
// sentence; with `strict` the first one is an error (kInvalidArgument). Functions are pure.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace ragft {

struct TaggedSentence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;  // same length as tokens
  std::size_t line = 0;           // 1-based line of the first token in the source file
};

struct ConllOptions {
  bool strict = false;         // malformed line -> kInvalidArgument instead of a warning
  bool normalize_bio = true;   // rewrite tags to canonical BIO (see above)
  std::size_t max_warnings = 20;  // warnings kept in ConllData::warnings (all are counted)
};

struct ConllData {
  std::vector<TaggedSentence> sentences;
  std::vector<std::string> warnings;  // "FILE:LINE: reason", at most max_warnings
  std::size_t malformed_lines = 0;    // all malformed lines, kept or not in `warnings`
  std::size_t repaired_tags = 0;      // tags changed by BIO normalisation
};

// Parses CoNLL text; `name` is used in messages (a file path).
Result<ConllData> parse_conll(std::string_view text, std::string_view name, const ConllOptions& options = {});
// Reads and parses a file (kNotFound / kIo from the read; an empty result is not an error).
Result<ConllData> read_conll(const std::filesystem::path& path, const ConllOptions& options = {});

// Writes sentences back as `token<TAB>tag` lines with a blank line after each sentence.
std::string format_conll(const std::vector<TaggedSentence>& sentences);

// content_hash of the sentences as loaded (tokens and tags), for ModelManifest::train_data_hash.
std::string conll_data_hash(const std::vector<TaggedSentence>& sentences);

// An entity of a sentence: tokens [start, end) with its type; `text` is the tokens joined by
// single spaces.
struct EntityMention {
  std::string text;
  std::string type;
  std::size_t start = 0;
  std::size_t end = 0;
};
std::vector<EntityMention> entity_mentions(const std::vector<std::string>& tokens,
                                           const std::vector<std::string>& tags);

// Case folding used for entity matching: Unicode case folding with NFC composition (utf8proc);
// invalid UTF-8 is returned unchanged.
std::string fold_case(std::string_view s);

// Data checks for extraction. For `train` and each named eval split: sentences, tokens,
// entities, entities per type, mean sentence length, sentences without entities; for eval
// splits also "unseen_entities" (entity surface forms, case-folded, never seen as an entity in
// train) and "unseen_share" = unseen / entities (WNUT'17's "emerging" entities). Example:
// {"train":{"sentences":3394,...},"dev":{...,"unseen_share":0.83}}
nlohmann::json extraction_data_checks(const std::vector<TaggedSentence>& train,
                                      const std::map<std::string, const std::vector<TaggedSentence>*>& evals);

}  // namespace ragft
