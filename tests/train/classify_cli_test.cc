// ragft train classify / eval classify / predict through the binary, on a tiny data set.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "apps/test_util.h"

namespace ragft {
namespace {

using testing::quote;
using testing::run_ragft;

class ClassifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("ragft-classify-cli-");
    std::string jsonl;
    const char* sport[] = {"football goal", "match team", "score player", "coach league", "stadium referee", "goal match"};
    const char* food[] = {"pizza pasta", "bread cheese", "soup salad", "butter garlic", "onion pepper", "pasta soup"};
    for (const char* s : sport) jsonl += fmt::format("{{\"text\": \"we saw {}\", \"label\": \"sport\"}}\n", s);
    for (const char* s : food) jsonl += fmt::format("{{\"text\": \"i like {}\", \"label\": \"food\"}}\n", s);
    jsonl += "{broken\n";
    data_ = dir_ / "train.jsonl";
    testing::write_file(data_, jsonl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string train_args() const {
    return "--train " + quote(data_.string()) + " --format jsonl --epochs 25,50 --bucket 10000 --dim 20";
  }

  std::filesystem::path dir_, data_;
};

TEST_F(ClassifyCliTest, TrainAllEvalPredict) {
  std::filesystem::path out = dir_ / "models";
  auto r = run_ragft("--json train classify " + train_args() + " --eval " + quote(data_.string()) +
                     " --contender all --members linear,knn --out " + quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["data"]["examples"], 12);
  EXPECT_EQ(j["data"]["leakage"]["count"], 12);  // eval = train: every text leaks
  ASSERT_EQ(j["models"].size(), 3u);
  for (const auto& m : j["models"]) {
    EXPECT_DOUBLE_EQ(m["eval"]["accuracy"].get<double>(), 1.0) << m.dump();
    EXPECT_GT(m["bytes_on_disk"].get<int>(), 0);
  }
  for (const char* kind : {"linear", "knn", "combo"}) EXPECT_TRUE(std::filesystem::exists(out / kind / "model.json"));

  auto e = run_ragft("--json eval classify " + quote((out / "combo").string()) + " " + quote(data_.string()) +
                     " --format jsonl");
  ASSERT_EQ(e.exit_code, 0) << e.out;
  auto ej = nlohmann::json::parse(e.out);
  EXPECT_EQ(ej["n"], 12);
  EXPECT_DOUBLE_EQ(ej["accuracy"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(ej["macro_f1"].get<double>(), 1.0);
  EXPECT_EQ(ej["confusion"], nlohmann::json({{6, 0}, {0, 6}}));
  EXPECT_GT(ej["latency_us_p50"].get<double>(), 0.0);
  EXPECT_EQ(ej["kind"], "combo");

  auto text = run_ragft("eval classify " + quote((out / "knn").string()) + " " + quote(data_.string()));
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("accuracy 1.0000"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("confusion"), std::string::npos);

  std::filesystem::path in = dir_ / "in.txt";
  testing::write_file(in, "a goal for the team\npizza with cheese\n");
  auto p = run_ragft("predict " + quote((out / "linear").string()) + " " + quote(in.string()));
  ASSERT_EQ(p.exit_code, 0);
  EXPECT_EQ(p.out.substr(0, 6), "sport\t");
  EXPECT_NE(p.out.find("\nfood\t"), std::string::npos) << p.out;
  auto pj = run_ragft("--json predict " + quote((out / "combo").string()) + " " + quote(in.string()));
  ASSERT_EQ(pj.exit_code, 0);
  auto first = nlohmann::json::parse(pj.out.substr(0, pj.out.find('\n')));
  EXPECT_EQ(first["text"], "a goal for the team");
  EXPECT_EQ(first["labels"][0]["label"], "sport");
  EXPECT_EQ(first["labels"].size(), 2u);
}

TEST_F(ClassifyCliTest, SingleContenderTextOutput) {
  std::filesystem::path out = dir_ / "knn";
  auto r = run_ragft("train classify " + train_args() + " --contender knn --out " + quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("data: 12 examples, 2 labels"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("knn"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(out / "model.json"));
  EXPECT_TRUE(std::filesystem::exists(out / "index"));
}

TEST_F(ClassifyCliTest, Errors) {
  std::string out = quote((dir_ / "m").string());
  EXPECT_NE(run_ragft("train classify --train " + quote(data_.string()) + " --format xml --out " + out).exit_code, 0);
  EXPECT_NE(run_ragft("train classify " + train_args() + " --strict --out " + out).exit_code, 0);  // the broken line
  std::filesystem::path csv = dir_ / "d.csv";
  testing::write_file(csv, "sentence,y\nhello,a\n");
  EXPECT_NE(run_ragft("train classify --train " + quote(csv.string()) + " --format csv --out " + out).exit_code, 0);
  EXPECT_EQ(run_ragft("train classify --train " + quote(csv.string()) +
                      " --format csv --text-column sentence --label-column y --contender knn --out " + out)
                .exit_code,
            0);
  std::filesystem::path empty = dir_ / "empty.jsonl";
  testing::write_file(empty, "\n");
  EXPECT_NE(run_ragft("train classify --train " + quote(empty.string()) + " --out " + out).exit_code, 0);
  EXPECT_NE(run_ragft("train classify --train /nonexistent.jsonl --out " + out).exit_code, 0);
  EXPECT_NE(run_ragft("predict " + quote((dir_ / "nomodel").string())).exit_code, 0);
}

}  // namespace
}  // namespace ragft
