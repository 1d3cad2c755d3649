// The extraction bake-off on a tiny generated CoNLL data set: arms, intervals, comparisons,
// cache, profile and freshness. The neural arms run when libragft_torch.so is built (with a tiny
// network, through RAGFT_DECIDE_TAGGER_NEURAL); without it they must be skipped cleanly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "decide/bakeoff.h"
#include "train/neural_backend.h"

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;

const fs::path kTorchLib = fs::path(RAGFT_BINARY_DIR) / "bin" / "libragft_torch.so";
// Under AddressSanitizer a process that has loaded libtorch crashes in LeakSanitizer's tracer at
// exit (tests/apps/test_util.h), so the sanitizer build tests the path without the library; the
// release build tests the neural arms.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kLoadTorch = false;
#else
constexpr bool kLoadTorch = true;
#endif

// Before main(): neural_backend() loads its library once per process, so the path must be set
// before any test can call it. A tiny network keeps the neural arms to a fraction of a second.
const bool kEnvSet = [] {
  if (kLoadTorch && fs::exists(kTorchLib)) {
    ::setenv("RAGFT_TORCH_LIB", kTorchLib.c_str(), 0);
  } else {
    ::setenv("RAGFT_TORCH_LIB", "/nonexistent/libragft_torch.so", 1);
  }
  ::setenv("RAGFT_DECIDE_TAGGER_NEURAL",
           "wdim=16,cdim=8,cfilters=16,sdim=4,hidden=16,epochs=4,patience=2,batch=8,unk_drop=0.1", 0);
  return true;
}();

const std::vector<std::vector<std::string>> kPeople = {
    {"Anna"}, {"Boris"}, {"Carla", "Diaz"}, {"Dmitri"}, {"Eva", "Lund"}, {"Farid"}, {"Greta"}, {"Hugo", "Perez"}};
const std::vector<std::vector<std::string>> kPlaces = {{"Paris"}, {"Oslo"}, {"New", "York"}, {"Lima"}, {"Cairo"}};

struct Builder {
  std::string text;
  void word(const std::string& w) { text += w + "\tO\n"; }
  void words(std::initializer_list<const char*> ws) {
    for (const char* w : ws) word(w);
  }
  void entity(const std::vector<std::string>& tokens, const std::string& type) {
    for (std::size_t i = 0; i < tokens.size(); ++i) text += tokens[i] + (i == 0 ? "\tB-" : "\tI-") + type + "\n";
  }
  void end() { text += "\n"; }
};

// `n` sentences from four templates; people are about two thirds of the entities.
std::string sentences(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto person = [&] { return kPeople[rng() % kPeople.size()]; };
  auto place = [&] { return kPlaces[rng() % kPlaces.size()]; };
  Builder b;
  for (std::size_t i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0:  // one person, one place
        b.word("yesterday"), b.entity(person(), "PER"), b.word("visited"), b.entity(place(), "LOC"), b.word(".");
        break;
      case 1:  // two people
        b.entity(person(), "PER"), b.word("and"), b.entity(person(), "PER"), b.words({"had", "lunch", "."});
        break;
      case 2:  // one place
        b.words({"the", "train", "to"}), b.entity(place(), "LOC"), b.words({"left", "early", "."});
        break;
      default:  // one person
        b.words({"we", "asked"}), b.entity(person(), "PER"), b.words({"about", "the", "report", "."});
        break;
    }
    b.end();
  }
  return b.text;
}

class BakeoffExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ragft-bakeoff-extract-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write("train.conll", sentences(60, 1));
    write("eval.conll", sentences(20, 2));
    project_.name = "tiny ner";
    project_.task = TaskType::kExtraction;
    project_.data.train = dir_ / "train.conll";
    project_.data.eval = dir_ / "eval.conll";
    project_.bakeoff.freshness = 0.2;
    project_.bakeoff.bootstrap_samples = 200;
    options_.cache_dir = dir_ / "cache";
    options_.log = [this](const std::string& line) { log_.push_back(line); };
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  static bool have_torch() { return neural_backend().ok(); }

  fs::path dir_;
  Project project_;
  BakeoffOptions options_;
  std::vector<std::string> log_;
};

