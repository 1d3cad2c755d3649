#include "embed/bert_embedder_options.h"

#include "core/config_string.h"

namespace ragft {

namespace {

constexpr const char* kKnown = "path, pool, batch, maxlen, dtype, threads";

// An integer >= lo (config_int's message is replaced by the caller's, which names the range).
bool to_int(std::string_view v, int lo, int* out) {
  auto r = config_int("bert", "", v, lo, 1 << 30);
  if (!r.ok()) return false;
  *out = static_cast<int>(*r);
  return true;
}

}  // namespace

std::string BertEmbedderOptions::to_config() const {
  return fmt::format("bert:path={},pool={},batch={},maxlen={},dtype={},threads={}", path, pool, batch, max_len, dtype,
                     threads);
}

Result<BertEmbedderOptions> BertEmbedderOptions::parse(std::string_view config) {
  // A path holding ',' splits into a second item: say so when an item does not parse.
  const bool has_path = config.find("path=") != std::string_view::npos;
  const std::string comma_hint = has_path ? " (a checkpoint path may not contain ',')" : "";
  auto items = config_items(config, "bert");
  if (!items.ok()) return make_error(ErrorCode::kInvalidArgument, "{}{}", items.error().message, comma_hint);
  BertEmbedderOptions o;
  bool path_seen = false;
  for (const auto& [key, value] : *items) {
    std::string_view k = key, v = value;
    bool ok = true;
    if (k == "path") {
      ok = !v.empty();
      o.path = std::string(v);
      path_seen = true;
    } else if (k == "pool") {
      ok = v == "mean" || v == "cls";
      if (ok) o.pool = std::string(v);
    } else if (k == "batch") {
      ok = to_int(v, 1, &o.batch);
    } else if (k == "maxlen") {
      ok = to_int(v, 2, &o.max_len);
    } else if (k == "dtype") {
      ok = v == "fp32" || v == "bf16" || v == "int8";
      if (ok) o.dtype = std::string(v);
    } else if (k == "threads") {
      ok = to_int(v, 0, &o.threads);
    } else {
      return make_error(ErrorCode::kInvalidArgument, "bert config \"{}\": unknown option \"{}\" (known: {}){}", config,
                        k, kKnown, comma_hint);
    }
    if (!ok) {
      const char* expected = k == "path"     ? "a checkpoint directory"
                             : k == "pool"   ? "mean or cls"
                             : k == "batch"  ? "an integer >= 1"
                             : k == "maxlen" ? "an integer >= 2"
                             : k == "dtype"  ? "fp32, bf16 or int8"
                                             : "an integer >= 0";
      return make_error(ErrorCode::kInvalidArgument, "bert config \"{}\": {}=\"{}\" is not valid (expected {})", config,
                        k, v, expected);
    }
  }
  if (!path_seen) {
    return make_error(ErrorCode::kInvalidArgument,
                      "bert config \"{}\": path=DIR (the checkpoint directory) is required", config);
  }
  return o;
}

}  // namespace ragft
