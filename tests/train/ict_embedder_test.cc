// The ICT embedder: learns topical similarity from unlabelled multi-sentence texts, is
// deterministic for a seed, round-trips through save/load, and validates its config.
#include "train/ict_embedder.h"

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
    {"goalkeeper", "striker", "penalty", "referee", "stadium", "midfield", "tackle", "league", "dribble", "corner"},
    {"enzyme", "protein", "molecule", "catalyst", "reaction", "oxidation", "polymer", "solvent", "isotope", "compound"},
    {"violin", "orchestra", "melody", "symphony", "conductor", "rhythm", "harmony", "concerto", "soprano", "chord"},
    {"compiler", "pointer", "variable", "function", "recursion", "debugger", "syntax", "runtime", "iterator", "parser"},
};

std::string sentence(const std::vector<std::string>& words, std::mt19937_64& rng) {
  std::string s;
  for (int w = 0; w < 6; ++w) {
    if (!s.empty()) s += ' ';
    s += words[rng() % words.size()];
  }
  s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s + ".";
}

// Texts of 4 sentences, each text about one topic.
std::vector<std::string> corpus(int per_topic, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (int i = 0; i < per_topic; ++i) {
    for (const auto& topic : kTopics) {
      std::string text;
      for (int s = 0; s < 4; ++s) text += sentence(topic, rng) + " ";
      out.push_back(text);
    }
  }
  return out;
}

double dot(const float* a, const float* b, int d) {
  double s = 0;
  for (int i = 0; i < d; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

IctOptions small() {
  IctOptions o;
  o.dim = 16;
  o.epochs = 6;
  o.batch = 16;
  return o;
}

TEST(IctEmbedder, LearnsTopicsWithoutLabels) {
  IctTrainReport report;
  auto m = IctEmbedder::train(corpus(30, 1), small(), &report);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(report.texts, 120u);
  EXPECT_EQ(report.terms, 40u);
  ASSERT_EQ(report.epoch_loss.size(), 6u);
  EXPECT_LT(report.epoch_loss.back(), report.epoch_loss.front());
  // Fresh texts: same-topic pairs must be more similar than cross-topic pairs, on average and
  // for nearly every query.
  std::mt19937_64 rng(99);
  std::vector<std::string> probes;
  for (int i = 0; i < 10; ++i) {
    for (const auto& topic : kTopics) probes.push_back(sentence(topic, rng));
  }
  std::vector<float> v;
  ASSERT_TRUE((*m)->embed(probes, EmbedRole::kQuery, v).ok());
  const int d = (*m)->dim();
  ASSERT_EQ(v.size(), probes.size() * static_cast<std::size_t>(d));
  int correct = 0;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    EXPECT_NEAR(dot(&v[i * d], &v[i * d], d), 1.0, 1e-4);
    // Nearest other probe shares the topic?
    double best = -2;
    std::size_t best_j = 0;
    for (std::size_t j = 0; j < probes.size(); ++j) {
      if (j == i) continue;
      double s = dot(&v[i * d], &v[j * d], d);
      if (s > best) best = s, best_j = j;
    }
    correct += (best_j % kTopics.size()) == (i % kTopics.size()) ? 1 : 0;
  }
  EXPECT_GE(correct, 38) << "of 40";
}

TEST(IctEmbedder, DeterministicAndSavesAndLoads) {
  const auto texts = corpus(10, 2);
  auto a = IctEmbedder::train(texts, small());
  auto b = IctEmbedder::train(texts, small());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->model_id(), (*b)->model_id());
  const std::vector<std::string> probe = {"the violin melody", "enzyme catalyst reaction", "unknown words only", ""};
  std::vector<float> va, vb, vc;
  ASSERT_TRUE((*a)->embed(probe, EmbedRole::kDocument, va).ok());
  ASSERT_TRUE((*b)->embed(probe, EmbedRole::kDocument, vb).ok());
  EXPECT_EQ(va, vb);
  // Text without known terms: the zero vector.
  const int d = (*a)->dim();
  for (int k = 0; k < d; ++k) {
    EXPECT_EQ(va[2 * d + k], 0.0f);
    EXPECT_EQ(va[3 * d + k], 0.0f);
  }
  IctOptions other = small();
  other.seed = 7;
  auto c = IctEmbedder::train(texts, other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE((*c)->model_id(), (*a)->model_id());

  char tmpl[] = "/tmp/ragft_ict_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  ASSERT_TRUE((*a)->save(dir).ok());
  auto loaded = IctEmbedder::load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->model_id(), (*a)->model_id());
  EXPECT_EQ((*loaded)->config(), (*a)->config());
  ASSERT_TRUE((*loaded)->embed(probe, EmbedRole::kDocument, vc).ok());
  EXPECT_EQ(vc, va);
  // Damage: truncated vectors and a missing file.
  {
    std::string bin;
    {
      std::FILE* f = std::fopen((dir / "ict.bin").c_str(), "rb");
      ASSERT_NE(f, nullptr);
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bin.append(buf, n);
      std::fclose(f);
    }
    std::FILE* f = std::fopen((dir / "ict.bin").c_str(), "wb");
    std::fwrite(bin.data(), 1, bin.size() - 5, f);
    std::fclose(f);
  }
  auto damaged = IctEmbedder::load(dir);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.error().code, ErrorCode::kCorrupt);
  fs::remove(dir / "ict.json");
  auto missing = IctEmbedder::load(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kCorrupt);
  fs::remove_all(dir);
}

TEST(IctOptions, ConfigRoundTripAndErrors) {
  auto o = IctOptions::parse("ict:dim=64,tau=0.2,analyzer:lang=none,stop=none,maxlen=32");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->dim, 64);
  EXPECT_DOUBLE_EQ(o->tau, 0.2);
  auto again = IctOptions::parse(o->to_config());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->to_config(), o->to_config());
  EXPECT_EQ(IctOptions::parse("ict")->to_config(), IctOptions{}.to_config());
  for (const char* bad : {"ict:dim=0", "ict:tau=x", "ict:epochs=1.5", "ict:colour=red", "sif:dim=3",
                          "ict:analyzer:lang=klingon"}) {
    auto r = IctOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  // No usable texts.
  EXPECT_FALSE(IctEmbedder::train({}, small()).ok());
  EXPECT_FALSE(IctEmbedder::train({"one sentence only"}, small()).ok());
}

}  // namespace
}  // namespace ragft
