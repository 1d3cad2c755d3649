#include "embed/safetensors.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

namespace ragft {
namespace {

namespace fs = std::filesystem;

fs::path make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "ragft_st_XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) std::abort();
  return tmpl;
}

std::map<std::string, TensorData> sample() {
  std::map<std::string, TensorData> m;
  float a[6] = {1, 2, 3, 4, 5, 6};
  m["b.weight"] = TensorData::from_f32({2, 3}, a, 6);
  float c[1] = {-0.5f};
  m["a.bias"] = TensorData::from_f32({1}, c, 1);
  TensorData i64;
  i64.dtype = DType::kI64;
  i64.shape = {2};
  std::int64_t v[2] = {7, -9};
  i64.bytes.assign(reinterpret_cast<const char*>(v), sizeof v);
  m["ids"] = i64;
  TensorData h;
  h.dtype = DType::kF16;
  h.shape = {3};
  for (float f : {1.0f, -2.5f, 0.1f}) {
    std::uint16_t x = f32_to_f16(f);
    h.bytes.append(reinterpret_cast<const char*>(&x), 2);
  }
  m["half"] = h;
  TensorData e;  // an empty tensor: zero bytes
  e.shape = {0, 4};
  m["empty"] = e;
  return m;
}

// Builds a file from a hand-written header and buffer.
std::string raw_file(const std::string& header, const std::string& buffer) {
  std::string out;
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + buffer;
}

void expect_corrupt(const std::string& bytes, const std::string& mention) {
  auto f = SafetensorsFile::parse(bytes, "t.safetensors");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ErrorCode::kCorrupt) << f.error().to_string();
  EXPECT_NE(f.error().message.find("t.safetensors"), std::string::npos) << f.error().message;
  EXPECT_NE(f.error().message.find(mention), std::string::npos) << f.error().message;
}

TEST(Safetensors, RoundTripThroughFile) {
  fs::path dir = make_temp_dir();
  auto tensors = sample();
  std::map<std::string, std::string> meta = {{"format", "pt"}};
  ASSERT_TRUE(write_safetensors(dir / "m.safetensors", tensors, meta).ok());
  auto f = SafetensorsFile::open(dir / "m.safetensors");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  ASSERT_EQ(f->tensors().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const TensorView* v = f->find(name);
    ASSERT_NE(v, nullptr) << name;
    EXPECT_EQ(v->dtype, t.dtype);
    EXPECT_EQ(v->shape, t.shape);
    EXPECT_EQ(std::string(v->bytes), t.bytes) << name;
  }
  EXPECT_EQ(f->metadata(), meta);
  EXPECT_EQ(f->find("missing"), nullptr);
  auto w = to_f32(*f->find("b.weight"));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  auto h = to_f32(*f->find("half"));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ((*h)[0], 1.0f);
  EXPECT_EQ((*h)[1], -2.5f);
  EXPECT_NEAR((*h)[2], 0.1f, 1e-4);
  EXPECT_EQ(to_f32(*f->find("ids")).error().code, ErrorCode::kUnsupported);
  fs::remove_all(dir);
}

TEST(Safetensors, WriterIsDeterministicAlignedAndSorted) {
  auto a = serialize_safetensors(sample());
  auto b = serialize_safetensors(sample());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, *b);
  std::uint64_t n = 0;
  std::memcpy(&n, a->data(), 8);
  EXPECT_EQ(n % 8, 0u);
  std::string header = a->substr(8, n);
  EXPECT_EQ(header.substr(0, 1), "{");
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
  // Data in sorted-name order: a.bias first at offset 0.
  auto j = nlohmann::json::parse(header);
  EXPECT_EQ(j["a.bias"]["data_offsets"][0].get<int>(), 0);
  EXPECT_EQ(j["a.bias"]["data_offsets"][1].get<int>(), 4);
  EXPECT_EQ(j["a.bias"]["dtype"], "F32");
  EXPECT_LT(header.find("\"a.bias\""), header.find("\"b.weight\""));
}

