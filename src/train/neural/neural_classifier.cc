#include "train/neural_classifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <unordered_map>

#include <torch/torch.h>

#include "core/check.h"
#include "core/env.h"
#include "embed/torch_guard.h"
#include "text/bpe.h"
#include "train/data_checks.h"
#include "train/neural/schedule.h"
#include "train/progress.h"

namespace ragft {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kPad = 0;
constexpr std::int64_t kUnkWord = 1;  // word tokenizer
constexpr int kMinWordCount = 2;

std::vector<std::string> split_spaces(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

struct NetImpl : torch::nn::Module {
  NetImpl(std::int64_t vocab, const NeuralOptions& o, std::int64_t classes) : arch(o.arch) {
    emb = register_module("emb", torch::nn::Embedding(torch::nn::EmbeddingOptions(vocab, o.emb_dim).padding_idx(kPad)));
    {
      // Small random vectors (Kim 2014: U[-0.25, 0.25]) instead of torch's N(0, 1).
      torch::NoGradGuard no_grad;
      emb->weight.uniform_(-0.25, 0.25);
      emb->weight[kPad].zero_();
    }
    std::int64_t features = 0;
    if (arch == "cnn") {
      for (int w : o.widths) {
        convs.push_back(register_module("conv" + std::to_string(w),
                                        torch::nn::Conv1d(torch::nn::Conv1dOptions(o.emb_dim, o.filters, w))));
        features += o.filters;
      }
      min_len = *std::max_element(o.widths.begin(), o.widths.end());
    } else {
      gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(o.emb_dim, o.hidden).bidirectional(true).batch_first(true)));
      features = 4 * o.hidden;  // max and mean of both directions
    }
    drop = register_module("drop", torch::nn::Dropout(o.dropout));
    out = register_module("out", torch::nn::Linear(features, classes));
  }

  // ids: [B, T] int64 (kPad-padded) -> logits [B, classes].
  torch::Tensor forward(const torch::Tensor& ids) {
    torch::Tensor x = emb(ids);  // B, T, E
    torch::Tensor h;
    if (arch == "cnn") {
      x = x.transpose(1, 2);  // B, E, T
      std::vector<torch::Tensor> pooled;
      for (auto& c : convs) pooled.push_back(torch::relu(c->forward(x)).amax(2));
      h = torch::cat(pooled, 1);
    } else {
      torch::Tensor mask = ids.ne(kPad).unsqueeze(2).to(torch::kFloat);  // B, T, 1
      torch::Tensor y = std::get<0>(gru->forward(drop(x)));               // B, T, 2H
      torch::Tensor mx = (y + (mask - 1) * 1e4).amax(1);
      torch::Tensor mean = (y * mask).sum(1) / mask.sum(1).clamp_min(1);
      h = torch::cat({mx, mean}, 1);
    }
    return out(drop(h));
  }

  std::string arch;
  std::int64_t min_len = 1;
  torch::nn::Embedding emb{nullptr};
  std::vector<torch::nn::Conv1d> convs;
  torch::nn::GRU gru{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(Net);

// ids of several texts -> one padded [B, T] tensor (T at least min_len).
torch::Tensor pad_batch(const std::vector<const std::vector<std::int64_t>*>& rows, std::int64_t min_len) {
  std::int64_t t = min_len;
  for (const auto* r : rows) t = std::max<std::int64_t>(t, static_cast<std::int64_t>(r->size()));
  torch::Tensor ids = torch::full({static_cast<std::int64_t>(rows.size()), t}, kPad, torch::kInt64);
  auto acc = ids.accessor<std::int64_t, 2>();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t j = 0; j < rows[i]->size(); ++j) acc[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)] = (*rows[i])[j];
  }
  return ids;
}

}  // namespace

struct NeuralClassifier::Impl {
  NeuralOptions options;
  BpeTokenizer bpe;
  std::unordered_map<std::string, std::int64_t> words;  // word tokenizer: word -> id
  std::vector<std::string> word_list;                   // id - 2 -> word
  Net net{nullptr};

  std::int64_t vocab_size() const {
    return options.tokenizer == "bpe" ? static_cast<std::int64_t>(bpe.size())
                                      : static_cast<std::int64_t>(word_list.size()) + 2;
  }

  std::vector<std::int64_t> encode(std::string_view text) const {
    std::vector<std::int64_t> ids;
    if (options.tokenizer == "bpe") {
      ids = bpe.encode(normalize_text(text));
    } else {
      for (const auto& w : split_spaces(normalize_text(text))) {
        auto it = words.find(w);
        ids.push_back(it == words.end() ? kUnkWord : it->second);
      }
    }
    if (ids.size() > static_cast<std::size_t>(options.max_len)) ids.resize(static_cast<std::size_t>(options.max_len));
    return ids;
  }

  Status build_tokenizer(const std::vector<Example>& examples) {
    if (options.tokenizer == "bpe") {
      std::vector<std::string> texts;
      texts.reserve(examples.size());
      for (const auto& e : examples) texts.push_back(normalize_text(e.text));
      bpe = BpeTokenizer::train(texts, static_cast<std::size_t>(options.vocab));
      return ok_status();
    }
    std::map<std::string, int> counts;
    for (const auto& e : examples) {
      for (const auto& w : split_spaces(normalize_text(e.text))) ++counts[w];
    }
    for (const auto& [w, n] : counts) {
      if (n >= kMinWordCount) {
        words[w] = static_cast<std::int64_t>(word_list.size()) + 2;
        word_list.push_back(w);
      }
    }
    return ok_status();
  }

  void make_net(std::size_t classes) { net = Net(vocab_size(), options, static_cast<std::int64_t>(classes)); }

  // Softmax rows for the encoded texts, in eval mode.
  torch::Tensor probabilities(const std::vector<const std::vector<std::int64_t>*>& rows) {
    torch::NoGradGuard no_grad;
    net->eval();
    return torch::softmax(net->forward(pad_batch(rows, net->min_len)), 1);
  }
};

NeuralClassifier::NeuralClassifier() : impl_(std::make_unique<Impl>()) {}
NeuralClassifier::~NeuralClassifier() = default;

std::vector<std::int64_t> NeuralClassifier::token_ids(std::string_view text) const { return impl_->encode(text); }

std::vector<float> NeuralClassifier::distribution(std::string_view text) const {
  std::vector<float> d(labels_.size(), 1.0f / static_cast<float>(labels_.size()));
  std::vector<std::int64_t> ids = impl_->encode(text);
  auto r = torch_guard("neural predict", [&]() -> Status {
    torch::Tensor p = impl_->probabilities({&ids}).contiguous();
    const float* data = p.data_ptr<float>();
    std::copy(data, data + d.size(), d.begin());
    return ok_status();
  });
  RAGFT_CHECK(r.ok());  // inference on a loaded model only fails on a bug (or out of memory)
  return d;
}

