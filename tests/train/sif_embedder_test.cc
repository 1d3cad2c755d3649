#include "train/sif_embedder.h"

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

namespace ragft {
namespace {

namespace fs = std::filesystem;

const std::vector<std::vector<std::string>> kTopics = {
    {"goalkeeper", "striker", "penalty", "referee", "stadium", "midfield", "tackle", "league", "dribble", "corner",
     "offside", "header", "keeper", "tournament", "scored"},
    {"enzyme", "protein", "molecule", "catalyst", "reaction", "oxidation", "polymer", "solvent", "isotope", "compound",
     "titration", "reagent", "electron", "covalent", "acidic"},
    {"violin", "orchestra", "melody", "symphony", "conductor", "rhythm", "harmony", "concerto", "soprano", "chord",
     "tempo", "cello", "sonata", "pianist", "octave"},
    {"compiler", "pointer", "variable", "function", "recursion", "debugger", "syntax", "runtime", "iterator", "template",
     "bytecode", "kernel", "thread", "allocator", "parser"},
};
const std::vector<std::string> kFiller = {"the", "a", "of", "and", "with", "was", "in", "very", "this", "that"};

// n sentences per topic, 8-12 words: topic words plus shared filler.
std::vector<std::string> corpus(int n, std::uint64_t seed, std::vector<int>* topic_of = nullptr) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    for (int t = 0; t < static_cast<int>(kTopics.size()); ++t) {
      int len = 8 + static_cast<int>(rng() % 5);
      std::string s;
      for (int w = 0; w < len; ++w) {
        if (!s.empty()) s += ' ';
        if (rng() % 3 == 0) {
          s += kFiller[rng() % kFiller.size()];
        } else {
          s += kTopics[static_cast<std::size_t>(t)][rng() % kTopics[static_cast<std::size_t>(t)].size()];
        }
      }
      out.push_back(s);
      if (topic_of) topic_of->push_back(t);
    }
  }
  return out;
}

SifOptions small_options() {
  SifOptions o;
  o.dim = 32;
  o.epochs = 40;
  o.minn = 3;
  o.maxn = 5;
  o.bucket = 20000;
  o.lr = 0.05;
  return o;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

class SifEmbedderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = SifEmbedder::train(corpus(100, 7), small_options());
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    model_ = std::move(*m).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static SifEmbedder* model_;
};
SifEmbedder* SifEmbedderTest::model_ = nullptr;

TEST_F(SifEmbedderTest, SameTopicCloserThanOtherTopics) {
  ASSERT_NE(model_, nullptr);
  std::vector<int> topic;
  std::vector<std::string> held_out = corpus(10, 99, &topic);  // unseen sentences
  std::vector<float> flat;
  model_->embed_batch(held_out, flat);
  ASSERT_EQ(flat.size(), held_out.size() * 32);
  std::vector<std::vector<float>> e;
  for (std::size_t i = 0; i < held_out.size(); ++i) e.emplace_back(flat.begin() + i * 32, flat.begin() + (i + 1) * 32);
  double same = 0, other = 0;
  int n_same = 0, n_other = 0, nn_correct = 0;
  for (std::size_t i = 0; i < e.size(); ++i) {
    double best = -2;
    std::size_t best_j = 0;
    for (std::size_t j = 0; j < e.size(); ++j) {
      if (i == j) continue;
      double c = dot(e[i], e[j]);
      if (topic[i] == topic[j]) {
        same += c;
        ++n_same;
      } else {
        other += c;
        ++n_other;
      }
      if (c > best) best = c, best_j = j;
    }
    nn_correct += topic[best_j] == topic[i];
  }
  same /= n_same;
  other /= n_other;
  EXPECT_GT(same, other + 0.3) << "same " << same << " other " << other;
  EXPECT_EQ(nn_correct, static_cast<int>(e.size()));
}

TEST_F(SifEmbedderTest, UnitLengthAndZeroForEmptyText) {
  ASSERT_NE(model_, nullptr);
  EXPECT_EQ(model_->dim(), 32);
  for (const char* t : {"striker penalty", "enzyme", "a completely unseen sentence xyzzy", "violinist orchestras"}) {
    std::vector<float> v = model_->embed(t);
    ASSERT_EQ(v.size(), 32u);
    EXPECT_NEAR(dot(v, v), 1.0, 1e-5) << t;
  }
  for (const char* t : {"", "   ", "!!! ..."}) {
    std::vector<float> v = model_->embed(t);
    ASSERT_EQ(v.size(), 32u);
    EXPECT_EQ(dot(v, v), 0.0) << t;
  }
}

TEST_F(SifEmbedderTest, PrincipalComponentRemoved) {
  ASSERT_NE(model_, nullptr);
  const std::vector<float>& pc = model_->pc();
  ASSERT_EQ(pc.size(), 32u);
  EXPECT_NEAR(dot(pc, pc), 1.0, 1e-5);
  std::vector<std::string> texts = corpus(20, 7);
  std::vector<float> flat;
  model_->embed_batch(texts, flat);
  double mean_proj = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::vector<float> v(flat.begin() + i * 32, flat.begin() + (i + 1) * 32);
    double p = dot(v, pc);
    EXPECT_NEAR(p, 0.0, 1e-5);
    mean_proj += p;
  }
  EXPECT_NEAR(mean_proj / texts.size(), 0.0, 1e-6);
}

TEST(SifWeightTest, HandComputed) {
  EXPECT_DOUBLE_EQ(sif_weight(1e-3, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(sif_weight(1e-3, 1e-3), 0.5);
  EXPECT_NEAR(sif_weight(1e-3, 0.009), 0.1, 1e-12);
  // In a trained model: "x" is 3 of 6 words, "y" 2 of 6, "z" 1 of 6; unseen words weigh 1.
  SifOptions o = small_options();
  o.min_count = 1;
  o.dim = 8;
  o.epochs = 1;
  auto m = SifEmbedder::train({"x y z", "x y", "x"}, o);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_DOUBLE_EQ((*m)->weight("x"), 1e-3 / (1e-3 + 0.5));
  EXPECT_DOUBLE_EQ((*m)->weight("y"), 1e-3 / (1e-3 + 2.0 / 6));
  EXPECT_DOUBLE_EQ((*m)->weight("z"), 1e-3 / (1e-3 + 1.0 / 6));
  EXPECT_DOUBLE_EQ((*m)->weight("never"), 1.0);
}

TEST(SifEmbedderStandaloneTest, DeterministicForSeedWithOneThread) {
  SifOptions o = small_options();
  o.epochs = 3;
  std::vector<std::string> texts = corpus(30, 3);
  auto a = SifEmbedder::train(texts, o);
  auto b = SifEmbedder::train(texts, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->model_id(), (*b)->model_id());
  EXPECT_EQ((*a)->embed("striker enzyme melody"), (*b)->embed("striker enzyme melody"));
  o.seed = 2;
  auto c = SifEmbedder::train(texts, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE((*a)->model_id(), (*c)->model_id());
  texts.push_back("one more text");
  o.seed = 1;
  auto d = SifEmbedder::train(texts, o);
  ASSERT_TRUE(d.ok());
  EXPECT_NE((*a)->model_id(), (*d)->model_id());
}

TEST_F(SifEmbedderTest, SaveLoadGivesIdenticalEmbeddings) {
  ASSERT_NE(model_, nullptr);
  fs::path dir = fs::temp_directory_path() / ("ragft-sif-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE(model_->save(dir).ok());
  auto loaded = SifEmbedder::load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->model_id(), model_->model_id());
  EXPECT_EQ((*loaded)->dim(), model_->dim());
  EXPECT_EQ((*loaded)->pc(), model_->pc());
  for (const char* t : {"goalkeeper striker the penalty", "enzymes and polymers", "unseen qwerty words", ""}) {
    EXPECT_EQ((*loaded)->embed(t), model_->embed(t)) << t;
  }
  fs::remove(dir / "counts.tsv");
  auto broken = SifEmbedder::load(dir);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, ErrorCode::kCorrupt);
  fs::remove_all(dir);
  auto missing = SifEmbedder::load(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kCorrupt);
}

TEST(SifOptionsTest, ConfigRoundTrip) {
  SifOptions d;
  EXPECT_EQ(d.to_config(),
            "sif:dim=100,epochs=5,minn=3,maxn=6,mincount=2,lr=0.05,threads=1,seed=1,a=0.001,bucket=200000,"
            "analyzer:lang=english,stop=none,maxlen=64");
  SifOptions o;
  o.dim = 64;
  o.epochs = 7;
  o.minn = 2;
  o.maxn = 4;
  o.min_count = 3;
  o.lr = 0.025;
  o.threads = 4;
  o.seed = 42;
  o.a = 1e-4;
  o.bucket = 5000;
  o.analyzer = "analyzer:lang=none,stop=snowball,maxlen=32";
  auto p = SifOptions::parse(o.to_config());
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->to_config(), o.to_config());
  auto q = SifOptions::parse(d.to_config());
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->to_config(), d.to_config());
  auto bare = SifOptions::parse("sif");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->to_config(), d.to_config());
  auto partial = SifOptions::parse("sif:dim=16");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->dim, 16);
  EXPECT_EQ(partial->analyzer, d.analyzer);
}

TEST(SifOptionsTest, ParseErrors) {
  for (const char* bad : {"sif:dim=0", "sif:dim=x", "sif:epochs=-1", "sif:lr=abc", "sif:a=0", "sif:colour=red",
                          "sif:minn=5,maxn=3", "sif:minn=0,maxn=3", "sif:dim", "bm25:k1=1", "sif:dim=8,analyzer:lang=klingon",
                          "sif:seed=1.5", "sif:mincount=0"}) {
    auto r = SifOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  auto none = SifEmbedder::train({}, SifOptions{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
  auto empty = SifEmbedder::train({"", "..."}, SifOptions{});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
