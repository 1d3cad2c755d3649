#include "train/classifier.h"

#include <unistd.h>

#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/env.h"
#include "train/classify_test_util.h"
#include "train/combo_classifier.h"
#include "train/knn_classifier.h"
#include "train/linear_classifier.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) { return testing::classify_temp_dir("classify-" + name); }

std::vector<Example> tiny() { return testing::tiny_topics(); }

LinearOptions fast_linear() {
  LinearOptions o;
  o.epochs = {25, 50};
  o.bucket = 10000;
  o.dim = 20;
  return o;
}

std::vector<std::string> sorted_labels(const std::vector<Example>& ex) {
  Dataset d;
  d.examples = ex;
  return d.labels();
}

double training_accuracy(const Classifier& c, const std::vector<Example>& ex) { return accuracy_of(c, ex); }

TEST(ClassifierTest, StratifiedSplitKeepsProportionsAndIsDeterministic) {
  auto ex = tiny();
  Split a = stratified_split(ex, 0.1, 7);
  Split b = stratified_split(ex, 0.1, 7);
  // 10 per class, round(0.1 * 10) = 1 per class -> 3 validation, 27 train.
  ASSERT_EQ(a.validation.size(), 3u);
  EXPECT_EQ(a.train.size(), 27u);
  std::set<std::string> val_labels;
  for (const auto& e : a.validation) val_labels.insert(e.labels[0]);
  EXPECT_EQ(val_labels.size(), 3u);
  for (std::size_t i = 0; i < a.validation.size(); ++i) EXPECT_EQ(a.validation[i].text, b.validation[i].text);
  // A class with one example keeps it in train.
  Split one = stratified_split({Example{"x", {"a"}, 1}}, 0.5, 1);
  EXPECT_EQ(one.train.size(), 1u);
  EXPECT_TRUE(one.validation.empty());
}

TEST(ClassifierTest, LinearOverfitsTinySetAndRoundTrips) {
  auto ex = tiny();
  auto m = LinearClassifier::train(ex, fast_linear(), TrainOptions{});
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_DOUBLE_EQ(training_accuracy(**m, ex), 1.0);
  EXPECT_EQ((*m)->labels(), (std::vector<std::string>{"food", "sport", "weather"}));
  Prediction p = (*m)->predict("a goal for the team");
  EXPECT_EQ(p.top(), "sport");
  ASSERT_EQ(p.labels.size(), 3u);
  float sum = 0;
  for (std::size_t i = 0; i < p.labels.size(); ++i) {
    sum += p.labels[i].score;
    if (i) {
      EXPECT_GE(p.labels[i - 1].score, p.labels[i].score);
    }
  }
  EXPECT_NEAR(sum, 1.0f, 1e-5);

  fs::path dir = temp_dir("linear");
  ASSERT_TRUE((*m)->save(dir).ok());
  auto loaded = load_classifier(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->kind(), "linear");
  for (const auto& e : ex) EXPECT_EQ((*loaded)->distribution(e.text), (*m)->distribution(e.text)) << e.text;

  auto man = read_manifest(dir);
  ASSERT_TRUE(man.ok());
  EXPECT_EQ(man->task, "classify");
  EXPECT_EQ(man->kind, "linear");
  EXPECT_EQ(man->labels, (std::vector<std::string>{"food", "sport", "weather"}));
  Dataset d;
  d.examples = ex;
  EXPECT_EQ(man->train_data_hash, d.content_hash());
  EXPECT_EQ(man->config, fast_linear().to_config());
  EXPECT_GT(man->train_seconds, 0.0);
  EXPECT_TRUE(man->metrics["validation"].contains("accuracy"));
  EXPECT_EQ(man->metrics["selection"].size(), 2u);  // one row per epoch candidate
  int epoch = man->extra["epoch"].get<int>();
  EXPECT_TRUE(epoch == 25 || epoch == 50);
  fs::remove_all(dir);
}

TEST(ClassifierTest, LinearIsReproducibleForASeed) {
  auto ex = tiny();
  auto labels = sorted_labels(ex);
  auto a = LinearClassifier::fit(ex, labels, fast_linear(), 10, 3);
  auto b = LinearClassifier::fit(ex, labels, fast_linear(), 10, 3);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->distribution("rain and snow"), (*b)->distribution("rain and snow"));
}

TEST(ClassifierTest, KnnOverfitsTinySetAndRoundTrips) {
  auto ex = tiny();
  auto m = KnnClassifier::train(ex, KnnOptions{}, TrainOptions{});
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  // Only a k of 1 guarantees that an indexed example is its own top neighbour; the tiny set's
  // classes share no topic word, so any chosen k classifies it perfectly.
  EXPECT_DOUBLE_EQ(training_accuracy(**m, ex), 1.0);
  fs::path dir = temp_dir("knn");
  ASSERT_TRUE((*m)->save(dir).ok());
  auto loaded = load_classifier(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->kind(), "knn");
  for (const auto& e : ex) EXPECT_EQ((*loaded)->distribution(e.text), (*m)->distribution(e.text));
  EXPECT_EQ((*loaded)->distribution("unrelated words only"), (*m)->distribution("unrelated words only"));
  auto man = read_manifest(dir);
  ASSERT_TRUE(man.ok());
  EXPECT_EQ(man->kind, "knn");
  EXPECT_EQ(man->extra["k"].get<int>(), (*m)->k());
  EXPECT_EQ(man->metrics["selection"].size(), 6u);
  fs::remove_all(dir);
}

