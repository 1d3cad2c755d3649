// LoRA training (generate/torch/lora_model.h): the training forward against the inference
// engine, merged adapters, the loss mask, overfitting a format task and answering through
// `local:...,adapter=`, early stopping, determinism.
#include "generate/torch/lora_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/env.h"
#include "embed/tokenizer_test_data.h"
#include "generate/local_chat.h"
#include "generate/torch/llama.h"
#include "generate_torch/chat_checkpoint.h"
#include "generate_torch/llama_test_util.h"
#include "train/neural/schedule.h"

namespace ragft {
namespace {

using namespace testing;  // the tiny checkpoint (llama_test_util.h)

// Per-position logits of the inference engine (one token per forward, fp32).
std::vector<std::vector<float>> engine_logits(const LlamaModel& m, const std::vector<std::int32_t>& ids) {
  auto cache = m.new_cache(1, static_cast<int>(ids.size()));
  EXPECT_TRUE(cache.ok());
  std::vector<std::vector<float>> out;
  std::vector<float> logits;
  for (std::int32_t id : ids) {
    EXPECT_TRUE(m.forward(*cache, {{id}}, logits).ok());
    out.push_back(logits);
  }
  return out;
}

double max_diff_rows(const std::vector<std::vector<float>>& rows, const std::vector<float>& flat) {
  EXPECT_EQ(rows.size() * rows[0].size(), flat.size());
  double d = 0;
  for (std::size_t t = 0; t < rows.size(); ++t) {
    for (std::size_t v = 0; v < rows[t].size(); ++v) d = std::max(d, double(std::abs(rows[t][v] - flat[t * rows[t].size() + v])));
  }
  return d;
}

TEST(LoraScheduleTest, WarmupThenCosineToTheFloor) {
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(0, 11, 2, 1.0, 0.1), 0.5);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(1, 11, 2, 1.0, 0.1), 1.0);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(2, 11, 2, 1.0, 0.1), 1.0);
  EXPECT_NEAR(warmup_cosine_lr(6, 11, 2, 1.0, 0.1), 0.55, 1e-12);
  EXPECT_NEAR(warmup_cosine_lr(10, 11, 2, 1.0, 0.1), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(11, 11, 2, 1.0, 0.1), 0.1);
}

struct ForwardCase {
  const char* name;
  TinySpec spec;
};

