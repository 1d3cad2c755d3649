#include "train/encoder_classifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <unordered_map>
#include <utility>

#include "core/env.h"
#include "embed/bert.h"
#include "embed/torch_guard.h"
#include "train/neural/schedule.h"
#include "train/progress.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr const char* kWeightsFile = "model.safetensors";
// Files copied from the checkpoint into the model directory when present (config.json and one
// of vocab.txt / tokenizer.json always are).
constexpr const char* kCopiedFiles[] = {"config.json", "vocab.txt", "tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                                        "special_tokens_map.json"};

// BertForSequenceClassification's layout: "bert.*" and "classifier.{weight,bias}".
class SeqClsImpl : public torch::nn::Module {
 public:
  SeqClsImpl(BertModel encoder, std::int64_t labels, double dropout) : dropout_(dropout) {
    bert = register_module("bert", std::move(encoder));
    classifier = register_module("classifier", torch::nn::Linear(bert->config().hidden_size, labels));
    torch::NoGradGuard g;
    classifier->weight.normal_(0, 0.02);
    classifier->bias.zero_();
  }
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask) {
    torch::Tensor pooled = bert->pool(bert(ids, mask));
    return classifier(torch::dropout(pooled, dropout_, is_training()));
  }

  BertModel bert{nullptr};
  torch::nn::Linear classifier{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(SeqCls);

// Token ids padded into [B, T] ids and mask tensors.
std::pair<torch::Tensor, torch::Tensor> make_batch(const std::vector<std::vector<std::int32_t>>& seqs,
                                                   const std::size_t* idx, std::size_t n, std::int32_t pad) {
  std::size_t t = 0;
  for (std::size_t i = 0; i < n; ++i) t = std::max(t, seqs[idx[i]].size());
  torch::Tensor ids = torch::full({static_cast<std::int64_t>(n), static_cast<std::int64_t>(t)}, pad, torch::kLong);
  torch::Tensor mask = torch::zeros({static_cast<std::int64_t>(n), static_cast<std::int64_t>(t)}, torch::kLong);
  auto ia = ids.accessor<std::int64_t, 2>();
  auto ma = mask.accessor<std::int64_t, 2>();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = seqs[idx[i]];
    for (std::size_t j = 0; j < s.size(); ++j) {
      ia[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)] = s[j];
      ma[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)] = 1;
    }
  }
  return {ids, mask};
}

// Softmax rows for `seqs`, in eval mode, `batch` at a time (the model's train/eval state is
// restored).
std::vector<std::vector<float>> predict_all(SeqCls& model, const std::vector<std::vector<std::int32_t>>& seqs,
                                            std::size_t batch, std::int32_t pad) {
  bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard g;
  std::vector<std::vector<float>> out;
  out.reserve(seqs.size());
  std::vector<std::size_t> idx(seqs.size());
  std::iota(idx.begin(), idx.end(), 0);
  // Similar lengths together: less padding.
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t a, std::size_t b) { return seqs[a].size() < seqs[b].size(); });
  std::vector<std::vector<float>> sorted(seqs.size());
  for (std::size_t s = 0; s < idx.size(); s += batch) {
    std::size_t n = std::min(batch, idx.size() - s);
    auto [ids, mask] = make_batch(seqs, idx.data() + s, n, pad);
    torch::Tensor p = torch::softmax(model(ids, mask), -1).contiguous();
    const float* d = p.data_ptr<float>();
    const std::size_t k = static_cast<std::size_t>(p.size(1));
    for (std::size_t i = 0; i < n; ++i) sorted[idx[s + i]].assign(d + i * k, d + (i + 1) * k);
  }
  if (was_training) model->train();
  return sorted;
}