const ArmResult* find_arm(const Bakeoff& b, const std::string& id) {
  for (const auto& a : b.arms) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

TEST_F(BakeoffExtractTest, MeasuresArmsComparesAndCaches) {
  if (kLoadTorch && fs::exists(kTorchLib)) {
    EXPECT_TRUE(have_torch()) << "libragft_torch.so is built but does not load";
  }
  auto r = run_bakeoff(project_, options_);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Bakeoff& b = *r;
  EXPECT_EQ(b.metric["name"], "f1");
  EXPECT_EQ(b.metric["label"], "entity F1");
  EXPECT_EQ(b.metric["higher_is_better"], true);
  EXPECT_EQ(b.labeled_examples.value_or(-1), 60);
  EXPECT_EQ(b.cached_arms, 0u);

  std::vector<std::string> ids;
  for (const auto& a : b.arms) ids.push_back(a.id);
  if (have_torch()) {
    EXPECT_EQ(ids, (std::vector<std::string>{"baseline", "rag", "fine_tuned", "fine_tuned_rag"}));
  } else {
    EXPECT_EQ(ids, (std::vector<std::string>{"baseline", "rag"}));
    bool logged = false;
    for (const auto& l : log_) logged |= l.find("fine_tuned, fine_tuned_rag: skipped") != std::string::npos;
    EXPECT_TRUE(logged);
  }
  for (const auto& a : b.arms) {
    SCOPED_TRACE(a.id);
    EXPECT_GE(a.quality.value, 0.0);
    EXPECT_LE(a.quality.value, 1.0);
    EXPECT_LE(a.quality.low, a.quality.value);
    EXPECT_GE(a.quality.high, a.quality.value);
    EXPECT_EQ(a.latency_ms.size(), 20u);
    EXPECT_TRUE(a.per_item.empty());
    EXPECT_EQ(a.extra["counts"].size(), 20u);
    EXPECT_FALSE(a.config.empty());
    EXPECT_FALSE(a.cached);
    if (a.id != "baseline") {
      EXPECT_GT(a.build_seconds, 0.0);
      EXPECT_GT(a.disk_bytes, 0u);
      EXPECT_TRUE(fs::exists(options_.cache_dir / "models" / a.id / "model.json"));
    }
  }
  const ArmResult* base = find_arm(b, "baseline");
  const ArmResult* rag = find_arm(b, "rag");
  ASSERT_TRUE(base && rag);
  EXPECT_EQ(base->quality.value, 0.0);
  EXPECT_EQ(base->quality.high, 0.0);
  // Every eval entity was seen in training: the kNN tagger's gazetteer finds most of them.
  EXPECT_GT(rag->quality.value, 0.8);
  EXPECT_TRUE(rag->capabilities.cites);
  EXPECT_TRUE(rag->capabilities.acl);
  EXPECT_EQ(rag->capabilities.update, "incremental");
  if (const ArmResult* ft = find_arm(b, "fine_tuned")) {
    EXPECT_FALSE(ft->capabilities.cites);
    EXPECT_EQ(ft->capabilities.update, "retrain");
    EXPECT_NE(ft->config.find("tagger-neural:"), std::string::npos);
    EXPECT_NE(ft->config.find("epochs=4"), std::string::npos);
  }
  if (const ArmResult* combo = find_arm(b, "fine_tuned_rag")) {
    EXPECT_TRUE(combo->capabilities.cites);
    EXPECT_FALSE(combo->capabilities.acl);
    EXPECT_TRUE(combo->extra.contains("rule"));
  }

  // Every pair once, in arm order.
  ASSERT_TRUE(b.comparisons.is_array());
  EXPECT_EQ(b.comparisons.size(), b.arms.size() * (b.arms.size() - 1) / 2);
  for (const auto& c : b.comparisons) {
    for (const char* k : {"a", "b", "diff", "ci_low", "ci_high", "distinguishable"}) EXPECT_TRUE(c.contains(k)) << k;
    EXPECT_LE(c["ci_low"].get<double>(), c["diff"].get<double>());
    EXPECT_GE(c["ci_high"].get<double>(), c["diff"].get<double>());
  }
  EXPECT_EQ(b.comparisons[0]["a"], "baseline");
  EXPECT_EQ(b.comparisons[0]["b"], "rag");
  EXPECT_NEAR(b.comparisons[0]["diff"].get<double>(), -rag->quality.value, 1e-12);
  EXPECT_EQ(b.comparisons[0]["distinguishable"], true);

  // Profile.
  const auto& prof = b.profile;
  EXPECT_TRUE(prof["corpus"].is_null());
  EXPECT_EQ(prof["eval"]["items"], 20);
  EXPECT_EQ(prof["eval"]["unit"], "sentences");
  const auto& lab = prof["labeled"];
  EXPECT_EQ(lab["examples"], 60);
  EXPECT_EQ(lab["train"]["sentences"], 60);
  EXPECT_TRUE(lab["train"]["entities_per_type"].contains("PER"));
  EXPECT_TRUE(lab["train"]["entities_per_type"].contains("LOC"));
  EXPECT_EQ(lab["eval"]["sentences"], 20);
  EXPECT_EQ(lab["unseen_share"], 0.0);
  EXPECT_FALSE(lab.contains("dev"));
  EXPECT_EQ(lab["entity_types"], (nlohmann::json{"LOC", "PER"}));

  // Freshness: LOC (a third of the entities) is closest to 0.2.
  const auto& fr = b.freshness;
  ASSERT_TRUE(fr.is_object()) << fr.dump();
  EXPECT_EQ(fr["entity_type"], "LOC");
  EXPECT_NE(fr["description"].get<std::string>().find("\"LOC\""), std::string::npos);
  EXPECT_EQ(fr["new_items"], 10);  // the eval sentences of templates 0 and 2
  ASSERT_TRUE(fr["arms"].is_array());
  EXPECT_EQ(fr["arms"].size(), b.arms.size() - 1);
  for (const auto& row : fr["arms"]) {
    SCOPED_TRACE(row.dump());
    for (const char* k : {"id", "update", "time_to_fresh_s", "before", "after"}) EXPECT_TRUE(row.contains(k)) << k;
    // No tagger can emit a type it never saw.
    EXPECT_EQ(row["before"]["value"], 0.0);
    EXPECT_EQ(row["recall_before"], 0.0);
    EXPECT_GE(row["time_to_fresh_s"].get<double>(), 0.0);
  }
  EXPECT_EQ(fr["arms"][0]["id"], "rag");
  EXPECT_EQ(fr["arms"][0]["update"], "re-index");
  EXPECT_GT(fr["arms"][0]["after"]["value"].get<double>(), 0.8);

  // Second run: everything from the cache, same figures.
  log_.clear();
  auto again = run_bakeoff(project_, options_);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->cached_arms, b.arms.size());
  ASSERT_EQ(again->arms.size(), b.arms.size());
  for (std::size_t i = 0; i < b.arms.size(); ++i) {
    EXPECT_TRUE(again->arms[i].cached);
    EXPECT_EQ(again->arms[i].quality.value, b.arms[i].quality.value);
    EXPECT_EQ(again->arms[i].quality.low, b.arms[i].quality.low);
    EXPECT_EQ(again->arms[i].quality.high, b.arms[i].quality.high);
    EXPECT_EQ(again->arms[i].config, b.arms[i].config);
  }
  EXPECT_EQ(again->comparisons, b.comparisons);
  EXPECT_EQ(again->freshness, b.freshness);
}

