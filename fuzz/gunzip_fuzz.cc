// libFuzzer target: the input is gzip data for the jsonl loader's decompressor
// (ingest_internal::gunzip). Checked: output within the limit; damaged data is kCorrupt and an
// oversized output kResourceExhausted (nothing else); and a successful output, compressed again
// with zlib, decompresses to itself.
#include <zlib.h>

#include <string>

#include "fuzz/fuzz_check.h"
#include "ingest/formats.h"

namespace {

constexpr std::uint64_t kMaxBytes = 1 << 20;

std::string gzip(std::string_view data) {
  z_stream zs{};
  FUZZ_CHECK(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8,
                          Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  FUZZ_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ragft;
  auto r = ingest_internal::gunzip(fuzz::as_view(data, size), "fuzz.jsonl.gz", kMaxBytes);
  if (!r.ok()) {
    FUZZ_CHECK(r.error().code == ErrorCode::kCorrupt ||
                   r.error().code == ErrorCode::kResourceExhausted,
               r.error().message);
    return 0;
  }
  FUZZ_CHECK(r->size() <= kMaxBytes, "output over the limit");
  auto again = ingest_internal::gunzip(gzip(*r), "again.gz", kMaxBytes);
  FUZZ_CHECK(again.ok() && *again == *r, "gzip round trip");
  return 0;
}
