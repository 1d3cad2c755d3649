#include "embed/torch/bert_embedder.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <utility>

#include "embed/bert.h"
#include "embed/torch_guard.h"

namespace ragft {

namespace {

Status check_options(const BertEmbedderOptions& o) {
  if (o.path.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "bert embedder: path=DIR (the checkpoint directory) is required");
  }
  if (o.pool != "mean" && o.pool != "cls") {
    return make_error(ErrorCode::kInvalidArgument, "bert embedder: pool=\"{}\" is not valid (mean or cls)", o.pool);
  }
  if (o.dtype != "fp32" && o.dtype != "bf16" && o.dtype != "int8") {
    return make_error(ErrorCode::kInvalidArgument, "bert embedder: dtype=\"{}\" is not valid (fp32, bf16 or int8)",
                      o.dtype);
  }
  if (o.batch < 1 || o.max_len < 2 || o.threads < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "bert embedder: batch={} (>= 1), maxlen={} (>= 2) or threads={} (>= 0) is out of range", o.batch,
                      o.max_len, o.threads);
  }
  return ok_status();
}

// Makes libtorch's quantisation engine one with dynamic int8 linear layers (process-wide; the
// packed weights keep the engine they were packed for). Returns reduce_range for
// quantized::linear_dynamic: FBGEMM's kernels saturate without it, oneDNN's do not need it.
Result<bool> select_int8_engine() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  auto& ctx = at::globalContext();
  const auto& engines = ctx.supportedQEngines();
  auto has = [&](at::QEngine e) { return std::find(engines.begin(), engines.end(), e) != engines.end(); };
  at::QEngine cur = ctx.qEngine();
  if (cur != at::QEngine::FBGEMM && cur != at::QEngine::ONEDNN) {
    if (has(at::QEngine::FBGEMM)) {
      ctx.setQEngine(at::QEngine::FBGEMM);
    } else if (has(at::QEngine::ONEDNN)) {
      ctx.setQEngine(at::QEngine::ONEDNN);
    } else {
      return make_error(ErrorCode::kUnsupported,
                        "bert embedder: dtype=int8 needs a libtorch built with FBGEMM or oneDNN quantisation, and "
                        "this one has neither; use dtype=fp32 or dtype=bf16");
    }
  }
  return ctx.qEngine() == at::QEngine::FBGEMM;
}

// The encoder of a BertModel with its linear layers in bfloat16 or int8 (dynamic quantisation).
// The embeddings and the residual stream with its LayerNorms stay fp32; in bf16 the attention
// (scores, softmax, context) and the activation run in bf16 too (as under autocast), in int8 they
// run in fp32. Computes the same function as BertModelImpl::forward in eval mode
// (embed/torch/bert.cc) up to that rounding.
class LowPrecisionEncoder {
 public:
  enum class Kind { kBf16, kInt8 };

