#include "generate/torch/llama.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/env.h"
#include "core/log.h"
#include "embed/safetensors.h"
#include "embed/torch_guard.h"
#include "generate/lora.h"
#include "generate/torch/chunk_pool.h"
#include "generate/torch/llama_weights.h"
#include "generate/torch/matvec.h"

namespace ragft {

namespace fs = std::filesystem;

using llama_detail::dynamic_base;
using llama_detail::inv_frequencies;
using llama_detail::load_into;
using llama_detail::shape_str;
using llama_detail::WeightFiles;

namespace {

// Added to the attention scores of hidden slots: exp() of it is exactly 0, and unlike -inf it
// keeps a row without any visible slot finite.
constexpr float kMasked = -1e30f;


struct Linear {
  torch::Tensor w;  // [out, in], the model's weight dtype
  torch::Tensor b;  // [out] fp32, or undefined
};

// Several projections with the same input stacked into one matrix (q/k/v, gate/up), each with
// its LoRA delta added when `adapter` adapts it.
Result<Linear> load_linear(const WeightFiles& files, const std::vector<std::pair<std::string, std::int64_t>>& parts,
                           std::int64_t in, bool bias, torch::ScalarType dt, const LoraAdapter* adapter = nullptr) {
  std::int64_t out = 0;
  for (const auto& p : parts) out += p.second;
  Linear l;
  l.w = torch::empty({out, in}, dt);
  if (bias) l.b = torch::empty({out}, torch::kFloat);
  std::int64_t off = 0;
  for (const auto& [name, rows] : parts) {
    torch::Tensor delta = adapter ? llama_detail::lora_delta(*adapter, name) : torch::Tensor();
    RAGFT_TRY_STATUS(load_into(files, name + ".weight", l.w.narrow(0, off, rows), delta.defined() ? &delta : nullptr));
    if (bias) RAGFT_TRY_STATUS(load_into(files, name + ".bias", l.b.narrow(0, off, rows)));
    off += rows;
  }
  return l;
}

struct Layer {
  Linear qkv, o, gate_up, down;
  torch::Tensor in_norm, post_norm;  // fp32
};

std::size_t bytes_of(const torch::Tensor& t) {
  return t.defined() ? static_cast<std::size_t>(t.numel()) * t.element_size() : 0;
}
std::size_t bytes_of(const Linear& l) { return bytes_of(l.w) + bytes_of(l.b); }


// y = x W^T + b into `y` (rows x out, row-major) with the matrix-vector kernels, the columns
// split into chunks of ~32K weights shared by the calling thread and the ChunkPool's helpers
// (as many threads as libtorch's intra-op setting).
void matvec_into(const torch::Tensor& x, const Linear& l, float* y) {
  const std::int64_t rows = x.size(0), in = x.size(1), out = l.w.size(0);
  const float* xp = x.data_ptr<float>();
  const float* bp = l.b.defined() ? l.b.data_ptr<float>() : nullptr;
  const bool f32 = l.w.scalar_type() == torch::kFloat;
  const void* wp = l.w.data_ptr();
  const std::int64_t chunk = std::max<std::int64_t>(4, 32768 / std::max<std::int64_t>(1, in * rows));
  ChunkPool::shared(torch::get_num_threads()).run(out, chunk, [&](std::int64_t c0, std::int64_t c1) {
    if (f32) {
      matvec::f32(xp, rows, in, static_cast<const float*>(wp), bp, c0, c1, y, out);
    } else {
      matvec::bf16(xp, rows, in, static_cast<const std::uint16_t*>(wp), bp, c0, c1, y, out);
    }
  });
}

// x [M, in] fp32 contiguous -> [M, out] fp32.
torch::Tensor linear(const torch::Tensor& x, const Linear& l) {
  const std::int64_t rows = x.size(0);
  if (rows <= kMatvecRows) {
    torch::Tensor y = torch::empty({rows, l.w.size(0)}, torch::kFloat);
    matvec_into(x, l, y.data_ptr<float>());
    return y;
  }
  if (l.w.scalar_type() == torch::kFloat) return l.b.defined() ? at::linear(x, l.w, l.b) : at::linear(x, l.w);
  torch::Tensor y = at::linear(x.to(l.w.scalar_type()), l.w).to(torch::kFloat);
  if (l.b.defined()) y.add_(l.b);
  return y;
}

// RMSNorm over the rows of x [M, H] fp32: w * (x / sqrt(mean(x^2) + eps)).
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  const std::int64_t m = x.size(0), h = x.size(1);
  torch::Tensor y = torch::empty_like(x);
  const float* xp = x.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  at::parallel_for(0, m, std::max<std::int64_t>(1, 16384 / h), [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const float* xr = xp + r * h;
      double ss = 0;
      for (std::int64_t i = 0; i < h; ++i) ss += static_cast<double>(xr[i]) * xr[i];
      const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(h) + eps));
      float* yr = yp + r * h;
      for (std::int64_t i = 0; i < h; ++i) yr[i] = wp[i] * (xr[i] * inv);
    }
  });
  return y;
}

}  // namespace

