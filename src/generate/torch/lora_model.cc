#include "generate/torch/lora_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "core/log.h"
#include "embed/torch_guard.h"
#include "generate/torch/llama_weights.h"
#include "train/neural/schedule.h"
#include "train/progress.h"

namespace ragft {

namespace fs = std::filesystem;
using llama_detail::load_into;
using llama_detail::WeightFiles;

namespace {

// Added to the attention scores of hidden positions (as the inference engine).
constexpr float kMasked = -1e30f;

struct LoraLinear {
  torch::Tensor w;  // [out, in] fp32, frozen
  torch::Tensor b;  // [out] or undefined, frozen
  torch::Tensor a;  // [r, in] trainable, or undefined (not a target)
  torch::Tensor bb; // [out, r] trainable
};

struct Layer {
  LoraLinear proj[7];  // kLoraTargets order
  torch::Tensor in_norm, post_norm;
};

enum { kQ, kK, kV, kO, kGate, kUp, kDown };

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

}  // namespace

struct LoraModel::Impl {
  LlamaConfig c;
  LoraOptions o;
  std::string base;
  torch::Tensor embed, final_norm, lm_head;
  std::vector<Layer> layers;

  void set_threads() const {
    if (o.threads > 0) {
      if (torch::get_num_threads() != o.threads) torch::set_num_threads(o.threads);
    } else {
      init_torch_threads();
    }
  }

  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> p;
    for (const Layer& l : layers) {
      for (const LoraLinear& x : l.proj) {
        if (x.a.defined()) {
          p.push_back(x.a);
          p.push_back(x.bb);
        }
      }
    }
    return p;
  }

  torch::Tensor linear(const torch::Tensor& x, const LoraLinear& l, bool train) const {
    torch::Tensor y = l.b.defined() ? at::linear(x, l.w, l.b) : at::linear(x, l.w);
    if (!l.a.defined()) return y;
    torch::Tensor in = train && o.dropout > 0 ? torch::dropout(x, o.dropout, true) : x;
    return y + at::linear(at::linear(in, l.a), l.bb) * o.scale();
  }