Status validate(const EncoderOptions& o) {
  auto bad = [](std::string what) { return Error{ErrorCode::kInvalidArgument, "encoder: " + what}; };
  if (o.checkpoint.empty()) return bad("no checkpoint directory given (--checkpoint DIR)");
  if (o.mode != "lora" && o.mode != "full") return bad(fmt::format("mode \"{}\" is not lora or full", o.mode));
  if (o.mode == "lora" && o.lora_rank < 1) return bad("lora rank must be at least 1");
  if (o.mode == "lora" && !(o.lora_alpha > 0)) return bad("lora alpha must be positive");
  if (o.epochs < 1 || o.patience < 1 || o.batch_size < 1) return bad("epochs, patience and batch must be at least 1");
  if (o.max_len < 2) return bad("max_len must be at least 2");
  if (!(o.lr >= 0) || !(o.dropout >= 0 && o.dropout < 1) || !(o.warmup >= 0 && o.warmup <= 1) ||
      !(o.weight_decay >= 0)) {
    return bad("lr, dropout (in [0,1)), warmup (in [0,1]) or weight decay out of range");
  }
  return ok_status();
}

// Reads the checkpoint's small files (config, tokenizer) to copy them into the model directory.
Result<std::map<std::string, std::string>> read_copied_files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const char* name : kCopiedFiles) {
    std::error_code ec;
    if (!fs::exists(dir / name, ec)) continue;
    RAGFT_TRY(std::string text, Env::posix().read_file(dir / name));
    files[name] = std::move(text);
  }
  return files;
}

}  // namespace

struct EncoderClassifier::Impl {
  BertConfig config;
  std::shared_ptr<const EncoderTokenizer> tokenizer;
  SeqCls model{nullptr};
  std::size_t max_len = 128;
  std::map<std::string, std::string> files;  // config/tokenizer files, written by save()
};

EncoderClassifier::EncoderClassifier() : impl_(std::make_unique<Impl>()) {}
EncoderClassifier::~EncoderClassifier() = default;