TEST(Safetensors, ReadsAHandWrittenFile) {
  // As written by the reference implementation: header padded with spaces.
  std::string header = R"({"__metadata__":{"format":"pt"},"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string buf;
  for (float v : {1.5f, -3.0f}) {
    std::uint16_t b = f32_to_bf16(v);
    buf.append(reinterpret_cast<const char*>(&b), 2);
  }
  auto f = SafetensorsFile::parse(raw_file(header, buf), "t.safetensors");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  auto v = to_f32(*f->find("x"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (std::vector<float>{1.5f, -3.0f}));
}

TEST(Safetensors, HalfConversions) {
  for (float f : {0.0f, 1.0f, -1.0f, 65504.0f, 0.5f, 6.103515625e-05f, 5.960464477539063e-08f}) {
    EXPECT_EQ(f16_to_f32(f32_to_f16(f)), f) << f;
  }
  for (float f : {0.0f, 1.0f, -1.0f, 0.5f, 3.0f, -256.0f, 1.0078125f}) EXPECT_EQ(bf16_to_f32(f32_to_bf16(f)), f) << f;
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_TRUE(std::isinf(f16_to_f32(f32_to_f16(1e6f))));
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_NEAR(bf16_to_f32(f32_to_bf16(3.14159f)), 3.14159f, 0.02);
}

TEST(Safetensors, TooShortIsCorrupt) { expect_corrupt("abc", "too short"); }

TEST(Safetensors, HeaderLengthPastEndIsCorrupt) {
  std::string f = raw_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd");
  f[0] = static_cast<char>(200);
  expect_corrupt(f, "past the end");
}

TEST(Safetensors, HugeHeaderLengthIsCorrupt) {
  std::string f(16, '\0');
  f[6] = 1;  // 2^48
  expect_corrupt(f, "limit");
}

TEST(Safetensors, BadJsonIsCorrupt) { expect_corrupt(raw_file("{\"x\": [", ""), "JSON"); }

TEST(Safetensors, HeaderNotAnObjectIsCorrupt) { expect_corrupt(raw_file("[1,2]", ""), "does not start"); }

TEST(Safetensors, OffsetsOutOfRangeAreCorrupt) {
  expect_corrupt(raw_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "abcd"), "\"w\"");
}

TEST(Safetensors, OffsetsReversedAreCorrupt) {
  expect_corrupt(raw_file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", "abcd"), "end before");
}

TEST(Safetensors, SizeMismatchIsCorrupt) {
  expect_corrupt(raw_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "abcdefgh"), "\"w\"");
}

TEST(Safetensors, UnknownDtypeIsCorrupt) {
  expect_corrupt(raw_file(R"({"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", "a"), "Q4");
}

TEST(Safetensors, NegativeDimensionIsCorrupt) {
  expect_corrupt(raw_file(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "a"), "\"w\"");
}

TEST(Safetensors, MissingFieldIsCorrupt) {
  expect_corrupt(raw_file(R"({"w":{"dtype":"U8","data_offsets":[0,1]}})", "a"), "shape");
  expect_corrupt(raw_file(R"({"w":{"dtype":"U8","shape":[1]}})", "a"), "data_offsets");
  expect_corrupt(raw_file(R"({"w":{"shape":[1],"data_offsets":[0,1]}})", "a"), "dtype");
}

TEST(Safetensors, OverlapIsCorrupt) {
  expect_corrupt(raw_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                          "abcd"),
                 "overlaps");
}

TEST(Safetensors, GapIsCorrupt) {
  expect_corrupt(raw_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                          R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                          "abcd"),
                 "gap");
}

TEST(Safetensors, TrailingBytesAreCorrupt) {
  expect_corrupt(raw_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abcd"), "cover");
}

TEST(Safetensors, BadMetadataIsCorrupt) { expect_corrupt(raw_file(R"({"__metadata__":{"k":1}})", ""), "__metadata__"); }

TEST(Safetensors, TruncatedFileIsCorrupt) {
  auto bytes = serialize_safetensors(sample());
  ASSERT_TRUE(bytes.ok());
  expect_corrupt(bytes->substr(0, bytes->size() - 3), "run past");
}

TEST(Safetensors, MissingFileIsNotFound) {
  auto f = SafetensorsFile::open("/nonexistent/dir/m.safetensors");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ErrorCode::kNotFound);
}

TEST(Safetensors, WriterRejectsBadTensor) {
  std::map<std::string, TensorData> m;
  m["w"].shape = {2};
  m["w"].bytes = "abc";
  auto r = serialize_safetensors(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
