// EncoderOptions (torch-free). The model itself is in neural/encoder_classifier.cc, in
// libragft_torch.so (train/neural_backend.h).
#include "train/encoder_classifier.h"

#include <cstdlib>
#include <utility>

namespace ragft {

namespace {

std::string join(const std::vector<std::string>& v, char sep) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += sep;
    s += x;
  }
  return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool parse_int(const std::string& s, int& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() || v < -(1L << 30) || v > (1L << 30)) return false;
  out = static_cast<int>(v);
  return true;
}

}  // namespace

double EncoderOptions::effective_lr() const {
  if (lr > 0) return lr;
  return mode == "full" ? 5e-5 : 5e-4;
}

std::string EncoderOptions::to_config() const {
  std::string s = fmt::format("encoder:mode={}", mode);
  if (mode == "lora") s += fmt::format(",r={},alpha={},targets={}", lora_rank, lora_alpha, join(lora_targets, '|'));
  s += fmt::format(",lr={},epochs={},patience={},batch={},maxlen={},dropout={},warmup={},wd={}", effective_lr(), epochs,
                   patience, batch_size, max_len, dropout, warmup, weight_decay);
  if (mode == "lora") s += fmt::format(",merge={}", merge_lora ? 1 : 0);
  return s;
}

Result<EncoderOptions> EncoderOptions::parse(std::string_view config) {
  EncoderOptions o;
  // "encoder", "encoder:k=v,..." or just "k=v,...".
  constexpr std::string_view kName = "encoder";
  if (config == kName || config.empty()) return o;
  if (config.substr(0, kName.size() + 1) == "encoder:") config.remove_prefix(kName.size() + 1);
  if (config.empty()) return o;
  for (const auto& kv : split(config, ',')) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument, "encoder config: \"{}\" is not key=value", kv);
    }
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    bool ok = true;
    if (k == "mode") {
      o.mode = v;
      ok = v == "lora" || v == "full";
    } else if (k == "r") {
      ok = parse_int(v, o.lora_rank) && o.lora_rank >= 1;
    } else if (k == "alpha") {
      ok = parse_double(v, o.lora_alpha) && o.lora_alpha > 0;
    } else if (k == "targets") {
      o.lora_targets = split(v, '|');
      ok = !v.empty();
    } else if (k == "lr") {
      ok = parse_double(v, o.lr) && o.lr >= 0;
    } else if (k == "epochs") {
      ok = parse_int(v, o.epochs) && o.epochs >= 1;
    } else if (k == "patience") {
      ok = parse_int(v, o.patience) && o.patience >= 1;
    } else if (k == "batch") {
      ok = parse_int(v, o.batch_size) && o.batch_size >= 1;
    } else if (k == "maxlen") {
      ok = parse_int(v, o.max_len) && o.max_len >= 2;
    } else if (k == "dropout") {
      ok = parse_double(v, o.dropout) && o.dropout >= 0 && o.dropout < 1;
    } else if (k == "warmup") {
      ok = parse_double(v, o.warmup) && o.warmup >= 0 && o.warmup <= 1;
    } else if (k == "wd") {
      ok = parse_double(v, o.weight_decay) && o.weight_decay >= 0;
    } else if (k == "merge") {
      ok = v == "0" || v == "1";
      o.merge_lora = v == "1";
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "encoder config: unknown key \"{}\" (mode, r, alpha, targets, lr, epochs, patience, batch, "
                        "maxlen, dropout, warmup, wd, merge)",
                        k);
    }
    if (!ok) return make_error(ErrorCode::kInvalidArgument, "encoder config: bad value \"{}\" for {}", v, k);
  }
  return o;
}


}  // namespace ragft