  static Result<LowPrecisionEncoder> build(const BertModel& model, Kind kind) {
    LowPrecisionEncoder e;
    e.kind_ = kind;
    e.c_ = model->config();
    if (kind == Kind::kInt8) {
      RAGFT_TRY(e.reduce_range_, select_int8_engine());
      e.prepack_ = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
      e.dynamic_ = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_dynamic", "");
    }
    auto params = model->named_parameters(true);
    auto p = [&](const std::string& name) -> torch::Tensor {
      const torch::Tensor* t = params.find(name);
      if (!t) throw std::runtime_error("the BERT model has no parameter " + name);
      return t->detach();
    };
    e.word_ = p("embeddings.word_embeddings.weight");
    e.position_ = p("embeddings.position_embeddings.weight");
    e.token_type0_ = p("embeddings.token_type_embeddings.weight")[0];
    e.emb_norm_ = {p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias")};
    for (int i = 0; i < e.c_.num_hidden_layers; ++i) {
      const std::string l = "encoder.layer." + std::to_string(i) + ".";
      auto w = [&](const std::string& m) { return p(l + m + ".weight"); };
      auto b = [&](const std::string& m) { return p(l + m + ".bias"); };
      Layer layer;
      const std::string s = "attention.self.";
      layer.qkv = e.linear(torch::cat({w(s + "query"), w(s + "key"), w(s + "value")}, 0),
                           torch::cat({b(s + "query"), b(s + "key"), b(s + "value")}, 0));
      layer.attn_out = e.linear(w("attention.output.dense"), b("attention.output.dense"));
      layer.attn_norm = {w("attention.output.LayerNorm"), b("attention.output.LayerNorm")};
      layer.intermediate = e.linear(w("intermediate.dense"), b("intermediate.dense"));
      layer.out = e.linear(w("output.dense"), b("output.dense"));
      layer.out_norm = {w("output.LayerNorm"), b("output.LayerNorm")};
      e.layers_.push_back(std::move(layer));
    }
    return e;
  }

  // As BertModelImpl::forward: ids, mask [B, T] int64 -> last hidden states [B, T, H] fp32.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask) const {
    const std::int64_t b = ids.size(0), t = ids.size(1), h = c_.hidden_size, heads = c_.num_attention_heads;
    const std::int64_t hd = h / heads;
    torch::Tensor x = torch::embedding(word_, ids) + torch::embedding(position_, torch::arange(c_.position_offset(), c_.position_offset() + t, ids.options())) +
                      token_type0_;
    x = norm(x, emb_norm_);
    // In bf16 the padding's lowest float rounds to -inf: still 0 after softmax ([CLS] is never
    // masked, so no row is all -inf).
    torch::Tensor mask_add = (1.0 - mask.to(torch::kFloat))
                                 .mul(std::numeric_limits<float>::lowest())
                                 .view({b, 1, 1, t})
                                 .to(compute_dtype());
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    for (const Layer& l : layers_) {
      std::vector<torch::Tensor> qkv = apply(l.qkv, x).view({b, t, 3, heads, hd}).unbind(2);
      torch::Tensor q = qkv[0].transpose(1, 2), k = qkv[1].transpose(1, 2), v = qkv[2].transpose(1, 2);
      torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) * scale + mask_add;
      torch::Tensor ctx = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({b, t, h});
      // The residual stream and LayerNorm stay fp32 (bf16 + fp32 promotes to fp32).
      torch::Tensor a = norm(apply(l.attn_out, ctx) + x, l.attn_norm);
      torch::Tensor i = apply(l.intermediate, a);
      i = bert_activation(i, c_.hidden_act);
      x = norm(apply(l.out, i) + a, l.out_norm);
    }
    return x;
  }

 private:
  struct Linear {
    torch::Tensor weight, bias;  // bf16
    c10::IValue packed;          // int8: a prepacked LinearPackedParamsBase
  };
  struct Norm {
    torch::Tensor weight, bias;
  };
  struct Layer {
    Linear qkv, attn_out, intermediate, out;
    Norm attn_norm, out_norm;
  };

  Linear linear(const torch::Tensor& w, const torch::Tensor& b) const {
    Linear l;
    if (kind_ == Kind::kBf16) {
      l.weight = w.to(torch::kBFloat16).contiguous();
      l.bias = b.to(torch::kBFloat16).contiguous();
      return l;
    }
    // Symmetric int8 per output channel.
    torch::Tensor scales = (w.abs().amax({1}) / 127.0).clamp_min(1e-12).to(torch::kDouble);
    torch::Tensor zero = torch::zeros({w.size(0)}, torch::kLong);
    torch::Tensor qw = torch::quantize_per_channel(w.contiguous(), scales, zero, 0, torch::kQInt8);
    std::vector<c10::IValue> stack{qw, c10::optional<torch::Tensor>(b.contiguous())};
    prepack_->callBoxed(&stack);
    l.packed = std::move(stack.at(0));
    return l;
  }

  // The dtype of linear outputs and of what runs between linear layers (attention, activation).
  torch::ScalarType compute_dtype() const { return kind_ == Kind::kBf16 ? torch::kBFloat16 : torch::kFloat; }

  // x fp32 or bf16 -> compute_dtype().
  torch::Tensor apply(const Linear& l, const torch::Tensor& x) const {
    if (kind_ == Kind::kBf16) return torch::nn::functional::linear(x.to(torch::kBFloat16), l.weight, l.bias);
    std::vector<c10::IValue> stack{x.contiguous(), l.packed, reduce_range_};
    dynamic_->callBoxed(&stack);
    return stack.at(0).toTensor();
  }

  torch::Tensor norm(const torch::Tensor& x, const Norm& n) const {
    return torch::layer_norm(x, {c_.hidden_size}, n.weight, n.bias, c_.layer_norm_eps);
  }

  Kind kind_ = Kind::kBf16;
  BertConfig c_;
  bool reduce_range_ = false;
  std::optional<c10::OperatorHandle> prepack_, dynamic_;
  torch::Tensor word_, position_, token_type0_;
  Norm emb_norm_;
  std::vector<Layer> layers_;
};

}  // namespace

struct BertEmbedder::Impl {
  BertEmbedderOptions options;
  BertConfig config;
  std::shared_ptr<const EncoderTokenizer> tokenizer;
  std::string hash;
  int max_len = 0;
  BertModel model{nullptr};                 // fp32
  std::optional<LowPrecisionEncoder> lowp;  // bf16, int8
  std::mutex mu;                            // serialises forward passes
};