// ---- LlamaCache ----

struct LlamaCache::Impl {
  const void* owner = nullptr;
  int batch = 0, capacity = 0;
  std::vector<int> len;        // tokens per sequence
  std::vector<int> finite;     // per sequence: slots [0, finite) hold finite values
  std::vector<torch::Tensor> k, v;  // per layer [batch, kv_heads, capacity, head_dim] fp32
};

LlamaCache::LlamaCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LlamaCache::LlamaCache(LlamaCache&&) noexcept = default;
LlamaCache& LlamaCache::operator=(LlamaCache&&) noexcept = default;
LlamaCache::~LlamaCache() = default;

int LlamaCache::batch() const { return impl_->batch; }
int LlamaCache::capacity() const { return impl_->capacity; }
int LlamaCache::length(int seq) const {
  RAGFT_CHECK(seq >= 0 && seq < impl_->batch);
  return impl_->len[static_cast<std::size_t>(seq)];
}
void LlamaCache::truncate(int seq, int len) {
  RAGFT_CHECK(seq >= 0 && seq < impl_->batch);
  RAGFT_CHECK(len >= 0 && len <= impl_->len[static_cast<std::size_t>(seq)]);
  impl_->len[static_cast<std::size_t>(seq)] = len;
}
void LlamaCache::reset() { std::fill(impl_->len.begin(), impl_->len.end(), 0); }
std::size_t LlamaCache::bytes() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < impl_->k.size(); ++i) n += bytes_of(impl_->k[i]) + bytes_of(impl_->v[i]);
  return n;
}

// ---- LlamaModel ----

struct LlamaModel::Impl {
  LlamaConfig c;
  LlamaOptions options;
  std::string dtype;
  torch::ScalarType dt = torch::kFloat;
  torch::Tensor embed;  // [vocab, hidden], dt
  torch::Tensor final_norm;
  Linear lm_head;  // w is `embed` when tied
  std::vector<Layer> layers;
  std::vector<float> inv_freq;  // scaled, except dynamic scaling (computed per forward)
  std::size_t weight_bytes = 0, decode_bytes = 0;

  void set_threads() const {
    if (options.threads > 0) {
      if (torch::get_num_threads() != options.threads) torch::set_num_threads(options.threads);
    } else {
      init_torch_threads();
    }
  }