Result<std::unique_ptr<NeuralClassifier>> NeuralClassifier::train(const std::vector<Example>& examples,
                                                                  const NeuralOptions& o, const TrainOptions& t) {
  if (examples.empty()) return make_error(ErrorCode::kInvalidArgument, "no training examples");
  std::vector<std::string> labels = labels_of(examples);
  if (labels.size() < 2) return make_error(ErrorCode::kInvalidArgument, "neural: need at least two labels, got {}", labels.size());
  if (o.arch == "cnn" && o.widths.empty()) return make_error(ErrorCode::kInvalidArgument, "neural: no cnn widths");
  init_torch_threads();
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<NeuralClassifier> c(new NeuralClassifier());
  c->labels_ = labels;
  Impl& m = *c->impl_;
  m.options = o;
  Split split = stratified_split(examples, t.validation_fraction, t.seed);
  RAGFT_TRY_STATUS(m.build_tokenizer(split.train));

  std::map<std::string, std::int64_t> label_index;
  for (std::size_t i = 0; i < labels.size(); ++i) label_index[labels[i]] = static_cast<std::int64_t>(i);
  auto encode_all = [&](const std::vector<Example>& ex, std::vector<std::vector<std::int64_t>>* ids,
                        std::vector<std::vector<std::int64_t>>* gold) {
    for (const auto& e : ex) {
      ids->push_back(m.encode(e.text));
      std::vector<std::int64_t> g;
      for (const auto& l : e.labels) g.push_back(label_index.at(l));
      gold->push_back(std::move(g));
    }
  };
  std::vector<std::vector<std::int64_t>> train_ids, train_gold, val_ids, val_gold;
  encode_all(split.train, &train_ids, &train_gold);
  encode_all(split.validation, &val_ids, &val_gold);

  auto trained = torch_guard("neural training", [&]() -> Status {
    torch::manual_seed(t.seed);
    m.make_net(labels.size());
    torch::optim::AdamW opt(m.net->parameters(), torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
    const std::size_t n = train_ids.size();
    const std::size_t bs = static_cast<std::size_t>(o.batch_size);
    const std::size_t steps = (n + bs - 1) / bs;
    const std::size_t total = steps * static_cast<std::size_t>(o.epochs);
    const auto warmup = static_cast<std::size_t>(o.warmup * static_cast<double>(total));
    std::mt19937_64 rng(t.seed);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    EarlyStopping stopper;
    stopper.patience = static_cast<std::size_t>(o.patience);
    std::vector<torch::Tensor> best;
    nlohmann::json history = nlohmann::json::array();
    std::size_t step_all = 0;
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
      auto te = std::chrono::steady_clock::now();
      for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(rng() % i)]);
      m.net->train();
      double loss_sum = 0;
      for (std::size_t s = 0; s < steps; ++s) {
        std::vector<const std::vector<std::int64_t>*> rows;
        std::size_t end = std::min(n, (s + 1) * bs);
        // Soft targets: a multi-label example spreads its mass over its gold labels.
        std::vector<float> soft((end - s * bs) * labels.size(), 0.0f);
        for (std::size_t k = s * bs; k < end; ++k) {
          rows.push_back(&train_ids[order[k]]);
          const auto& g = train_gold[order[k]];
          for (auto l : g) soft[(k - s * bs) * labels.size() + static_cast<std::size_t>(l)] = 1.0f / static_cast<float>(g.size());
        }
        torch::Tensor target = torch::from_blob(soft.data(), {static_cast<std::int64_t>(end - s * bs),
                                                              static_cast<std::int64_t>(labels.size())});
        double lr = warmup_linear_lr(step_all++, total, warmup, o.lr);
        for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        opt.zero_grad();
        torch::Tensor logits = m.net->forward(pad_batch(rows, m.net->min_len));
        torch::Tensor loss = -(target * torch::log_softmax(logits, 1)).sum(1).mean();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(m.net->parameters(), 5.0);
        opt.step();
        loss_sum += loss.item<double>();
        if (t.on_step) {
          TrainProgress p;
          p.model = "neural";
          p.epoch = static_cast<std::size_t>(epoch);
          p.epochs = static_cast<std::size_t>(o.epochs);
          p.step = s + 1;
          p.steps = steps;
          p.loss = loss_sum / static_cast<double>(s + 1);
          p.seconds = seconds_since(t0);
          t.on_step(p);
        }
      }
      double val_acc = -1;
      if (!val_ids.empty()) {
        std::size_t ok = 0;
        for (std::size_t b = 0; b < val_ids.size(); b += 256) {
          std::vector<const std::vector<std::int64_t>*> rows;
          for (std::size_t k = b; k < std::min(val_ids.size(), b + 256); ++k) rows.push_back(&val_ids[k]);
          torch::Tensor pred = m.probabilities(rows).argmax(1);
          auto acc = pred.accessor<std::int64_t, 1>();
          for (std::size_t k = 0; k < rows.size(); ++k) {
            const auto& g = val_gold[b + k];
            if (std::find(g.begin(), g.end(), acc[static_cast<std::int64_t>(k)]) != g.end()) ++ok;
          }
        }
        val_acc = static_cast<double>(ok) / static_cast<double>(val_ids.size());
      }
      double train_loss = loss_sum / static_cast<double>(std::max<std::size_t>(steps, 1));
      history.push_back({{"epoch", epoch}, {"loss", train_loss}, {"val_accuracy", val_acc}, {"seconds", seconds_since(te)}});
      if (t.on_step) {
        TrainProgress p;
        p.model = "neural";
        p.epoch = static_cast<std::size_t>(epoch);
        p.epochs = static_cast<std::size_t>(o.epochs);
        p.step = p.steps = steps;
        p.loss = train_loss;
        p.seconds = seconds_since(t0);
        p.epoch_end = true;
        p.val_metric = val_acc;
        t.on_step(p);
      }
      if (t.progress) {
        t.progress(fmt::format("neural: epoch {:>2}/{}  loss {:.4f}  val acc {:.4f}  ({:.1f} s)", epoch, o.epochs,
                               train_loss, val_acc, seconds_since(te)));
      }
      // Without validation data every epoch counts as better: the last weights are kept.
      if (stopper.update(val_ids.empty() ? static_cast<double>(epoch) : val_acc, static_cast<std::size_t>(epoch))) {
        best.clear();
        for (const auto& p : m.net->parameters()) best.push_back(p.detach().clone());
      }
      if (!val_ids.empty() && stopper.stop()) break;
    }
    torch::NoGradGuard no_grad;
    auto params = m.net->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
    c->info_.metrics = {{"validation", {{"accuracy", stopper.best}, {"examples", split.validation.size()}}},
                        {"history", history}};
    c->info_.extra = {{"epoch", stopper.best_epoch}, {"seed", t.seed}, {"vocab_size", m.vocab_size()},
                      {"options", o.to_config()}};
    return ok_status();
  });
  RAGFT_TRY_STATUS(trained);
  if (val_ids.empty()) c->info_.metrics["validation"] = {{"examples", 0}};
  c->info_.train_data_hash = examples_hash(examples);
  c->info_.config = o.to_config();
  c->info_.train_seconds = seconds_since(t0);
  return c;
}