BertEmbedder::BertEmbedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BertEmbedder::~BertEmbedder() = default;

Result<std::unique_ptr<BertEmbedder>> BertEmbedder::load(const BertEmbedderOptions& options) {
  RAGFT_TRY_STATUS(check_options(options));
  init_torch_threads();
  RAGFT_TRY(BertCheckpoint ck, load_bert_checkpoint(options.path));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->config = ck.config;
  impl->tokenizer = ck.tokenizer;
  impl->hash = ck.hash;
  impl->max_len = std::min(options.max_len, ck.config.max_positions());
  if (options.dtype == "fp32") {
    impl->model = ck.model;
  } else {
    auto kind = options.dtype == "bf16" ? LowPrecisionEncoder::Kind::kBf16 : LowPrecisionEncoder::Kind::kInt8;
    auto built = torch_guard("preparing the " + options.dtype + " BERT encoder", [&]() -> Result<LowPrecisionEncoder> {
      torch::InferenceMode guard;
      return LowPrecisionEncoder::build(ck.model, kind);
    });
    if (!built.ok()) return built.take_error();
    impl->lowp = std::move(built).value();
  }
  return std::unique_ptr<BertEmbedder>(new BertEmbedder(std::move(impl)));
}

int BertEmbedder::dim() const { return impl_->config.hidden_size; }

std::string BertEmbedder::model_id() const {
  const auto& o = impl_->options;
  return fmt::format("bert:{},pool={},maxlen={},dtype={}", impl_->hash, o.pool, impl_->max_len, o.dtype);
}

std::string BertEmbedder::config() const { return impl_->options.to_config(); }

const BertEmbedderOptions& BertEmbedder::options() const { return impl_->options; }

int BertEmbedder::max_len() const { return impl_->max_len; }

std::vector<std::int32_t> BertEmbedder::encode(std::string_view text) const {
  return impl_->tokenizer->encode(text, static_cast<std::size_t>(impl_->max_len));
}

Status BertEmbedder::embed(const std::vector<std::string>& texts, EmbedRole /*role*/, std::vector<float>& out) {
  const std::size_t n = texts.size(), d = static_cast<std::size_t>(dim());
  out.assign(n * d, 0.0f);
  if (n == 0) return ok_status();
  std::vector<std::vector<std::int32_t>> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = encode(texts[i]);
  // Longest first: similar lengths share a batch, and a batch too large for memory fails first.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ids[a].size() > ids[b].size(); });

  Impl& im = *impl_;
  const bool cls = im.options.pool == "cls";
  const auto batch = static_cast<std::size_t>(im.options.batch);
  const std::int64_t pad = im.tokenizer->pad_id();
  RAGFT_TRY_STATUS(torch_guard("bert embed", [&]() -> Status {
    std::lock_guard lock(im.mu);
    if (im.options.threads > 0) {
      if (torch::get_num_threads() != im.options.threads) torch::set_num_threads(im.options.threads);
    } else {
      init_torch_threads();
    }
    torch::InferenceMode guard;
    for (std::size_t start = 0; start < n; start += batch) {
      const std::size_t end = std::min(n, start + batch);
      const auto b = static_cast<std::int64_t>(end - start);
      const auto t = static_cast<std::int64_t>(ids[order[start]].size());
      torch::Tensor input = torch::full({b, t}, pad, torch::kLong);
      torch::Tensor mask = torch::zeros({b, t}, torch::kLong);
      std::int64_t* in = input.data_ptr<std::int64_t>();
      std::int64_t* mk = mask.data_ptr<std::int64_t>();
      for (std::int64_t r = 0; r < b; ++r) {
        const auto& row = ids[order[start + static_cast<std::size_t>(r)]];
        for (std::size_t j = 0; j < row.size(); ++j) {
          in[r * t + static_cast<std::int64_t>(j)] = row[j];
          mk[r * t + static_cast<std::int64_t>(j)] = 1;
        }
      }
      torch::Tensor hidden = im.lowp ? im.lowp->forward(input, mask) : im.model->forward(input, mask);
      torch::Tensor pooled = (cls ? cls_pool(hidden) : mean_pool(hidden, mask)).to(torch::kFloat).contiguous();
      const float* p = pooled.data_ptr<float>();
      for (std::int64_t r = 0; r < b; ++r) {
        std::memcpy(out.data() + order[start + static_cast<std::size_t>(r)] * d, p + r * static_cast<std::int64_t>(d),
                    d * sizeof(float));
      }
    }
    return ok_status();
  }));
  l2_normalize_rows(out.data(), n, static_cast<int>(d));
  return ok_status();
}

}  // namespace ragft
