// libFuzzer target: the input is a CSV file, loaded and chunked (fuzz/ingest_checks.h) twice: with
// the default options (header with id, text, title columns) and, when the first line holds ';',
// tab or '|', with that delimiter and rows numbered instead of an id column.
#include "fuzz/ingest_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ragft;
  const std::string_view bytes = fuzz::as_view(data, size);
  fuzz::fuzz_load(bytes, Format::kCsv);
  const std::string_view header = bytes.substr(0, bytes.find('\n'));
  for (char delim : {';', '\t', '|'}) {
    if (header.find(delim) == std::string_view::npos) continue;
    LoadOptions options;
    options.csv_delimiter = delim;
    options.csv_id_column.clear();
    fuzz::fuzz_load(bytes, Format::kCsv, options);
    break;
  }
  return 0;
}
