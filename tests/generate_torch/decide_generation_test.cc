// decide's generation bake-off on the real engine: a tiny random chat checkpoint, a format task
// (answer {"animal": "<word>"}), the base model closed book against a LoRA adapter decide trains
// itself, scored by JSON-schema validity on words seen and unseen in training.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "decide/bakeoff.h"
#include "generate_torch/chat_checkpoint.h"

namespace ragft::decide {
namespace {

namespace fs = std::filesystem;
using ragft::testing::format_answer;
using ragft::testing::kWords;
using ragft::testing::write_chat_checkpoint;

TEST(DecideGenerationTest, LoraArmLearnsTheFormatTheBaseModelLacks) {
  const fs::path dir = fs::temp_directory_path() / ("ragft-decide-gen-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_chat_checkpoint(dir / "base");
  std::ofstream train(dir / "train.jsonl"), eval(dir / "eval.jsonl");
  for (const auto& w : kWords) train << nlohmann::json{{"id", w}, {"question", w}, {"answer", format_answer(w)}}.dump() << "\n";
  for (const std::string w : {"cat", "dog", "fish", "bird", "yak", "pony", "ant", "eel"}) {
    eval << nlohmann::json{{"id", w}, {"question", w}, {"answer", format_answer(w)}}.dump() << "\n";
  }
  train.close();
  eval.close();
  std::ofstream(dir / "schema.json")
      << R"({"type": "object", "required": ["animal"], "additionalProperties": false,
             "properties": {"animal": {"type": "string", "minLength": 1}}})";
  const std::string yaml =
      "name: animals\ntask: generation\ndata:\n  train: train.jsonl\n  eval: eval.jsonl\n"
      "bakeoff:\n  bootstrap_samples: 200\n"
      "generation:\n  llm: \"local:path=" + (dir / "base").string() + ",threads=1\"\n"
      "  lora: \"lora:rank=8,alpha=16,dropout=0,lr=0.003,epochs=100,batch=4,patience=1000,max_length=128,seed=3,threads=1\"\n"
      "  metric: json_valid\n  schema: schema.json\n  system: Reply in JSON.\n  max_tokens: 24\n"
      "  prices:\n    training: 3\n";
  auto p = parse_project(yaml, "animals.yaml", dir);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  BakeoffOptions o;
  o.cache_dir = dir / "cache";
  auto b = run_generation_bakeoff(*p, o);
  ASSERT_TRUE(b.ok()) << b.error().to_string();

  // No corpus: the retrieval arms are skipped, and said to be.
  ASSERT_EQ(b->arms.size(), 2u);
  EXPECT_EQ(b->skipped.size(), 2u);
  const ArmResult& base = b->arms[0];
  const ArmResult& tuned = b->arms[1];
  ASSERT_EQ(base.id, "baseline");
  ASSERT_EQ(tuned.id, "fine_tuned");
  // A random model writes no valid JSON; the adapter writes it for seen and unseen words alike.
  EXPECT_DOUBLE_EQ(base.quality.value, 0.0);
  // (decide keeps the adapter with the best validation loss, on two held-out words: it has the
  // format well before it memorises the words, so exact matches are not asserted.)
  EXPECT_GE(tuned.quality.value, 0.75) << tuned.extra["generative"].dump();
  EXPECT_EQ(tuned.per_item.size(), 8u);
  EXPECT_DOUBLE_EQ(tuned.extra["generative"]["format_valid"].get<double>(), tuned.quality.value);
  // The adapter is on disk in PEFT's layout; its training is priced.
  EXPECT_TRUE(fs::exists(dir / "cache" / "models" / "fine_tuned" / "adapter_config.json"));
  EXPECT_TRUE(fs::exists(dir / "cache" / "models" / "fine_tuned" / "lora_report.json"));
  const auto training_tokens = tuned.extra["tokens"]["training"].get<std::int64_t>();
  EXPECT_GT(training_tokens, 0);
  EXPECT_DOUBLE_EQ(tuned.extra["cost"]["training_usd"].get<double>(), training_tokens * 3 / 1e6);
  EXPECT_EQ(tuned.extra["training"]["train_examples"], 18);  // two of twenty held out for validation
  EXPECT_GT(tuned.extra["tokens"]["prompt_per_query"].get<double>(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ragft::decide