  // Final-normed hidden states [B, T, H] of ids [B, T] (right-padded).
  torch::Tensor hidden(const torch::Tensor& ids, bool train) const {
    const std::int64_t nb = ids.size(0), t = ids.size(1), nh = c.num_attention_heads, nkv = c.num_key_value_heads,
                       hd = c.head_dim, half = hd / 2, group = nh / nkv;
    // Rotary tables as the inference engine computes them (fp32 angle = position * frequency).
    std::vector<float> freq = c.rope_scaling.kind == RopeScalingKind::kDynamic && t > c.max_position_embeddings
                                  ? llama_detail::inv_frequencies(c, llama_detail::dynamic_base(c, t))
                                  : llama_detail::inv_frequencies(c, c.rope_theta);
    torch::Tensor cos = torch::empty({t, hd}), sin = torch::empty({t, hd});
    float* cp = cos.data_ptr<float>();
    float* sp = sin.data_ptr<float>();
    for (std::int64_t p = 0; p < t; ++p) {
      for (std::int64_t i = 0; i < half; ++i) {
        const float angle = static_cast<float>(p) * freq[i];
        cp[p * hd + i] = cp[p * hd + half + i] = std::cos(angle);
        sp[p * hd + i] = sp[p * hd + half + i] = std::sin(angle);
      }
    }
    auto rope = [&](const torch::Tensor& x) {  // [B, heads, T, hd]
      torch::Tensor rot = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
      return x * cos + rot * sin;
    };
    torch::Tensor mask = torch::zeros({t, t});
    float* mp = mask.data_ptr<float>();
    for (std::int64_t i = 0; i < t; ++i) {
      for (std::int64_t j = 0; j < t; ++j) {
        if (j > i || (c.sliding_window > 0 && i - j >= c.sliding_window)) mp[i * t + j] = kMasked;
      }
    }
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    torch::Tensor x = embed.index_select(0, ids.reshape({-1})).view({nb, t, c.hidden_size});
    for (const Layer& L : layers) {
      torch::Tensor h = rms_norm(x, L.in_norm, c.rms_norm_eps);
      torch::Tensor q = linear(h, L.proj[kQ], train).view({nb, t, nh, hd}).transpose(1, 2);
      torch::Tensor k = linear(h, L.proj[kK], train).view({nb, t, nkv, hd}).transpose(1, 2);
      torch::Tensor v = linear(h, L.proj[kV], train).view({nb, t, nkv, hd}).transpose(1, 2);
      q = rope(q);
      k = rope(k);
      if (group > 1) {
        k = k.repeat_interleave(group, 1);
        v = v.repeat_interleave(group, 1);
      }
      torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) * scale + mask;
      torch::Tensor ctx = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({nb, t, nh * hd});
      x = x + linear(ctx, L.proj[kO], train);
      torch::Tensor h2 = rms_norm(x, L.post_norm, c.rms_norm_eps);
      x = x + linear(torch::silu(linear(h2, L.proj[kGate], train)) * linear(h2, L.proj[kUp], train), L.proj[kDown], train);
    }
    return rms_norm(x, final_norm, c.rms_norm_eps);
  }

  // Summed cross-entropy of the target tokens of `rows` (one micro-batch) and their count.
  std::pair<torch::Tensor, std::int64_t> loss_sum(const std::vector<const LoraSequence*>& rows, bool train,
                                                  std::size_t* tokens) const {
    std::int64_t t = 0;
    for (const auto* r : rows) t = std::max<std::int64_t>(t, static_cast<std::int64_t>(r->ids.size()));
    const auto nb = static_cast<std::int64_t>(rows.size());
    torch::Tensor ids = torch::zeros({nb, t}, torch::kLong);
    auto* ip = ids.data_ptr<std::int64_t>();
    std::vector<std::int64_t> rows_at, labels;
    for (std::int64_t b = 0; b < nb; ++b) {
      const LoraSequence& s = *rows[static_cast<std::size_t>(b)];
      for (std::size_t i = 0; i < s.ids.size(); ++i) {
        ip[b * t + static_cast<std::int64_t>(i)] = s.ids[i];
        if (i > 0 && s.target[i]) {
          rows_at.push_back(b * t + static_cast<std::int64_t>(i) - 1);
          labels.push_back(s.ids[i]);
        }
      }
      if (tokens) *tokens += s.ids.size();
    }
    if (rows_at.empty()) return {torch::zeros({}), 0};
    torch::Tensor h = hidden(ids, train).reshape({nb * t, c.hidden_size});
    torch::Tensor sel = h.index_select(0, torch::tensor(rows_at, torch::kLong));
    torch::Tensor logits = at::linear(sel, lm_head);
    torch::Tensor loss = torch::nn::functional::cross_entropy(
        logits, torch::tensor(labels, torch::kLong),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    return {loss, static_cast<std::int64_t>(rows_at.size())};
  }

  Status check_sequences(const std::vector<LoraSequence>& seqs, const char* what) const {
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      const auto& s = seqs[i];
      if (s.ids.size() != s.target.size() || s.ids.empty()) {
        return make_error(ErrorCode::kInvalidArgument, "lora: {} sequence {} is empty or its target mask has another length",
                          what, i + 1);
      }
      if (static_cast<std::int64_t>(s.ids.size()) > c.max_context()) {
        return make_error(ErrorCode::kInvalidArgument, "lora: {} sequence {} has {} tokens, the model's context is {}",
                          what, i + 1, s.ids.size(), c.max_context());
      }
      for (std::int32_t id : s.ids) {
        if (id < 0 || id >= c.vocab_size) {
          return make_error(ErrorCode::kInvalidArgument, "lora: {} sequence {} has token id {} outside [0, {})", what,
                            i + 1, id, c.vocab_size);
        }
      }
    }
    return ok_status();
  }

  double mean_loss(const std::vector<LoraSequence>& seqs, int batch) const {
    torch::NoGradGuard no_grad;
    double sum = 0;
    std::int64_t n = 0;
    for (std::size_t b = 0; b < seqs.size(); b += static_cast<std::size_t>(batch)) {
      std::vector<const LoraSequence*> rows;
      for (std::size_t k = b; k < std::min(seqs.size(), b + static_cast<std::size_t>(batch)); ++k) rows.push_back(&seqs[k]);
      auto [l, cnt] = loss_sum(rows, false, nullptr);
      sum += l.item<double>();
      n += cnt;
    }
    return n > 0 ? sum / static_cast<double>(n) : -1;
  }
};

LoraModel::LoraModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LoraModel::~LoraModel() = default;

const LlamaConfig& LoraModel::config() const { return impl_->c; }

std::size_t LoraModel::trainable_parameters() const {
  std::size_t n = 0;
  for (const auto& p : impl_->parameters()) n += static_cast<std::size_t>(p.numel());
  return n;
}

