// `ragft train extract --contender neural|all` and eval/predict on the result, through the binary.
#include <filesystem>

#include <gtest/gtest.h>

#include "apps/test_util.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using testing::make_temp_dir;
using testing::quote;
using testing::run_ragft;
using testing::write_file;

const char* kTrain =
    "Justin\tB-person\nBieber\tI-person\nsings\tO\nin\tO\nToronto\tB-location\n\n"
    "I\tO\nlove\tO\nmy\tO\niPhone\tB-product\n\n"
    "Microsoft\tB-corporation\nbuys\tO\nGitHub\tB-corporation\n\n"
    "Obama\tB-person\nvisited\tO\nKenya\tB-location\ntoday\tO\n\n";

// Small and fast: learns the four sentences in well under a second of training.
const char* kSmall =
    " --config tagger-neural:wdim=16,cdim=8,cfilters=8,sdim=4,hidden=16,dropout=0,unk_drop=0,lr=0.02,batch=2,"
    "epochs=80,patience=20,warmup=0";

class NeuralExtractCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::skip_leak_check_in_child_processes();
    dir_ = make_temp_dir("ragft-neural-cli-");
    write_file(dir_ / "train.conll", kTrain);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return quote((dir_ / name).string()); }
  fs::path dir_;
};

TEST_F(NeuralExtractCliTest, TrainNeuralThenEvalAndPredict) {
  auto t = run_ragft("--json train extract --contender neural --train " + path("train.conll") + " --dev " +
                     path("train.conll") + " --out " + path("model") + kSmall);
  ASSERT_EQ(t.exit_code, 0) << t.out;
  auto tj = nlohmann::json::parse(t.out);
  EXPECT_EQ(tj["kind"], "tagger-neural");
  EXPECT_EQ(tj["contender"], "neural");
  EXPECT_EQ(tj["validation"]["source"], "dev");
  EXPECT_DOUBLE_EQ(tj["dev"]["f1"].get<double>(), 1.0);
  EXPECT_TRUE(fs::exists(dir_ / "model" / "weights.bin"));

  auto e = run_ragft("--json eval extract " + path("model") + " " + path("train.conll"));
  ASSERT_EQ(e.exit_code, 0) << e.out;
  auto ej = nlohmann::json::parse(e.out);
  EXPECT_EQ(ej["kind"], "tagger-neural");
  EXPECT_DOUBLE_EQ(ej["f1"].get<double>(), 1.0);
  EXPECT_GE(ej["load_ms"].get<double>(), 0.0);

  write_file(dir_ / "in.txt", "Obama visited Toronto\n");
  auto p = run_ragft("--json predict " + path("model") + " " + path("in.txt"));
  ASSERT_EQ(p.exit_code, 0) << p.out;
  auto pj = nlohmann::json::parse(p.out.substr(0, p.out.find('\n')));
  EXPECT_EQ(pj["tokens"].size(), 3u);
}

TEST_F(NeuralExtractCliTest, AllTrainsThreeContendersIntoSubdirectories) {
  auto t = run_ragft("--json train extract --contender all --train " + path("train.conll") + " --dev " +
                     path("train.conll") + " --out " + path("all") + kSmall);
  ASSERT_EQ(t.exit_code, 0) << t.out;
  auto tj = nlohmann::json::parse(t.out);
  ASSERT_EQ(tj["models"].size(), 3u);
  std::vector<std::string> kinds;
  for (const auto& m : tj["models"]) kinds.push_back(m["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"tagger-knn", "tagger-neural", "tagger-combo"}));
  for (const char* sub : {"knn", "neural", "combo"}) {
    EXPECT_TRUE(fs::exists(dir_ / "all" / sub / "model.json")) << sub;
    auto e = run_ragft("--json eval extract " + path("all/" + std::string(sub)) + " " + path("train.conll"));
    EXPECT_EQ(e.exit_code, 0) << sub << ": " << e.out;
  }
  EXPECT_TRUE(tj["models"][2]["selection"].contains("per_rule"));
}

TEST_F(NeuralExtractCliTest, BadContenderOrConfigFails) {
  EXPECT_EQ(run_ragft("train extract --contender bogus --train " + path("train.conll") + " --out " + path("m"))
                .exit_code,
            1);
  EXPECT_EQ(run_ragft("train extract --contender neural --train " + path("train.conll") + " --out " + path("m") +
                      " --config tagger-neural:bogus=1")
                .exit_code,
            1);
  // Options for a contender that is not trained are a mistake, not ignored.
  EXPECT_EQ(run_ragft("train extract --contender knn --train " + path("train.conll") + " --out " + path("m") +
                      " --config tagger-neural:wdim=8")
                .exit_code,
            1);
  EXPECT_EQ(run_ragft("train extract --contender neural --train " + path("train.conll") + " --out " + path("m") +
                      " --config tagger-combo:rule=fill")
                .exit_code,
            1);
  EXPECT_FALSE(fs::exists(dir_ / "m" / "model.json"));
}

}  // namespace
}  // namespace ragft