Result<std::unique_ptr<EncoderClassifier>> EncoderClassifier::train(const std::vector<Example>& examples,
                                                                    const EncoderOptions& o, const TrainOptions& t) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  RAGFT_TRY_STATUS(validate(o));
  init_torch_threads();
  auto t0 = std::chrono::steady_clock::now();
  RAGFT_TRY(BertCheckpoint ck, load_bert_checkpoint(o.checkpoint));
  RAGFT_TRY(auto files, read_copied_files(o.checkpoint));
  return torch_guard("encoder training", [&]() -> Result<std::unique_ptr<EncoderClassifier>> {
    std::unique_ptr<EncoderClassifier> c(new EncoderClassifier());
    Impl& im = *c->impl_;
    c->labels_ = labels_of(examples);
    std::unordered_map<std::string, std::int64_t> label_index;
    for (std::size_t i = 0; i < c->labels_.size(); ++i) label_index[c->labels_[i]] = static_cast<std::int64_t>(i);
    Split split = stratified_split(examples, t.validation_fraction, t.seed);
    const bool scored_on_train = split.validation.empty();
    const std::vector<Example>& val = scored_on_train ? split.train : split.validation;

    torch::manual_seed(t.seed);
    im.config = ck.config;
    im.tokenizer = ck.tokenizer;
    im.files = std::move(files);
    im.max_len = static_cast<std::size_t>(std::min(o.max_len, ck.config.max_positions()));
    const bool has_pooler = ck.model->has_pooler();
    im.model = SeqCls(ck.model, static_cast<std::int64_t>(c->labels_.size()), o.dropout);
    const bool lora = o.mode == "lora";
    if (lora) {
      EncoderLoraOptions lo;
      lo.rank = o.lora_rank;
      lo.alpha = o.lora_alpha;
      lo.targets = o.lora_targets;
      RAGFT_TRY_STATUS(im.model->bert->enable_lora(lo));
    }
    SeqCls& model = im.model;

    auto encode = [&](const std::vector<Example>& ex) {
      std::vector<std::vector<std::int32_t>> seqs;
      seqs.reserve(ex.size());
      for (const auto& e : ex) seqs.push_back(im.tokenizer->encode(e.text, im.max_len));
      return seqs;
    };
    auto train_ids = encode(split.train);
    auto val_ids = encode(val);
    std::vector<std::int64_t> targets;
    for (const auto& e : split.train) targets.push_back(label_index.at(e.labels.front()));

    // AdamW with two groups: weight decay on matrices only (not biases, LayerNorm).
    std::vector<torch::Tensor> decay, no_decay;
    std::int64_t total_params = 0, trainable_params = 0;
    for (const auto& p : model->parameters()) {
      total_params += p.numel();
      if (!p.requires_grad()) continue;
      trainable_params += p.numel();
      (p.dim() >= 2 ? decay : no_decay).push_back(p);
    }
    const double peak = o.effective_lr();
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(peak).weight_decay(o.weight_decay)));
    groups.emplace_back(no_decay,
                        std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(peak).weight_decay(0)));
    torch::optim::AdamW opt(std::move(groups), torch::optim::AdamWOptions(peak));
    std::vector<torch::Tensor> trainable = decay;
    trainable.insert(trainable.end(), no_decay.begin(), no_decay.end());

    const std::size_t batch = static_cast<std::size_t>(o.batch_size);
    const std::size_t n = train_ids.size();
    const std::size_t steps = (n + batch - 1) / batch;
    const std::size_t epochs = static_cast<std::size_t>(o.epochs);
    const std::size_t total = steps * epochs;
    const std::size_t warmup = static_cast<std::size_t>(std::llround(o.warmup * static_cast<double>(total)));
    const std::int32_t pad = im.tokenizer->pad_id();

    EarlyStopping stopper;
    stopper.patience = static_cast<std::size_t>(o.patience);
    std::vector<torch::Tensor> best;  // snapshot of the trainable parameters at the best epoch
    auto snapshot = [&] {
      best.clear();
      for (const auto& p : trainable) best.push_back(p.detach().clone());
    };
    nlohmann::json history = nlohmann::json::array();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(t.seed);
    std::size_t global = 0, epochs_run = 0;
    auto run_start = std::chrono::steady_clock::now();
    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
      auto e0 = std::chrono::steady_clock::now();
      model->train();
      // Fisher-Yates with our own draws (std::shuffle's algorithm is unspecified).
      for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(rng() % i)]);
      double loss_sum = 0;
      for (std::size_t s = 0; s < steps; ++s, ++global) {
        const std::size_t b = s * batch, m = std::min(batch, n - b);
        auto [ids, mask] = make_batch(train_ids, order.data() + b, m, pad);
        std::vector<std::int64_t> y(m);
        for (std::size_t i = 0; i < m; ++i) y[i] = targets[order[b + i]];
        torch::Tensor gold = torch::tensor(y, torch::kLong);
        double lr = warmup_linear_lr(global, total, warmup, peak);
        for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        opt.zero_grad();
        torch::Tensor loss = torch::nn::functional::cross_entropy(model(ids, mask), gold);
        loss.backward();
        torch::nn::utils::clip_grad_norm_(trainable, 1.0);
        opt.step();
        loss_sum += loss.item<double>();
        if (t.on_step) {
          TrainProgress p;
          p.model = "encoder";
          p.epoch = epoch;
          p.epochs = epochs;
          p.step = s + 1;
          p.steps = steps;
          p.loss = loss_sum / static_cast<double>(s + 1);
          p.seconds = seconds_since(run_start);
          t.on_step(p);
        }
      }
      ++epochs_run;
      // Validation accuracy: the top label is one of the gold labels.
      auto dist = predict_all(model, val_ids, std::max<std::size_t>(batch, 32), pad);
      std::size_t correct = 0;
      for (std::size_t i = 0; i < val.size(); ++i) {
        std::size_t top = static_cast<std::size_t>(std::max_element(dist[i].begin(), dist[i].end()) - dist[i].begin());
        const auto& gold = val[i].labels;
        if (std::find(gold.begin(), gold.end(), c->labels_[top]) != gold.end()) ++correct;
      }
      double acc = val.empty() ? 0 : static_cast<double>(correct) / static_cast<double>(val.size());
      double mean_loss = steps ? loss_sum / static_cast<double>(steps) : 0;
      if (stopper.update(acc, epoch)) snapshot();
      double secs = seconds_since(e0);
      history.push_back({{"epoch", epoch}, {"loss", mean_loss}, {"val_accuracy", acc}, {"seconds", secs}});
      if (t.on_step) {
        TrainProgress p;
        p.model = "encoder";
        p.epoch = epoch;
        p.epochs = epochs;
        p.step = steps;
        p.steps = steps;
        p.loss = mean_loss;
        p.seconds = seconds_since(run_start);
        p.epoch_end = true;
        p.val_metric = acc;
        t.on_step(p);
      }
      if (t.progress) {
        t.progress(fmt::format("encoder: epoch {}/{} loss {:.4f} {} acc {:.4f} ({:.1f} s)", epoch, epochs, mean_loss,
                               scored_on_train ? "train" : "val", acc, secs));
      }
      if (stopper.stop()) break;
    }
    {
      torch::NoGradGuard g;
      for (std::size_t i = 0; i < trainable.size(); ++i) trainable[i].copy_(best[i]);
    }
    const bool merged = lora && o.merge_lora;
    if (merged) model->bert->merge_lora();
    model->eval();

    ModelManifest& info = c->info_;
    info.train_data_hash = examples_hash(examples);
    info.config = o.to_config();
    info.train_seconds = seconds_since(t0);
    info.metrics = {{"validation",
                     {{"accuracy", stopper.best},
                      {"examples", val.size()},
                      {"scored_on", scored_on_train ? "train" : "validation"}}},
                    {"epochs", history}};
    info.extra = {{"mode", o.mode},
                  {"epoch", stopper.best_epoch},
                  {"epochs_run", epochs_run},
                  {"checkpoint", fs::absolute(o.checkpoint).string()},
                  {"checkpoint_hash", ck.hash},
                  {"max_len", im.max_len},
                  {"pooler", has_pooler},
                  {"seed", t.seed},
                  {"parameters", total_params},
                  {"trainable_parameters", trainable_params}};
    if (lora) {
      info.extra["lora_rank"] = o.lora_rank;
      info.extra["lora_alpha"] = o.lora_alpha;
      info.extra["lora_targets"] = o.lora_targets;
      info.extra["merged"] = merged;
    }
    return c;
  });
}

