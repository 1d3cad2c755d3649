// ragft train classify with the neural contender and the combination through the binary.
#include <sys/wait.h>

#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "apps/test_util.h"

namespace ragft {
namespace {

using testing::quote;
using testing::run_ragft;

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Exit code and stderr of `ragft ARGS`.
std::pair<int, std::string> run_for_stderr(const std::string& args) {
  std::string cmd = testing::ragft_binary().string() + " " + args + " 2>&1 >/dev/null";
  std::string err;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) err.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, err};
}

class NeuralClassifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::skip_leak_check_in_child_processes();
    dir_ = testing::make_temp_dir("ragft-neural-classify-cli-");
    std::string jsonl;
    const char* sport[] = {"football goal", "match team", "score player", "coach league", "stadium referee", "goal match"};
    const char* food[] = {"pizza pasta", "bread cheese", "soup salad", "butter garlic", "onion pepper", "pasta soup"};
    for (const char* s : sport) jsonl += fmt::format("{{\"text\": \"we saw {}\", \"label\": \"sport\"}}\n", s);
    for (const char* s : food) jsonl += fmt::format("{{\"text\": \"i like {}\", \"label\": \"food\"}}\n", s);
    data_ = dir_ / "train.jsonl";
    testing::write_file(data_, jsonl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string train_args() const {
    return "--train " + quote(data_.string()) + " --eval " + quote(data_.string()) +
           " --epochs 25 --bucket 10000 --dim 20"
           " --neural \"emb=16,filters=16,epochs=30,lr=0.01,dropout=0.1,batch=4,vocab=100\"";
  }

  std::filesystem::path dir_, data_;
};

TEST_F(NeuralClassifyCliTest, TrainNeuralEvalPredict) {
  std::filesystem::path out = dir_ / "neural";
  auto r = run_ragft("--json train classify " + train_args() + " --validation 0 --contender neural --out " +
                     quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["kind"], "neural");
  EXPECT_DOUBLE_EQ(j["models"][0]["eval"]["accuracy"].get<double>(), 1.0);
  for (const char* f : {"model.json", "weights.pt", "vocab.txt"}) EXPECT_TRUE(std::filesystem::exists(out / f)) << f;

  auto e = run_ragft("--json eval classify " + quote(out.string()) + " " + quote(data_.string()));
  ASSERT_EQ(e.exit_code, 0) << e.out;
  auto ej = nlohmann::json::parse(e.out);
  EXPECT_EQ(ej["kind"], "neural");
  EXPECT_DOUBLE_EQ(ej["accuracy"].get<double>(), 1.0);
  EXPECT_GT(ej["latency_us_p99"].get<double>(), 0.0);
  EXPECT_GT(ej["load_ms"].get<double>(), 0.0);  // a figure, not a timed assertion (bench/ measures load time)

  std::filesystem::path in = dir_ / "in.txt";
  testing::write_file(in, "we saw a goal\ni like cheese\n");
  auto p = run_ragft("predict " + quote(out.string()) + " " + quote(in.string()));
  ASSERT_EQ(p.exit_code, 0);
  EXPECT_EQ(p.out.substr(0, 6), "sport\t") << p.out;
  EXPECT_NE(p.out.find("\nfood\t"), std::string::npos) << p.out;
}

TEST_F(NeuralClassifyCliTest, AllTrainsEveryMemberAndTheCombination) {
  std::filesystem::path out = dir_ / "all";
  auto r = run_ragft("--json train classify " + train_args() + " --validation 0.34 --contender all --out " +
                     quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> kinds;
  for (const auto& m : j["models"]) kinds.push_back(m["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"linear", "knn", "neural", "combo"}));
  auto man = nlohmann::json::parse(read_text(out / "combo" / "model.json"));
  double sum = 0;
  for (const auto& m : man["extra"]["members"]) sum += m["weight"].get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_EQ(man["extra"]["members"].size(), 3u);
  EXPECT_TRUE(std::filesystem::exists(out / "combo" / "neural" / "weights.pt"));
}

TEST_F(NeuralClassifyCliTest, BadNeuralSettingsFailClearly) {
  auto [code, err] = run_for_stderr("train classify --train " + quote(data_.string()) +
                                     " --contender neural --neural arch=lstm --out " + quote((dir_ / "x").string()));
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("arch=\"lstm\""), std::string::npos) << err;
  auto [mcode, merr] = run_for_stderr("train classify --train " + quote(data_.string()) +
                                      " --contender combo --members linear,svm --out " + quote((dir_ / "y").string()));
  EXPECT_EQ(mcode, 1);
  EXPECT_NE(merr.find("\"svm\""), std::string::npos) << merr;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x"));
}

// libtorch is loaded on demand (train/neural_backend.h): the ragft binary itself does not need
// it, so commands that never touch a neural model do not pay its start-up.
TEST(NeuralBackendTest, RagftDoesNotLinkLibtorch) {
  auto [code, out] = run_for_stderr("--help");  // stderr only; the binary must start
  EXPECT_EQ(code, 0) << out;
  std::string cmd = "readelf -d " + quote(testing::ragft_binary().string()) + " 2>&1";
  std::string dyn;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) dyn.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << dyn;
  ASSERT_NE(dyn.find("(NEEDED)"), std::string::npos) << dyn;
  EXPECT_EQ(dyn.find("libtorch"), std::string::npos) << dyn;
  EXPECT_EQ(dyn.find("libc10"), std::string::npos) << dyn;
  EXPECT_TRUE(std::filesystem::exists(testing::ragft_binary().parent_path() / "libragft_torch.so"));
}

}  // namespace
}  // namespace ragft
