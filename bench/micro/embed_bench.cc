// BERT embedding throughput: chunks/s of BertEmbedder::embed (tokenise, sort by length, batch,
// forward, pool, normalise) against a plain libtorch forward + mean pooling of the same
// already-tokenised batches (same batch size, same padded lengths), on a random BERT-base-sized
// checkpoint (hidden 768, 12 layers, 12 heads, intermediate 3072, vocabulary 30522) written to a
// temporary directory. Target (issue): the pipeline within 1.5x of the plain forward.
//
// Built as its own binary, ragft_embed_bench, only with libtorch. One iteration per benchmark
// (a pass over 256 chunks of BERT-base takes about a minute on two cores); RAGFT_BENCH_CHUNKS
// changes the number of chunks, RAGFT_THREADS the intra-op threads.
//   counters: chunks_per_s (the pipeline), plain_chunks_per_s, ratio = pipeline time / plain time
// The plain forward of bf16 is the whole BertModel converted to bfloat16; int8 has no plain
// counterpart (compare its chunks_per_s with fp32's).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "embed/bert.h"
#include "embed/safetensors.h"
#include "embed/torch/bert_embedder.h"
#include "embed/torch_guard.h"

namespace {

namespace fs = std::filesystem;
using namespace ragft;

constexpr int kBatch = 32;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

// A random BERT-base checkpoint and chunk-like texts of 96..160 single-token words (~128).
struct Fixture {
  fs::path dir;
  std::vector<std::string> texts;

  Fixture() {
    init_torch_threads();
    std::string tmpl = (fs::temp_directory_path() / "ragft_embed_bench_XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    dir = tmpl;
    BertConfig c;  // bert-base
    std::ofstream(dir / "config.json") << c.to_json().dump(2);
    std::vector<std::string> words;
    std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (int i = 5; i < c.vocab_size; ++i) {
      // Letters only, so the basic tokenizer keeps each word whole: "baaa", "caaa", ...
      std::string w;
      for (int x = i; x > 0; x /= 26) w += static_cast<char>('a' + x % 26);
      words.push_back(w);
      vocab += w + "\n";
    }
    std::ofstream(dir / "vocab.txt") << vocab;
    {
      torch::NoGradGuard g;
      BertModel m(c, /*with_pooler=*/false, /*init=*/true);
      if (!write_safetensors(dir / "model.safetensors", export_parameters(*m), {{"format", "pt"}}).ok()) std::abort();
    }
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> len(96, 160);
    std::uniform_int_distribution<std::size_t> word(0, words.size() - 1);
    const int n = env_int("RAGFT_BENCH_CHUNKS", 256);
    for (int i = 0; i < n; ++i) {
      std::string t;
      for (int k = len(rng); k > 0; --k) t += (t.empty() ? "" : " ") + words[word(rng)];
      texts.push_back(std::move(t));
    }
  }
  ~Fixture() { fs::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// The batches BertEmbedder::embed runs: ids sorted by length (longest first), `kBatch` at a
// time, padded to the longest of the batch.
std::vector<std::pair<torch::Tensor, torch::Tensor>> batches_of(const BertEmbedder& e,
                                                                const std::vector<std::string>& texts) {
  std::vector<std::vector<std::int32_t>> ids;
  for (const auto& t : texts) ids.push_back(e.encode(t));
  std::stable_sort(ids.begin(), ids.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
  for (std::size_t s = 0; s < ids.size(); s += kBatch) {
    const std::size_t end = std::min(ids.size(), s + kBatch);
    const auto b = static_cast<std::int64_t>(end - s), t = static_cast<std::int64_t>(ids[s].size());
    torch::Tensor x = torch::zeros({b, t}, torch::kLong), m = torch::zeros({b, t}, torch::kLong);
    auto xa = x.accessor<std::int64_t, 2>();
    auto ma = m.accessor<std::int64_t, 2>();
    for (std::int64_t r = 0; r < b; ++r) {
      const auto& row = ids[s + static_cast<std::size_t>(r)];
      for (std::size_t j = 0; j < row.size(); ++j) {
        xa[r][static_cast<std::int64_t>(j)] = row[j];
        ma[r][static_cast<std::int64_t>(j)] = 1;
      }
    }
    out.emplace_back(x, m);
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void BM_BertEmbed(benchmark::State& state, const std::string& dtype) {
  Fixture& f = fixture();
  BertEmbedderOptions o;
  o.path = f.dir.string();
  o.dtype = dtype;
  o.batch = kBatch;
  auto loaded = BertEmbedder::load(o);
  if (!loaded.ok()) {
    state.SkipWithError(loaded.error().to_string().c_str());
    return;
  }
  BertEmbedder& e = **loaded;
  std::vector<float> out;
  // Warm-up: allocator and oneDNN primitive caches.
  const std::vector<std::string> few(f.texts.begin(), f.texts.begin() + std::min<std::size_t>(4, f.texts.size()));
  if (!e.embed(few, EmbedRole::kDocument, out).ok()) {
    state.SkipWithError("embed failed");
    return;
  }

  // The plain forward: the checkpoint's BertModel (converted to bf16 for dtype=bf16).
  BertModel plain{nullptr};
  std::vector<std::pair<torch::Tensor, torch::Tensor>> batches;
  if (dtype != "int8") {
    auto ck = load_bert_checkpoint(f.dir);
    if (!ck.ok()) {
      state.SkipWithError(ck.error().to_string().c_str());
      return;
    }
    plain = ck->model;
    if (dtype == "bf16") plain->to(torch::kBFloat16);
    batches = batches_of(e, f.texts);
  }
  auto plain_pass = [&](std::size_t limit) {
    torch::InferenceMode guard;
    float sink = 0;
    for (std::size_t i = 0; i < batches.size() && i < limit; ++i) {
      torch::Tensor h = plain->forward(batches[i].first, batches[i].second);
      torch::Tensor p = mean_pool(h, batches[i].second).to(torch::kFloat).contiguous();
      sink += p.data_ptr<float>()[0];
    }
    benchmark::DoNotOptimize(sink);
  };
  if (plain) plain_pass(1);  // warm-up

  double pipeline_s = 0, plain_s = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    if (!e.embed(f.texts, EmbedRole::kDocument, out).ok()) {
      state.SkipWithError("embed failed");
      return;
    }
    pipeline_s += seconds_since(t0);
    if (plain) {
      state.PauseTiming();
      auto t1 = std::chrono::steady_clock::now();
      plain_pass(batches.size());
      plain_s += seconds_since(t1);
      state.ResumeTiming();
    }
  }
  const double chunks = static_cast<double>(f.texts.size() * state.iterations());
  state.counters["chunks_per_s"] = chunks / pipeline_s;
  state.counters["threads"] = torch::get_num_threads();
  if (plain) {
    state.counters["plain_chunks_per_s"] = chunks / plain_s;
    state.counters["ratio"] = pipeline_s / plain_s;
  }
  state.SetLabel(e.model_id().substr(e.model_id().find(',') + 1));
}

BENCHMARK_CAPTURE(BM_BertEmbed, fp32, std::string("fp32"))->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_BertEmbed, bf16, std::string("bf16"))->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_BertEmbed, int8, std::string("int8"))->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
