// The body of the ingest_<format> fuzz targets: the input is a file of that format. It goes
// through load_bytes() (the whole-file checks, then the format's parser), and each loaded
// document through the sentence/paragraph splitter and the chunker with two settings (the
// default and a small one that splits short inputs). Checked, beyond "does not crash":
//   - an error has one of the codes loader.h documents (never kInternal) and a UTF-8 message;
//   - a success has at least one document; each has valid UTF-8 text and title, ascending
//     heading starts at non-blank bytes inside the text, ascending page starts within it,
//     metadata_json a JSON object; multi-record formats give unique non-empty ids;
//   - paragraphs and sentences are non-empty, ordered, disjoint, trimmed, and cover every
//     non-whitespace byte;
//   - chunks: non-empty trimmed spans on code-point boundaries within the text, starts and ends
//     strictly ascending, at most max_tokens words, char offsets equal to a recount, pages as
//     the page starts say, and together covering every non-whitespace byte.
#pragma once

#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "ingest/loader.h"

namespace ragft::fuzz {

// Loads `bytes` as a file of `format` named "fuzz.<ext>" (options.max_file_bytes lowered to
// 1 MiB: inputs are small, and gzip bombs stay cheap) and checks everything above; traps on a
// violation.
void fuzz_load(std::string_view bytes, Format format, const LoadOptions& options = {});

}  // namespace ragft::fuzz
