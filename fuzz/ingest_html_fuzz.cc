// libFuzzer target: the input is an HTML (gumbo) file, loaded and chunked (fuzz/ingest_checks.h).
#include "fuzz/ingest_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ragft::fuzz::fuzz_load(ragft::fuzz::as_view(data, size), ragft::Format::kHtml);
  return 0;
}