TEST(ClassifierTest, KnnVotesAreScoreWeighted) {
  // Two identical texts with different labels score the same: k=2 splits the vote 0.5/0.5,
  // k=1 takes the lower chunk id ("a"). "zzz" matches nothing: the prior (2 a, 1 b of 3 examples).
  std::vector<Example> ex = {{"red apple", {"a"}, 1}, {"red apple", {"b"}, 2}, {"green pear", {"a"}, 3}};
  auto m = KnnClassifier::build(ex, {"a", "b"}, KnnOptions{}, 2);
  ASSERT_TRUE(m.ok());
  auto d2 = (*m)->distribution_k("red apple", 2);
  EXPECT_FLOAT_EQ(d2[0], 0.5f);
  EXPECT_FLOAT_EQ(d2[1], 0.5f);
  auto d1 = (*m)->distribution_k("red apple", 1);
  EXPECT_FLOAT_EQ(d1[0], 1.0f);
  auto prior = (*m)->distribution("zzz");
  EXPECT_FLOAT_EQ(prior[0], 2.0f / 3.0f);
  EXPECT_FLOAT_EQ(prior[1], 1.0f / 3.0f);
  // "red pear": neighbours 1/2 ("red") and 3 ("pear") all match one term; with k=3 the vote
  // is (s1 + s3) / (s1 + s2 + s3) for a, s2 / (...) for b, weights relative to the top score.
  auto d3 = (*m)->distribution_k("red pear", 3);
  EXPECT_GT(d3[0], d3[1]);
  EXPECT_NEAR(d3[0] + d3[1], 1.0f, 1e-6);
}

