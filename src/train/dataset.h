// Classification data sets: loaders for jsonl, csv, fastText, TREC and SST files.
//
// Every loader returns the examples in file order. A line (record) that cannot be used (bad JSON,
// missing field, empty text or label, invalid UTF-8 under utf-8) is skipped and reported in
// Dataset::warnings as "FILE:LINE: reason"; with DataOptions::strict the first one is an error
// (kInvalidArgument naming FILE:LINE). Blank lines are skipped silently. A missing file ->
// kNotFound. Trailing '\r' (CRLF files) is removed.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ragft {

enum class DataFormat { kJsonl, kCsv, kFastText, kTrec, kSst };
enum class Encoding { kUtf8, kLatin1 };

// "jsonl", "csv", "fasttext", "trec", "sst"; anything else -> kInvalidArgument listing them.
Result<DataFormat> parse_data_format(std::string_view name);
const char* data_format_name(DataFormat f);
// "utf-8" (or "utf8"), "latin-1" (or "latin1", "iso-8859-1").
Result<Encoding> parse_encoding(std::string_view name);

struct DataOptions {
  DataFormat format = DataFormat::kJsonl;
  // jsonl: the field names; csv: the header names of the text and label columns.
  std::string text_column = "text";
  std::string label_column = "label";
  // latin-1: every byte is a code point U+0000..U+00FF, converted to UTF-8 before parsing.
  Encoding encoding = Encoding::kUtf8;
  bool strict = false;
  // trec: label = the fine class "COARSE:fine" instead of the coarse one.
  bool trec_fine = false;
  // Warnings kept in Dataset::warnings beyond this many are only counted.
  std::size_t max_warnings = 100;
};

struct Example {
  std::string text;                 // UTF-8
  std::vector<std::string> labels;  // at least one; more than one: multi-label
  std::size_t line = 0;             // 1-based line of the record in its file (0: made in code)
};

// Distinct labels of `examples`, sorted.
std::vector<std::string> labels_of(const std::vector<Example>& examples);
// content_hash of the examples' text and labels (not line numbers), in order.
std::string examples_hash(const std::vector<Example>& examples);

struct Dataset {
  std::string source;  // file it was read from
  std::vector<Example> examples;
  std::vector<std::string> warnings;  // "FILE:LINE: reason", at most max_warnings
  std::size_t skipped = 0;            // records skipped (warnings included beyond the cap)

  // Distinct labels, sorted.
  std::vector<std::string> labels() const;
  bool multi_label() const;
  // content_hash of the examples (text and labels, not line numbers), in order.
  std::string content_hash() const;
};

Result<Dataset> load_examples(const std::filesystem::path& path, const DataOptions& options);
// Parses `content` as if it were the file `name` (for tests and stdin).
Result<Dataset> parse_examples(std::string_view content, std::string_view name, const DataOptions& options);

// Latin-1 bytes -> UTF-8.
std::string latin1_to_utf8(std::string_view s);

}  // namespace ragft
