// The torch-free side of LoRA fine-tuning: options, chat JSONL, rendering with loss masks,
// adapters in PEFT's layout and merging them into a checkpoint on disk.
#include "generate/lora.h"

#include <gtest/gtest.h>

#include <fstream>

#include "embed/safetensors.h"
#include "embed/subword_tokenizer.h"
#include "embed/tokenizer_test_data.h"
#include "generate/chat_format.h"
#include "generate_torch/llama_test_util.h"

namespace ragft {
namespace {

using namespace testing;  // write_tiny, temp_dir (llama_test_util.h: header-only, no torch)

std::filesystem::path write_file(const std::string& tag, const std::string& text) {
  const auto dir = temp_dir(tag);
  std::ofstream(dir / "data.jsonl") << text;
  return dir / "data.jsonl";
}

TEST(LoraOptionsTest, DefaultsAndCustomValuesRoundTrip) {
  const LoraOptions d;
  EXPECT_EQ(d.to_config(),
            "lora:rank=8,alpha=16,dropout=0.05,targets=q_proj+k_proj+v_proj+o_proj+gate_proj+up_proj+down_proj,"
            "lr=0.0002,weight_decay=0,epochs=3,batch=4,accum=1,warmup=0.03,min_lr_ratio=0.1,patience=2,eval_steps=0,"
            "max_length=1024,clip=1,seed=42,threads=0,format=auto");
  auto p = LoraOptions::parse(d.to_config());
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->to_config(), d.to_config());
  // Targets are kept in canonical order whatever order they are given in.
  auto c = LoraOptions::parse("lora:rank=4,alpha=8,targets=v_proj+q_proj,lr=0.001,seed=7,format=chatml,eval_steps=5");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->rank, 4);
  EXPECT_DOUBLE_EQ(c->scale(), 2.0);
  EXPECT_EQ(c->targets, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(c->seed, 7u);
  auto again = LoraOptions::parse(c->to_config());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->to_config(), c->to_config());
}

TEST(LoraOptionsTest, ErrorsNameTheKey) {
  for (const char* bad : {"lora:rank=0", "lora:rank=x", "lora:dropout=1.5", "lora:targets=q_proj+lm_head",
                          "lora:targets=", "lora:lr=-1", "lora:format=vicuna", "lora:epochs=0", "lora:colour=red"}) {
    auto r = LoraOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
    const std::string key = std::string(bad).substr(5, std::string(bad).find('=') - 5);
    EXPECT_NE(r.error().message.find(key == "targets" ? "targets" : key), std::string::npos) << r.error().message;
  }
}

