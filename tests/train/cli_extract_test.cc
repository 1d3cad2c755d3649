// `ragft train extract`, `ragft eval extract` and `ragft predict` on an extraction model, through
// the binary.
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
    "-DOCSTART-\tO\n\n"
    "Justin\tB-person\nBieber\tI-person\nsings\tO\nin\tO\nToronto\tB-location\n\n"
    "I\tO\nlove\tO\nmy\tO\niPhone\tB-product\n\n"
    "Microsoft\tB-corporation\nbuys\tO\nGitHub\tB-corporation\n\n"
    "Obama\tB-person\nvisited\tO\nKenya\tB-location\n\n";

class ExtractCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("ragft-extract-cli-");
    write_file(dir_ / "train.conll", kTrain);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return quote((dir_ / name).string()); }
  fs::path dir_;
};

TEST_F(ExtractCliTest, TrainEvalPredict) {
  auto t = run_ragft("train extract --train " + path("train.conll") + " --dev " + path("train.conll") + " --out " +
                     path("model") + " --json");
  ASSERT_EQ(t.exit_code, 0) << t.out;
  auto tj = nlohmann::json::parse(t.out);
  EXPECT_EQ(tj["kind"], "tagger-knn");
  EXPECT_EQ(tj["data_checks"]["train"]["sentences"].get<int>(), 4);
  EXPECT_EQ(tj["data_checks"]["train"]["entities"].get<int>(), 7);
  EXPECT_EQ(tj["data_checks"]["dev"]["unseen_entities"].get<int>(), 0);
  EXPECT_DOUBLE_EQ(tj["dev"]["f1"].get<double>(), 1.0);
  EXPECT_EQ(tj["selection"]["source"], "dev");
  EXPECT_TRUE(fs::exists(dir_ / "model" / "model.json"));

  auto e = run_ragft("eval extract " + path("model") + " " + path("train.conll") + " --json");
  ASSERT_EQ(e.exit_code, 0) << e.out;
  auto ej = nlohmann::json::parse(e.out);
  EXPECT_DOUBLE_EQ(ej["f1"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(ej["accuracy"].get<double>(), 1.0);
  EXPECT_EQ(ej["gold"].get<int>(), 7);
  EXPECT_DOUBLE_EQ(ej["per_type"]["person"]["f1"].get<double>(), 1.0);
  EXPECT_TRUE(ej["latency_ms"].contains("p50"));
  EXPECT_TRUE(ej["latency_ms"].contains("p99"));
  EXPECT_GT(ej["model_bytes"].get<int>(), 0);
  EXPECT_GE(ej["train_seconds"].get<double>(), 0.0);

  write_file(dir_ / "in.txt", "Obama loves Toronto\nnothing here\n");
  auto p = run_ragft("predict " + path("model") + " " + path("in.txt"));
  ASSERT_EQ(p.exit_code, 0) << p.out;
  EXPECT_EQ(p.out, "Obama\tB-person\nloves\tO\nToronto\tB-location\n\nnothing\tO\nhere\tO\n\n");

  auto pj = run_ragft("predict " + path("model") + " " + path("in.txt") + " --json");
  ASSERT_EQ(pj.exit_code, 0) << pj.out;
  auto first = nlohmann::json::parse(pj.out.substr(0, pj.out.find('\n')));
  EXPECT_EQ(first["tokens"].size(), 3u);
  ASSERT_EQ(first["entities"].size(), 2u);
  EXPECT_EQ(first["entities"][0]["text"], "Obama");
  EXPECT_EQ(first["entities"][0]["type"], "person");
  EXPECT_EQ(first["entities"][0]["start"].get<int>(), 0);
  EXPECT_EQ(first["entities"][0]["end"].get<int>(), 1);
  EXPECT_EQ(first["entities"][1]["type"], "location");
  EXPECT_EQ(first["entities"][1]["char_start"].get<int>(), 12);  // code points of the line
  EXPECT_EQ(first["entities"][1]["char_end"].get<int>(), 19);

  // Human-readable outputs mention the figures.
  auto eh = run_ragft("eval extract " + path("model") + " " + path("train.conll"));
  ASSERT_EQ(eh.exit_code, 0);
  EXPECT_NE(eh.out.find("F1 1.0000"), std::string::npos) << eh.out;
  EXPECT_NE(eh.out.find("p99"), std::string::npos) << eh.out;
}

TEST_F(ExtractCliTest, FixedConfigSkipsSelection) {
  auto t = run_ragft("train extract --train " + path("train.conll") + " --out " + path("m2") +
                     " --config tagger-knn:k=0,min_count=1 --json");
  ASSERT_EQ(t.exit_code, 0) << t.out;
  auto tj = nlohmann::json::parse(t.out);
  EXPECT_FALSE(tj.contains("selection"));
  EXPECT_EQ(tj["config"], "tagger-knn:k=0,proj_min_ratio=0,gazetteer=1,min_count=1,min_ratio=0,case=fold");
}

TEST_F(ExtractCliTest, ErrorsExitNonZero) {
  write_file(dir_ / "bad.conll", "Obama\tB-person\nlonely\n");
  // --strict turns the malformed line into an error; without it, training goes on.
  EXPECT_EQ(run_ragft("train extract --strict --train " + path("bad.conll") + " --out " + path("m")).exit_code, 1);
  EXPECT_EQ(run_ragft("train extract --train " + path("bad.conll") + " --out " + path("m") + " --json").exit_code, 0);
  EXPECT_EQ(run_ragft("eval extract " + path("missing-model") + " " + path("train.conll")).exit_code, 1);
  EXPECT_EQ(run_ragft("train extract --train " + path("none.conll") + " --out " + path("m3")).exit_code, 1);
  EXPECT_EQ(run_ragft("train extract --train " + path("train.conll") + " --out " + path("m4") +
                      " --config tagger-knn:bogus=1")
                .exit_code,
            1);
}

}  // namespace
}  // namespace ragft
