// NeuralTaggerOptions config strings (torch-free: the CLI parses them without loading libtorch).
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "core/config_string.h"
#include "train/neural_tagger.h"

namespace ragft {

namespace {

Result<double> parse_double(std::string_view key, std::string_view v, double lo, double hi) {
  std::string s(v);
  char* endp = nullptr;
  double d = std::strtod(s.c_str(), &endp);
  if (s.empty() || endp != s.c_str() + s.size() || !(d >= lo && d <= hi)) {
    return make_error(ErrorCode::kInvalidArgument, "tagger-neural config: {}=\"{}\" must be a number in [{}, {}]",
                      key, v, lo, hi);
  }
  return d;
}

Result<std::uint64_t> parse_uint(std::string_view key, std::string_view v, std::uint64_t lo, std::uint64_t hi) {
  std::string s(v);
  char* endp = nullptr;
  unsigned long long n = std::strtoull(s.c_str(), &endp, 10);
  if (s.empty() || s[0] == '-' || s[0] == '+' || endp != s.c_str() + s.size() || n < lo || n > hi) {
    return make_error(ErrorCode::kInvalidArgument, "tagger-neural config: {}=\"{}\" must be an integer in [{}, {}]",
                      key, v, lo, hi);
  }
  return static_cast<std::uint64_t>(n);
}

}  // namespace

std::string NeuralTaggerOptions::to_config() const {
  return fmt::format(
      "tagger-neural:wdim={},cdim={},cfilters={},sdim={},hidden={},layers={},dropout={},unk_drop={},min_count={},"
      "lr={},wd={},clip={},batch={},epochs={},patience={},warmup={},seed={}",
      wdim, cdim, cfilters, sdim, hidden, layers, dropout, unk_drop, min_count, lr, weight_decay, clip, batch, epochs,
      patience, warmup, seed);
}

Result<NeuralTaggerOptions> NeuralTaggerOptions::parse(std::string_view config) {
  NeuralTaggerOptions o;
  RAGFT_TRY(auto items, config_items(config, "tagger-neural"));
  for (const auto& [key_s, v_s] : items) {
    std::string_view key = key_s, v = v_s;
    auto size = [&](std::size_t& dst, std::uint64_t lo, std::uint64_t hi) -> Status {
      RAGFT_TRY(std::uint64_t n, parse_uint(key, v, lo, hi));
      dst = static_cast<std::size_t>(n);
      return ok_status();
    };
    auto real = [&](double& dst, double lo, double hi) -> Status {
      RAGFT_TRY(dst, parse_double(key, v, lo, hi));
      return ok_status();
    };
    Status st;
    if (key == "wdim") st = size(o.wdim, 1, 2048);
    else if (key == "cdim") st = size(o.cdim, 0, 512);
    else if (key == "cfilters") st = size(o.cfilters, 1, 2048);
    else if (key == "sdim") st = size(o.sdim, 0, 256);
    else if (key == "hidden") st = size(o.hidden, 2, 4096);
    else if (key == "layers") st = size(o.layers, 1, 4);
    else if (key == "dropout") st = real(o.dropout, 0, 0.9);
    else if (key == "unk_drop") st = real(o.unk_drop, 0, 1);
    else if (key == "min_count") st = size(o.min_count, 1, 1000000);
    else if (key == "lr") st = real(o.lr, 1e-6, 10);
    else if (key == "wd") st = real(o.weight_decay, 0, 1);
    else if (key == "clip") st = real(o.clip, 0, 1e6);
    else if (key == "batch") st = size(o.batch, 1, 4096);
    else if (key == "epochs") st = size(o.epochs, 1, 1000);
    else if (key == "patience") st = size(o.patience, 1, 1000);
    else if (key == "warmup") st = real(o.warmup, 0, 0.5);
    else if (key == "seed") {
      RAGFT_TRY(o.seed, parse_uint(key, v, 0, UINT64_MAX));
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "tagger-neural config: unknown key \"{}\" (known: wdim, cdim, cfilters, sdim, hidden, layers, "
                        "dropout, unk_drop, min_count, lr, wd, clip, batch, epochs, patience, warmup, seed)",
                        key);
    }
    if (!st.ok()) return st.take_error();
  }
  if (o.hidden % 2 != 0) {
    return make_error(ErrorCode::kInvalidArgument, "tagger-neural config: hidden={} must be even (half per direction)",
                      o.hidden);
  }
  return o;
}

}  // namespace ragft
