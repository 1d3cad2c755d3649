#include "embed/bert.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "core/env.h"
#include "core/hash.h"
#include "embed/torch_guard.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr double kInitStd = 0.02;  // BERT's initializer_range

std::shared_ptr<torch::nn::Module> container() { return std::make_shared<torch::nn::Module>(); }

torch::nn::LayerNorm layer_norm(const BertConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

torch::nn::Embedding embedding(std::int64_t n, std::int64_t dim, bool init) {
  // From a tensor: nn::Embedding's own constructor would draw N(0, 1) first.
  torch::Tensor w = init ? torch::empty({n, dim}).normal_(0, kInitStd) : torch::empty({n, dim});
  return torch::nn::Embedding(torch::nn::EmbeddingOptions(n, dim)._weight(w));
}

std::string shape_str(c10::IntArrayRef s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

// ---- Dense ----

DenseImpl::DenseImpl(std::int64_t in, std::int64_t out, bool init) {
  weight = register_parameter("weight", init ? torch::empty({out, in}).normal_(0, kInitStd) : torch::empty({out, in}));
  bias = register_parameter("bias", init ? torch::zeros({out}) : torch::empty({out}));
}

torch::Tensor DenseImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::nn::functional::linear(x, weight, bias);
  if (has_lora()) y = y + lora_b_(lora_a_(x)) * scale_;
  return y;
}

void DenseImpl::add_lora(int rank, double alpha) {
  weight.set_requires_grad(false);
  bias.set_requires_grad(false);
  lora_a_ = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(weight.size(1), rank).bias(false)));
  lora_b_ = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(rank, weight.size(0)).bias(false)));
  torch::NoGradGuard g;
  lora_b_->weight.zero_();
  scale_ = alpha / rank;
}

void DenseImpl::merge_lora() {
  if (!has_lora()) return;
  {
    torch::NoGradGuard g;
    weight.add_(torch::matmul(lora_b_->weight, lora_a_->weight) * scale_);
  }
  unregister_module("lora_A");
  unregister_module("lora_B");
  lora_a_ = nullptr;
  lora_b_ = nullptr;
}

// ---- BertLayer ----

BertLayerImpl::BertLayerImpl(const BertConfig& c, bool init) : c_(c) {
  const std::int64_t h = c.hidden_size, inter = c.intermediate_size;
  auto attention = register_module("attention", container());
  auto self = attention->register_module("self", container());
  query_ = self->register_module("query", Dense(h, h, init));
  key_ = self->register_module("key", Dense(h, h, init));
  value_ = self->register_module("value", Dense(h, h, init));
  auto attn_output = attention->register_module("output", container());
  attn_out_ = attn_output->register_module("dense", Dense(h, h, init));
  attn_norm_ = attn_output->register_module("LayerNorm", layer_norm(c));
  auto intermediate = register_module("intermediate", container());
  intermediate_ = intermediate->register_module("dense", Dense(h, inter, init));
  auto output = register_module("output", container());
  out_ = output->register_module("dense", Dense(inter, h, init));
  out_norm_ = output->register_module("LayerNorm", layer_norm(c));
}

std::map<std::string, Dense> BertLayerImpl::linears() const {
  return {{"query", query_},
          {"key", key_},
          {"value", value_},
          {"attention.output", attn_out_},
          {"intermediate", intermediate_},
          {"output", out_}};
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask_add) {
  const std::int64_t b = x.size(0), t = x.size(1), heads = c_.num_attention_heads;
  const std::int64_t hd = c_.hidden_size / heads;
  auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads, hd}).transpose(1, 2); };
  torch::Tensor q = split(query_(x));
  torch::Tensor k = split(key_(x));
  torch::Tensor v = split(value_(x));
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(hd)) + mask_add;
  torch::Tensor probs = torch::softmax(scores, -1);
  probs = torch::dropout(probs, c_.attention_probs_dropout_prob, is_training());
  torch::Tensor ctx = torch::matmul(probs, v).transpose(1, 2).reshape({b, t, c_.hidden_size});
  torch::Tensor a = attn_norm_(torch::dropout(attn_out_(ctx), c_.hidden_dropout_prob, is_training()) + x);
  torch::Tensor i = intermediate_(a);
  i = bert_activation(i, c_.hidden_act);
  return out_norm_(torch::dropout(out_(i), c_.hidden_dropout_prob, is_training()) + a);
}