TEST(ChatJsonlTest, ReadsExamplesWeightsAndWritesThemBack) {
  const auto path = write_file("jsonl",
                               R"({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]})"
                               "\n\n"
                               R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","weight":0},{"role":"user","content":"c"},{"role":"assistant","content":"d","weight":1}]})"
                               "\n");
  auto ex = read_chat_jsonl(path);
  ASSERT_TRUE(ex.ok()) << ex.error().to_string();
  ASSERT_EQ(ex->size(), 2u);
  EXPECT_EQ((*ex)[0].messages.size(), 3u);
  EXPECT_EQ((*ex)[0].messages[0].role, ChatRole::kSystem);
  EXPECT_EQ((*ex)[0].weight, (std::vector<bool>{false, false, true}));
  EXPECT_EQ((*ex)[1].weight, (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(chat_example_to_jsonl((*ex)[1]),
            R"({"messages":[{"content":"a","role":"user"},{"content":"b","role":"assistant","weight":0},{"content":"c","role":"user"},{"content":"d","role":"assistant"}]})");
  std::filesystem::remove_all(path.parent_path());
}

TEST(ChatJsonlTest, ErrorsNameFileAndLine) {
  const std::string ok = R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not valid JSON"},
      {R"({"msgs":[]})", "messages"},
      {R"({"messages":[{"role":"user","content":"q"}]})", "last message must be the assistant's"},
      {R"({"messages":[{"role":"robot","content":"q"},{"role":"assistant","content":"a"}]})", "robot"},
      {R"({"messages":[{"role":"user","content":3},{"role":"assistant","content":"a"}]})", "content"},
      {R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","weight":2}]})", "weight"},
      {R"({"messages":[{"role":"system","content":"s"},{"role":"assistant","content":"a"}]})", "no user message"},
  };
  for (const auto& [line, what] : cases) {
    const auto path = write_file("jsonl_err", ok + "\n" + line + "\n");
    auto r = read_chat_jsonl(path);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(path.string() + ":2"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
    std::filesystem::remove_all(path.parent_path());
  }
  auto missing = read_chat_jsonl("/nonexistent/train.jsonl");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// A checkpoint directory with only the tokenizer (Qwen2-like byte-level BPE, ChatML template).
std::filesystem::path write_tokenizer_dir() {
  const auto dir = temp_dir("lora_tok");
  std::ofstream(dir / "tokenizer.json") << testdata::bpe_json(testdata::qwen2_spec());
  std::ofstream(dir / "tokenizer_config.json")
      << nlohmann::json{{"eos_token", "<|im_end|>"}, {"chat_template", "{{ '<|im_start|>' }}"}}.dump();
  return dir;
}

TEST(LoraDataTest, OnlyWeightedAssistantTurnsAreTargets) {
  const auto dir = write_tokenizer_dir();
  auto t = load_chat_template(dir, "auto");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  ASSERT_EQ(t->format, ChatFormat::kChatMl);
  ChatExample e;
  e.messages = {{ChatRole::kSystem, "sys"}, {ChatRole::kUser, "one"}, {ChatRole::kAssistant, "first answer"},
                {ChatRole::kUser, "two"}, {ChatRole::kAssistant, "second answer"}};
  e.weight = {false, false, true, false, true};
  auto d = tokenize_chat_examples(*t, {e}, 1024);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  ASSERT_EQ(d->sequences.size(), 1u);
  const LoraSequence& s = d->sequences[0];
  ASSERT_EQ(s.ids.size(), s.target.size());
  // The whole sequence is the ChatML rendering of the conversation; the prompt before the last
  // turn is exactly what the local chat model renders at inference.
  std::vector<ChatMessage> before(e.messages.begin(), e.messages.end() - 1);
  const std::string prompt = *render_chat(ChatFormat::kChatMl, before);
  EXPECT_EQ(t->tokenizer->decode(s.ids), prompt + "second answer<|im_end|>");
  // Targets: each assistant turn and its end-of-turn token, nothing else.
  std::vector<std::int32_t> targets, runs;
  std::string target_text;
  for (std::size_t i = 0; i < s.ids.size(); ++i) {
    if (s.target[i]) targets.push_back(s.ids[i]);
    if (s.target[i] && (i == 0 || !s.target[i - 1])) runs.push_back(static_cast<std::int32_t>(i));
  }
  EXPECT_EQ(runs.size(), 2u);
  EXPECT_EQ(t->tokenizer->decode(targets), "first answer<|im_end|>second answer<|im_end|>");
  EXPECT_EQ(s.ids.back(), t->tokenizer->id("<|im_end|>"));
  EXPECT_EQ(s.target.back(), 1);

  // Weight 0 on the first turn: only the second is a target; no weighted turn at all: dropped.
  e.weight[2] = false;
  auto d2 = tokenize_chat_examples(*t, {e}, 1024);
  ASSERT_TRUE(d2.ok());
  targets.clear();
  for (std::size_t i = 0; i < d2->sequences[0].ids.size(); ++i) {
    if (d2->sequences[0].target[i]) targets.push_back(d2->sequences[0].ids[i]);
  }
  EXPECT_EQ(t->tokenizer->decode(targets), "second answer<|im_end|>");
  e.weight[4] = false;
  auto d3 = tokenize_chat_examples(*t, {e}, 1024);
  ASSERT_TRUE(d3.ok());
  EXPECT_TRUE(d3->sequences.empty());
  EXPECT_EQ(d3->dropped_no_target, 1u);
  // Too long: dropped and counted, never truncated.
  e.weight[4] = true;
  auto d4 = tokenize_chat_examples(*t, {e}, 10);
  ASSERT_TRUE(d4.ok());
  EXPECT_TRUE(d4->sequences.empty());
  EXPECT_EQ(d4->dropped_too_long, 1u);
  std::filesystem::remove_all(dir);
}

TEST(LoraDataTest, FormatsRenderTheTurnAsTheirTemplates) {
  const auto dir = write_tokenizer_dir();
  auto t = load_chat_template(dir, "auto");
  ASSERT_TRUE(t.ok());
  ChatExample e;
  e.messages = {{ChatRole::kUser, "u1"}, {ChatRole::kAssistant, "a1"}, {ChatRole::kUser, "u2"}, {ChatRole::kAssistant, " a2 "}};
  e.weight = {false, true, false, true};
  // Mistral: {bos}[INST] u1 [/INST]a1{eos}[INST] u2 [/INST] a2 {eos} with bos/eos as text.
  t->format = ChatFormat::kMistral;
  t->bos = "<|endoftext|>";
  auto d = tokenize_chat_examples(*t, {e}, 1024);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(t->tokenizer->decode(d->sequences[0].ids),
            "<|endoftext|>[INST] u1 [/INST]a1<|im_end|>[INST] u2 [/INST] a2 <|im_end|>");
  // Llama 2 needs alternating turns: an assistant turn first is an error naming the example.
  ChatExample bad;
  bad.messages = {{ChatRole::kAssistant, "x"}, {ChatRole::kUser, "y"}, {ChatRole::kAssistant, "z"}};
  bad.weight = {true, false, true};
  t->format = ChatFormat::kLlama2;
  auto r = tokenize_chat_examples(*t, {e, bad}, 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("example 2"), std::string::npos) << r.error().message;
  std::filesystem::remove_all(dir);
}

TEST(LoraAdapterTest, SavesPeftLayoutAndLoadsExactly) {
  const auto dir = temp_dir("lora_adapter");
  TinySpec s;
  const TinyModel m = write_tiny(dir / "base", s);
  auto c = LlamaConfig::load(dir / "base" / "config.json");
  ASSERT_TRUE(c.ok());
  const LoraAdapter a = random_lora_adapter(*c, 4, {"q_proj", "v_proj", "down_proj"}, 3);
  ASSERT_TRUE(a.save(dir / "ad").ok());
  // PEFT's names and shapes.
  auto f = SafetensorsFile::open(dir / "ad" / "adapter_model.safetensors");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tensors().size(), 2u * 3u * static_cast<std::size_t>(s.layers));
  const auto* qa = f->find("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight");
  const auto* qb = f->find("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
  const auto* db = f->find("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
  ASSERT_TRUE(qa && qb && db);
  EXPECT_EQ(qa->shape, (std::vector<std::int64_t>{4, s.hidden}));
  EXPECT_EQ(qb->shape, (std::vector<std::int64_t>{s.heads * s.head_dim, 4}));
  EXPECT_EQ(db->shape, (std::vector<std::int64_t>{s.hidden, 4}));
  std::ifstream in(dir / "ad" / "adapter_config.json");
  const auto cfg = nlohmann::json::parse(in);
  EXPECT_EQ(cfg["peft_type"], "LORA");
  EXPECT_EQ(cfg["task_type"], "CAUSAL_LM");
  EXPECT_EQ(cfg["r"], 4);
  EXPECT_EQ(cfg["lora_alpha"], 8.0);
  EXPECT_EQ(cfg["bias"], "none");
  EXPECT_EQ(cfg["target_modules"], nlohmann::json({"q_proj", "v_proj", "down_proj"}));

  auto b = LoraAdapter::load(dir / "ad");
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(b->rank, 4);
  EXPECT_EQ(b->alpha, 8.0);
  EXPECT_EQ(b->targets, a.targets);
  ASSERT_EQ(b->weights.size(), a.weights.size());
  for (const auto& [name, p] : a.weights) {
    EXPECT_EQ(b->weights.at(name).a, p.a) << name;
    EXPECT_EQ(b->weights.at(name).b, p.b) << name;
  }
  EXPECT_TRUE(b->check(*c).ok());

  // An adapter for another architecture: kCorrupt naming the tensor.
  TinySpec wide = s;
  wide.hidden = 48;
  const TinyModel w = write_tiny(dir / "wide", wide);
  auto wc = LlamaConfig::load(dir / "wide" / "config.json");
  ASSERT_TRUE(wc.ok());
  Status st = b->check(*wc);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(st.error().message.find("base_model.model.model.layers.0."), std::string::npos) << st.error().message;
  TinySpec deep = s;
  deep.layers = 1;
  write_tiny(dir / "deep", deep);
  auto dc = LlamaConfig::load(dir / "deep" / "config.json");
  ASSERT_TRUE(dc.ok());
  st = b->check(*dc);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("layers.1"), std::string::npos) << st.error().message;
  std::filesystem::remove_all(dir);
}

TEST(LoraAdapterTest, DamagedAdaptersAreClearErrors) {
  const auto dir = temp_dir("lora_bad");
  std::map<std::string, TensorData> t;
  std::vector<float> v(8, 0.5f);
  t["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = TensorData::from_f32({2, 4}, v.data(), 8);
  auto write = [&](const nlohmann::json& cfg) {
    std::ofstream(dir / "adapter_config.json") << cfg.dump();
    ASSERT_TRUE(write_safetensors(dir / "adapter_model.safetensors", t).ok());
  };
  nlohmann::json cfg = {{"peft_type", "LORA"}, {"r", 2}, {"lora_alpha", 4}, {"target_modules", {"q_proj"}}};
  write(cfg);
  auto half = LoraAdapter::load(dir);  // lora_B missing
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(half.error().message.find("self_attn.q_proj"), std::string::npos) << half.error().message;
  t["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = TensorData::from_f32({4, 2}, v.data(), 8);
  write(cfg);
  EXPECT_TRUE(LoraAdapter::load(dir).ok());
  cfg["r"] = 3;  // ranks disagree with the tensors
  write(cfg);
  auto rank = LoraAdapter::load(dir);
  ASSERT_FALSE(rank.ok());
  EXPECT_EQ(rank.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(rank.error().message.find("lora_A.weight"), std::string::npos) << rank.error().message;
  cfg["r"] = 2;
  t["base_model.model.lm_head.lora_A.weight"] = TensorData::from_f32({2, 4}, v.data(), 8);
  write(cfg);
  auto other = LoraAdapter::load(dir);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(other.error().message.find("lm_head"), std::string::npos) << other.error().message;
  t.erase("base_model.model.lm_head.lora_A.weight");
  cfg["peft_type"] = "IA3";
  write(cfg);
  auto ia3 = LoraAdapter::load(dir);
  ASSERT_FALSE(ia3.ok());
  EXPECT_EQ(ia3.error().code, ErrorCode::kUnsupported);
  auto none = LoraAdapter::load(dir / "missing");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(LoraMergeTest, MergedCheckpointHoldsWPlusScaledBA) {
  const auto dir = temp_dir("lora_merge");
  TinySpec s;
  s.dtype = DType::kBF16;  // merged in fp32, stored back as bf16
  const TinyModel m = write_tiny(dir / "base", s);
  std::ofstream(dir / "base" / "tokenizer.json") << "{}";
  auto c = LlamaConfig::load(dir / "base" / "config.json");
  ASSERT_TRUE(c.ok());
  const LoraAdapter a = random_lora_adapter(*c, 2, {"k_proj", "up_proj"}, 5);
  ASSERT_TRUE(a.save(dir / "ad").ok());
  ASSERT_TRUE(merge_lora_to_disk(dir / "base", dir / "ad", dir / "merged").ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "merged" / "config.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "merged" / "tokenizer.json"));
  auto f = SafetensorsFile::open(dir / "merged" / "model.safetensors");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tensors().size(), m.w.size());
  const std::string name = "model.layers.1.mlp.up_proj";
  const auto* t = f->find(name + ".weight");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->dtype, DType::kBF16);
  auto merged = to_f32(*t);
  ASSERT_TRUE(merged.ok());
  const auto& p = a.weights.at(name);
  const auto& w = m.w.at(name + ".weight");
  double max_err = 0;
  for (std::int64_t o = 0; o < p.out; ++o) {
    for (std::int64_t i = 0; i < p.in; ++i) {
      double want = w[o * p.in + i];
      for (int k = 0; k < a.rank; ++k) want += a.scale() * p.b[o * a.rank + k] * p.a[k * p.in + i];
      max_err = std::max(max_err, std::abs(want - (*merged)[o * p.in + i]) / std::max(1.0, std::abs(want)));
    }
  }
  EXPECT_LT(max_err, 1.0 / 128);  // bf16 rounding
  // Untouched tensors are copied bit for bit.
  const auto* q = f->find("model.layers.0.self_attn.q_proj.weight");
  ASSERT_TRUE(q);
  auto qv = to_f32(*q);
  ASSERT_TRUE(qv.ok());
  EXPECT_EQ(*qv, m.w.at("model.layers.0.self_attn.q_proj.weight"));
  // Output = base directory: refused.
  Status same = merge_lora_to_disk(dir / "base", dir / "ad", dir / "base");
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().code, ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragft
