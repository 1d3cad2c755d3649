#include "train/neural_tagger.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/check.h"
#include "core/config_string.h"
#include "core/env.h"
#include "core/log.h"
#include "embed/torch_guard.h"
#include "evaluate/conlleval.h"
#include "train/neural/crf.h"
#include "train/neural/schedule.h"

namespace ragft {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kPad = 0;
constexpr std::int64_t kUnk = 1;
constexpr std::size_t kMaxBytes = 24;   // bytes of a token the character CNN sees
constexpr std::int64_t kByteVocab = 257;  // 0 = pad, byte b -> b + 1
constexpr std::int64_t kShapes = 12;
constexpr char kWeightsMagic[8] = {'R', 'G', 'F', 'T', 'N', 'T', 'A', 'G'};
constexpr std::uint32_t kWeightsVersion = 1;

// ---- token features ----

// Vocabulary key: case-folded, ASCII digits -> '0'.
std::string word_key(const std::string& token) {
  std::string k = fold_case(token);
  for (char& c : k) {
    if (c >= '0' && c <= '9') c = '0';
  }
  return k;
}

// Word shape id in [1, kShapes).
std::int64_t word_shape(const std::string& t) {
  if (t.rfind("http", 0) == 0 || t.rfind("www.", 0) == 0) return 1;
  if (t.size() > 1 && t[0] == '@') return 2;
  if (t.size() > 1 && t[0] == '#') return 3;
  std::size_t upper = 0, lower = 0, digit = 0, high = 0;
  for (unsigned char c : t) {
    if (c >= 'A' && c <= 'Z') ++upper;
    else if (c >= 'a' && c <= 'z') ++lower;
    else if (c >= '0' && c <= '9') ++digit;
    else if (c >= 0x80) ++high;
  }
  std::size_t letters = upper + lower;
  if (letters == 0 && digit == 0) return high > 0 ? 11 : 4;  // non-ASCII word / punctuation
  if (letters == 0) return 5;                                 // number
  if (digit > 0) return 10;                                   // letters and digits
  if (upper == 0) return 6;                                   // lower
  unsigned char first = static_cast<unsigned char>(t[0]);
  bool first_upper = first >= 'A' && first <= 'Z';
  if (lower == 0) return letters > 1 ? 8 : 7;                 // UPPER ("I" counts as Title)
  if (first_upper && upper == 1) return 7;                    // Title
  return 9;                                                   // mixed
}

struct Encoded {
  std::vector<std::int64_t> words, shapes, tags;
  std::vector<std::array<std::int64_t, kMaxBytes>> bytes;
};

// ---- network ----

struct Dims {
  std::int64_t vocab = 2, tags = 1;
};

struct NetImpl : torch::nn::Module {
  NetImpl(const NeuralTaggerOptions& o, const Dims& d) : opt(o) {
    auto wd = static_cast<std::int64_t>(o.wdim);
    word = register_module("word", torch::nn::Embedding(d.vocab, wd));
    std::int64_t in = wd;
    if (o.cdim > 0) {
      bytes = register_module("bytes", torch::nn::Embedding(kByteVocab, static_cast<std::int64_t>(o.cdim)));
      conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(static_cast<std::int64_t>(o.cdim),
                                                                                static_cast<std::int64_t>(o.cfilters), 3)
                                                           .padding(1)));
      in += static_cast<std::int64_t>(o.cfilters);
    }
    if (o.sdim > 0) {
      shape = register_module("shape", torch::nn::Embedding(kShapes, static_cast<std::int64_t>(o.sdim)));
      in += static_cast<std::int64_t>(o.sdim);
    }
    auto h = static_cast<std::int64_t>(o.hidden / 2);
    lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(in, h)
                                                       .num_layers(static_cast<std::int64_t>(o.layers))
                                                       .bidirectional(true)
                                                       .batch_first(true)));
    out = register_module("out", torch::nn::Linear(2 * h, d.tags));
    trans = register_parameter("trans", torch::zeros({d.tags, d.tags}));
    start = register_parameter("start", torch::zeros({d.tags}));
    end = register_parameter("end", torch::zeros({d.tags}));
    torch::NoGradGuard ng;
    double a = std::sqrt(3.0 / static_cast<double>(o.wdim));
    word->weight.uniform_(-a, a);
    if (bytes) {
      double b = std::sqrt(3.0 / static_cast<double>(o.cdim));
      bytes->weight.uniform_(-b, b);
    }
    if (shape) {
      double s = std::sqrt(3.0 / static_cast<double>(o.sdim));
      shape->weight.uniform_(-s, s);
    }
  }

  // words/shapes [B,L] int64, bytes [B*L,kMaxBytes] int64, lengths [B] int64 -> emissions [B,L,T].
  torch::Tensor emissions(const torch::Tensor& words, const torch::Tensor& shapes, const torch::Tensor& byte_ids,
                          const torch::Tensor& lengths, bool train) {
    const auto B = words.size(0), L = words.size(1);
    std::vector<torch::Tensor> parts = {word(words)};
    if (bytes) {
      torch::Tensor c = bytes(byte_ids).permute({0, 2, 1});  // [N,cdim,C]
      c = std::get<0>(conv(c).max(2));                        // [N,F]
      parts.push_back(c.reshape({B, L, -1}));
    }
    if (shape) parts.push_back(shape(shapes));
    torch::Tensor x = torch::dropout(torch::cat(parts, 2), opt.dropout, train);
    torch::Tensor h;
    if (B == 1) {
      h = std::get<0>(lstm(x));
    } else {
      auto packed = torch::nn::utils::rnn::pack_padded_sequence(x, lengths, /*batch_first=*/true,
                                                                /*enforce_sorted=*/false);
      auto res = std::get<0>(lstm->forward_with_packed_input(packed));
      h = std::get<0>(torch::nn::utils::rnn::pad_packed_sequence(res, /*batch_first=*/true, 0.0, L));
    }
    h = torch::dropout(h, opt.dropout, train);
    return out(h);
  }

  NeuralTaggerOptions opt;
  torch::nn::Embedding word{nullptr}, bytes{nullptr}, shape{nullptr};
  torch::nn::Conv1d conv{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear out{nullptr};
  torch::Tensor trans, start, end;
};
TORCH_MODULE(Net);