Result<std::unique_ptr<LoraModel>> LoraModel::load(const fs::path& dir, const LoraOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error(ErrorCode::kNotFound, "{} is not a directory (expected a Hugging Face checkpoint)", dir.string());
  }
  if (o.targets.empty()) return make_error(ErrorCode::kInvalidArgument, "lora: no target projections");
  auto im = std::make_unique<Impl>();
  im->o = o;
  im->base = dir.string();
  RAGFT_TRY(im->c, LlamaConfig::load(dir / "config.json"));
  RAGFT_TRY(WeightFiles files, WeightFiles::open(dir));
  im->set_threads();
  const LlamaConfig& c = im->c;
  Status st = torch_guard("loading " + dir.string() + " for LoRA training", [&]() -> Status {
    torch::NoGradGuard no_grad;
    const std::int64_t h = c.hidden_size;
    im->embed = torch::empty({c.vocab_size, h});
    RAGFT_TRY_STATUS(load_into(files, "model.embed_tokens.weight", im->embed));
    im->final_norm = torch::empty({h});
    RAGFT_TRY_STATUS(load_into(files, "model.norm.weight", im->final_norm));
    if (c.tie_word_embeddings) {
      im->lm_head = im->embed;
    } else {
      im->lm_head = torch::empty({c.vocab_size, h});
      RAGFT_TRY_STATUS(load_into(files, "lm_head.weight", im->lm_head));
    }
    torch::manual_seed(o.seed);
    for (int i = 0; i < c.num_hidden_layers; ++i) {
      Layer l;
      for (std::size_t k = 0; k < kLoraTargets.size(); ++k) {
        const std::string_view target = kLoraTargets[k];
        const std::string module = lora_module(i, target);
        const auto [out, in] = lora_target_shape(c, target);
        LoraLinear& p = l.proj[k];
        p.w = torch::empty({out, in});
        RAGFT_TRY_STATUS(load_into(files, module + ".weight", p.w));
        const bool bias = k < 3 ? c.qkv_bias : k == static_cast<std::size_t>(kO) ? c.o_bias : c.mlp_bias;
        if (bias) {
          p.b = torch::empty({out});
          RAGFT_TRY_STATUS(load_into(files, module + ".bias", p.b));
        }
        if (std::find(o.targets.begin(), o.targets.end(), target) != o.targets.end()) {
          p.a = torch::empty({o.rank, in});
          torch::nn::init::kaiming_uniform_(p.a, std::sqrt(5.0));
          p.bb = torch::zeros({out, o.rank});
          p.a.set_requires_grad(true);
          p.bb.set_requires_grad(true);
        }
      }
      l.in_norm = torch::empty({h});
      l.post_norm = torch::empty({h});
      const std::string p = "model.layers." + std::to_string(i) + ".";
      RAGFT_TRY_STATUS(load_into(files, p + "input_layernorm.weight", l.in_norm));
      RAGFT_TRY_STATUS(load_into(files, p + "post_attention_layernorm.weight", l.post_norm));
      im->layers.push_back(std::move(l));
    }
    return ok_status();
  });
  if (!st.ok()) return st.take_error();
  return std::unique_ptr<LoraModel>(new LoraModel(std::move(im)));
}

Result<std::vector<float>> LoraModel::logits(const std::vector<std::int32_t>& ids) const {
  LoraSequence s{ids, std::vector<std::uint8_t>(ids.size(), 0)};
  RAGFT_TRY_STATUS(impl_->check_sequences({s}, "input"));
  return torch_guard("lora forward", [&]() -> Result<std::vector<float>> {
    torch::NoGradGuard no_grad;
    impl_->set_threads();
    torch::Tensor t = torch::empty({1, static_cast<std::int64_t>(ids.size())}, torch::kLong);
    for (std::size_t i = 0; i < ids.size(); ++i) t.data_ptr<std::int64_t>()[i] = ids[i];
    torch::Tensor out = at::linear(impl_->hidden(t, false)[0], impl_->lm_head).contiguous();
    return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  });
}

Result<double> LoraModel::loss(const std::vector<LoraSequence>& seqs, int batch) const {
  RAGFT_TRY_STATUS(impl_->check_sequences(seqs, "input"));
  return torch_guard("lora loss", [&]() -> Result<double> {
    impl_->set_threads();
    const double l = impl_->mean_loss(seqs, std::max(1, batch));
    if (l < 0) return make_error(ErrorCode::kInvalidArgument, "lora loss: the sequences have no target token");
    return l;
  });
}

