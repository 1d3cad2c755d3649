// Internal to libragft_torch.so: reading a Llama-family checkpoint's weights (shared by the
// inference engine, llama.cc, and the LoRA trainer, lora_model.cc), rotary frequencies, and the
// LoRA delta merged at load. Includes torch; not for torch-free code.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "embed/safetensors.h"
#include "generate/llama_config.h"

namespace ragft {

struct LoraAdapter;

namespace llama_detail {

namespace fs = std::filesystem;

// "[2, 3]"
std::string shape_str(c10::IntArrayRef s);

// The checkpoint's weight files: model.safetensors, or the shards of model.safetensors.index.json.
class WeightFiles {
 public:
  static Result<WeightFiles> open(const fs::path& dir) {
    WeightFiles w;
    std::error_code ec;
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(index, ec)) {
      RAGFT_TRY(std::string text, Env::posix().read_file(index));
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(text);
      } catch (const std::exception& e) {
        return make_error(ErrorCode::kCorrupt, "{}: not valid JSON: {}", index.string(), e.what());
      }
      auto map = j.is_object() ? j.find("weight_map") : j.end();
      if (!j.is_object() || map == j.end() || !map->is_object()) {
        return make_error(ErrorCode::kCorrupt, "{}: missing object \"weight_map\"", index.string());
      }
      std::map<std::string, std::size_t> file_ids;
      for (auto it = map->begin(); it != map->end(); ++it) {
        if (!it.value().is_string()) {
          return make_error(ErrorCode::kCorrupt, "{}: weight_map[\"{}\"] must be a file name", index.string(),
                            it.key());
        }
        const std::string file = it.value().get<std::string>();
        if (file.empty() || file.find('/') != std::string::npos || file.find('\\') != std::string::npos ||
            file == "." || file == "..") {
          return make_error(ErrorCode::kCorrupt, "{}: weight_map[\"{}\"] = \"{}\" is not a file name in the directory",
                            index.string(), it.key(), file);
        }
        auto [pos, added] = file_ids.emplace(file, w.files_.size());
        if (added) {
          RAGFT_TRY(SafetensorsFile f, SafetensorsFile::open(dir / file));
          w.files_.push_back(std::move(f));
        }
        if (!w.files_[pos->second].find(it.key())) {
          return make_error(ErrorCode::kCorrupt, "{}: lists tensor \"{}\" in {}, which does not hold it",
                            index.string(), it.key(), file);
        }
        w.where_[it.key()] = pos->second;
      }
      if (w.files_.empty()) return make_error(ErrorCode::kCorrupt, "{}: the weight_map is empty", index.string());
      return w;
    }
    const fs::path single = dir / "model.safetensors";
    if (!fs::exists(single, ec)) {
      if (fs::exists(dir / "pytorch_model.bin", ec) || fs::exists(dir / "pytorch_model.bin.index.json", ec)) {
        return make_error(ErrorCode::kUnsupported,
                          "{}: only safetensors weights are read, not pytorch_model.bin (convert the checkpoint to "
                          "safetensors)",
                          dir.string());
      }
      return make_error(ErrorCode::kNotFound, "{}: no model.safetensors or model.safetensors.index.json",
                        dir.string());
    }
    RAGFT_TRY(SafetensorsFile f, SafetensorsFile::open(single));
    w.files_.push_back(std::move(f));
    return w;
  }

  // The tensor and the file holding it; {nullptr, nullptr} when there is none.
  std::pair<const TensorView*, const SafetensorsFile*> find(const std::string& name) const {
    if (where_.empty()) return {files_[0].find(name), &files_[0]};
    auto it = where_.find(name);
    if (it == where_.end()) return {nullptr, nullptr};
    const SafetensorsFile& f = files_[it->second];
    return {f.find(name), &f};
  }

  std::string names() const {
    std::string s;
    for (const auto& f : files_) s += (s.empty() ? "" : ", ") + fs::path(f.name()).filename().string();
    return s;
  }

 private:
  std::vector<SafetensorsFile> files_;
  std::map<std::string, std::size_t> where_;  // tensor -> files_ index; empty for one file
};

// F32/BF16/F16/F64 -> the torch dtype; others -> kCorrupt.
Result<torch::ScalarType> torch_dtype_of(DType d);

// Copies tensor `name` into `dst` (contiguous), converting its dtype. With `delta` (fp32, dst's
// shape) the tensor is read as fp32, delta is added, and the sum converted into dst. A missing
// tensor or a wrong shape -> kCorrupt naming the file and tensor.
Status load_into(const WeightFiles& files, const std::string& name, torch::Tensor dst,
                 const torch::Tensor* delta = nullptr);

// transformers' default inverse frequencies (in fp32 as it computes them), then the config's
// scaling (dynamic scaling changes the base instead: dynamic_base).
std::vector<float> inv_frequencies(const LlamaConfig& c, double base);
// Dynamic NTK scaling: the base for a forward whose longest sequence is `seq_len` positions.
double dynamic_base(const LlamaConfig& c, std::int64_t seq_len);

// (alpha / r) B A [out, in] fp32 for `module` (lora_module() naming), or an undefined tensor
// when the adapter does not adapt it.
torch::Tensor lora_delta(const LoraAdapter& adapter, const std::string& module);

}  // namespace llama_detail
}  // namespace ragft
