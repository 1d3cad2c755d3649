// The BERT encoder (embed/bert.h) and the encoder classifier on a tiny randomly initialised
// checkpoint in exactly the Hugging Face format (bert_test_util.h).
#include "train/encoder_classifier.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "apps/test_util.h"
#include "embed/bert.h"
#include "embed/safetensors.h"
#include "train_neural/bert_test_util.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;

using namespace testing;  // the tiny checkpoint (bert_test_util.h)

std::vector<float> values_of(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous().to(torch::kFloat);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

class EncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One intra-op thread (the latency target is single-threaded; the CI machine is shared).
    // Takes effect if no torch code ran earlier in this process.
    ::setenv("RAGFT_THREADS", "1", 0);
    root_ = make_temp_dir("ragft_enc_");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(EncoderTest, LoadsEveryTensorByHuggingFaceName) {
  for (const std::string prefix : {"", "bert."}) {
    Checkpoint ck = write_checkpoint(root_ / ("ck" + prefix), prefix);
    auto loaded = load_bert_checkpoint(ck.dir);
    ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
    EXPECT_TRUE(loaded->model->has_pooler());
    EXPECT_EQ(loaded->tokenizer->size(), kVocab.size());
    EXPECT_EQ(loaded->config.hidden_size, kHidden);
    auto params = loaded->model->named_parameters(true);
    ASSERT_EQ(params.size(), ck.values.size());
    for (const auto& [name, vals] : ck.values) {
      const torch::Tensor* p = params.find(name);
      ASSERT_NE(p, nullptr) << name;
      EXPECT_EQ(values_of(*p), vals) << name;
    }
    EXPECT_EQ(loaded->hash.size(), 32u);
  }
}

TEST_F(EncoderTest, HalfPrecisionCheckpointsAreConvertedToF32) {
  for (DType d : {DType::kF16, DType::kBF16}) {
    Checkpoint ck = write_checkpoint(root_ / dtype_name(d), "", d, /*pooler=*/false);
    auto loaded = load_bert_checkpoint(ck.dir);
    ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
    EXPECT_FALSE(loaded->model->has_pooler());
    auto params = loaded->model->named_parameters(true);
    ASSERT_EQ(params.size(), ck.values.size());
    for (const auto& [name, vals] : ck.values) EXPECT_EQ(values_of(params[name]), vals) << dtype_name(d) << " " << name;
  }
}

TEST_F(EncoderTest, MissingOrMisshapenTensorIsCorrupt) {
  Checkpoint ck = write_checkpoint(root_ / "ck", "");
  auto file = SafetensorsFile::open(ck.dir / "model.safetensors");
  ASSERT_TRUE(file.ok());
  std::map<std::string, TensorData> tensors;
  for (const auto& [name, view] : file->tensors())
    tensors[name] = TensorData{view.dtype, view.shape, std::string(view.bytes)};

  auto missing = tensors;
  missing.erase("encoder.layer.1.attention.self.value.bias");
  ASSERT_TRUE(write_safetensors(ck.dir / "model.safetensors", missing).ok());
  auto r1 = load_bert_checkpoint(ck.dir);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r1.error().message.find("encoder.layer.1.attention.self.value.bias"), std::string::npos)
      << r1.error().message;

  auto misshapen = tensors;
  std::vector<float> v(kHidden * 2, 0.5f);
  misshapen["embeddings.token_type_embeddings.weight"] = TensorData::from_f32({1, kHidden * 2}, v.data(), v.size());
  ASSERT_TRUE(write_safetensors(ck.dir / "model.safetensors", misshapen).ok());
  auto r2 = load_bert_checkpoint(ck.dir);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r2.error().message.find("embeddings.token_type_embeddings.weight"), std::string::npos)
      << r2.error().message;

  auto ints = tensors;
  ints["embeddings.LayerNorm.bias"].dtype = DType::kI32;
  ASSERT_TRUE(write_safetensors(ck.dir / "model.safetensors", ints).ok());
  auto r3 = load_bert_checkpoint(ck.dir);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, ErrorCode::kCorrupt);

  write_text(ck.dir / "model.safetensors", "garbage");
  auto r4 = load_bert_checkpoint(ck.dir);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, ErrorCode::kCorrupt);
}