LoraAdapter LoraModel::adapter() const {
  const Impl& m = *impl_;
  LoraAdapter a;
  a.rank = m.o.rank;
  a.alpha = m.o.alpha;
  a.dropout = m.o.dropout;
  a.targets = m.o.targets;
  a.base = m.base;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    for (std::size_t k = 0; k < kLoraTargets.size(); ++k) {
      const LoraLinear& p = m.layers[i].proj[k];
      if (!p.a.defined()) continue;
      LoraAdapter::Pair& out = a.weights[lora_module(static_cast<int>(i), kLoraTargets[k])];
      torch::Tensor pa = p.a.detach().contiguous(), pb = p.bb.detach().contiguous();
      out.a.assign(pa.data_ptr<float>(), pa.data_ptr<float>() + pa.numel());
      out.b.assign(pb.data_ptr<float>(), pb.data_ptr<float>() + pb.numel());
      out.out = p.w.size(0);
      out.in = p.w.size(1);
    }
  }
  return a;
}

Status LoraModel::set_adapter(const LoraAdapter& a) {
  Impl& m = *impl_;
  if (a.rank != m.o.rank) {
    return make_error(ErrorCode::kInvalidArgument, "lora: the adapter has rank {}, the model {}", a.rank, m.o.rank);
  }
  std::size_t seen = 0;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    for (std::size_t k = 0; k < kLoraTargets.size(); ++k) {
      const LoraLinear& p = m.layers[i].proj[k];
      if (!p.a.defined()) continue;
      const std::string module = lora_module(static_cast<int>(i), kLoraTargets[k]);
      auto it = a.weights.find(module);
      if (it == a.weights.end() || it->second.in != p.w.size(1) || it->second.out != p.w.size(0)) {
        return make_error(ErrorCode::kInvalidArgument, "lora: the adapter has no {} of the model's shape", module);
      }
      ++seen;
    }
  }
  if (seen != a.weights.size()) {
    return make_error(ErrorCode::kInvalidArgument, "lora: the adapter adapts {} modules, the model {}", a.weights.size(), seen);
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    for (std::size_t k = 0; k < kLoraTargets.size(); ++k) {
      LoraLinear& p = m.layers[i].proj[k];
      if (!p.a.defined()) continue;
      const LoraAdapter::Pair& w = a.weights.at(lora_module(static_cast<int>(i), kLoraTargets[k]));
      p.a.copy_(torch::from_blob(const_cast<float*>(w.a.data()), p.a.sizes()));
      p.bb.copy_(torch::from_blob(const_cast<float*>(w.b.data()), p.bb.sizes()));
    }
  }
  m.o.alpha = a.alpha;
  return ok_status();
}

Result<LoraReport> train_lora(const LoraTrainJob& job) {
  const LoraOptions& o = job.options;
  if (job.train.empty()) return make_error(ErrorCode::kInvalidArgument, "lora: no training sequences");
  const auto t0 = std::chrono::steady_clock::now();
  RAGFT_TRY(std::unique_ptr<LoraModel> model, LoraModel::load(job.base, o));
  LoraModel::Impl& m = *model->impl_;
  RAGFT_TRY_STATUS(m.check_sequences(job.train, "training"));
  RAGFT_TRY_STATUS(m.check_sequences(job.validation, "validation"));
  LoraReport report;
  report.base = job.base.string();
  report.config = o.to_config();
  report.trainable_parameters = model->trainable_parameters();
  Status st = torch_guard("lora training", [&]() -> Status {
    m.set_threads();
    torch::manual_seed(o.seed);  // dropout
    std::vector<torch::Tensor> params = m.parameters();
    torch::optim::AdamW opt(params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
    const std::size_t n = job.train.size(), bs = static_cast<std::size_t>(o.batch), accum = static_cast<std::size_t>(o.accum);
    const std::size_t micro = (n + bs - 1) / bs, steps = (micro + accum - 1) / accum,
                      total = steps * static_cast<std::size_t>(o.epochs);
    const auto warmup = static_cast<std::size_t>(std::ceil(o.warmup * static_cast<double>(total)));
    std::mt19937_64 rng(o.seed);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    const bool has_val = !job.validation.empty();
    double best = std::numeric_limits<double>::infinity();
    int bad = 0;
    std::vector<torch::Tensor> best_params;
    double since_sum = 0, epoch_sum = 0, train_seconds = 0;
    std::int64_t since_n = 0, epoch_n = 0;
    std::size_t step_all = 0;
    double lr = 0;
    bool stop = false;
    auto evaluate = [&](int epoch) -> Status {
      LoraEval e;
      e.step = step_all;
      e.epoch = epoch;
      e.train_loss = since_n > 0 ? since_sum / static_cast<double>(since_n) : 0;
      e.lr = lr;
      since_sum = 0;
      since_n = 0;
      if (has_val) e.val_loss = m.mean_loss(job.validation, o.batch);
      e.seconds = seconds_since(t0);
      report.history.push_back(e);
      if (job.progress) {
        job.progress(fmt::format("lora: epoch {}/{} step {}/{}  train loss {:.4f}  val loss {:.4f}  lr {:.2e}  ({:.1f} s)",
                                 epoch, o.epochs, step_all, total, e.train_loss, e.val_loss, lr, e.seconds));
      }
      if (job.on_step) {
        TrainProgress p;
        p.model = "lora";
        p.epoch = static_cast<std::size_t>(epoch);
        p.epochs = static_cast<std::size_t>(o.epochs);
        p.step = p.steps = steps;
        p.loss = e.train_loss;
        p.seconds = e.seconds;
        p.epoch_end = true;
        p.val_metric = e.val_loss;
        job.on_step(p);
      }
      if (!has_val) return ok_status();
      if (e.val_loss < best) {
        best = e.val_loss;
        report.best_val_loss = best;
        report.best_step = step_all;
        bad = 0;
        best_params.clear();
        for (const auto& p : params) best_params.push_back(p.detach().clone());
        return model->adapter().save(job.out);  // checkpoint of the best so far
      }
      if (++bad >= o.patience) {
        stop = true;
        report.early_stopped = true;
      }
      return ok_status();
    };
    for (int epoch = 1; epoch <= o.epochs && !stop; ++epoch) {
      for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(rng() % i)]);
      epoch_sum = 0;
      epoch_n = 0;
      bool evaluated = false;
      for (std::size_t s = 0; s < steps && !stop; ++s) {
        const auto ts = std::chrono::steady_clock::now();
        // The micro-batches of this step, and their target count (the loss's denominator).
        std::vector<std::vector<const LoraSequence*>> batches;
        std::int64_t targets = 0;
        for (std::size_t mb = s * accum; mb < std::min(micro, (s + 1) * accum); ++mb) {
          std::vector<const LoraSequence*> rows;
          for (std::size_t k = mb * bs; k < std::min(n, (mb + 1) * bs); ++k) {
            const LoraSequence& seq = job.train[order[k]];
            rows.push_back(&seq);
            for (std::size_t i = 1; i < seq.ids.size(); ++i) targets += seq.target[i] ? 1 : 0;
          }
          batches.push_back(std::move(rows));
        }
        lr = warmup_cosine_lr(step_all, total, warmup, o.lr, o.lr * o.min_lr_ratio);
        for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        opt.zero_grad();
        double step_sum = 0;
        for (const auto& rows : batches) {
          auto [l, cnt] = m.loss_sum(rows, true, &report.tokens);
          if (cnt == 0) continue;
          (l / static_cast<double>(targets)).backward();
          step_sum += l.item<double>();
        }
        if (o.clip > 0) torch::nn::utils::clip_grad_norm_(params, o.clip);
        opt.step();
        ++step_all;
        report.target_tokens += static_cast<std::size_t>(targets);
        since_sum += step_sum;
        since_n += targets;
        epoch_sum += step_sum;
        epoch_n += targets;
        train_seconds += seconds_since(ts);
        if (job.on_step) {
          TrainProgress p;
          p.model = "lora";
          p.epoch = static_cast<std::size_t>(epoch);
          p.epochs = static_cast<std::size_t>(o.epochs);
          p.step = s + 1;
          p.steps = steps;
          p.loss = epoch_n > 0 ? epoch_sum / static_cast<double>(epoch_n) : 0;
          p.seconds = seconds_since(t0);
          job.on_step(p);
        }
        evaluated = false;
        if (o.eval_steps > 0 && step_all % static_cast<std::size_t>(o.eval_steps) == 0) {
          RAGFT_TRY_STATUS(evaluate(epoch));
          evaluated = true;
        }
      }
      report.epochs_run = epoch;
      report.train_loss = epoch_n > 0 ? epoch_sum / static_cast<double>(epoch_n) : 0;
      if (!evaluated) RAGFT_TRY_STATUS(evaluate(epoch));
    }
    report.steps = step_all;
    report.tokens_per_second = train_seconds > 0 ? static_cast<double>(report.tokens) / train_seconds : 0;
    if (has_val && !best_params.empty()) {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
    } else {
      report.best_step = step_all;
    }
    return model->adapter().save(job.out);
  });
  RAGFT_TRY_STATUS(st);
  report.seconds = seconds_since(t0);
  log::info("lora_train base={} steps={} epochs={} train_loss={:.4f} best_val_loss={:.4f} tokens_per_s={:.0f}",
            report.base, report.steps, report.epochs_run, report.train_loss, report.best_val_loss,
            report.tokens_per_second);
  return report;
}

}  // namespace ragft
