// NeuralOptions config strings (torch-free, so builds without libtorch can parse them too).
#include "train/neural_classifier.h"

#include "core/config_string.h"

namespace ragft {

namespace {

std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (int x : v) {
    if (!s.empty()) s += '|';
    s += std::to_string(x);
  }
  return s;
}


}  // namespace

std::string NeuralOptions::to_config() const {
  return fmt::format(
      "neural:tokenizer={},vocab={},arch={},emb={},widths={},filters={},hidden={},dropout={},lr={},wd={},warmup={},"
      "batch={},epochs={},patience={},max_len={}",
      tokenizer, vocab, arch, emb_dim, join_ints(widths), filters, hidden, dropout, lr, weight_decay, warmup,
      batch_size, epochs, patience, max_len);
}

Result<NeuralOptions> NeuralOptions::parse(std::string_view config) {
  NeuralOptions o;
  auto bad = [](std::string_view key, std::string_view value) {
    return make_error(ErrorCode::kInvalidArgument, "neural option {}=\"{}\" is not valid", key, value);
  };
  auto to_int = [](std::string_view v, int lo, int* out) {
    auto r = config_int("neural", "", v, lo, 1 << 30);
    if (r.ok()) *out = static_cast<int>(*r);
    return r.ok();
  };
  auto to_double = [](std::string_view v, double lo, double hi, double* out) {
    auto r = config_double("neural", "", v, lo, hi);
    if (r.ok()) *out = *r;
    return r.ok();
  };
  RAGFT_TRY(auto items, config_items(config, "neural"));
  for (const auto& [key, value] : items) {
    std::string_view k = key, v = value;
    bool ok = true;
    if (k == "tokenizer") {
      ok = v == "bpe" || v == "word";
      if (ok) o.tokenizer = std::string(v);
    } else if (k == "arch") {
      ok = v == "cnn" || v == "bigru";
      if (ok) o.arch = std::string(v);
    } else if (k == "vocab") {
      ok = to_int(v, 16, &o.vocab);
    } else if (k == "emb") {
      ok = to_int(v, 1, &o.emb_dim);
    } else if (k == "widths") {
      o.widths.clear();
      std::string_view w = v;
      while (ok && !w.empty()) {
        std::size_t bar = w.find('|');
        int x = 0;
        ok = to_int(w.substr(0, bar), 1, &x);
        o.widths.push_back(x);
        w = bar == std::string_view::npos ? std::string_view{} : w.substr(bar + 1);
      }
      ok = ok && !o.widths.empty();
    } else if (k == "filters") {
      ok = to_int(v, 1, &o.filters);
    } else if (k == "hidden") {
      ok = to_int(v, 1, &o.hidden);
    } else if (k == "dropout") {
      ok = to_double(v, 0, 0.95, &o.dropout);
    } else if (k == "lr") {
      ok = to_double(v, 1e-7, 10, &o.lr);
    } else if (k == "wd") {
      ok = to_double(v, 0, 10, &o.weight_decay);
    } else if (k == "warmup") {
      ok = to_double(v, 0, 1, &o.warmup);
    } else if (k == "batch") {
      ok = to_int(v, 1, &o.batch_size);
    } else if (k == "epochs") {
      ok = to_int(v, 1, &o.epochs);
    } else if (k == "patience") {
      ok = to_int(v, 1, &o.patience);
    } else if (k == "max_len") {
      ok = to_int(v, 1, &o.max_len);
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown neural option \"{}\" (known: tokenizer, vocab, arch, emb, widths, filters, hidden, "
                        "dropout, lr, wd, warmup, batch, epochs, patience, max_len)",
                        k);
    }
    if (!ok) return bad(k, v);
  }
  return o;
}

}  // namespace ragft