TEST(LoraModelTest, TrainingForwardMatchesTheEngineFreshAndMerged) {
  std::vector<ForwardCase> cases;
  cases.push_back({"llama_gqa", TinySpec{}});
  TinySpec q;
  q.model_type = "qwen2";  // q/k/v biases
  q.tied = true;
  q.heads = 4;
  q.kv_heads = 1;
  q.rope_scaling = {{"rope_type", "llama3"}, {"factor", 4.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                    {"original_max_position_embeddings", 16}};
  q.seed = 9;
  cases.push_back({"qwen2_tied_llama3_rope", q});
  TinySpec w;
  w.model_type = "mistral";
  w.sliding_window = 5;
  w.seed = 4;
  cases.push_back({"mistral_window", w});
  for (const auto& fc : cases) {
    SCOPED_TRACE(fc.name);
    const auto dir = temp_dir("lora_fwd");
    write_tiny(dir / "base", fc.spec);
    std::vector<std::int32_t> ids;
    std::mt19937 rng(3);
    for (int i = 0; i < 14; ++i) ids.push_back(static_cast<std::int32_t>(rng() % fc.spec.vocab));

    LoraOptions o;
    o.rank = 4;
    o.threads = 2;
    auto lora = LoraModel::load(dir / "base", o);
    ASSERT_TRUE(lora.ok()) << lora.error().to_string();
    EXPECT_GT((*lora)->trainable_parameters(), 0u);
    auto fresh = (*lora)->logits(ids);
    ASSERT_TRUE(fresh.ok()) << fresh.error().to_string();
    LlamaOptions lo;
    lo.dtype = "fp32";
    lo.threads = 2;
    auto engine = LlamaModel::load(dir / "base", lo);
    ASSERT_TRUE(engine.ok()) << engine.error().to_string();
    const auto base_rows = engine_logits(**engine, ids);
    EXPECT_LT(max_diff_rows(base_rows, *fresh), 1e-4);  // B = 0: the base model exactly

    // A nonzero adapter: the training forward with it == the engine with it merged at load.
    const LoraAdapter a = random_lora_adapter((*lora)->config(), 4, o.targets, 11);
    ASSERT_TRUE((*lora)->set_adapter(a).ok());
    auto adapted = (*lora)->logits(ids);
    ASSERT_TRUE(adapted.ok());
    EXPECT_GT(max_diff_rows(base_rows, *adapted), 1e-2);  // the adapter matters
    ASSERT_TRUE(a.save(dir / "ad").ok());
    lo.adapter = (dir / "ad").string();
    auto merged = LlamaModel::load(dir / "base", lo);
    ASSERT_TRUE(merged.ok()) << merged.error().to_string();
    EXPECT_LT(max_diff_rows(engine_logits(**merged, ids), *adapted), 1e-4);
    // The adapter read back equals the one set.
    const LoraAdapter back = (*lora)->adapter();
    EXPECT_EQ(back.weights.at("model.layers.1.mlp.up_proj").b, a.weights.at("model.layers.1.mlp.up_proj").b);
    std::filesystem::remove_all(dir);
  }
}

TEST(LoraModelTest, LossIsOverTargetTokensOnly) {
  const auto dir = temp_dir("lora_loss");
  write_tiny(dir, TinySpec{});
  LoraOptions o;
  o.threads = 2;
  auto lora = LoraModel::load(dir, o);
  ASSERT_TRUE(lora.ok());
  const LoraAdapter a = random_lora_adapter((*lora)->config(), o.rank, o.targets, 2);
  ASSERT_TRUE((*lora)->set_adapter(a).ok());
  LoraSequence s{{5, 9, 14, 3, 27, 8, 41, 2}, {0, 0, 0, 1, 1, 0, 1, 0}};
  LoraSequence other{{7, 7, 1}, {0, 1, 1}};
  auto loss = (*lora)->loss({s, other}, 2);
  ASSERT_TRUE(loss.ok()) << loss.error().to_string();
  // By hand from the logits: -log p(ids[i] | ids[<i]) at the target positions, averaged per token.
  double sum = 0;
  int n = 0;
  for (const LoraSequence* q : {&s, &other}) {
    auto logits = (*lora)->logits(q->ids);
    ASSERT_TRUE(logits.ok());
    const std::size_t v = static_cast<std::size_t>((*lora)->config().vocab_size);
    for (std::size_t i = 1; i < q->ids.size(); ++i) {
      if (!q->target[i]) continue;
      const float* row = logits->data() + (i - 1) * v;
      double mx = *std::max_element(row, row + v), z = 0;
      for (std::size_t k = 0; k < v; ++k) z += std::exp(row[k] - mx);
      sum += -(row[q->ids[i]] - mx - std::log(z));
      ++n;
    }
  }
  EXPECT_NEAR(*loss, sum / n, 1e-4);
  // Changing a context token after the last target of `s` changes nothing.
  LoraSequence s2 = s;
  s2.ids.back() = 30;
  auto loss2 = (*lora)->loss({s2, other}, 2);
  ASSERT_TRUE(loss2.ok());
  EXPECT_NEAR(*loss2, *loss, 1e-6);
  auto none = (*lora)->loss({LoraSequence{{1, 2, 3}, {0, 0, 0}}});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

std::filesystem::path write_format_jsonl(const std::filesystem::path& path, bool contradict = false) {
  std::ofstream out(path);
  for (const auto& w : kWords) {
    ChatExample e;
    e.messages = {{ChatRole::kSystem, "Reply in JSON."}, {ChatRole::kUser, w},
                  {ChatRole::kAssistant, contradict ? "no " + w + " here" : format_answer(w)}};
    e.weight = {false, false, true};
    out << chat_example_to_jsonl(e) << "\n";
  }
  return path;
}

LoraOptions format_options() {
  auto o = LoraOptions::parse(
      "lora:rank=8,alpha=16,dropout=0,lr=0.003,epochs=100,batch=4,warmup=0.03,min_lr_ratio=0.1,max_length=128,seed=3,"
      "threads=1,format=auto");
  EXPECT_TRUE(o.ok());
  return *o;
}

TEST(LoraTrainTest, OverfitsAFormatTaskAndTheLocalChatModelAnswersInIt) {
  const auto dir = temp_dir("lora_fmt");
  write_chat_checkpoint(dir / "base");
  TrainGenerateRequest r;
  r.base = dir / "base";
  r.train = write_format_jsonl(dir / "train.jsonl");
  r.out = dir / "adapter";
  r.options = format_options();
  std::size_t steps_seen = 0;
  r.on_step = [&](const TrainProgress& p) { steps_seen += p.epoch_end ? 0 : 1; };
  auto report = train_generate(r);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->train_examples, 20u);
  EXPECT_EQ(report->steps, 500u);  // 100 epochs x 5 steps
  EXPECT_EQ(steps_seen, 500u);
  EXPECT_EQ(report->history.size(), 100u);
  // From ~6 (uniform over 400 tokens) to below 0.35 per answer token: the fixed format is
  // certain, the word copied from the prompt nearly so.
  EXPECT_GT(report->history.front().train_loss, 2.0);
  EXPECT_LT(report->history.back().train_loss, 0.35);
  EXPECT_GT(report->tokens, report->target_tokens);
  EXPECT_GT(report->tokens_per_second, 0);
  auto json = Env::posix().read_file(dir / "adapter" / "lora_report.json");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(nlohmann::json::parse(*json)["steps"], 500);

  auto chat = make_chat_model("local:path=" + (dir / "base").string() + ",threads=2,adapter=" + (dir / "adapter").string());
  ASSERT_TRUE(chat.ok()) << chat.error().to_string();
  auto plain = make_chat_model("local:path=" + (dir / "base").string() + ",threads=2");
  ASSERT_TRUE(plain.ok());
  int base_right = 0;
  for (const auto& w : kWords) {
    ChatRequest q;
    q.messages = {{ChatRole::kSystem, "Reply in JSON."}, {ChatRole::kUser, w}};
    q.max_tokens = 24;
    auto a = (*chat)->complete(q);
    ASSERT_TRUE(a.ok()) << a.error().to_string();
    EXPECT_EQ(a->text, format_answer(w));
    EXPECT_EQ(a->finish_reason, "stop");  // it learned to end the turn
    auto b = (*plain)->complete(q);
    ASSERT_TRUE(b.ok());
    base_right += b->text == format_answer(w);
  }
  EXPECT_EQ(base_right, 0);
  // Unseen words: the format carries over (the word itself is not copied by so small a model).
  for (const char* w : {"yak", "pony", "ant", "eel"}) {
    ChatRequest q;
    q.messages = {{ChatRole::kSystem, "Reply in JSON."}, {ChatRole::kUser, w}};
    q.max_tokens = 24;
    auto a = (*chat)->complete(q);
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(a->text.starts_with("{\"animal\": \"") && a->text.ends_with("\"}")) << w << " -> " << a->text;
    EXPECT_EQ(a->finish_reason, "stop");
  }
  std::filesystem::remove_all(dir);
}

TEST(LoraTrainTest, EarlyStoppingKeepsTheBestAdapterWhenValidationWorsens) {
  const auto dir = temp_dir("lora_es");
  write_chat_checkpoint(dir / "base", 32);
  TrainGenerateRequest r;
  r.base = dir / "base";
  r.train = write_format_jsonl(dir / "train.jsonl");
  r.validation = write_format_jsonl(dir / "val.jsonl", /*contradict=*/true);
  r.out = dir / "adapter";
  r.options = format_options();
  r.options.patience = 2;
  r.options.epochs = 30;
  auto report = train_generate(r);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_TRUE(report->early_stopped);
  EXPECT_LT(report->epochs_run, 30);
  EXPECT_LT(report->best_step, report->steps);
  ASSERT_GE(report->history.size(), 3u);
  // The last `patience` evaluations are worse than the best.
  for (std::size_t i = report->history.size() - 2; i < report->history.size(); ++i) {
    EXPECT_GT(report->history[i].val_loss, report->best_val_loss);
  }
  // The adapter on disk is the best one: its validation loss is the best one reported.
  auto adapter = LoraAdapter::load(dir / "adapter");
  ASSERT_TRUE(adapter.ok()) << adapter.error().to_string();
  auto model = LoraModel::load(dir / "base", r.options);
  ASSERT_TRUE(model.ok());
  ASSERT_TRUE((*model)->set_adapter(*adapter).ok());
  auto tmpl = load_chat_template(dir / "base", "auto");
  ASSERT_TRUE(tmpl.ok());
  auto val = read_chat_jsonl(r.validation);
  ASSERT_TRUE(val.ok());
  auto vd = tokenize_chat_examples(*tmpl, *val, 128);
  ASSERT_TRUE(vd.ok());
  auto loss = (*model)->loss(vd->sequences, r.options.batch);
  ASSERT_TRUE(loss.ok());
  EXPECT_NEAR(*loss, report->best_val_loss, 1e-4);
  std::filesystem::remove_all(dir);
}

TEST(LoraTrainTest, SameSeedSameAdapter) {
  const auto dir = temp_dir("lora_det");
  write_chat_checkpoint(dir / "base", 32);
  TrainGenerateRequest r;
  r.base = dir / "base";
  r.train = write_format_jsonl(dir / "train.jsonl");
  r.validation_share = 0.2;
  r.options = format_options();
  r.options.epochs = 2;
  r.options.dropout = 0.1;
  r.options.accum = 2;
  std::vector<std::string> bytes;
  for (std::uint64_t seed : {5u, 5u, 6u}) {
    r.options.seed = seed;
    r.out = dir / ("out" + std::to_string(bytes.size()));
    auto report = train_generate(r);
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    EXPECT_EQ(report->train_examples, 16u);
    EXPECT_EQ(report->validation_examples, 4u);
    auto b = Env::posix().read_file(r.out / "adapter_model.safetensors");
    ASSERT_TRUE(b.ok());
    bytes.push_back(*b);
  }
  EXPECT_EQ(bytes[0], bytes[1]);
  EXPECT_NE(bytes[0], bytes[2]);
  std::filesystem::remove_all(dir);
}

TEST(LoraTrainTest, AdapterForAnotherCheckpointIsRejectedAtLoad) {
  const auto dir = temp_dir("lora_wrong");
  write_chat_checkpoint(dir / "small", 32);
  write_chat_checkpoint(dir / "large", 64);
  auto c = LlamaConfig::load(dir / "small" / "config.json");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(random_lora_adapter(*c, 4, {"q_proj"}, 1).save(dir / "ad").ok());
  auto chat = make_chat_model("local:path=" + (dir / "large").string() + ",adapter=" + (dir / "ad").string());
  ASSERT_FALSE(chat.ok());
  EXPECT_EQ(chat.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(chat.error().message.find("base_model.model.model.layers.0.self_attn.q_proj.lora_"), std::string::npos)
      << chat.error().message;
  auto missing = make_chat_model("local:path=" + (dir / "small").string() + ",adapter=" + (dir / "none").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragft
