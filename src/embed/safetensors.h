// The safetensors format (Hugging Face): reading, validating and writing. Torch-free.
//
// Layout: an 8-byte little-endian unsigned header length N, then N bytes of JSON
//   {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"<key>": "<string value>", ...}}      (metadata optional)
// then the data buffer. Offsets are relative to the buffer start (byte 8 + N). Tensors are
// row-major, little-endian.
//
// Validation on open (as the reference implementation): N fits in the file and is at most
// 100 MB; the header is a JSON object starting with '{'; every entry has a known dtype, a shape of
// non-negative integers and offsets with begin <= end; dtype size x element count == end - begin;
// sorted by offset the tensors are contiguous (no gaps, no overlaps) and cover the buffer exactly.
// Any failure -> kCorrupt naming the file and, where there is one, the tensor.
//
// Writing: names sorted (std::map order), data packed in that order, header padded with spaces to
// a multiple of 8 bytes (so the buffer starts 8-byte aligned). Deterministic for the same input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/result.h"

namespace ragft {

enum class DType { kBool, kU8, kI8, kF8E5M2, kF8E4M3, kI16, kU16, kF16, kBF16, kI32, kU32, kF32, kF64, kI64, kU64 };

// "F32", "BF16", ... as in the format.
const char* dtype_name(DType d);
// Unknown name -> kUnsupported.
Result<DType> parse_dtype(std::string_view name);
// Bytes per element.
std::size_t dtype_size(DType d);

// A tensor inside an open file: `bytes` points into the file's storage (valid while the
// SafetensorsFile lives; not necessarily aligned for the dtype).
struct TensorView {
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::string_view bytes;

  std::int64_t numel() const;
};

// An owned tensor to write.
struct TensorData {
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::string bytes;  // numel * dtype_size bytes, little-endian

  static TensorData from_f32(std::vector<std::int64_t> shape, const float* values, std::size_t n);
};

// Converts F32, F16, BF16 or F64 elements to float32; other dtypes -> kUnsupported.
Result<std::vector<float>> to_f32(const TensorView& t);
// IEEE half / bfloat16 <-> float32 (round to nearest even on the way down).
float f16_to_f32(std::uint16_t h);
float bf16_to_f32(std::uint16_t b);
std::uint16_t f32_to_f16(float f);
std::uint16_t f32_to_bf16(float f);

// An opened, validated file. Immutable; movable; thread-safe to read.
class SafetensorsFile {
 public:
  // Memory-maps `path`. Missing file -> kNotFound; invalid -> kCorrupt.
  static Result<SafetensorsFile> open(const std::filesystem::path& path);
  // Parses bytes in memory; `name` is used in messages.
  static Result<SafetensorsFile> parse(std::string data, std::string_view name);

  // nullptr when there is no such tensor.
  const TensorView* find(std::string_view name) const;
  const std::map<std::string, TensorView, std::less<>>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& name() const { return name_; }
  // The whole file's bytes (for hashing).
  std::string_view raw() const;

 private:
  struct Storage;
  static Result<SafetensorsFile> validate(std::shared_ptr<const Storage> s, std::string name);

  std::shared_ptr<const Storage> storage_;
  std::string name_;
  std::map<std::string, TensorView, std::less<>> tensors_;
  std::map<std::string, std::string> metadata_;
};

// The file's bytes for `tensors` (names sorted) and optional string metadata. A tensor whose
// byte length does not match its dtype and shape -> kInvalidArgument.
Result<std::string> serialize_safetensors(const std::map<std::string, TensorData>& tensors,
                                          const std::map<std::string, std::string>& metadata = {});
// serialize_safetensors, then written atomically (temp file + rename) through `env`.
Status write_safetensors(const std::filesystem::path& path, const std::map<std::string, TensorData>& tensors,
                         const std::map<std::string, std::string>& metadata = {}, Env& env = Env::posix());

}  // namespace ragft