Result<std::unique_ptr<EncoderClassifier>> EncoderClassifier::load(const fs::path& dir, const ModelManifest& m) {
  init_torch_threads();
  auto corrupt = [&](const Error& e) {
    return Error{e.code == ErrorCode::kUnsupported ? e.code : ErrorCode::kCorrupt,
                 fmt::format("encoder model {}: {}", dir.string(), e.message)};
  };
  if (m.labels.empty()) return make_error(ErrorCode::kCorrupt, "{}/model.json: no labels", dir.string());
  std::unique_ptr<EncoderClassifier> c(new EncoderClassifier());
  Impl& im = *c->impl_;
  c->info_ = m;
  c->labels_ = m.labels;
  auto config = BertConfig::load(dir / "config.json");
  if (!config.ok()) return corrupt(config.error());
  im.config = *config;
  auto tok = load_encoder_tokenizer(dir, im.config.pad_token_id);
  if (!tok.ok()) return corrupt(tok.error());
  im.tokenizer = std::move(tok).value();
  auto files = read_copied_files(dir);
  if (!files.ok()) return corrupt(files.error());
  im.files = std::move(files).value();
  auto file = SafetensorsFile::open(dir / kWeightsFile);
  if (!file.ok()) return corrupt(file.error());
  std::string mode;
  bool unmerged_lora = false;
  EncoderLoraOptions lo;
  try {
    mode = m.extra.value("mode", std::string("full"));
    im.max_len = m.extra.value("max_len", std::size_t{128});
    unmerged_lora = mode == "lora" && !m.extra.value("merged", true);
    if (unmerged_lora) {
      lo.rank = m.extra.at("lora_rank").get<int>();
      lo.alpha = m.extra.at("lora_alpha").get<double>();
      lo.targets = m.extra.at("lora_targets").get<std::vector<std::string>>();
    }
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}/model.json: extra: {}", dir.string(), e.what());
  }
  if (im.max_len < 2 || im.max_len > static_cast<std::size_t>(im.config.max_positions())) {
    return make_error(ErrorCode::kCorrupt, "{}/model.json: extra.max_len {} is out of range", dir.string(), im.max_len);
  }
  auto built = torch_guard("loading the encoder model", [&]() -> Status {
    bool pooler = file->find("bert.pooler.dense.weight") != nullptr;
    im.model = SeqCls(BertModel(im.config, pooler, /*init=*/false), static_cast<std::int64_t>(c->labels_.size()), 0.0);
    if (unmerged_lora) RAGFT_TRY_STATUS(im.model->bert->enable_lora(lo));
    RAGFT_TRY_STATUS(load_parameters(*im.model, *file));
    im.model->eval();
    return ok_status();
  });
  if (!built.ok()) return corrupt(built.error());
  return c;
}