  void run(LlamaCache::Impl& cache, const std::vector<std::vector<std::int32_t>>& tokens,
           std::vector<float>& logits) const;
  // Attention for one new token per sequence, without libtorch: the query heads of each kv head
  // against that head's `keys` cached keys (matvec kernels), softmax, weighted sum of values.
  // q: rows of the qkv matrix (stride qkv_w); kc/vc: the layer's cache; mask: [nb, keys] or
  // unused when !masked. Returns [nb, heads * head_dim].
  torch::Tensor decode_attention(const float* q, std::int64_t qkv_w, const float* kc, const float* vc,
                                 std::int64_t cap, std::int64_t keys, std::int64_t nb, const float* mask, bool masked,
                                 double scale) const;
};

LlamaModel::LlamaModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LlamaModel::~LlamaModel() = default;

const LlamaConfig& LlamaModel::config() const { return impl_->c; }
const std::string& LlamaModel::dtype() const { return impl_->dtype; }
std::size_t LlamaModel::weight_bytes() const { return impl_->weight_bytes; }
std::size_t LlamaModel::decode_bytes_per_token() const { return impl_->decode_bytes; }

torch::Tensor LlamaModel::Impl::decode_attention(const float* q, std::int64_t qkv_w, const float* kc, const float* vc,
                                                 std::int64_t cap, std::int64_t keys, std::int64_t nb,
                                                 const float* mask, bool masked, double scale) const {
  const std::int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads, hd = c.head_dim, group = nh / nkv;
  torch::Tensor ctx = torch::zeros({nb, nh * hd}, torch::kFloat);
  float* out = ctx.data_ptr<float>();
  const auto fscale = static_cast<float>(scale);
  ChunkPool::shared(torch::get_num_threads()).run(nb * nkv, 1, [&](std::int64_t i0, std::int64_t i1) {
    thread_local std::vector<float> scores;
    scores.resize(static_cast<std::size_t>(group * keys));
    for (std::int64_t item = i0; item < i1; ++item) {
      const std::int64_t b = item / nkv, h = item % nkv;
      const float* kslab = kc + ((b * nkv + h) * cap) * hd;
      const float* vslab = vc + ((b * nkv + h) * cap) * hd;
      // The group's query heads are adjacent in the qkv row.
      matvec::f32(q + b * qkv_w + h * group * hd, group, hd, kslab, nullptr, 0, keys, scores.data(), keys);
      for (std::int64_t g = 0; g < group; ++g) {
        float* row = scores.data() + g * keys;
        float mx = -std::numeric_limits<float>::infinity();
        for (std::int64_t j = 0; j < keys; ++j) {
          row[j] = row[j] * fscale + (masked ? mask[b * keys + j] : 0.0f);
          mx = std::max(mx, row[j]);
        }
        double total = 0;
        for (std::int64_t j = 0; j < keys; ++j) {
          row[j] = std::exp(row[j] - mx);
          total += row[j];
        }
        const auto inv = static_cast<float>(1.0 / total);
        float* o = out + b * nh * hd + (h * group + g) * hd;
        for (std::int64_t j = 0; j < keys; ++j) {
          const float p = row[j] * inv;
          if (p == 0.0f) continue;  // masked slots
          const float* v = vslab + j * hd;
          for (std::int64_t d = 0; d < hd; ++d) o[d] += p * v[d];
        }
      }
    }
  });
  return ctx;
}