TEST_F(EncoderTest, BadCheckpointDirectoriesHaveClearCodes) {
  auto none = load_bert_checkpoint(root_ / "does-not-exist");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);

  Checkpoint ck = write_checkpoint(root_ / "ck");
  fs::remove(ck.dir / "model.safetensors");
  auto no_weights = load_bert_checkpoint(ck.dir);
  ASSERT_FALSE(no_weights.ok());
  EXPECT_EQ(no_weights.error().code, ErrorCode::kNotFound);
  write_text(ck.dir / "pytorch_model.bin", "pickle");
  auto pickle = load_bert_checkpoint(ck.dir);
  ASSERT_FALSE(pickle.ok());
  EXPECT_EQ(pickle.error().code, ErrorCode::kUnsupported);

  auto deberta = tiny_config();
  deberta["model_type"] = "deberta-v2";
  write_checkpoint(root_ / "deberta", "", DType::kF32, true, deberta);
  auto r = load_bert_checkpoint(root_ / "deberta");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message.find("deberta-v2"), std::string::npos) << r.error().message;

  auto swish = tiny_config();
  swish["hidden_act"] = "swish";
  write_checkpoint(root_ / "swish", "", DType::kF32, true, swish);
  auto s = load_bert_checkpoint(root_ / "swish");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnsupported);

  auto no_hidden = tiny_config();
  no_hidden.erase("hidden_size");
  write_checkpoint(root_ / "nohidden", "", DType::kF32, true, no_hidden);
  auto h = load_bert_checkpoint(root_ / "nohidden");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(h.error().message.find("hidden_size"), std::string::npos);

  auto small_vocab = tiny_config();
  small_vocab["vocab_size"] = 10;  // fewer than vocab.txt's tokens
  write_checkpoint(root_ / "smallvocab", "", DType::kF32, true, small_vocab);
  auto sv = load_bert_checkpoint(root_ / "smallvocab");
  ASSERT_FALSE(sv.ok());
  EXPECT_EQ(sv.error().code, ErrorCode::kCorrupt);
}