// ---- weights file ----
// "RGFTNTAG" u32 version, u32 count, then per tensor: u32 name bytes, name, u32 ndim, i64 dims,
// float32 values (little-endian); last a u64 FNV-1a hash of everything before it.

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string encode_weights(const std::vector<std::pair<std::string, torch::Tensor>>& named) {
  std::string out(kWeightsMagic, sizeof kWeightsMagic);
  put<std::uint32_t>(out, kWeightsVersion);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(named.size()));
  for (const auto& [name, t0] : named) {
    torch::Tensor t = t0.detach().to(torch::kFloat).contiguous();
    put<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
    out += name;
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.dim()));
    for (auto d : t.sizes()) put<std::int64_t>(out, d);
    out.append(reinterpret_cast<const char*>(t.data_ptr<float>()), static_cast<std::size_t>(t.numel()) * sizeof(float));
  }
  put<std::uint64_t>(out, fnv1a(out));
  return out;
}

// Copies the tensors of `data` into `params` (same names, same shapes, all present).
Status decode_weights(std::string_view data, const fs::path& file,
                      std::vector<std::pair<std::string, torch::Tensor>>& params) {
  auto corrupt = [&](const std::string& why) {
    return make_error(ErrorCode::kCorrupt, "{}: {} (retrain the model)", file.string(), why);
  };
  if (data.size() < sizeof kWeightsMagic + 16 || std::memcmp(data.data(), kWeightsMagic, sizeof kWeightsMagic) != 0) {
    return corrupt("not a tagger weights file (bad magic)");
  }
  std::uint64_t stored = 0;
  std::memcpy(&stored, data.data() + data.size() - 8, 8);
  std::string_view body = data.substr(0, data.size() - 8);
  if (fnv1a(body) != stored) return corrupt("checksum mismatch (truncated or damaged)");
  std::size_t pos = sizeof kWeightsMagic;
  auto get = [&](void* dst, std::size_t n) {
    if (pos + n > body.size()) return false;
    std::memcpy(dst, body.data() + pos, n);
    pos += n;
    return true;
  };
  std::uint32_t version = 0, count = 0;
  if (!get(&version, 4) || !get(&count, 4)) return corrupt("truncated header");
  if (version != kWeightsVersion) {
    return make_error(ErrorCode::kUnsupported, "{}: weights format version {} (this build reads {})", file.string(),
                      version, kWeightsVersion);
  }
  std::map<std::string, torch::Tensor*> by_name;
  for (auto& [n, t] : params) by_name[n] = &t;
  std::set<std::string> seen;
  torch::NoGradGuard ng;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t nlen = 0, ndim = 0;
    if (!get(&nlen, 4) || nlen > 256 || pos + nlen > body.size()) return corrupt("truncated tensor name");
    std::string name(body.substr(pos, nlen));
    pos += nlen;
    if (!get(&ndim, 4) || ndim > 8) return corrupt(fmt::format("bad rank for {}", name));
    std::vector<std::int64_t> dims(ndim);
    std::int64_t numel = 1;
    for (auto& d : dims) {
      if (!get(&d, 8) || d < 0 || d > (1ll << 32)) return corrupt(fmt::format("bad shape for {}", name));
      numel *= d;
    }
    auto it = by_name.find(name);
    if (it == by_name.end()) return corrupt(fmt::format("unexpected tensor {}", name));
    torch::Tensor& dst = *it->second;
    if (dst.sizes().vec() != dims) return corrupt(fmt::format("tensor {} has the wrong shape", name));
    std::size_t bytes = static_cast<std::size_t>(numel) * sizeof(float);
    if (pos + bytes > body.size()) return corrupt(fmt::format("truncated tensor {}", name));
    torch::Tensor src = torch::empty(dims, torch::kFloat);
    std::memcpy(src.data_ptr<float>(), body.data() + pos, bytes);
    pos += bytes;
    dst.copy_(src);
    seen.insert(name);
  }
  if (pos != body.size()) return corrupt("trailing bytes");
  for (const auto& [n, t] : params) {
    if (!seen.count(n)) return corrupt(fmt::format("missing tensor {}", n));
  }
  return ok_status();
}

}  // namespace

// ---- the model behind the pimpl ----

struct NeuralTagger::Impl {
  NeuralTaggerOptions opt;
  std::vector<std::string> types, tags;
  std::vector<std::string> vocab;  // id -> key, ids 0 (PAD) and 1 (UNK) are ""
  std::unordered_map<std::string, std::int64_t> word_ids;
  std::vector<std::uint32_t> word_counts;  // training counts by id (training only)
  mutable Net net{nullptr};  // forward only reads the weights (see predict())
  // Effective CRF scores for decoding (learned + BIO constraints), refreshed by finalize().
  std::vector<float> trans, start, end;

  void build_net() {
    Dims d;
    d.vocab = static_cast<std::int64_t>(vocab.size());
    d.tags = static_cast<std::int64_t>(tags.size());
    net = Net(opt, d);
  }
  void index_vocab() {
    word_ids.clear();
    for (std::size_t i = 2; i < vocab.size(); ++i) word_ids.emplace(vocab[i], static_cast<std::int64_t>(i));
  }
  void finalize() {
    torch::NoGradGuard ng;
    crf::Constraints c = crf::bio_constraints(tags);
    auto copy = [](const torch::Tensor& t) {
      torch::Tensor x = t.detach().to(torch::kFloat).contiguous();
      return std::vector<float>(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
    };
    trans = copy(net->trans);
    start = copy(net->start);
    end = copy(net->end);
    for (std::size_t i = 0; i < trans.size(); ++i) trans[i] += c.trans[i];
    for (std::size_t i = 0; i < start.size(); ++i) start[i] += c.start[i];
  }
  std::vector<std::pair<std::string, torch::Tensor>> named_params() const {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : net->named_parameters()) out.emplace_back(p.key(), p.value());
    return out;
  }