Result<std::unique_ptr<LlamaModel>> LlamaModel::load(const fs::path& dir, const LlamaOptions& options) {
  if (options.dtype != "auto" && options.dtype != "fp32" && options.dtype != "bf16") {
    return make_error(ErrorCode::kInvalidArgument, "llama: dtype \"{}\" is not valid (auto, fp32 or bf16)",
                      options.dtype);
  }
  if (options.threads < 0) {
    return make_error(ErrorCode::kInvalidArgument, "llama: threads={} must be >= 0", options.threads);
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error(ErrorCode::kNotFound,
                      "{} is not a directory (expected a Hugging Face checkpoint: config.json and "
                      "model.safetensors or model.safetensors.index.json)",
                      dir.string());
  }
  auto im = std::make_unique<Impl>();
  im->options = options;
  RAGFT_TRY(im->c, LlamaConfig::load(dir / "config.json"));
  const LlamaConfig& c = im->c;
  for (const auto& note : c.notes) log::info("llama_config dir={} note=\"{}\"", dir.string(), note);
  RAGFT_TRY(WeightFiles files, WeightFiles::open(dir));
  std::optional<LoraAdapter> adapter;
  if (!options.adapter.empty()) {
    RAGFT_TRY(adapter, LoraAdapter::load(options.adapter));
    RAGFT_TRY_STATUS(adapter->check(c));
  }
  const LoraAdapter* ad = adapter ? &*adapter : nullptr;

  im->dtype = options.dtype;
  if (im->dtype == "auto") {
    bool bf16 = c.torch_dtype == "bfloat16";
    if (c.torch_dtype.empty()) {
      auto [t, f] = files.find("model.embed_tokens.weight");
      bf16 = t && t->dtype == DType::kBF16;
    }
    im->dtype = bf16 ? "bf16" : "fp32";
  }
  im->dt = im->dtype == "bf16" ? torch::kBFloat16 : torch::kFloat;
  im->set_threads();

  Status st = torch_guard("loading " + dir.string(), [&]() -> Status {
    c10::InferenceMode guard;
    const std::int64_t h = c.hidden_size, inter = c.intermediate_size, hd = c.head_dim;
    const std::int64_t q_rows = c.num_attention_heads * hd, kv_rows = c.num_key_value_heads * hd;
    im->embed = torch::empty({c.vocab_size, h}, im->dt);
    RAGFT_TRY_STATUS(load_into(files, "model.embed_tokens.weight", im->embed));
    im->final_norm = torch::empty({h}, torch::kFloat);
    RAGFT_TRY_STATUS(load_into(files, "model.norm.weight", im->final_norm));
    if (c.tie_word_embeddings) {
      im->lm_head.w = im->embed;
    } else {
      auto [t, f] = files.find("lm_head.weight");
      if (!t) {
        return make_error(ErrorCode::kCorrupt,
                          "{}: tensor \"lm_head.weight\" is missing and config.json says tie_word_embeddings=false",
                          files.names());
      }
      RAGFT_TRY(im->lm_head, load_linear(files, {{"lm_head", c.vocab_size}}, h, false, im->dt));
    }
    for (int i = 0; i < c.num_hidden_layers; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      Layer l;
      RAGFT_TRY(l.qkv, load_linear(files,
                                   {{p + "self_attn.q_proj", q_rows},
                                    {p + "self_attn.k_proj", kv_rows},
                                    {p + "self_attn.v_proj", kv_rows}},
                                   h, c.qkv_bias, im->dt, ad));
      RAGFT_TRY(l.o, load_linear(files, {{p + "self_attn.o_proj", h}}, q_rows, c.o_bias, im->dt, ad));
      RAGFT_TRY(l.gate_up, load_linear(files, {{p + "mlp.gate_proj", inter}, {p + "mlp.up_proj", inter}}, h,
                                       c.mlp_bias, im->dt, ad));
      RAGFT_TRY(l.down, load_linear(files, {{p + "mlp.down_proj", h}}, inter, c.mlp_bias, im->dt, ad));
      l.in_norm = torch::empty({h}, torch::kFloat);
      l.post_norm = torch::empty({h}, torch::kFloat);
      RAGFT_TRY_STATUS(load_into(files, p + "input_layernorm.weight", l.in_norm));
      RAGFT_TRY_STATUS(load_into(files, p + "post_attention_layernorm.weight", l.post_norm));
      im->layers.push_back(std::move(l));
    }
    return ok_status();
  });
  if (!st.ok()) return st.take_error();

  std::size_t layer_bytes = 0;
  for (const Layer& l : im->layers) {
    layer_bytes += bytes_of(l.qkv) + bytes_of(l.o) + bytes_of(l.gate_up) + bytes_of(l.down) + bytes_of(l.in_norm) +
                   bytes_of(l.post_norm);
  }
  const std::size_t head = bytes_of(im->lm_head.w);
  im->weight_bytes = bytes_of(im->embed) + layer_bytes + bytes_of(im->final_norm) + (c.tie_word_embeddings ? 0 : head);
  im->decode_bytes = layer_bytes + bytes_of(im->final_norm) + head +
                     static_cast<std::size_t>(c.hidden_size) * im->embed.element_size();
  im->inv_freq = inv_frequencies(c, c.rope_theta);
  log::info("llama_load dir={} type={} layers={} hidden={} dtype={} weights_mb={:.0f} kernel={}", dir.string(),
           c.model_type, c.num_hidden_layers, c.hidden_size, im->dtype, im->weight_bytes / 1e6,
           matvec::kernel_name());
  return std::unique_ptr<LlamaModel>(new LlamaModel(std::move(im)));
}