TEST_F(BakeoffExtractTest, FinishedArmsAreReusedByALaterFullRun) {
  project_.bakeoff.freshness = 0;
  project_.bakeoff.arms = {"baseline", "rag"};
  auto two = run_bakeoff(project_, options_);
  ASSERT_TRUE(two.ok()) << two.error().to_string();
  ASSERT_EQ(two->arms.size(), 2u);
  project_.bakeoff.arms = {"baseline", "rag", "fine_tuned", "fine_tuned_rag"};
  auto all = run_bakeoff(project_, options_);
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  EXPECT_EQ(all->cached_arms, 2u);
  ASSERT_GE(all->arms.size(), 2u);
  EXPECT_TRUE(all->arms[1].cached);
  EXPECT_EQ(all->arms[1].quality.value, two->arms[1].quality.value);
  EXPECT_EQ(all->arms.size(), have_torch() ? 4u : 2u);
}

TEST_F(BakeoffExtractTest, ProfileAndDevFileAndNoFreshness) {
  write("dev.conll", sentences(12, 3));
  project_.data.dev = dir_ / "dev.conll";
  project_.bakeoff.freshness = 0;
  project_.bakeoff.arms = {"baseline", "rag"};
  auto prof = profile_project(project_, options_);
  ASSERT_TRUE(prof.ok()) << prof.error().to_string();
  for (const char* k : {"corpus", "labeled", "eval"}) EXPECT_TRUE(prof->contains(k)) << k;
  EXPECT_EQ((*prof)["labeled"]["dev"]["sentences"], 12);
  EXPECT_TRUE((*prof)["labeled"]["dev"].contains("unseen_share"));

  auto r = run_bakeoff(project_, options_);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->arms.size(), 2u);
  EXPECT_TRUE(r->freshness.is_null());
  EXPECT_NE(r->arms[1].note.find("chosen on dev"), std::string::npos) << r->arms[1].note;
  EXPECT_EQ(r->profile, *prof);
}

TEST_F(BakeoffExtractTest, EmptyEvalFileIsAnInvalidArgument) {
  write("eval.conll", "\n\n");
  auto r = run_bakeoff(project_, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("data.eval"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ragft::decide
