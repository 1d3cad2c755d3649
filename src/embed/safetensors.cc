#include "embed/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxHeader = 100'000'000;  // the reference implementation's limit
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeInfo {
  DType d;
  const char* name;
  std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kBool, "BOOL", 1},      {DType::kU8, "U8", 1},   {DType::kI8, "I8", 1},   {DType::kF8E5M2, "F8_E5M2", 1},
    {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kI16, "I16", 2}, {DType::kU16, "U16", 2}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2},      {DType::kI32, "I32", 4}, {DType::kU32, "U32", 4}, {DType::kF32, "F32", 4},
    {DType::kF64, "F64", 8},        {DType::kI64, "I64", 8}, {DType::kU64, "U64", 8},
};

const DTypeInfo& info(DType d) {
  for (const auto& i : kDTypes) {
    if (i.d == d) return i;
  }
  return kDTypes[0];  // unreachable: every enumerator is listed
}

std::uint32_t f32_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float bits_f32(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Element count of `shape`, or -1 on overflow.
std::int64_t checked_numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

}  // namespace

const char* dtype_name(DType d) { return info(d).name; }

std::size_t dtype_size(DType d) { return info(d).size; }

Result<DType> parse_dtype(std::string_view name) {
  for (const auto& i : kDTypes) {
    if (name == i.name) return i.d;
  }
  return make_error(ErrorCode::kUnsupported, "unknown safetensors dtype \"{}\"", name);
}

std::int64_t TensorView::numel() const { return checked_numel(shape); }

TensorData TensorData::from_f32(std::vector<std::int64_t> shape, const float* values, std::size_t n) {
  TensorData t;
  t.dtype = DType::kF32;
  t.shape = std::move(shape);
  t.bytes.assign(reinterpret_cast<const char*>(values), n * sizeof(float));
  return t;
}

float f16_to_f32(std::uint16_t h) {
  std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  std::uint32_t exp = (h >> 10) & 0x1f;
  std::uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    if (mant == 0) return bits_f32(sign);
    // Subnormal: normalise.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    mant &= 0x3ff;
    return bits_f32(sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | (mant << 13));
  }
  if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (mant << 13));
  return bits_f32(sign | ((exp + 127 - 15) << 23) | (mant << 13));
}

float bf16_to_f32(std::uint16_t b) { return bits_f32(static_cast<std::uint32_t>(b) << 16); }

std::uint16_t f32_to_bf16(float f) {
  std::uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40);  // NaN stays NaN
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<std::uint16_t>(u >> 16);
}

std::uint16_t f32_to_f16(float f) {
  std::uint32_t u = f32_bits(f);
  std::uint32_t sign = (u >> 16) & 0x8000;
  std::uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00);   // NaN
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00);  // overflow -> inf
  if (abs < 0x38800000u) {                                                   // subnormal or zero
    if (abs < 0x33000000u) return static_cast<std::uint16_t>(sign);
    std::uint32_t e = abs >> 23;
    std::uint32_t m = (abs & 0x7fffff) | 0x800000;
    std::uint32_t shift = 126 - e;  // 14..24
    std::uint32_t half = m >> shift;
    std::uint32_t rem = m & ((1u << shift) - 1);
    std::uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t v = abs - (112u << 23);  // rebias 127 -> 15
  v += 0xfff + ((v >> 13) & 1);
  return static_cast<std::uint16_t>(sign | (v >> 13));
}