Result<LlamaCache> LlamaModel::new_cache(int batch, int capacity) const {
  const LlamaConfig& c = impl_->c;
  if (batch < 1 || capacity < 1 || capacity > c.max_context()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "llama cache: batch={} must be >= 1 and capacity={} within [1, {}] (the model's context)", batch,
                      capacity, c.max_context());
  }
  auto ci = std::make_unique<LlamaCache::Impl>();
  ci->owner = impl_.get();
  ci->batch = batch;
  ci->capacity = capacity;
  ci->len.assign(static_cast<std::size_t>(batch), 0);
  ci->finite.assign(static_cast<std::size_t>(batch), 0);
  Status st = torch_guard("allocating the llama cache", [&]() -> Status {
    for (int l = 0; l < c.num_hidden_layers; ++l) {
      // Not zeroed: slots are written or zeroed before attention first reads them (run()).
      ci->k.push_back(torch::empty({batch, c.num_key_value_heads, capacity, c.head_dim}, torch::kFloat));
      ci->v.push_back(torch::empty({batch, c.num_key_value_heads, capacity, c.head_dim}, torch::kFloat));
    }
    return ok_status();
  });
  if (!st.ok()) return st.take_error();
  return LlamaCache(std::move(ci));
}

Status LlamaModel::forward(LlamaCache& cache, const std::vector<std::vector<std::int32_t>>& tokens,
                           std::vector<float>& logits) const {
  LlamaCache::Impl& ci = *cache.impl_;
  if (ci.owner != impl_.get()) {
    return make_error(ErrorCode::kInvalidArgument, "llama forward: the cache was made by another model");
  }
  if (tokens.size() != static_cast<std::size_t>(ci.batch)) {
    return make_error(ErrorCode::kInvalidArgument, "llama forward: {} token lists for a cache of {} sequences",
                      tokens.size(), ci.batch);
  }
  bool any = false;
  for (std::size_t s = 0; s < tokens.size(); ++s) {
    any = any || !tokens[s].empty();
    for (std::int32_t id : tokens[s]) {
      if (id < 0 || id >= impl_->c.vocab_size) {
        return make_error(ErrorCode::kInvalidArgument, "llama forward: token id {} (sequence {}) is outside [0, {})",
                          id, s, impl_->c.vocab_size);
      }
    }
    if (ci.len[s] + tokens[s].size() > static_cast<std::size_t>(ci.capacity)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "llama forward: sequence {} would hold {} tokens, the cache holds at most {}", s,
                        ci.len[s] + tokens[s].size(), ci.capacity);
    }
  }
  if (!any) return make_error(ErrorCode::kInvalidArgument, "llama forward: no new tokens");
  return torch_guard("llama forward", [&]() -> Status {
    impl_->run(ci, tokens, logits);
    return ok_status();
  });
}

void LlamaModel::Impl::run(LlamaCache::Impl& cache, const std::vector<std::vector<std::int32_t>>& tokens,
                           std::vector<float>& logits) const {
  c10::InferenceMode guard;
  set_threads();
  const std::int64_t nb = cache.batch, nh = c.num_attention_heads, nkv = c.num_key_value_heads,
                     hd = c.head_dim, half = hd / 2, group = nh / nkv, inter = c.intermediate_size,
                     vocab = c.vocab_size;
  std::vector<std::int64_t> n(static_cast<std::size_t>(nb)), len(static_cast<std::size_t>(nb));
  std::int64_t t_max = 0, keys = 0;  // keys: slots attention reads, the longest sequence after this pass
  for (std::int64_t b = 0; b < nb; ++b) {
    n[b] = static_cast<std::int64_t>(tokens[b].size());
    len[b] = cache.len[b];
    t_max = std::max(t_max, n[b]);
    keys = std::max(keys, len[b] + n[b]);
  }
  const std::int64_t m = nb * t_max;  // rows: sequences x new tokens, right-padded

  // Ids and query positions; a padding row repeats its sequence's last position.
  torch::Tensor ids = torch::zeros({m}, torch::kLong);
  std::vector<std::int64_t> pos(static_cast<std::size_t>(m));
  auto* idp = ids.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < nb; ++b) {
    for (std::int64_t t = 0; t < t_max; ++t) {
      const std::int64_t r = b * t_max + t;
      if (t < n[b]) idp[r] = tokens[b][t];
      pos[r] = len[b] + std::min(t, std::max<std::int64_t>(n[b], 1) - 1);
    }
  }

  // Rotary tables per row.
  std::vector<float> dyn;
  const std::vector<float>* freq = &inv_freq;
  if (c.rope_scaling.kind == RopeScalingKind::kDynamic && keys > c.max_position_embeddings) {
    dyn = inv_frequencies(c, dynamic_base(c, keys));
    freq = &dyn;
  }
  std::vector<float> cos_t(static_cast<std::size_t>(m * half)), sin_t(cos_t.size());
  for (std::int64_t r = 0; r < m; ++r) {
    for (std::int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(pos[r]) * (*freq)[i];
      cos_t[r * half + i] = std::cos(angle);
      sin_t[r * half + i] = std::sin(angle);
    }
  }

  // The additive mask [nb, t_max, keys]: a query at position p of sequence b sees slots
  // j <= p (its own sequence's earlier tokens; later slots are padding or not yet written),
  // within the sliding window.
  bool masked = false;
  torch::Tensor mask = torch::zeros({nb, 1, 1, t_max, keys}, torch::kFloat);
  float* mp = mask.data_ptr<float>();
  for (std::int64_t b = 0; b < nb; ++b) {
    for (std::int64_t t = 0; t < t_max; ++t) {
      const std::int64_t p = pos[b * t_max + t];
      float* row = mp + (b * t_max + t) * keys;
      for (std::int64_t j = 0; j < keys; ++j) {
        if (j > p || (c.sliding_window > 0 && p - j >= c.sliding_window)) {
          row[j] = kMasked;
          masked = true;
        }
      }
    }
  }
  // Slots attention reads but no token of this sequence wrote: make them finite (zero) once.
  std::vector<std::pair<std::int64_t, std::int64_t>> zero(static_cast<std::size_t>(nb), {0, 0});
  for (std::int64_t b = 0; b < nb; ++b) {
    const std::int64_t from = std::max<std::int64_t>(cache.finite[b], len[b] + n[b]);
    if (from < keys) zero[b] = {from, keys - from};
  }

  torch::Tensor x = embed.index_select(0, ids).to(torch::kFloat).contiguous();
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const std::int64_t qkv_w = (nh + 2 * nkv) * hd;
  for (std::size_t li = 0; li < layers.size(); ++li) {
    const Layer& L = layers[li];
    torch::Tensor qkv = linear(rms_norm(x, L.in_norm, c.rms_norm_eps), L.qkv);  // [m, (nh + 2 nkv) hd]
    // Rotary embeddings on q and k, in place: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin).
    float* qp = qkv.data_ptr<float>();
    at::parallel_for(0, m, 16, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const float* cs = cos_t.data() + r * half;
        const float* sn = sin_t.data() + r * half;
        for (std::int64_t head = 0; head < nh + nkv; ++head) {
          float* v = qp + r * qkv_w + head * hd;
          for (std::int64_t i = 0; i < half; ++i) {
            const float x1 = v[i], x2 = v[i + half];
            v[i] = x1 * cs[i] - x2 * sn[i];
            v[i + half] = x2 * cs[i] + x1 * sn[i];
          }
        }
      }
    });
    // New keys and values into the cache (valid tokens only), and zeros where attention reads
    // slots no token of the sequence wrote.
    const std::int64_t cap = cache.capacity;
    float* kc = cache.k[li].data_ptr<float>();
    float* vc = cache.v[li].data_ptr<float>();
    for (std::int64_t b = 0; b < nb; ++b) {
      for (std::int64_t hh = 0; hh < nkv; ++hh) {
        const std::int64_t slab = ((b * nkv + hh) * cap) * hd;
        for (std::int64_t t = 0; t < n[b]; ++t) {
          const float* row = qp + (b * t_max + t) * qkv_w;
          std::memcpy(kc + slab + (len[b] + t) * hd, row + (nh + hh) * hd, sizeof(float) * hd);
          std::memcpy(vc + slab + (len[b] + t) * hd, row + (nh + nkv + hh) * hd, sizeof(float) * hd);
        }
        if (zero[b].second > 0) {
          std::memset(kc + slab + zero[b].first * hd, 0, sizeof(float) * zero[b].second * hd);
          std::memset(vc + slab + zero[b].first * hd, 0, sizeof(float) * zero[b].second * hd);
        }
      }
    }
    torch::Tensor ctx;
    if (t_max == 1) {
      ctx = decode_attention(qp, qkv_w, kc, vc, cap, keys, nb, mp, masked, scale);
    } else {
      // Grouped-query attention without repeating the keys: the query heads sharing a kv head
      // become extra rows of that head's score matrix.
      torch::Tensor q = qkv.narrow(1, 0, nh * hd);
      torch::Tensor qg =
          q.view({nb, t_max, nkv, group, hd}).permute({0, 2, 3, 1, 4}).reshape({nb, nkv, group * t_max, hd});
      torch::Tensor kk = cache.k[li].narrow(2, 0, keys), vv = cache.v[li].narrow(2, 0, keys);
      torch::Tensor scores = torch::matmul(qg, kk.transpose(-1, -2));  // [nb, nkv, group * t_max, keys]
      scores.mul_(scale);
      if (masked) scores.view({nb, nkv, group, t_max, keys}).add_(mask);
      ctx = torch::matmul(torch::softmax(scores, -1), vv);  // [nb, nkv, group * t_max, hd]
      ctx = ctx.view({nb, nkv, group, t_max, hd}).permute({0, 3, 1, 2, 4}).reshape({m, nh * hd});
    }
    x.add_(linear(ctx, L.o));
    torch::Tensor gu = linear(rms_norm(x, L.post_norm, c.rms_norm_eps), L.gate_up);  // [m, 2 inter]
    torch::Tensor a = torch::silu(gu.narrow(1, 0, inter));
    a.mul_(gu.narrow(1, inter, inter));
    x.add_(linear(a, L.down));
  }

  // The last new token of each sequence.
  torch::Tensor last = torch::zeros({nb}, torch::kLong);
  for (std::int64_t b = 0; b < nb; ++b) last.data_ptr<std::int64_t>()[b] = b * t_max + std::max<std::int64_t>(n[b], 1) - 1;
  torch::Tensor hl = rms_norm(x.index_select(0, last).contiguous(), final_norm, c.rms_norm_eps);
  logits.resize(static_cast<std::size_t>(nb * vocab));
  if (nb <= kMatvecRows) {
    matvec_into(hl, lm_head, logits.data());
  } else {
    torch::Tensor out = linear(hl, lm_head).contiguous();
    std::memcpy(logits.data(), out.data_ptr<float>(), logits.size() * sizeof(float));
  }
  for (std::int64_t b = 0; b < nb; ++b) {
    if (n[b] == 0) std::fill_n(logits.begin() + b * vocab, vocab, 0.0f);
    cache.len[b] = static_cast<int>(len[b] + n[b]);
    cache.finite[b] = static_cast<int>(std::max<std::int64_t>({cache.finite[b], len[b] + n[b], keys}));
  }
}