  std::int64_t word_id(const std::string& token) const {
    auto it = word_ids.find(word_key(token));
    return it == word_ids.end() ? kUnk : it->second;
  }
  Encoded encode(const std::vector<std::string>& tokens, const std::vector<std::string>* gold) const {
    Encoded e;
    e.words.reserve(tokens.size());
    for (const auto& t : tokens) {
      e.words.push_back(word_id(t));
      e.shapes.push_back(word_shape(t));
      std::array<std::int64_t, kMaxBytes> b{};
      for (std::size_t i = 0; i < t.size() && i < kMaxBytes; ++i) b[i] = static_cast<unsigned char>(t[i]) + 1;
      e.bytes.push_back(b);
    }
    if (gold) {
      for (const auto& g : *gold) {
        auto it = std::find(tags.begin(), tags.end(), g);
        e.tags.push_back(it == tags.end() ? 0 : it - tags.begin());  // unknown type -> O
      }
    }
    return e;
  }

  struct Batch {
    torch::Tensor words, shapes, bytes, tags, mask, lengths;
  };
  // `unk` (training): chance a word seen once becomes UNK; `rng` draws it.
  Batch make_batch(const std::vector<const Encoded*>& sents, double unk, std::mt19937_64* rng) const {
    const auto B = static_cast<std::int64_t>(sents.size());
    std::int64_t L = 0;
    for (const auto* s : sents) L = std::max<std::int64_t>(L, static_cast<std::int64_t>(s->words.size()));
    Batch b;
    b.words = torch::zeros({B, L}, torch::kLong);
    b.shapes = torch::zeros({B, L}, torch::kLong);
    b.bytes = torch::zeros({B * L, static_cast<std::int64_t>(kMaxBytes)}, torch::kLong);
    b.tags = torch::zeros({B, L}, torch::kLong);
    b.mask = torch::zeros({B, L}, torch::kBool);
    b.lengths = torch::zeros({B}, torch::kLong);
    auto w = b.words.accessor<std::int64_t, 2>();
    auto sh = b.shapes.accessor<std::int64_t, 2>();
    auto by = b.bytes.accessor<std::int64_t, 2>();
    auto tg = b.tags.accessor<std::int64_t, 2>();
    auto mk = b.mask.accessor<bool, 2>();
    auto ln = b.lengths.accessor<std::int64_t, 1>();
    std::uniform_real_distribution<double> u(0, 1);
    for (std::int64_t i = 0; i < B; ++i) {
      const Encoded& s = *sents[static_cast<std::size_t>(i)];
      ln[i] = static_cast<std::int64_t>(s.words.size());
      for (std::size_t t = 0; t < s.words.size(); ++t) {
        auto ti = static_cast<std::int64_t>(t);
        std::int64_t id = s.words[t];
        if (rng && unk > 0 && id >= 2 && word_counts[static_cast<std::size_t>(id)] == 1 && u(*rng) < unk) id = kUnk;
        w[i][ti] = id;
        sh[i][ti] = s.shapes[t];
        for (std::size_t c = 0; c < kMaxBytes; ++c) by[i * L + ti][static_cast<std::int64_t>(c)] = s.bytes[t][c];
        if (!s.tags.empty()) tg[i][ti] = s.tags[t];
        mk[i][ti] = true;
      }
    }
    return b;
  }

  std::vector<std::string> predict(const std::vector<std::string>& tokens) const {
    Encoded e = encode(tokens, nullptr);
    Batch b = make_batch({&e}, 0, nullptr);
    torch::NoGradGuard ng;
    torch::Tensor em = net->emissions(b.words, b.shapes, b.bytes, b.lengths, false).contiguous();
    std::vector<int> path =
        crf::viterbi(em.data_ptr<float>(), tokens.size(), tags.size(), trans.data(), start.data(), end.data());
    std::vector<std::string> out;
    out.reserve(path.size());
    for (int p : path) out.push_back(tags[static_cast<std::size_t>(p)]);
    return out;
  }
};

// ---- NeuralTagger ----

NeuralTagger::NeuralTagger() : impl_(std::make_unique<Impl>()) {}
NeuralTagger::~NeuralTagger() = default;

const std::vector<std::string>& NeuralTagger::tags() const { return impl_->tags; }
std::vector<std::string> NeuralTagger::labels() const { return impl_->types; }