Result<std::vector<float>> to_f32(const TensorView& t) {
  std::int64_t n = t.numel();
  std::vector<float> out(static_cast<std::size_t>(n));
  const char* p = t.bytes.data();
  switch (t.dtype) {
    case DType::kF32:
      std::memcpy(out.data(), p, out.size() * 4);
      break;
    case DType::kF64:
      for (std::size_t i = 0; i < out.size(); ++i) {
        double d;
        std::memcpy(&d, p + i * 8, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    case DType::kF16:
    case DType::kBF16:
      for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint16_t h;
        std::memcpy(&h, p + i * 2, 2);
        out[i] = t.dtype == DType::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      break;
    default:
      return make_error(ErrorCode::kUnsupported, "cannot convert a {} tensor to F32", dtype_name(t.dtype));
  }
  return out;
}

// The bytes of an open file: a memory map or an owned string.
struct SafetensorsFile::Storage {
  MappedFile map;
  std::string owned;
  bool mapped = false;
  std::string_view view() const { return mapped ? map.view() : std::string_view(owned); }
};

std::string_view SafetensorsFile::raw() const { return storage_->view(); }

Result<SafetensorsFile> SafetensorsFile::open(const fs::path& path) {
  RAGFT_TRY(MappedFile map, MappedFile::open(path));
  auto s = std::make_shared<Storage>();
  s->map = std::move(map);
  s->mapped = true;
  return validate(std::move(s), path.string());
}

Result<SafetensorsFile> SafetensorsFile::parse(std::string data, std::string_view name) {
  auto s = std::make_shared<Storage>();
  s->owned = std::move(data);
  return validate(std::move(s), std::string(name));
}

Result<SafetensorsFile> SafetensorsFile::validate(std::shared_ptr<const Storage> s, std::string name) {
  std::string_view all = s->view();
  if (all.size() < 8) {
    return make_error(ErrorCode::kCorrupt, "{}: {} bytes is too short for a safetensors file (8-byte header length)",
                      name, all.size());
  }
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(all[static_cast<std::size_t>(i)]);
  if (n > kMaxHeader) return make_error(ErrorCode::kCorrupt, "{}: header length {} exceeds the 100 MB limit", name, n);
  if (n > all.size() - 8) {
    return make_error(ErrorCode::kCorrupt, "{}: header length {} runs past the end of the file ({} bytes)", name, n,
                      all.size());
  }
  std::string_view header = all.substr(8, n);
  if (header.empty() || header.front() != '{') {
    return make_error(ErrorCode::kCorrupt, "{}: the header does not start with '{{'", name);
  }
  std::string_view buffer = all.substr(8 + n);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: header is not valid JSON: {}", name, e.what());
  }
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "{}: header is not a JSON object", name);

  SafetensorsFile f;
  f.name_ = name;
  struct Span {
    std::uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Span> spans;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    if (key == kMetadataKey) {
      if (v.is_null()) continue;
      if (!v.is_object()) return make_error(ErrorCode::kCorrupt, "{}: __metadata__ is not an object", name);
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) {
          return make_error(ErrorCode::kCorrupt, "{}: __metadata__ value \"{}\" is not a string", name, m.key());
        }
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": entry is not an object", name, key);
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) {
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": missing or non-string dtype", name, key);
    }
    auto dtype = parse_dtype(dt->get<std::string>());
    if (!dtype.ok()) {
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": {}", name, key, dtype.error().message);
    }
    if (sh == v.end() || !sh->is_array()) {
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": missing or non-array shape", name, key);
    }
    TensorView t;
    t.dtype = *dtype;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) {
        return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": shape has a non-integer or negative dimension", name,
                          key);
      }
      std::uint64_t dim = d.get<std::uint64_t>();
      if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": dimension {} is too large", name, key, dim);
      }
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned()) {
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": data_offsets must be two non-negative integers", name,
                        key);
    }
    std::uint64_t b = (*off)[0].get<std::uint64_t>();
    std::uint64_t e = (*off)[1].get<std::uint64_t>();
    if (e < b)
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": data_offsets [{}, {}] end before they begin", name,
                        key, b, e);
    if (e > buffer.size()) {
      return make_error(ErrorCode::kCorrupt,
                        "{}: tensor \"{}\": data_offsets [{}, {}] run past the data buffer ({} bytes)", name, key, b, e,
                        buffer.size());
    }
    std::int64_t numel = checked_numel(t.shape);
    std::uint64_t want = 0;
    if (numel < 0 || __builtin_mul_overflow(static_cast<std::uint64_t>(numel), dtype_size(t.dtype), &want) ||
        want != e - b) {
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": {} bytes for dtype {} and {} elements, expected {}",
                        name, key, e - b, dtype_name(t.dtype), numel, want);
    }
    t.bytes = buffer.substr(b, e - b);
    auto [pos, inserted] = f.tensors_.emplace(key, std::move(t));
    spans.push_back({b, e, &pos->first});
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  std::uint64_t at = 0;
  for (const auto& sp : spans) {
    if (sp.begin != at) {
      return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": data starts at {}, expected {} ({})", name, *sp.name,
                        sp.begin, at, sp.begin < at ? "overlaps the previous tensor" : "gap after the previous tensor");
    }
    at = sp.end;
  }
  if (at != buffer.size()) {
    return make_error(ErrorCode::kCorrupt, "{}: tensors cover {} bytes of a {}-byte data buffer", name, at,
                      buffer.size());
  }
  f.storage_ = std::move(s);
  return f;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Result<std::string> serialize_safetensors(const std::map<std::string, TensorData>& tensors,
                                          const std::map<std::string, std::string>& metadata) {
  // Built by hand so the key order is the sorted one (nlohmann::json objects sort keys too, but
  // this keeps "__metadata__" first, as the reference does).
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":";
    header += nlohmann::json(metadata).dump();
  }
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == kMetadataKey) return make_error(ErrorCode::kInvalidArgument, "\"__metadata__\" is not a tensor name");
    std::int64_t numel = checked_numel(t.shape);
    if (numel < 0 || static_cast<std::uint64_t>(numel) * dtype_size(t.dtype) != t.bytes.size()) {
      return make_error(ErrorCode::kInvalidArgument, "tensor \"{}\": {} bytes do not match dtype {} and shape", name,
                        t.bytes.size(), dtype_name(t.dtype));
    }
    if (header.size() > 1) header += ',';
    nlohmann::json e = {
        {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    header += nlohmann::json(name).dump();
    header += ':';
    header += e.dump();
    offset += t.bytes.size();
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + header.size() + offset);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out += header;
  for (const auto& [name, t] : tensors) out += t.bytes;
  return out;
}

Status write_safetensors(const fs::path& path, const std::map<std::string, TensorData>& tensors,
                         const std::map<std::string, std::string>& metadata, Env& env) {
  RAGFT_TRY(std::string bytes, serialize_safetensors(tensors, metadata));
  return env.write_file_atomic(path, bytes);
}

}  // namespace ragft
