// The BERT checkpoint embedder (embed/torch/bert_embedder.h) on a tiny random checkpoint
// (bert_test_util.h), checked against BertModel::forward.
#include "embed/torch/bert_embedder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "embed/bert.h"
#include "train/neural_backend.h"
#include "embed/bpe_tokenizer.h"
#include "embed/tokenizer_test_data.h"
#include "train_neural/bert_test_util.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // the tiny checkpoint (bert_test_util.h)

// Mixed lengths (tokens of kVocab), some long enough to truncate at small max_len.
const std::vector<std::string> kTexts = {
    "the movie was good",
    "a",
    "the team won the game and the player lost the ball",
    "",
    "very boring plot !",
    "awful awful film . the actor was poor and the plot was boring",
    "lovely match",
    "great goals and great playing",
};

class BertEmbedderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("RAGFT_THREADS", "1", 0);  // as the encoder tests: takes effect if no torch code ran yet
    root_ = make_temp_dir("ragft_bert_emb_");
    ck_ = write_checkpoint(root_ / "ck", "");
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<BertEmbedder> load(const std::string& extra = "") {
    auto o = BertEmbedderOptions::parse("bert:path=" + ck_.dir.string() + extra);
    EXPECT_TRUE(o.ok()) << o.error().to_string();
    auto e = BertEmbedder::load(*o);
    EXPECT_TRUE(e.ok()) << e.error().to_string();
    return e.ok() ? std::move(e).value() : nullptr;
  }

  static std::vector<float> embed(BertEmbedder& e, const std::vector<std::string>& texts) {
    std::vector<float> out;
    auto s = e.embed(texts, EmbedRole::kDocument, out);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return out;
  }

  fs::path root_;
  Checkpoint ck_;
};

std::vector<float> row(const std::vector<float>& m, std::size_t i, int dim) {
  return {m.begin() + static_cast<std::ptrdiff_t>(i * dim), m.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim)};
}

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    d = std::max(d, std::fabs(static_cast<double>(a[i]) - b[i]));
  }
  return d;
}

// The reference: BertModel::forward on the text alone (no padding), then the mean over its
// positions (or position 0), L2-normalised, computed by hand.
std::vector<float> reference(const BertCheckpoint& ck, std::string_view text, std::size_t max_len, bool cls) {
  std::vector<std::int32_t> ids = ck.tokenizer->encode(text, max_len);
  torch::NoGradGuard g;
  torch::Tensor x = torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end())).unsqueeze(0);
  BertModel model = ck.model;  // a handle (forward is not const)
  torch::Tensor h = model->forward(x, torch::ones_like(x)).contiguous();
  const auto t = h.size(1), d = h.size(2);
  const float* p = h.data_ptr<float>();
  std::vector<double> acc(static_cast<std::size_t>(d), 0.0);
  const std::int64_t rows = cls ? 1 : t;
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < d; ++j) acc[static_cast<std::size_t>(j)] += p[i * d + j];
  }
  double s = 0;
  for (double& a : acc) {
    a /= static_cast<double>(rows);
    s += a * a;
  }
  std::vector<float> out;
  for (double a : acc) out.push_back(static_cast<float>(a / std::sqrt(s)));
  return out;
}

TEST_F(BertEmbedderTest, DeterministicUnitVectorsOfTheHiddenSize) {
  auto a = load();
  auto b = load();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->dim(), kHidden);
  std::vector<float> va = embed(*a, kTexts);
  std::vector<float> vb = embed(*b, kTexts);
  ASSERT_EQ(va.size(), kTexts.size() * kHidden);
  EXPECT_EQ(va, vb);  // bitwise
  EXPECT_EQ(embed(*a, kTexts), va);
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    auto r = row(va, i, kHidden);
    EXPECT_NEAR(norm(r), 1.0, 1e-5) << i;
    for (float x : r) EXPECT_TRUE(std::isfinite(x));
  }
  std::vector<float> none = {1.0f};
  ASSERT_TRUE(a->embed({}, EmbedRole::kQuery, none).ok());
  EXPECT_TRUE(none.empty());
}