// ---- BertModel ----

BertModelImpl::BertModelImpl(const BertConfig& c, bool with_pooler, bool init) : c_(c) {
  auto emb = register_module("embeddings", container());
  word_ = emb->register_module("word_embeddings", embedding(c.vocab_size, c.hidden_size, init));
  position_ = emb->register_module("position_embeddings", embedding(c.max_position_embeddings, c.hidden_size, init));
  token_type_ = emb->register_module("token_type_embeddings", embedding(c.type_vocab_size, c.hidden_size, init));
  emb_norm_ = emb->register_module("LayerNorm", layer_norm(c));
  auto encoder = register_module("encoder", container());
  auto list = encoder->register_module("layer", torch::nn::ModuleList());
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    layers_.push_back(BertLayer(c, init));
    list->push_back(layers_.back());
  }
  if (with_pooler) {
    auto pooler = register_module("pooler", container());
    pooler_ = pooler->register_module("dense", Dense(c.hidden_size, c.hidden_size, init));
  }
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  const std::int64_t b = input_ids.size(0), t = input_ids.size(1);
  torch::Tensor pos = torch::arange(c_.position_offset(), c_.position_offset() + t, input_ids.options());
  torch::Tensor x = word_(input_ids) + position_(pos).unsqueeze(0) + token_type_->weight[0];
  x = torch::dropout(emb_norm_(x), c_.hidden_dropout_prob, is_training());
  torch::Tensor mask_add =
      (1.0 - attention_mask.to(x.scalar_type())).mul(std::numeric_limits<float>::lowest()).view({b, 1, 1, t});
  for (auto& layer : layers_) x = layer(x, mask_add);
  return x;
}

torch::Tensor BertModelImpl::pool(const torch::Tensor& hidden) {
  torch::Tensor cls = cls_pool(hidden);
  if (!has_pooler()) return cls;
  return torch::tanh(pooler_(cls));
}

Status BertModelImpl::enable_lora(const EncoderLoraOptions& opts) {
  if (lora_) return make_error(ErrorCode::kInvalidArgument, "LoRA is already enabled");
  if (opts.rank < 1) return make_error(ErrorCode::kInvalidArgument, "LoRA rank {} must be at least 1", opts.rank);
  if (opts.targets.empty()) return make_error(ErrorCode::kInvalidArgument, "LoRA needs at least one target layer");
  auto known = layers_.front()->linears();
  for (const auto& t : opts.targets) {
    if (!known.count(t)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown LoRA target \"{}\" (query, key, value, attention.output, intermediate, output)", t);
    }
  }
  for (auto& p : parameters()) p.set_requires_grad(false);
  for (auto& layer : layers_) {
    auto lin = layer->linears();
    for (const auto& t : opts.targets) lin.at(t)->add_lora(opts.rank, opts.alpha);
  }
  lora_ = true;
  return ok_status();
}

void BertModelImpl::merge_lora() {
  for (auto& layer : layers_) {
    for (auto& [name, d] : layer->linears()) d->merge_lora();
  }
  lora_ = false;
}

torch::Tensor bert_activation(const torch::Tensor& x, const std::string& hidden_act) {
  if (hidden_act == "gelu") return torch::gelu(x);
  if (hidden_act == "relu") return torch::relu(x);
  return torch::gelu(x, "tanh");  // gelu_new, gelu_pytorch_tanh
}

torch::Tensor cls_pool(const torch::Tensor& hidden) { return hidden.select(1, 0); }

torch::Tensor mean_pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask) {
  torch::Tensor m = attention_mask.to(hidden.scalar_type()).unsqueeze(-1);
  return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9);
}

bool checkpoint_has_pooler(const SafetensorsFile& f) {
  return f.find("pooler.dense.weight") != nullptr || f.find("bert.pooler.dense.weight") != nullptr;
}

