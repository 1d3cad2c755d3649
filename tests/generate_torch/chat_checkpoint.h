// A tiny chat checkpoint (random Llama weights, ChatML template, a Qwen2-like tokenizer) and a
// format task on it: the LoRA tests and decide's generation bake-off on the real engine.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embed/tokenizer_test_data.h"
#include "generate_torch/llama_test_util.h"

namespace ragft::testing {

// A chat checkpoint (ChatML template, Qwen2-like tokenizer) large enough to memorise a little.
inline std::filesystem::path write_chat_checkpoint(const std::filesystem::path& dir, int hidden = 64) {
  TinySpec s;
  s.vocab = 400;
  s.hidden = hidden;
  s.inter = 2 * hidden;
  s.heads = 4;
  s.kv_heads = 2;
  s.head_dim = hidden / 4;
  s.max_pos = 128;
  s.seed = 21;
  write_tiny(dir, s);
  std::ofstream(dir / "tokenizer.json") << testdata::bpe_json(testdata::qwen2_spec());
  std::ofstream(dir / "tokenizer_config.json")
      << nlohmann::json{{"eos_token", "<|im_end|>"},
                        {"chat_template", "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + "
                                          "'<|im_end|>\\n' }}{% endfor %}"}}
             .dump();
  return dir;
}

inline const std::vector<std::string> kWords = {"cat",  "dog",  "fish", "bird", "lion", "bear", "wolf", "frog", "duck", "goat",
                                         "mole", "seal", "crab", "moth", "wasp", "hare", "deer", "swan", "newt", "toad"};

inline std::string format_answer(const std::string& w) { return "{\"animal\": \"" + w + "\"}"; }

}  // namespace ragft::testing