// Each class-A text "alpha nI" has a class-B twin "beta nI nI nI" sharing its rare word: the
// single nearest neighbour is the twin (wrong class), while the many same-class texts sharing
// the common class word win the vote for larger k.
TEST(ClassifierTest, KnnChoosesKOnValidation) {
  std::vector<Example> ex;
  for (int i = 0; i < 40; ++i) {
    std::string n = fmt::format("n{}", i);
    ex.push_back(Example{"alpha " + n, {"A"}, 0});
    ex.push_back(Example{"beta " + n + " " + n + " " + n, {"B"}, 0});
  }
  TrainOptions t;
  t.validation_fraction = 0.25;
  auto m = KnnClassifier::train(ex, KnnOptions{}, t);
  ASSERT_TRUE(m.ok());
  const auto& grid = (*m)->info().metrics["selection"];
  ASSERT_EQ(grid.size(), 6u);
  EXPECT_EQ(grid[0]["k"], 1);
  EXPECT_LT(grid[0]["val_accuracy"].get<double>(), 0.5);
  EXPECT_GT((*m)->k(), 1);
  double best = 0;
  for (const auto& g : grid) best = std::max(best, g["val_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ((*m)->info().metrics["validation"]["accuracy"].get<double>(), best);
  EXPECT_GT(best, 0.9);
  for (const auto& g : grid) {
    if (g["val_accuracy"].get<double>() == best) {
      EXPECT_EQ(g["k"].get<int>(), (*m)->k());  // the smallest k among the best
      break;
    }
  }
}

TEST(ClassifierTest, ComboOverfitsTinySetChoosesWeightsAndRoundTrips) {
  auto ex = tiny();
  ComboOptions o;
  o.linear = fast_linear();
  auto m = ComboClassifier::train(ex, o, TrainOptions{});
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_DOUBLE_EQ(training_accuracy(**m, ex), 1.0);
  ASSERT_EQ((*m)->size(), 2u);
  EXPECT_EQ((*m)->member(0).kind(), "linear");
  EXPECT_EQ((*m)->member(1).kind(), "knn");
  EXPECT_EQ((*m)->info().metrics["weightings_tried"].get<int>(), 11);  // step 0.1, two members
  double w0 = (*m)->weight(0), w1 = (*m)->weight(1);
  EXPECT_NEAR(w0 + w1, 1.0, 1e-9);
  // The formula: p = w_linear p_linear + w_knn p_knn.
  std::string text = "rain in the stadium";
  auto pl = (*m)->member(0).distribution(text);
  auto pk = (*m)->member(1).distribution(text);
  auto pc = (*m)->distribution(text);
  for (std::size_t i = 0; i < pc.size(); ++i) EXPECT_NEAR(pc[i], w0 * pl[i] + w1 * pk[i], 1e-6);

  fs::path dir = temp_dir("combo");
  ASSERT_TRUE((*m)->save(dir).ok());
  EXPECT_TRUE(fs::exists(dir / "linear" / "model.json"));
  EXPECT_TRUE(fs::exists(dir / "knn" / "model.json"));
  auto loaded = load_classifier(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->kind(), "combo");
  for (const auto& e : ex) EXPECT_EQ((*loaded)->distribution(e.text), (*m)->distribution(e.text));
  auto man = read_manifest(dir);
  ASSERT_TRUE(man.ok());
  EXPECT_DOUBLE_EQ(man->extra["members"][1]["weight"].get<double>(), w1);
  EXPECT_EQ(man->config, o.to_config());

  // A directory from before members existed (extra.alpha) loads as linear + knn.
  ModelManifest old = *man;
  old.extra = {{"alpha", 0.3}, {"linear", "linear"}, {"knn", "knn"}};
  ASSERT_TRUE(write_manifest(dir, old).ok());
  auto v1 = load_classifier(dir);
  ASSERT_TRUE(v1.ok()) << v1.error().to_string();
  auto pv = (*v1)->distribution(text);
  for (std::size_t i = 0; i < pv.size(); ++i) EXPECT_NEAR(pv[i], 0.7 * pl[i] + 0.3 * pk[i], 1e-6);
  // A member directory that vanished: the combo is corrupt.
  fs::remove_all(dir / "knn");
  auto gone = load_classifier(dir);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kCorrupt);
  fs::remove_all(dir);
}

TEST(ClassifierTest, ComboWeightEndsAreTheSubModels) {
  auto ex = tiny();
  auto labels = sorted_labels(ex);
  auto make = [&](double w_knn) {
    auto l = LinearClassifier::fit(ex, labels, fast_linear(), 10, 1);
    auto k = KnnClassifier::build(ex, labels, KnnOptions{}, 3);
    EXPECT_TRUE(l.ok() && k.ok());
    std::vector<std::unique_ptr<Classifier>> models;
    models.push_back(std::move(*l));
    models.push_back(std::move(*k));
    auto c = ComboClassifier::make(std::move(models), {1 - w_knn, w_knn});
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  };
  auto c0 = make(0.0);
  auto c1 = make(1.0);
  std::string text = "goal in the rain";
  EXPECT_EQ(c0->distribution(text), c0->member(0).distribution(text));
  EXPECT_EQ(c1->distribution(text), c1->member(1).distribution(text));
  auto two = [&](std::vector<std::string> knn_labels, std::vector<double> w) {
    std::vector<std::unique_ptr<Classifier>> models;
    models.push_back(std::move(*LinearClassifier::fit(ex, labels, fast_linear(), 5, 1)));
    models.push_back(std::move(*KnnClassifier::build(ex, knn_labels, KnnOptions{}, 3)));
    return ComboClassifier::make(std::move(models), std::move(w));
  };
  auto bad_labels = two({"food", "sport", "weather", "x"}, {0.5, 0.5});
  ASSERT_FALSE(bad_labels.ok());
  EXPECT_EQ(bad_labels.error().code, ErrorCode::kInvalidArgument);
  auto bad_sum = two(labels, {0.5, 0.6});
  ASSERT_FALSE(bad_sum.ok());
  EXPECT_EQ(bad_sum.error().code, ErrorCode::kInvalidArgument);
}

TEST(ClassifierTest, LoadErrors) {
  fs::path dir = temp_dir("errors");
  auto none = load_classifier(dir);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);

  ModelManifest m;
  m.task = "classify";
  m.kind = "transformer";
  ASSERT_TRUE(write_manifest(dir, m).ok());
  auto unknown = load_classifier(dir);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnsupported);

  m.kind = "knn";
  m.extra = {{"k", 3}};
  ASSERT_TRUE(write_manifest(dir, m).ok());
  auto knn = load_classifier(dir);  // no labels.json, no index
  ASSERT_FALSE(knn.ok());
  EXPECT_EQ(knn.error().code, ErrorCode::kCorrupt);

  m.kind = "linear";
  ASSERT_TRUE(write_manifest(dir, m).ok());
  ASSERT_TRUE(Env::posix().write_file_atomic(dir / "model.bin", "not a fasttext model").ok());
  auto lin = load_classifier(dir);
  ASSERT_FALSE(lin.ok());
  EXPECT_EQ(lin.error().code, ErrorCode::kCorrupt);

  m.task = "extract";
  ASSERT_TRUE(write_manifest(dir, m).ok());
  auto task = load_classifier(dir);
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.error().code, ErrorCode::kInvalidArgument);
  fs::remove_all(dir);
}

TEST(ClassifierTest, EmptyTrainingDataIsAnError) {
  auto l = LinearClassifier::train({}, LinearOptions{}, TrainOptions{});
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code, ErrorCode::kInvalidArgument);
  auto k = KnnClassifier::train({}, KnnOptions{}, TrainOptions{});
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragft
