#include "generate/torch/llama_weights.h"

#include <cmath>
#include <cstring>

#include "core/check.h"
#include "generate/lora.h"

namespace ragft::llama_detail {

std::string shape_str(c10::IntArrayRef s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

Result<torch::ScalarType> torch_dtype_of(DType d) {
  switch (d) {
    case DType::kF32: return torch::kFloat;
    case DType::kBF16: return torch::kBFloat16;
    case DType::kF16: return torch::kHalf;
    case DType::kF64: return torch::kDouble;
    default: return make_error(ErrorCode::kCorrupt, "dtype {} is not a float type (F32, BF16, F16 or F64)", dtype_name(d));
  }
}

Status load_into(const WeightFiles& files, const std::string& name, torch::Tensor dst, const torch::Tensor* delta) {
  auto [t, file] = files.find(name);
  if (!t) {
    return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" (shape {}) is missing", files.names(), name,
                      shape_str(dst.sizes()));
  }
  if (c10::IntArrayRef(t->shape) != dst.sizes()) {
    return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" has shape {}, the config implies {}", file->name(), name,
                      shape_str(t->shape), shape_str(dst.sizes()));
  }
  auto src = torch_dtype_of(t->dtype);
  if (!src.ok()) return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": {}", file->name(), name, src.error().message);
  RAGFT_CHECK(dst.is_contiguous());
  const std::size_t bytes = t->bytes.size();
  if (delta) {
    torch::Tensor tmp = torch::empty(dst.sizes(), *src);
    std::memcpy(tmp.data_ptr(), t->bytes.data(), bytes);
    dst.copy_(tmp.to(torch::kFloat).add_(*delta));
  } else if (*src == dst.scalar_type()) {
    std::memcpy(dst.data_ptr(), t->bytes.data(), bytes);
  } else {
    torch::Tensor tmp = torch::empty(dst.sizes(), *src);
    std::memcpy(tmp.data_ptr(), t->bytes.data(), bytes);
    dst.copy_(tmp);
  }
  return ok_status();
}

std::vector<float> inv_frequencies(const LlamaConfig& c, double base) {
  const int d = c.head_dim;
  std::vector<float> f(static_cast<std::size_t>(d / 2));
  for (int i = 0; i < d / 2; ++i) {
    f[i] = 1.0f / std::pow(static_cast<float>(base), static_cast<float>(2 * i) / static_cast<float>(d));
  }
  const RopeScaling& s = c.rope_scaling;
  if (s.kind == RopeScalingKind::kLinear) {
    for (float& x : f) x = static_cast<float>(x / s.factor);
  } else if (s.kind == RopeScalingKind::kLlama3) {
    const double old_ctx = s.original_max_position_embeddings;
    const double low_wavelen = old_ctx / s.low_freq_factor, high_wavelen = old_ctx / s.high_freq_factor;
    for (float& x : f) {
      const double wavelen = 2 * M_PI / x;
      if (wavelen < high_wavelen) continue;
      if (wavelen > low_wavelen) {
        x = static_cast<float>(x / s.factor);
      } else {
        const double smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        x = static_cast<float>((1 - smooth) * x / s.factor + smooth * x);
      }
    }
  }
  return f;
}

double dynamic_base(const LlamaConfig& c, std::int64_t seq_len) {
  const double max_pos = c.max_position_embeddings, factor = c.rope_scaling.factor, d = c.head_dim;
  const double len = std::max<double>(static_cast<double>(seq_len), max_pos);
  return c.rope_theta * std::pow(factor * len / max_pos - (factor - 1), d / (d - 2));
}

torch::Tensor lora_delta(const LoraAdapter& adapter, const std::string& module) {
  auto it = adapter.weights.find(module);
  if (it == adapter.weights.end()) return {};
  const LoraAdapter::Pair& p = it->second;
  torch::Tensor a = torch::from_blob(const_cast<float*>(p.a.data()), {adapter.rank, p.in}, torch::kFloat);
  torch::Tensor b = torch::from_blob(const_cast<float*>(p.b.data()), {p.out, adapter.rank}, torch::kFloat);
  return torch::matmul(b, a).mul_(adapter.scale());
}

}  // namespace ragft::llama_detail