TEST_F(BertEmbedderTest, MeanPoolingMatchesTheModelAndIgnoresBatching) {
  auto loaded = load_bert_checkpoint(ck_.dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  auto e = load(",batch=3");  // mixed lengths share batches, so most texts are padded
  ASSERT_TRUE(e);
  std::vector<float> batched = embed(*e, kTexts);
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    std::vector<float> ref = reference(*loaded, kTexts[i], 256, /*cls=*/false);
    EXPECT_LT(max_abs_diff(row(batched, i, kHidden), ref), 1e-5) << kTexts[i];
    EXPECT_LT(max_abs_diff(embed(*e, {kTexts[i]}), row(batched, i, kHidden)), 1e-5) << kTexts[i];
  }
  // The role does not matter (one tower).
  std::vector<float> q;
  ASSERT_TRUE(e->embed(kTexts, EmbedRole::kQuery, q).ok());
  EXPECT_EQ(q, batched);
}

TEST_F(BertEmbedderTest, ClsPoolingIsTheFirstStateAndDiffersFromMean) {
  auto loaded = load_bert_checkpoint(ck_.dir);
  ASSERT_TRUE(loaded.ok());
  auto mean = load();
  auto cls = load(",pool=cls,batch=3");
  ASSERT_TRUE(mean && cls);
  std::vector<float> vm = embed(*mean, kTexts), vc = embed(*cls, kTexts);
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    EXPECT_LT(max_abs_diff(row(vc, i, kHidden), reference(*loaded, kTexts[i], 256, /*cls=*/true)), 1e-5) << kTexts[i];
    EXPECT_GT(max_abs_diff(row(vc, i, kHidden), row(vm, i, kHidden)), 1e-3) << kTexts[i];
  }
}

TEST_F(BertEmbedderTest, TruncatesAtMaxLenAndThePositionLimit) {
  auto e = load(",maxlen=6");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->max_len(), 6);
  const std::string longer = "the movie was good and the film was great";
  std::vector<std::int32_t> ids = e->encode(longer);
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids.back(), 3);  // [SEP]
  // [CLS] the movie was good [SEP]: the same as the first four words alone.
  EXPECT_LT(max_abs_diff(embed(*e, {longer}), embed(*e, {"the movie was good"})), 1e-6);

  // The checkpoint's max_position_embeddings caps maxlen.
  auto config = tiny_config();
  config["max_position_embeddings"] = 8;
  write_checkpoint(root_ / "short", "", DType::kF32, true, config);
  auto o = BertEmbedderOptions::parse("bert:path=" + (root_ / "short").string() + ",maxlen=256");
  ASSERT_TRUE(o.ok());
  auto s = BertEmbedder::load(*o);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ((*s)->max_len(), 8);
  EXPECT_EQ((*s)->encode(longer).size(), 8u);
  EXPECT_NE((*s)->model_id().find("maxlen=8"), std::string::npos) << (*s)->model_id();
  std::vector<float> v = embed(**s, {longer, "a"});
  EXPECT_NEAR(norm(row(v, 0, kHidden)), 1.0, 1e-5);
}

// A RoBERTa checkpoint: byte-level BPE tokenizer.json, "roberta." weight names, positions
// numbered from pad_token_id + 1.
TEST_F(BertEmbedderTest, RobertaCheckpointWithByteLevelBpe) {
  const auto spec = testdata::roberta_spec();
  const int pad = testdata::bpe_token_id(spec, "<pad>");
  const int offset = pad + 1;
  auto config = tiny_config();
  config["model_type"] = "roberta";
  config["vocab_size"] = 400;
  config["pad_token_id"] = pad;
  config["max_position_embeddings"] = 16 + offset;
  auto write = [&](const fs::path& dir, const std::map<std::string, std::vector<float>>* values) {
    Checkpoint ck = write_checkpoint(dir, "roberta.", DType::kF32, false, config);
    fs::remove(dir / "vocab.txt");
    write_text(dir / "tokenizer.json", testdata::bpe_json(spec));
    if (values) {  // the same tensors with `values`
      std::map<std::string, TensorData> tensors;
      for (const auto& [name, shape] : hf_tensors(false, config)) {
        const auto& v = values->at(name);
        tensors["roberta." + name] = TensorData::from_f32(shape, v.data(), v.size());
      }
      EXPECT_TRUE(write_safetensors(dir / "model.safetensors", tensors).ok());
    }
    return ck;
  };
  Checkpoint base = write(root_ / "rob", nullptr);
  auto o = BertEmbedderOptions::parse("bert:path=" + base.dir.string());
  ASSERT_TRUE(o.ok());
  auto e = BertEmbedder::load(*o);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ((*e)->max_len(), 16);  // max_position_embeddings minus the offset

  auto tok = HfBpeTokenizer::from_tokenizer_json(base.dir / "tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  const std::string text = "hello world the lower";
  const std::vector<std::int32_t> ids = (*e)->encode(text);
  EXPECT_EQ(ids, tok->encode(text, true));  // <s> pieces </s>
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids.front(), tok->id("<s>"));
  EXPECT_EQ(ids.back(), tok->id("</s>"));
  auto short_o = BertEmbedderOptions::parse("bert:path=" + base.dir.string() + ",maxlen=3");
  auto short_e = BertEmbedder::load(*short_o);
  ASSERT_TRUE(short_e.ok());
  const std::vector<std::int32_t> cut = (*short_e)->encode(text);
  EXPECT_EQ(cut, (std::vector<std::int32_t>{ids[0], ids[1], ids.back()}));  // specials kept

  // Rows below the offset are never read; the row at the offset is the first token's.
  const std::vector<float> v0 = embed(**e, {text, "hello"});
  auto values = base.values;
  auto& position = values.at("embeddings.position_embeddings.weight");
  for (int r = 0; r < offset; ++r) {
    for (int j = 0; j < kHidden; ++j) position[static_cast<std::size_t>(r * kHidden + j)] = 100.0f + static_cast<float>(j);
  }
  write(root_ / "rob_unused", &values);
  auto unused = BertEmbedder::load(*BertEmbedderOptions::parse("bert:path=" + (root_ / "rob_unused").string()));
  ASSERT_TRUE(unused.ok()) << unused.error().to_string();
  EXPECT_LT(max_abs_diff(embed(**unused, {text, "hello"}), v0), 1e-6);
  // (A shift that varies by dimension: LayerNorm removes a constant one.)
  for (int j = 0; j < kHidden; ++j) position[static_cast<std::size_t>(offset * kHidden + j)] += 0.5f * static_cast<float>(j % 3);
  write(root_ / "rob_used", &values);
  auto used = BertEmbedder::load(*BertEmbedderOptions::parse("bert:path=" + (root_ / "rob_used").string()));
  ASSERT_TRUE(used.ok());
  EXPECT_GT(max_abs_diff(embed(**used, {text, "hello"}), v0), 1e-3);
}

TEST_F(BertEmbedderTest, EmptyTextIsClsSepAndAFiniteUnitVector) {
  auto e = load();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->encode(""), (std::vector<std::int32_t>{2, 3}));
  std::vector<float> v = embed(*e, {""});
  ASSERT_EQ(v.size(), static_cast<std::size_t>(kHidden));
  for (float x : v) EXPECT_TRUE(std::isfinite(x));
  EXPECT_NEAR(norm(v), 1.0, 1e-5);
}