nlohmann::json NeuralTagger::extra() const {
  return {{"tags", impl_->tags},
          {"vocab_size", impl_->vocab.size()},
          {"weights", "weights.bin"},
          {"vocab", "vocab.txt"},
          {"weights_format_version", kWeightsVersion}};
}

std::vector<std::string> NeuralTagger::predict(const std::vector<std::string>& tokens) const {
  if (tokens.empty()) return {};
  auto r = torch_guard("tagger-neural predict", [&]() -> Result<std::vector<std::string>> {
    return impl_->predict(tokens);
  });
  if (!r.ok()) {
    log::warn("event=tagger_predict_failed error=\"{}\"", r.error().to_string());
    return std::vector<std::string>(tokens.size(), "O");
  }
  return std::move(r).value();
}

Result<std::unique_ptr<NeuralTagger>> NeuralTagger::train(const std::vector<TaggedSentence>& train,
                                                          const std::vector<TaggedSentence>& validation,
                                                          const NeuralTaggerOptions& options,
                                                          const NeuralTaggerHooks& hooks) {
  if (train.empty()) return make_error(ErrorCode::kInvalidArgument, "tagger-neural: no training sentences");
  if (options.hidden % 2 != 0 || options.hidden == 0) {
    return make_error(ErrorCode::kInvalidArgument, "tagger-neural: hidden={} must be even", options.hidden);
  }
  return torch_guard("tagger-neural training", [&]() -> Result<std::unique_ptr<NeuralTagger>> {
    auto t0 = Clock::now();
    init_torch_threads();
    torch::manual_seed(options.seed);
    std::mt19937_64 rng(options.seed);

    // Fit / validation split (as KnnTagger::train).
    std::vector<const TaggedSentence*> fit, val;
    std::string source = "dev";
    if (!validation.empty()) {
      for (const auto& s : train) fit.push_back(&s);
      for (const auto& s : validation) val.push_back(&s);
    } else {
      source = "train-holdout";
      for (std::size_t i = 0; i < train.size(); ++i) (i % 10 == 9 ? val : fit).push_back(&train[i]);
      if (val.empty() || fit.empty()) {
        fit.clear();
        val.clear();
        for (const auto& s : train) fit.push_back(&s), val.push_back(&s);
        source = "train";
      }
    }

    std::unique_ptr<NeuralTagger> m(new NeuralTagger());
    m->options_ = options;
    Impl& im = *m->impl_;
    im.opt = options;
    std::set<std::string> types;
    for (const auto& s : train) {
      for (const Chunk& c : extract_chunks(s.tags)) types.insert(c.type);
    }
    if (types.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "tagger-neural: the training data has no entities");
    }
    im.types.assign(types.begin(), types.end());
    im.tags = crf::bio_tags(im.types);

    std::unordered_map<std::string, std::uint32_t> counts;
    for (const auto* s : fit) {
      for (const auto& t : s->tokens) ++counts[word_key(t)];
    }
    std::vector<std::pair<std::string, std::uint32_t>> kept;
    for (auto& [k, n] : counts) {
      if (n >= options.min_count) kept.emplace_back(k, n);
    }
    std::sort(kept.begin(), kept.end(),
              [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    im.vocab = {"", ""};
    im.word_counts = {0, 0};
    for (auto& [k, n] : kept) {
      im.vocab.push_back(k);
      im.word_counts.push_back(n);
    }
    im.index_vocab();
    im.build_net();

    std::vector<Encoded> data;
    data.reserve(fit.size());
    for (const auto* s : fit) {
      if (!s->tokens.empty()) data.push_back(im.encode(s->tokens, &s->tags));
    }
    const crf::Constraints cons = crf::bio_constraints(im.tags);
    const auto T = static_cast<std::int64_t>(im.tags.size());
    torch::Tensor trans_pen = torch::from_blob(const_cast<float*>(cons.trans.data()), {T, T}, torch::kFloat).clone();
    torch::Tensor start_pen = torch::from_blob(const_cast<float*>(cons.start.data()), {T}, torch::kFloat).clone();

    torch::optim::Adam opt(im.net->parameters(),
                           torch::optim::AdamOptions(options.lr).weight_decay(options.weight_decay));
    const std::size_t steps = (data.size() + options.batch - 1) / options.batch;
    const std::size_t total = steps * options.epochs;
    const auto warmup = static_cast<std::size_t>(options.warmup * static_cast<double>(total));
    EarlyStopping stopping;
    stopping.patience = options.patience;
    std::vector<torch::Tensor> best;
    nlohmann::json best_json;
    std::size_t global = 0, epochs_run = 0;
    auto run_t0 = Clock::now();

    std::vector<std::size_t> order(data.size());
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t epoch = 1; epoch <= options.epochs; ++epoch) {
      // Shuffle, then sort windows of 32 batches by length (less padding), then shuffle batches.
      std::shuffle(order.begin(), order.end(), rng);
      const std::size_t window = options.batch * 32;
      for (std::size_t w = 0; w < order.size(); w += window) {
        auto e = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), w + window));
        std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(w), e,
                         [&](std::size_t a, std::size_t b) { return data[a].words.size() < data[b].words.size(); });
      }
      std::vector<std::size_t> batch_starts;
      for (std::size_t i = 0; i < order.size(); i += options.batch) batch_starts.push_back(i);
      std::shuffle(batch_starts.begin(), batch_starts.end(), rng);

      double loss_sum = 0;
      std::size_t step = 0;
      for (std::size_t bs : batch_starts) {
        std::vector<const Encoded*> sents;
        for (std::size_t i = bs; i < std::min(order.size(), bs + options.batch); ++i) sents.push_back(&data[order[i]]);
        Impl::Batch b = im.make_batch(sents, options.unk_drop, &rng);
        double lr = warmup_linear_lr(global, total, warmup, options.lr);
        for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
        opt.zero_grad();
        torch::Tensor em = im.net->emissions(b.words, b.shapes, b.bytes, b.lengths, true);
        torch::Tensor tr = im.net->trans + trans_pen, st = im.net->start + start_pen;
        torch::Tensor nll = crf::log_partition(em, b.mask, tr, st, im.net->end) -
                            crf::sequence_score(em, b.tags, b.mask, tr, st, im.net->end);
        torch::Tensor loss = nll.mean();
        loss.backward();
        if (options.clip > 0) torch::nn::utils::clip_grad_norm_(im.net->parameters(), options.clip);
        opt.step();
        loss_sum += loss.item<double>();
        ++step;
        ++global;
        if (hooks.progress) {
          TrainProgress p;
          p.model = std::string(kNeuralTaggerKind);
          p.epoch = epoch;
          p.epochs = options.epochs;
          p.step = step;
          p.steps = steps;
          p.loss = loss_sum / static_cast<double>(step);
          p.seconds = std::chrono::duration<double>(Clock::now() - run_t0).count();
          hooks.progress(p);
        }
      }
      ++epochs_run;
      // Validate with the prediction path.
      im.finalize();
      ConllevalAccumulator acc;
      for (const auto* s : val) {
        RAGFT_TRY_STATUS(acc.add(s->tags, s->tokens.empty() ? std::vector<std::string>{} : im.predict(s->tokens)));
      }
      double f1 = acc.result().overall.f1();
      bool improved = stopping.update(f1, epoch);
      if (improved) {
        best.clear();
        for (const auto& p : im.net->parameters()) best.push_back(p.detach().clone());
        best_json = acc.result().to_json();
      }
      double mean_loss = step ? loss_sum / static_cast<double>(step) : 0;
      double secs = std::chrono::duration<double>(Clock::now() - run_t0).count();
      if (hooks.progress) {
        TrainProgress p;
        p.model = std::string(kNeuralTaggerKind);
        p.epoch = epoch;
        p.epochs = options.epochs;
        p.step = steps;
        p.steps = steps;
        p.loss = mean_loss;
        p.seconds = secs;
        p.epoch_end = true;
        p.val_metric = f1;
        hooks.progress(p);
      }
      if (hooks.log) {
        hooks.log(fmt::format("tagger-neural epoch {}/{}: loss {:.4f} val F1 {:.4f}{} ({:.1f} s)", epoch,
                              options.epochs, mean_loss, f1, improved ? " (best)" : "", secs));
      }
      if (stopping.stop()) break;
    }
    {
      torch::NoGradGuard ng;
      auto params = im.net->parameters();
      for (std::size_t i = 0; i < params.size() && i < best.size(); ++i) params[i].copy_(best[i]);
    }
    im.finalize();
    im.word_counts.clear();
    im.word_counts.shrink_to_fit();
    m->record().train_data_hash = conll_data_hash(train);
    m->record().train_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    best_json["source"] = source;
    best_json["best_epoch"] = stopping.best_epoch;
    best_json["epochs_run"] = epochs_run;
    m->record().metrics["validation"] = best_json;
    return m;
  });
}