Status load_parameters(torch::nn::Module& m, const SafetensorsFile& f, std::string_view alt_prefix) {
  return torch_guard("loading " + f.name(), [&]() -> Status {
    torch::NoGradGuard g;
    for (auto& p : m.named_parameters(true)) {
      const std::string& name = p.key();
      torch::Tensor dst = p.value();
      const TensorView* t = f.find(name);
      if (!t && !alt_prefix.empty()) t = f.find(std::string(alt_prefix) + name);
      if (!t) {
        return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" (shape {}) is missing", f.name(), name,
                          shape_str(dst.sizes()));
      }
      if (c10::IntArrayRef(t->shape) != dst.sizes()) {
        return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\" has shape {}, the model expects {}", f.name(), name,
                          shape_str(t->shape), shape_str(dst.sizes()));
      }
      if (t->dtype == DType::kF32 && dst.is_contiguous() && dst.scalar_type() == torch::kFloat) {
        std::memcpy(dst.data_ptr<float>(), t->bytes.data(), t->bytes.size());
        continue;
      }
      auto values = to_f32(*t);
      if (!values.ok()) {
        return make_error(ErrorCode::kCorrupt, "{}: tensor \"{}\": {}", f.name(), name, values.error().message);
      }
      dst.copy_(torch::from_blob(values->data(), dst.sizes(), torch::kFloat));
    }
    return ok_status();
  });
}

std::map<std::string, TensorData> export_parameters(const torch::nn::Module& m, std::string_view prefix) {
  std::map<std::string, TensorData> out;
  for (const auto& p : m.named_parameters(true)) {
    torch::Tensor t = p.value().detach().to(torch::kFloat).contiguous();
    std::vector<std::int64_t> shape(t.sizes().begin(), t.sizes().end());
    out[std::string(prefix) + p.key()] =
        TensorData::from_f32(std::move(shape), t.data_ptr<float>(), static_cast<std::size_t>(t.numel()));
  }
  return out;
}

Result<BertCheckpoint> load_bert_checkpoint(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error(ErrorCode::kNotFound,
                      "{} is not a directory (expected a BERT checkpoint: config.json, "
                      "model.safetensors, vocab.txt or tokenizer.json)",
                      dir.string());
  }
  BertCheckpoint ck;
  RAGFT_TRY(std::string config_text, Env::posix().read_file(dir / "config.json"));
  nlohmann::json cj;
  try {
    cj = nlohmann::json::parse(config_text);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: not valid JSON: {}", (dir / "config.json").string(), e.what());
  }
  RAGFT_TRY(ck.config, BertConfig::from_json(cj, (dir / "config.json").string()));
  RAGFT_TRY(ck.tokenizer, load_encoder_tokenizer(dir, ck.config.pad_token_id));
  if (ck.tokenizer->size() > static_cast<std::size_t>(ck.config.vocab_size)) {
    return make_error(ErrorCode::kCorrupt, "{}: the tokenizer has {} tokens but config.json vocab_size is {}",
                      dir.string(), ck.tokenizer->size(), ck.config.vocab_size);
  }
  fs::path weights = dir / "model.safetensors";
  if (!fs::exists(weights, ec) && fs::exists(dir / "pytorch_model.bin", ec)) {
    return make_error(ErrorCode::kUnsupported,
                      "{}: only model.safetensors weights are read, not pytorch_model.bin "
                      "(convert the checkpoint to safetensors)",
                      dir.string());
  }
  RAGFT_TRY(SafetensorsFile f, SafetensorsFile::open(weights));
  ck.hash = content_hash(config_text + content_hash(f.raw()));
  auto built = torch_guard("building the BERT encoder", [&]() -> Result<BertModel> {
    BertModel m(ck.config, checkpoint_has_pooler(f), /*init=*/false);
    RAGFT_TRY_STATUS(load_parameters(*m, f, ck.config.is_roberta() ? "roberta." : "bert."));
    m->eval();
    return m;
  });
  if (!built.ok()) return built.take_error();
  ck.model = std::move(built).value();
  return ck;
}

}  // namespace ragft