TEST_F(BertEmbedderTest, MissingCheckpointIsNotFound) {
  BertEmbedderOptions o;
  o.path = (root_ / "does-not-exist").string();
  auto r = BertEmbedder::load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  // Through the backend table, as torch-free code reaches it.
  auto m = make_bert_embedder("bert:path=" + o.path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
  auto bad = make_bert_embedder("bert:path=x,pool=max");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  BertEmbedderOptions no_path;
  auto np = BertEmbedder::load(no_path);
  ASSERT_FALSE(np.ok());
  EXPECT_EQ(np.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(BertEmbedderTest, BackendTableMakesTheSameEmbedder) {
  auto m = make_bert_embedder("bert:path=" + ck_.dir.string() + ",batch=4");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  auto e = load(",batch=4");
  ASSERT_TRUE(e);
  EXPECT_EQ((*m)->model_id(), e->model_id());
  EXPECT_EQ((*m)->config(), e->config());
  std::vector<float> v;
  ASSERT_TRUE((*m)->embed(kTexts, EmbedRole::kDocument, v).ok());
  EXPECT_EQ(v, embed(*e, kTexts));
}

TEST_F(BertEmbedderTest, ModelIdNamesWhatChangesVectorsAndConfigRoundTrips) {
  auto base = load();
  ASSERT_TRUE(base);
  const std::string id = base->model_id();
  EXPECT_EQ(id.rfind("bert:", 0), 0u) << id;
  EXPECT_NE(id.find(",pool=mean,maxlen=64,dtype=fp32"), std::string::npos) << id;  // capped at 64 positions
  EXPECT_EQ(load(",batch=2,threads=1")->model_id(), id);
  EXPECT_NE(load(",pool=cls")->model_id(), id);
  EXPECT_NE(load(",maxlen=16")->model_id(), id);
  EXPECT_NE(load(",dtype=bf16")->model_id(), id);
  // Another checkpoint (different weights) has another id.
  auto config = tiny_config();
  config["layer_norm_eps"] = 1e-6;
  write_checkpoint(root_ / "other", "", DType::kF32, true, config);
  auto o = BertEmbedderOptions::parse("bert:path=" + (root_ / "other").string());
  ASSERT_TRUE(o.ok());
  auto other = BertEmbedder::load(*o);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->model_id(), id);

  auto e = load(",pool=cls,batch=5,maxlen=32,threads=1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->config(), "bert:path=" + ck_.dir.string() + ",pool=cls,batch=5,maxlen=32,dtype=fp32,threads=1");
  auto again = BertEmbedderOptions::parse(e->config());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->to_config(), e->config());
}

// bf16 and int8 run the linear layers in reduced precision: close to fp32 (cosine), not equal.
TEST_F(BertEmbedderTest, ReducedPrecisionStaysCloseToFp32) {
  auto fp32 = load(",batch=3");
  ASSERT_TRUE(fp32);
  std::vector<float> ref = embed(*fp32, kTexts);
  for (const char* dtype : {"bf16", "int8"}) {
    auto o = BertEmbedderOptions::parse("bert:path=" + ck_.dir.string() + ",batch=3,dtype=" + dtype);
    ASSERT_TRUE(o.ok());
    auto e = BertEmbedder::load(*o);
    if (!e.ok() && e.error().code == ErrorCode::kUnsupported) {
      ADD_FAILURE() << dtype << " unsupported by this libtorch: " << e.error().message;
      continue;
    }
    ASSERT_TRUE(e.ok()) << e.error().to_string();
    std::vector<float> v = embed(**e, kTexts);
    ASSERT_EQ(v.size(), ref.size());
    for (std::size_t i = 0; i < kTexts.size(); ++i) {
      auto a = row(v, i, kHidden), b = row(ref, i, kHidden);
      double dot = 0;
      for (std::size_t j = 0; j < a.size(); ++j) dot += static_cast<double>(a[j]) * b[j];
      EXPECT_GT(dot, 0.99) << dtype << " " << kTexts[i];
      EXPECT_NEAR(norm(a), 1.0, 1e-5);
    }
    EXPECT_GT(max_abs_diff(v, ref), 0.0) << dtype << " ran in fp32";
    // Batching does not change reduced-precision vectors beyond rounding either.
    EXPECT_LT(max_abs_diff(embed(**e, {kTexts[2]}), row(v, 2, kHidden)), 2e-2) << dtype;
  }
}

TEST_F(BertEmbedderTest, ConcurrentCallsGiveTheSameVectors) {
  auto e = load(",batch=2");
  ASSERT_TRUE(e);
  std::vector<float> want = embed(*e, kTexts);
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got) {
    threads.emplace_back([&e, &g] { ASSERT_TRUE(e->embed(kTexts, EmbedRole::kDocument, g).ok()); });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_LT(max_abs_diff(g, want), 1e-6);
}

}  // namespace
}  // namespace ragft