// ---- persistence ----
// weights.bin  the network's parameters (format above; docs/formats/tagger-model.md)
// vocab.txt    the word vocabulary, one key per line, line i = word id i + 2

Status NeuralTagger::save_files(const fs::path& dir) const {
  std::string vocab;
  for (std::size_t i = 2; i < impl_->vocab.size(); ++i) {
    vocab += impl_->vocab[i];
    vocab += '\n';
  }
  RAGFT_TRY(std::string weights, torch_guard("tagger-neural save", [&]() -> Result<std::string> {
              return encode_weights(impl_->named_params());
            }));
  RAGFT_TRY_STATUS(Env::posix().write_file_atomic(dir / "vocab.txt", vocab));
  return Env::posix().write_file_atomic(dir / "weights.bin", weights);
}

Result<std::unique_ptr<NeuralTagger>> NeuralTagger::load(const fs::path& dir, const ModelManifest& manifest) {
  RAGFT_TRY(NeuralTaggerOptions o, NeuralTaggerOptions::parse(manifest.config));
  std::unique_ptr<NeuralTagger> m(new NeuralTagger());
  m->options_ = o;
  m->record().train_data_hash = manifest.train_data_hash;
  m->record().metrics = manifest.metrics;
  m->record().train_seconds = manifest.train_seconds;
  Impl& im = *m->impl_;
  im.opt = o;
  im.types = manifest.labels;
  if (im.types.empty() || !std::is_sorted(im.types.begin(), im.types.end())) {
    return make_error(ErrorCode::kCorrupt, "{}/model.json: labels must be the sorted entity types (retrain the model)",
                      dir.string());
  }
  im.tags = crf::bio_tags(im.types);

  auto read = [&](const char* name) -> Result<std::string> {
    auto r = Env::posix().read_file(dir / name);
    if (!r.ok()) {
      return make_error(ErrorCode::kCorrupt, "{}: cannot read ({}); the model directory is incomplete (retrain)",
                        (dir / name).string(), r.error().message);
    }
    return r;
  };
  RAGFT_TRY(std::string vocab, read("vocab.txt"));
  RAGFT_TRY(std::string weights, read("weights.bin"));
  im.vocab = {"", ""};
  std::size_t pos = 0;
  while (pos < vocab.size()) {
    std::size_t nl = vocab.find('\n', pos);
    if (nl == std::string::npos) {
      return make_error(ErrorCode::kCorrupt, "{}: truncated (no final newline); retrain the model",
                        (dir / "vocab.txt").string());
    }
    im.vocab.emplace_back(vocab.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (manifest.extra.contains("vocab_size") && manifest.extra["vocab_size"].is_number_unsigned() &&
      manifest.extra["vocab_size"].get<std::size_t>() != im.vocab.size()) {
    return make_error(ErrorCode::kCorrupt, "{}: {} words but model.json says {} (retrain the model)",
                      (dir / "vocab.txt").string(), im.vocab.size() - 2,
                      manifest.extra["vocab_size"].get<std::size_t>() - 2);
  }
  im.index_vocab();
  RAGFT_TRY_STATUS(torch_guard("tagger-neural load", [&]() -> Status {
    init_torch_threads();
    im.build_net();
    auto params = im.named_params();
    RAGFT_TRY_STATUS(decode_weights(weights, dir / "weights.bin", params));
    im.finalize();
    return ok_status();
  }));
  return m;
}

}  // namespace ragft
