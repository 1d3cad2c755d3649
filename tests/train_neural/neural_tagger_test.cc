// The BiLSTM-CRF tagger: CRF pieces against brute force, training on a tiny set, persistence,
// options, and the combination with the retrieval tagger.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "apps/test_util.h"
#include "evaluate/conlleval.h"
#include "train/extract_test_util.h"
#include "train/combo_tagger.h"
#include "train/extractor.h"
#include "train/knn_tagger.h"
#include "train/neural/crf.h"
#include "train/neural_tagger.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using Tags = std::vector<std::string>;

TaggedSentence sent(const std::string& s) { return testing::tagged(s); }

fs::path temp_dir(const std::string& prefix) { return testing::make_temp_dir(prefix); }

// ---- CRF against brute force ----

// Calls fn(seq) for every sequence of length n over T tags.
void for_all_sequences(std::size_t n, std::size_t T, const std::function<void(const std::vector<int>&)>& fn) {
  std::vector<int> seq(n, 0);
  while (true) {
    fn(seq);
    std::size_t i = 0;
    while (i < n && ++seq[i] == static_cast<int>(T)) seq[i++] = 0;
    if (i == n) return;
  }
}

double path_score(const std::vector<int>& y, const float* em, std::size_t T, const float* trans, const float* start,
                  const float* end) {
  double s = start[y[0]] + end[y.back()];
  for (std::size_t t = 0; t < y.size(); ++t) {
    s += em[t * T + static_cast<std::size_t>(y[t])];
    if (t > 0) s += trans[static_cast<std::size_t>(y[t - 1]) * T + static_cast<std::size_t>(y[t])];
  }
  return s;
}

std::vector<float> to_vec(const torch::Tensor& t) {
  torch::Tensor c = t.contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

TEST(Crf, LogPartitionAndGoldScoreMatchBruteForce) {
  torch::manual_seed(7);
  const int64_t B = 3, L = 4, T = 3;
  torch::Tensor em = torch::randn({B, L, T});
  torch::Tensor trans = torch::randn({T, T}), start = torch::randn({T}), end = torch::randn({T});
  const std::vector<int64_t> lengths = {4, 2, 1};
  torch::Tensor mask = torch::zeros({B, L}, torch::kBool);
  for (int64_t b = 0; b < B; ++b) mask.index_put_({b, torch::indexing::Slice(0, lengths[b])}, true);
  torch::Tensor tags = torch::randint(0, T, {B, L}, torch::kLong);

  auto logz = to_vec(crf::log_partition(em, mask, trans, start, end));
  auto gold = to_vec(crf::sequence_score(em, tags, mask, trans, start, end));
  auto tr = to_vec(trans), st = to_vec(start), en = to_vec(end);
  for (int64_t b = 0; b < B; ++b) {
    auto e = to_vec(em[b]);
    auto n = static_cast<std::size_t>(lengths[b]);
    double sum = 0;
    for_all_sequences(n, T, [&](const std::vector<int>& y) {
      sum += std::exp(path_score(y, e.data(), T, tr.data(), st.data(), en.data()));
    });
    EXPECT_NEAR(logz[b], std::log(sum), 1e-4) << "sentence " << b;
    std::vector<int> y;
    for (std::size_t t = 0; t < n; ++t) y.push_back(static_cast<int>(tags[b][static_cast<int64_t>(t)].item<int64_t>()));
    EXPECT_NEAR(gold[b], path_score(y, e.data(), T, tr.data(), st.data(), en.data()), 1e-4) << "sentence " << b;
  }
}

TEST(Crf, ViterbiIsTheBruteForceArgmax) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0, 2);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t T = 5, L = 1 + static_cast<std::size_t>(trial % 5);
    std::vector<float> em(L * T), trans(T * T), start(T), end(T);
    for (auto* v : {&em, &trans, &start, &end}) {
      for (auto& x : *v) x = g(rng);
    }
    std::vector<int> best;
    double best_score = -1e30;
    for_all_sequences(L, T, [&](const std::vector<int>& y) {
      double s = path_score(y, em.data(), T, trans.data(), start.data(), end.data());
      if (s > best_score) {
        best_score = s;
        best = y;
      }
    });
    EXPECT_EQ(crf::viterbi(em.data(), L, T, trans.data(), start.data(), end.data()), best) << "trial " << trial;
  }
  EXPECT_TRUE(crf::viterbi(nullptr, 0, 3, nullptr, nullptr, nullptr).empty());
}

TEST(Crf, ConstrainedDecodingIsValidBio) {
  const auto tags = crf::bio_tags({"loc", "per"});
  ASSERT_EQ(tags, (Tags{"O", "B-loc", "I-loc", "B-per", "I-per"}));
  crf::Constraints c = crf::bio_constraints(tags);
  const std::size_t T = tags.size();
  std::mt19937 rng(5);
  // Emissions that strongly prefer I- tags everywhere: unconstrained decoding would emit them.
  std::normal_distribution<float> g(0, 3);
  for (int trial = 0; trial < 50; ++trial) {
    const std::size_t L = 1 + static_cast<std::size_t>(trial % 8);
    std::vector<float> em(L * T), end(T, 0);
    for (std::size_t i = 0; i < em.size(); ++i) em[i] = g(rng) + ((i % T) % 2 == 0 && i % T != 0 ? 4.0f : 0.0f);
    auto path = crf::viterbi(em.data(), L, T, c.trans.data(), c.start.data(), end.data());
    Tags out;
    for (int p : path) out.push_back(tags[static_cast<std::size_t>(p)]);
    EXPECT_TRUE(crf::valid_bio(out)) << "trial " << trial;
  }
  EXPECT_FALSE(crf::valid_bio({"I-loc"}));
  EXPECT_FALSE(crf::valid_bio({"O", "I-loc"}));
  EXPECT_FALSE(crf::valid_bio({"B-per", "I-loc"}));
  EXPECT_TRUE(crf::valid_bio({"B-per", "I-per", "B-loc", "O"}));
}

// ---- options ----

TEST(NeuralTaggerOptions, ConfigRoundTrips) {
  NeuralTaggerOptions d;
  auto p = NeuralTaggerOptions::parse(d.to_config());
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(*p, d);
  NeuralTaggerOptions o;
  o.wdim = 50;
  o.cdim = 0;
  o.sdim = 0;
  o.hidden = 64;
  o.dropout = 0.25;
  o.lr = 0.0015;
  o.epochs = 7;
  o.seed = 42;
  auto q = NeuralTaggerOptions::parse(o.to_config());
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(*q, o);
  EXPECT_EQ(q->to_config(), o.to_config());
  auto partial = NeuralTaggerOptions::parse("tagger-neural:hidden=100");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->hidden, 100u);
  EXPECT_EQ(partial->wdim, d.wdim);
}

TEST(NeuralTaggerOptions, BadConfigIsInvalidArgument) {
  for (const char* bad : {"tagger-neural:bogus=1", "tagger-neural:wdim=0", "tagger-neural:wdim=abc",
                          "tagger-neural:dropout=1.5", "tagger-neural:hidden=101", "tagger-neural:lr",
                          "tagger-neural:epochs=-3"}) {
    auto r = NeuralTaggerOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

// ---- training, prediction, persistence ----

std::vector<TaggedSentence> tiny_set() {
  return {sent("Justin/B-person Bieber/I-person sings in Toronto/B-location"),
          sent("I love my iPhone/B-product"),
          sent("Microsoft/B-corporation buys GitHub/B-corporation"),
          sent("Obama/B-person visited Kenya/B-location today"),
          sent("the new iPhone/B-product is out"),
          sent("we flew to Kenya/B-location with Obama/B-person")};
}

NeuralTaggerOptions tiny_options() {
  NeuralTaggerOptions o;
  o.wdim = 16;
  o.cdim = 8;
  o.cfilters = 8;
  o.sdim = 4;
  o.hidden = 16;
  o.dropout = 0;
  o.unk_drop = 0;
  o.lr = 0.02;
  o.batch = 2;
  o.epochs = 80;
  o.patience = 20;  // F1 stays 0 for the first few epochs
  o.warmup = 0;
  return o;
}

class NeuralTaggerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::size_t steps = 0, epoch_ends = 0;
    NeuralTaggerHooks hooks;
    hooks.progress = [&](const TrainProgress& p) {
      ++steps;
      if (p.epoch_end) ++epoch_ends;
      EXPECT_EQ(p.model, "tagger-neural");
      EXPECT_TRUE(std::isfinite(p.loss));
    };
    hooks.log = [&](const std::string& line) { log_lines_.push_back(line); };
    auto m = NeuralTagger::train(tiny_set(), {}, tiny_options(), hooks);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    model_ = std::move(*m).release();
    EXPECT_GT(steps, epoch_ends);
    EXPECT_EQ(epoch_ends, log_lines_.size());
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(model_, nullptr);
    dir_ = temp_dir("ragft-neural-tagger-");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static double f1_on(const Extractor& m, const std::vector<TaggedSentence>& data) {
    ConllevalAccumulator acc;
    for (const auto& s : data) EXPECT_TRUE(acc.add(s.tags, m.predict(s.tokens)).ok());
    return acc.result().overall.f1();
  }

  static NeuralTagger* model_;
  static std::vector<std::string> log_lines_;
  fs::path dir_;
};
NeuralTagger* NeuralTaggerTest::model_ = nullptr;
std::vector<std::string> NeuralTaggerTest::log_lines_;

TEST_F(NeuralTaggerTest, OverfitsATinySet) {
  EXPECT_DOUBLE_EQ(f1_on(*model_, tiny_set()), 1.0);
  EXPECT_EQ(model_->labels(), (Tags{"corporation", "location", "person", "product"}));
  EXPECT_EQ(model_->tags().size(), 9u);
  const auto& v = model_->record().metrics["validation"];
  EXPECT_EQ(v["source"], "train");  // too small to hold out a tenth
  EXPECT_DOUBLE_EQ(v["f1"].get<double>(), 1.0);
  EXPECT_GE(v["best_epoch"].get<int>(), 1);
  EXPECT_EQ(model_->record().train_data_hash, conll_data_hash(tiny_set()));
  EXPECT_GT(model_->record().train_seconds, 0.0);
  ASSERT_FALSE(log_lines_.empty());
  EXPECT_NE(log_lines_.front().find("val F1"), std::string::npos);
}

TEST_F(NeuralTaggerTest, PredictionsAreValidBioAndSized) {
  EXPECT_TRUE(model_->predict({}).empty());
  for (const auto& text : {"Obama", "random words here about nothing", "@someone loves #Kenya http://x.co 2017 !!!",
                           "Ünïcödé wörds and iPhone iPhone iPhone"}) {
    auto t = model_->predict_text(text);
    EXPECT_EQ(t.tags.size(), t.tokens.size()) << text;
    EXPECT_TRUE(crf::valid_bio(t.tags)) << text;
  }
}

TEST_F(NeuralTaggerTest, ConcurrentPredictionsMatchSequential) {
  auto data = tiny_set();
  std::vector<Tags> expected;
  for (const auto& s : data) expected.push_back(model_->predict(s.tokens));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep) {
        for (std::size_t i = 0; i < data.size(); ++i) {
          if (model_->predict(data[i].tokens) != expected[i]) ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST_F(NeuralTaggerTest, SaveLoadGivesIdenticalPredictions) {
  ASSERT_TRUE(model_->save(dir_).ok());
  EXPECT_TRUE(fs::exists(dir_ / "weights.bin"));
  EXPECT_TRUE(fs::exists(dir_ / "vocab.txt"));
  auto loaded = load_extractor(dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->kind(), "tagger-neural");
  EXPECT_EQ((*loaded)->config(), model_->config());
  EXPECT_EQ((*loaded)->labels(), model_->labels());
  EXPECT_EQ((*loaded)->record().train_data_hash, model_->record().train_data_hash);
  for (const auto& s : tiny_set()) EXPECT_EQ((*loaded)->predict(s.tokens), model_->predict(s.tokens));
  for (const auto& text : {"Obama flew to Toronto", "unseen Zanzibar words"}) {
    EXPECT_EQ((*loaded)->predict_text(text).tags, model_->predict_text(text).tags) << text;
  }
}

TEST_F(NeuralTaggerTest, DamagedOrMissingFilesAreCorrupt) {
  ASSERT_TRUE(model_->save(dir_).ok());
  std::string weights;
  {
    std::ifstream in(dir_ / "weights.bin", std::ios::binary);
    weights.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(weights.size(), 100u);
  auto write = [&](const std::string& data) {
    std::ofstream out(dir_ / "weights.bin", std::ios::binary | std::ios::trunc);
    out << data;
  };
  auto expect_corrupt = [&](const char* what) {
    auto r = load_extractor(dir_);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << what << ": " << r.error().to_string();
  };
  std::string flipped = weights;
  flipped[weights.size() / 2] ^= 0x5a;
  write(flipped);
  expect_corrupt("flipped byte");
  write(weights.substr(0, weights.size() / 3));
  expect_corrupt("truncated");
  write("RGFTNTAG");
  expect_corrupt("header only");
  write("not a weights file at all, just some text of a reasonable length");
  expect_corrupt("bad magic");
  fs::remove(dir_ / "weights.bin");
  expect_corrupt("missing weights");
  write(weights);
  ASSERT_TRUE(load_extractor(dir_).ok());
  {
    std::ofstream out(dir_ / "vocab.txt", std::ios::app);
    out << "extra\n";
  }
  expect_corrupt("vocabulary size differs");
  fs::remove(dir_ / "vocab.txt");
  expect_corrupt("missing vocabulary");
}

TEST_F(NeuralTaggerTest, CombinationWithTheRetrievalTagger) {
  auto knn = KnnTagger::train(tiny_set(), {});
  ASSERT_TRUE(knn.ok()) << knn.error().to_string();
  ASSERT_TRUE(model_->save(dir_ / "n").ok());
  auto neural = load_extractor(dir_ / "n");
  ASSERT_TRUE(neural.ok());
  ComboTaggerSelection sel;
  auto combo = ComboTagger::choose(std::move(*neural), std::move(*knn), tiny_set(), &sel);
  ASSERT_TRUE(combo.ok()) << combo.error().to_string();
  EXPECT_DOUBLE_EQ(sel.validation_f1, 1.0);
  EXPECT_EQ(sel.per_rule.size(), std::size(kComboRules));
  EXPECT_DOUBLE_EQ(f1_on(**combo, tiny_set()), 1.0);
  ASSERT_TRUE((*combo)->save(dir_ / "c").ok());
  EXPECT_TRUE(fs::exists(dir_ / "c" / "primary" / "weights.bin"));
  EXPECT_TRUE(fs::exists(dir_ / "c" / "secondary" / "model.json"));
  auto loaded = load_extractor(dir_ / "c");
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->kind(), "tagger-combo");
  EXPECT_EQ((*loaded)->config(), (*combo)->config());
  for (const auto& text : {"Obama flew to Toronto", "Microsoft loves my iPhone", "nothing"}) {
    EXPECT_EQ((*loaded)->predict_text(text).tags, (*combo)->predict_text(text).tags) << text;
  }
}

TEST(NeuralTaggerTrain, BadInputsAreInvalidArgument) {
  auto empty = NeuralTagger::train({}, {}, tiny_options());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  auto no_entities = NeuralTagger::train({sent("just words"), sent("more words")}, {}, tiny_options());
  ASSERT_FALSE(no_entities.ok());
  EXPECT_EQ(no_entities.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