std::vector<float> EncoderClassifier::distribution(std::string_view text) const {
  std::vector<float> out(labels_.size(), 1.0f / static_cast<float>(labels_.size()));
  auto r = torch_guard("encoder predict", [&]() -> Status {
    torch::InferenceMode guard;
    std::vector<std::int32_t> ids = impl_->tokenizer->encode(text, impl_->max_len);
    torch::Tensor x = torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
    torch::Tensor p = torch::softmax(impl_->model(x, torch::ones_like(x)), -1).contiguous();
    const float* d = p.data_ptr<float>();
    out.assign(d, d + p.size(1));
    return ok_status();
  });
  (void)r;  // on failure (out of memory) the uniform distribution stays
  return out;
}

std::vector<std::vector<float>> EncoderClassifier::distributions(const std::vector<std::string>& texts) const {
  std::vector<std::vector<float>> out;
  auto r = torch_guard("encoder predict", [&]() -> Status {
    std::vector<std::vector<std::int32_t>> seqs;
    seqs.reserve(texts.size());
    for (const auto& t : texts) seqs.push_back(impl_->tokenizer->encode(t, impl_->max_len));
    out = predict_all(impl_->model, seqs, 32, impl_->tokenizer->pad_id());
    return ok_status();
  });
  if (!r.ok()) out.assign(texts.size(), std::vector<float>(labels_.size(), 1.0f / static_cast<float>(labels_.size())));
  return out;
}

Status EncoderClassifier::save(const fs::path& dir) const {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  auto tensors = torch_guard(
      "encoder save", [&]() -> Result<std::map<std::string, TensorData>> { return export_parameters(*impl_->model); });
  if (!tensors.ok()) return tensors.take_error();
  RAGFT_TRY_STATUS(write_safetensors(dir / kWeightsFile, *tensors, {{"format", "pt"}, {"ragft_kind", "encoder"}}));
  for (const auto& [name, text] : impl_->files) RAGFT_TRY_STATUS(Env::posix().write_file_atomic(dir / name, text));
  return write_model_json(dir);
}

std::map<std::string, std::vector<float>> EncoderClassifier::weights() const {
  std::map<std::string, std::vector<float>> out;
  auto r = torch_guard("encoder weights", [&]() -> Status {
    for (auto& [name, t] : export_parameters(*impl_->model)) {
      std::vector<float> v(t.bytes.size() / sizeof(float));
      std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
      out[name] = std::move(v);
    }
    return ok_status();
  });
  (void)r;
  return out;
}

}  // namespace ragft