TEST_F(EncoderTest, PaddingIsMaskedAndPoolingIsRight) {
  Checkpoint ck = write_checkpoint(root_ / "ck");
  auto loaded = load_bert_checkpoint(ck.dir);
  ASSERT_TRUE(loaded.ok());
  BertModel m = loaded->model;
  torch::NoGradGuard g;
  auto ids = loaded->tokenizer->encode("the movie was good", 16);
  std::vector<std::int64_t> a(ids.begin(), ids.end());
  std::vector<std::int64_t> padded = a;
  padded.resize(a.size() + 3, 0);
  torch::Tensor x1 = torch::tensor(a).unsqueeze(0);
  torch::Tensor x2 = torch::tensor(padded).unsqueeze(0);
  torch::Tensor m1 = torch::ones_like(x1);
  torch::Tensor m2 = torch::cat({m1, torch::zeros({1, 3}, torch::kLong)}, 1);
  torch::Tensor h1 = m->forward(x1, m1);
  torch::Tensor h2 = m->forward(x2, m2);
  ASSERT_EQ(h1.size(2), kHidden);
  EXPECT_TRUE(torch::allclose(h1, h2.slice(1, 0, static_cast<std::int64_t>(a.size())), 1e-5, 1e-5));
  // Without the mask the padding changes the states.
  torch::Tensor h3 = m->forward(x2, torch::ones_like(x2));
  EXPECT_FALSE(torch::allclose(h1, h3.slice(1, 0, static_cast<std::int64_t>(a.size())), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(mean_pool(h2, m2), h1.mean(1), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(cls_pool(h2), h1.select(1, 0)));
  // The pooler: tanh(W h[CLS] + b) with the checkpoint's weights.
  torch::Tensor w = torch::tensor(ck.values["pooler.dense.weight"]).view({kHidden, kHidden});
  torch::Tensor b = torch::tensor(ck.values["pooler.dense.bias"]);
  EXPECT_TRUE(torch::allclose(m->pool(h1), torch::tanh(torch::matmul(h1.select(1, 0), w.t()) + b), 1e-5, 1e-5));
}

TEST_F(EncoderTest, LoraStartsAsTheBaseModelAndMergesExactly) {
  Checkpoint ck = write_checkpoint(root_ / "ck");
  auto loaded = load_bert_checkpoint(ck.dir);
  ASSERT_TRUE(loaded.ok());
  BertModel m = loaded->model;
  torch::NoGradGuard g;
  torch::Tensor x = torch::tensor(std::vector<std::int64_t>{2, 5, 8, 7, 10, 3}).unsqueeze(0);
  torch::Tensor mask = torch::ones_like(x);
  torch::Tensor base = m->forward(x, mask);
  EncoderLoraOptions bad;
  bad.targets = {"nonsense"};
  EXPECT_EQ(m->enable_lora(bad).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(m->enable_lora(EncoderLoraOptions{4, 8, {"query", "value"}}).ok());
  std::size_t lora = 0, trainable = 0;
  for (const auto& p : m->named_parameters(true)) {
    bool is_lora = p.key().find("lora_") != std::string::npos;
    lora += is_lora;
    trainable += p.value().requires_grad();
    EXPECT_EQ(p.value().requires_grad(), is_lora) << p.key();
  }
  EXPECT_EQ(lora, static_cast<std::size_t>(kLayers * 2 * 2));
  EXPECT_EQ(trainable, lora);
  ASSERT_NE(m->named_parameters(true).find("encoder.layer.0.attention.self.query.lora_A.weight"), nullptr);
  EXPECT_TRUE(torch::allclose(m->forward(x, mask), base));  // B = 0
  for (auto& p : m->named_parameters(true)) {
    if (p.key().find("lora_B") != std::string::npos) p.value().normal_(0, 0.5);
  }
  torch::Tensor adapted = m->forward(x, mask);
  EXPECT_FALSE(torch::allclose(adapted, base, 1e-4, 1e-4));
  m->merge_lora();
  EXPECT_FALSE(m->has_lora());
  EXPECT_EQ(m->named_parameters(true).size(), ck.values.size());
  EXPECT_TRUE(torch::allclose(m->forward(x, mask), adapted, 1e-4, 1e-4));
}

std::vector<Example> tiny_dataset() {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"the movie was good", "pos"},          {"a great film", "pos"},
      {"lovely plot and great actor", "pos"}, {"very good movies !", "pos"},
      {"the movie was bad", "neg"},           {"a boring film", "neg"},
      {"awful plot and poor actor", "neg"},   {"very bad movies .", "neg"},
      {"the team won the game", "sport"},     {"a goal in the match", "sport"},
      {"the player lost the ball", "sport"},  {"playing the game !", "sport"}};
  std::vector<Example> ex;
  for (auto& [t, l] : rows) ex.push_back(Example{t, {l}, 0});
  return ex;
}

TrainOptions train_options(std::vector<std::string>* lines = nullptr, std::vector<TrainProgress>* steps = nullptr) {
  TrainOptions t;
  t.seed = 7;
  t.validation_fraction = 0;  // score on the training set: this test is about fitting
  if (lines) t.progress = [lines](const std::string& s) { lines->push_back(s); };
  if (steps) t.on_step = [steps](const TrainProgress& p) { steps->push_back(p); };
  return t;
}

TEST_F(EncoderTest, FullFineTuningOverfitsAndRoundTrips) {
  Checkpoint ck = write_checkpoint(root_ / "ck");
  EncoderOptions o;
  o.checkpoint = ck.dir.string();
  o.mode = "full";
  o.lr = 3e-3;
  o.epochs = 60;
  o.patience = 10;  // stops ten epochs after the training set is fitted
  o.batch_size = 4;
  o.max_len = 16;
  o.dropout = 0;
  std::vector<std::string> lines;
  std::vector<TrainProgress> steps;
  auto data = tiny_dataset();
  auto c = EncoderClassifier::train(data, o, train_options(&lines, &steps));
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ((*c)->kind(), "encoder");
  EXPECT_EQ((*c)->labels(), (std::vector<std::string>{"neg", "pos", "sport"}));
  EXPECT_EQ(accuracy_of(**c, data), 1.0);
  // Progress: one line and one epoch_end report per epoch run, step reports in between.
  std::size_t ends = std::count_if(steps.begin(), steps.end(), [](const TrainProgress& p) { return p.epoch_end; });
  EXPECT_EQ(ends, lines.size());
  EXPECT_GE(steps.size(), ends * 4);  // 3 steps + 1 end per epoch
  EXPECT_EQ(steps.front().model, "encoder");
  EXPECT_NE(lines.front().find("encoder: epoch 1/60 loss"), std::string::npos) << lines.front();
  EXPECT_LT(lines.size(), 60u);  // early stopping
  const ModelManifest& info = (*c)->info();
  EXPECT_EQ(info.metrics["validation"]["accuracy"].get<double>(), 1.0);
  EXPECT_EQ(info.extra["mode"], "full");
  EXPECT_EQ(info.extra["checkpoint_hash"].get<std::string>().size(), 32u);
  EXPECT_EQ(info.train_data_hash, examples_hash(data));
  EXPECT_EQ(info.config.rfind("encoder:mode=full,", 0), 0u) << info.config;
  // Full fine-tuning changed the encoder weights.
  auto w = (*c)->weights();
  EXPECT_NE(w.at("bert.encoder.layer.0.attention.self.query.weight"),
            ck.values.at("encoder.layer.0.attention.self.query.weight"));

  fs::path dir = root_ / "model";
  ASSERT_TRUE((*c)->save(dir).ok());
  for (const char* f : {"model.json", "config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  }
  fs::remove_all(ck.dir);  // the model directory stands alone
  auto m = read_manifest(dir);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind, "encoder");
  auto t0 = std::chrono::steady_clock::now();
  auto back = EncoderClassifier::load(dir, *m);
  double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ((*back)->labels(), (*c)->labels());
  for (const auto& e : data) EXPECT_EQ((*back)->distribution(e.text), (*c)->distribution(e.text)) << e.text;
  std::vector<std::string> texts;
  for (const auto& e : data) texts.push_back(e.text);
  auto batch = (*back)->distributions(texts);
  ASSERT_EQ(batch.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto single = (*back)->distribution(texts[i]);
    for (std::size_t k = 0; k < single.size(); ++k) EXPECT_NEAR(batch[i][k], single[k], 1e-5);
  }
  // Latency of one prediction (informational; printed, the gates live in the benchmarks).
  std::vector<double> ms;
  for (int i = 0; i < 50; ++i) {
    auto s = std::chrono::steady_clock::now();
    auto d = (*back)->distribution(texts[static_cast<std::size_t>(i) % texts.size()]);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
    ASSERT_EQ(d.size(), 3u);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("[ info ] tiny encoder: train %.2f s, load %.1f ms, predict p50 %.3f ms\n", info.train_seconds, load_ms,
              ms[ms.size() / 2]);
}

TEST_F(EncoderTest, LoraOverfitsWithFrozenBaseAndRoundTrips) {
  Checkpoint ck = write_checkpoint(root_ / "ck");
  EncoderOptions o;
  o.checkpoint = ck.dir.string();
  o.mode = "lora";
  o.lora_rank = 4;
  o.lora_alpha = 8;
  o.lr = 1e-2;
  o.epochs = 80;
  o.patience = 10;
  o.batch_size = 4;
  o.max_len = 16;
  o.dropout = 0;
  o.merge_lora = false;
  auto data = tiny_dataset();
  auto c = EncoderClassifier::train(data, o, train_options());
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(accuracy_of(**c, data), 1.0);
  auto w = (*c)->weights();
  // Every base weight is exactly the checkpoint's; adapters and head were trained.
  for (const auto& [name, vals] : ck.values) EXPECT_EQ(w.at("bert." + name), vals) << name;
  const auto& b = w.at("bert.encoder.layer.1.attention.self.value.lora_B.weight");
  EXPECT_TRUE(std::any_of(b.begin(), b.end(), [](float x) { return x != 0; }));
  EXPECT_EQ(w.count("bert.encoder.layer.0.attention.self.key.lora_A.weight"), 0u);  // not a target
  EXPECT_EQ((*c)->info().extra["merged"], false);
  EXPECT_LT((*c)->info().extra["trainable_parameters"].get<std::int64_t>(),
            (*c)->info().extra["parameters"].get<std::int64_t>() / 4);

  fs::path dir = root_ / "model";
  ASSERT_TRUE((*c)->save(dir).ok());
  auto m = read_manifest(dir);
  ASSERT_TRUE(m.ok());
  auto back = EncoderClassifier::load(dir, *m);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  for (const auto& e : data) EXPECT_EQ((*back)->distribution(e.text), (*c)->distribution(e.text)) << e.text;
  EXPECT_EQ((*back)->weights(), w);
}

TEST_F(EncoderTest, MergedLoraPredictsLikeTheAdapters) {
  Checkpoint ck = write_checkpoint(root_ / "ck");
  EncoderOptions o;
  o.checkpoint = ck.dir.string();
  o.lr = 1e-2;
  o.epochs = 3;
  o.batch_size = 4;
  o.dropout = 0;
  auto data = tiny_dataset();
  TrainOptions t = train_options();
  o.merge_lora = false;
  auto adapters = EncoderClassifier::train(data, o, t);
  o.merge_lora = true;
  auto merged = EncoderClassifier::train(data, o, t);  // same seed: same training
  ASSERT_TRUE(adapters.ok() && merged.ok());
  auto w = (*merged)->weights();
  EXPECT_EQ(w.count("bert.encoder.layer.0.attention.self.query.lora_A.weight"), 0u);
  EXPECT_NE(w.at("bert.encoder.layer.0.attention.self.query.weight"),
            ck.values.at("encoder.layer.0.attention.self.query.weight"));
  for (const auto& e : data) {
    auto a = (*adapters)->distribution(e.text), b = (*merged)->distribution(e.text);
    for (std::size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-4) << e.text;
  }
  fs::path dir = root_ / "merged";
  ASSERT_TRUE((*merged)->save(dir).ok());
  auto back = EncoderClassifier::load(dir, *read_manifest(dir));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  for (const auto& e : data) EXPECT_EQ((*back)->distribution(e.text), (*merged)->distribution(e.text));
}

TEST_F(EncoderTest, TrainErrors) {
  auto data = tiny_dataset();
  EncoderOptions o;
  o.checkpoint = (root_ / "missing").string();
  auto r = EncoderClassifier::train(data, o, train_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("missing"), std::string::npos);

  o.checkpoint.clear();
  EXPECT_EQ(EncoderClassifier::train(data, o, train_options()).error().code, ErrorCode::kInvalidArgument);
  Checkpoint ck = write_checkpoint(root_ / "ck");
  o.checkpoint = ck.dir.string();
  o.mode = "adapter";
  EXPECT_EQ(EncoderClassifier::train(data, o, train_options()).error().code, ErrorCode::kInvalidArgument);
  o.mode = "lora";
  EXPECT_EQ(EncoderClassifier::train({}, o, train_options()).error().code, ErrorCode::kInvalidArgument);
  o.lora_targets = {"nonsense"};
  EXPECT_EQ(EncoderClassifier::train(data, o, train_options()).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(EncoderTest, DamagedModelDirectoryIsCorrupt) {
  Checkpoint ck = write_checkpoint(root_ / "ck");
  EncoderOptions o;
  o.checkpoint = ck.dir.string();
  o.mode = "full";
  o.epochs = 1;
  auto c = EncoderClassifier::train(tiny_dataset(), o, train_options());
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  fs::path dir = root_ / "model";
  ASSERT_TRUE((*c)->save(dir).ok());
  auto m = read_manifest(dir);
  ASSERT_TRUE(m.ok());

  ModelManifest fewer = *m;
  fewer.labels.pop_back();  // the head has 3 rows
  auto r1 = EncoderClassifier::load(dir, fewer);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r1.error().message.find("classifier.weight"), std::string::npos) << r1.error().message;

  fs::remove(dir / "vocab.txt");
  auto r2 = EncoderClassifier::load(dir, *m);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, ErrorCode::kCorrupt);

  fs::remove(dir / "model.safetensors");
  write_text(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
  auto r3 = EncoderClassifier::load(dir, *m);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r3.error().message.find("model.safetensors"), std::string::npos) << r3.error().message;
}

TEST(EncoderOptionsTest, ConfigStringRoundTrips) {
  EncoderOptions o;
  EXPECT_EQ(o.to_config(),
            "encoder:mode=lora,r=8,alpha=16,targets=query|value,lr=0.0005,epochs=10,patience=3,batch=16,maxlen=128,"
            "dropout=0.1,warmup=0.1,wd=0.01,merge=1");
  o.mode = "full";
  EXPECT_EQ(o.effective_lr(), 5e-5);
  o.lora_targets = {"query", "key", "value"};
  o.lr = 2e-5;
  o.epochs = 4;
  o.max_len = 64;
  for (const EncoderOptions& x : {EncoderOptions{}, o}) {
    auto p = EncoderOptions::parse(x.to_config());
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    EXPECT_EQ(p->to_config(), x.to_config());
  }
  auto lora = EncoderOptions::parse("encoder:mode=lora,r=4,alpha=8,targets=query|key|value,merge=0");
  ASSERT_TRUE(lora.ok());
  EXPECT_EQ(lora->lora_rank, 4);
  EXPECT_EQ(lora->lora_targets, (std::vector<std::string>{"query", "key", "value"}));
  EXPECT_FALSE(lora->merge_lora);
  EXPECT_TRUE(EncoderOptions::parse("encoder").ok());
  auto bare = EncoderOptions::parse("mode=full,epochs=3");  // as the CLI's --encoder takes it
  ASSERT_TRUE(bare.ok()) << bare.error().to_string();
  EXPECT_EQ(bare->mode, "full");
  EXPECT_EQ(bare->epochs, 3);
  EXPECT_EQ(EncoderOptions::parse("encoder:depth=3").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(EncoderOptions::parse("encoder:r=0").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(EncoderOptions::parse("encoder:mode=adapter").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(EncoderOptions::parse("linear:dim=3").error().code, ErrorCode::kInvalidArgument);
}

// The encoder through the CLI: ragft train classify --contender encoder --checkpoint DIR, then
// eval and predict on the saved directory, and --contender all with the encoder as a member.
TEST_F(EncoderTest, CliTrainsEvaluatesAndCombinesTheEncoder) {
  testing::skip_leak_check_in_child_processes();
  Checkpoint ck = write_checkpoint(root_ / "ck");
  std::string jsonl;
  for (const auto& e : tiny_dataset()) jsonl += nlohmann::json{{"text", e.text}, {"label", e.labels[0]}}.dump() + "\n";
  fs::path data = root_ / "train.jsonl";
  write_text(data, jsonl);
  using testing::quote;
  std::string common = "--json train classify --train " + quote(data.string()) + " --eval " + quote(data.string()) +
                       " --checkpoint " + quote(ck.dir.string()) +
                       " --encoder mode=full,lr=0.003,epochs=60,patience=10,batch=4,maxlen=16,dropout=0";
  fs::path out = root_ / "enc";
  auto r = testing::run_ragft(common + " --validation 0 --contender encoder --out " + quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["kind"], "encoder");
  EXPECT_DOUBLE_EQ(j["models"][0]["eval"]["accuracy"].get<double>(), 1.0);
  auto e = testing::run_ragft("--json eval classify " + quote(out.string()) + " " + quote(data.string()));
  ASSERT_EQ(e.exit_code, 0) << e.out;
  EXPECT_EQ(nlohmann::json::parse(e.out)["kind"], "encoder");
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(e.out)["accuracy"].get<double>(), 1.0);

  fs::path all = root_ / "all";
  auto a = testing::run_ragft(common + " --epochs 5 --bucket 1000 --dim 10 --members linear,knn,encoder --validation 0.34"
                              " --contender all --out " + quote(all.string()));
  ASSERT_EQ(a.exit_code, 0) << a.out;
  auto aj = nlohmann::json::parse(a.out);
  std::vector<std::string> kinds;
  for (const auto& m : aj["models"]) kinds.push_back(m["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"linear", "knn", "encoder", "combo"}));
  EXPECT_TRUE(fs::exists(all / "combo" / "encoder" / "model.safetensors"));

  // Without --checkpoint the encoder cannot train: a clear error, exit 1.
  auto no_ck = testing::run_ragft("train classify --train " + quote(data.string()) + " --contender encoder --out " +
                                  quote((root_ / "x").string()));
  EXPECT_EQ(no_ck.exit_code, 1);
  EXPECT_FALSE(fs::exists(root_ / "x"));
}

}  // namespace
}  // namespace ragft