Result<Generation> LlamaModel::generate(std::span<const std::int32_t> prompt, const GenerateOptions& options) const {
  const LlamaConfig& c = impl_->c;
  RAGFT_TRY_STATUS(options.sampling.validate());
  if (options.max_new_tokens < 0 || options.max_length < 0) {
    return make_error(ErrorCode::kInvalidArgument, "generate: max_new_tokens={} and max_length={} must be >= 0",
                      options.max_new_tokens, options.max_length);
  }
  if (prompt.empty()) return make_error(ErrorCode::kInvalidArgument, "generate: the prompt is empty");
  const std::int64_t limit = options.max_length > 0 ? std::min(options.max_length, c.max_context()) : c.max_context();
  if (static_cast<std::int64_t>(prompt.size()) > limit) {
    return make_error(ErrorCode::kInvalidArgument, "generate: the prompt has {} tokens, the limit is {}", prompt.size(),
                      limit);
  }
  Generation g;
  g.prompt_tokens = static_cast<int>(prompt.size());
  if (options.max_new_tokens == 0) return g;
  const auto capacity =
      static_cast<int>(std::min<std::int64_t>(limit, static_cast<std::int64_t>(prompt.size()) + options.max_new_tokens));
  RAGFT_TRY(LlamaCache cache, new_cache(1, capacity));
  std::vector<std::int32_t> eos;
  if (!options.ignore_eos) {
    if (!options.eos_ids.empty()) {
      eos = options.eos_ids;
    } else {
      eos.assign(c.eos_token_ids.begin(), c.eos_token_ids.end());
    }
  }
  StopChecker stop(std::move(eos), options.stop_sequences);
  Sampler sampler(options.sampling);
  std::vector<std::int32_t> seen(prompt.begin(), prompt.end());
  std::vector<float> logits;
  // The prompt in chunks: attention scores of a chunk take heads x chunk x length floats.
  std::vector<std::vector<std::int32_t>> step(1);
  for (std::size_t b = 0; b < prompt.size(); b += kPrefillChunk) {
    const std::size_t e = std::min(prompt.size(), b + kPrefillChunk);
    step[0].assign(prompt.begin() + static_cast<std::ptrdiff_t>(b), prompt.begin() + static_cast<std::ptrdiff_t>(e));
    RAGFT_TRY_STATUS(forward(cache, step, logits));
  }
  for (;;) {
    const std::int32_t tok = sampler.sample(logits, seen);
    seen.push_back(tok);
    g.tokens.push_back(tok);
    ++g.generated;
    if (auto reason = stop.check(g.tokens, g.stop)) {
      g.finish = *reason;
      return g;
    }
    if (g.generated >= options.max_new_tokens) {
      g.finish = FinishReason::kMaxTokens;
      return g;
    }
    if (static_cast<std::int64_t>(prompt.size()) + g.generated >= limit) {
      g.finish = FinishReason::kContextFull;
      return g;
    }
    step[0].assign(1, tok);
    RAGFT_TRY_STATUS(forward(cache, step, logits));
  }
}

}  // namespace ragft