Status NeuralClassifier::save(const fs::path& dir) const {
  RAGFT_TRY_STATUS(Env::posix().create_dirs(dir));
  const Impl& m = *impl_;
  auto write_atomic = [&](const std::string& name, const std::string& bytes) -> Status {
    fs::path tmp = dir / (name + ".tmp");
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!f.flush()) return make_error(ErrorCode::kIo, "cannot write {}", tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, dir / name, ec);
    if (ec) return make_error(ErrorCode::kIo, "cannot rename {}: {}", tmp.string(), ec.message());
    return ok_status();
  };
  if (m.options.tokenizer == "bpe") {
    RAGFT_TRY_STATUS(write_atomic("bpe.txt", m.bpe.serialize()));
  } else {
    std::string v;
    for (const auto& w : m.word_list) v += w + '\n';
    RAGFT_TRY_STATUS(write_atomic("vocab.txt", v));
  }
  RAGFT_TRY_STATUS(torch_guard("neural save", [&]() -> Status {
    torch::serialize::OutputArchive archive;
    for (const auto& p : m.net->named_parameters()) archive.write(p.key(), p.value());
    std::ostringstream out;
    archive.save_to(out);
    return write_atomic("weights.pt", out.str());
  }));
  ModelManifest man = info_;
  man.extra["options"] = m.options.to_config();
  return write_model_json(dir, std::move(man));
}

Result<std::unique_ptr<NeuralClassifier>> NeuralClassifier::load(const fs::path& dir, const ModelManifest& man) {
  init_torch_threads();
  std::unique_ptr<NeuralClassifier> c(new NeuralClassifier());
  c->info_ = man;
  c->labels_ = man.labels;
  if (c->labels_.size() < 2) return make_error(ErrorCode::kCorrupt, "{}/model.json: a neural model needs two labels", dir.string());
  Impl& m = *c->impl_;
  auto o = NeuralOptions::parse(man.extra.value("options", std::string()));
  if (!o.ok()) return make_error(ErrorCode::kCorrupt, "{}/model.json: extra.options: {}", dir.string(), o.error().message);
  m.options = *o;
  auto read = [&](const std::string& name) -> Result<std::string> {
    std::ifstream f(dir / name, std::ios::binary);
    if (!f) return make_error(ErrorCode::kCorrupt, "{} is missing (neural model)", (dir / name).string());
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  if (m.options.tokenizer == "bpe") {
    RAGFT_TRY(std::string text, read("bpe.txt"));
    auto bpe = BpeTokenizer::parse(text);
    if (!bpe.ok()) return make_error(ErrorCode::kCorrupt, "{}/bpe.txt: {}", dir.string(), bpe.error().message);
    m.bpe = std::move(*bpe);
  } else {
    RAGFT_TRY(std::string v, read("vocab.txt"));
    for (const auto& w : split_spaces([&] {
           std::replace(v.begin(), v.end(), '\n', ' ');
           return v;
         }())) {
      m.words[w] = static_cast<std::int64_t>(m.word_list.size()) + 2;
      m.word_list.push_back(w);
    }
  }
  RAGFT_TRY(std::string weights, read("weights.pt"));
  auto loaded = torch_guard("neural load", [&]() -> Status {
    m.make_net(c->labels_.size());
    torch::serialize::InputArchive archive;
    std::istringstream in(weights);
    archive.load_from(in);
    torch::NoGradGuard no_grad;
    for (auto& p : m.net->named_parameters()) {
      torch::Tensor v;
      if (!archive.try_read(p.key(), v)) {
        return make_error(ErrorCode::kCorrupt, "{}/weights.pt: tensor {} is missing", dir.string(), p.key());
      }
      if (v.sizes() != p.value().sizes()) {
        return make_error(ErrorCode::kCorrupt, "{}/weights.pt: tensor {} has the wrong shape", dir.string(), p.key());
      }
      p.value().copy_(v);
    }
    return ok_status();
  });
  if (!loaded.ok()) {
    Error e = loaded.take_error();
    if (e.code == ErrorCode::kInternal) e.code = ErrorCode::kCorrupt;  // the archive itself is damaged
    return e;
  }
  return c;
}

}  // namespace ragft
