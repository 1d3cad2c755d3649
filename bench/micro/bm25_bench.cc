// Micro benchmarks of the lexical index on a synthetic Zipfian corpus (terms given, no analysis):
//   BM_Bm25Search/<chunks>/<k>      top-k BlockMax-WAND query latency, ~15-term queries
//   BM_Bm25Exhaustive/<chunks>      the exhaustive oracle on the same queries (for comparison)
//   BM_Bm25Index/<chunks>           add + commit throughput (chunks/s counter)
//   BM_PostingsDecode               block decode speed (postings/s) and bytes per posting
// The corpus: chunks of 150-200 terms drawn from a Zipf(1.0) vocabulary of 200k terms.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <random>

#include "index/lexical/bm25_index.h"
#include "index/lexical/segment.h"

namespace ragft {
namespace {

constexpr std::size_t kVocab = 200000;

class ZipfSampler {
 public:
  ZipfSampler(std::size_t n, double s) : cdf_(n) {
    double acc = 0;
    for (std::size_t i = 0; i < n; ++i) cdf_[i] = acc += 1.0 / std::pow(double(i + 1), s);
    for (auto& c : cdf_) c /= acc;
  }
  std::size_t operator()(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::min<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin(),
                                 cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

const std::vector<std::string>& vocab() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < kVocab; ++i) {
      std::string s("t");
      s.append(std::to_string(i * 7919 % 1000003));
      out.push_back(std::move(s));
    }
    return out;
  }();
  return v;
}

std::vector<std::string> make_chunk(std::mt19937_64& rng, const ZipfSampler& z) {
  std::vector<std::string> terms;
  const std::size_t len = 150 + rng() % 51;
  for (std::size_t i = 0; i < len; ++i) terms.push_back(vocab()[z(rng)]);
  return terms;
}

std::filesystem::path bench_dir(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         (std::string("ragft_bm25_bench_").append(std::to_string(::getpid())).append("_").append(name));
}

// One index per corpus size, built on first use and kept for the process lifetime.
struct Corpus {
  std::filesystem::path dir;
  std::unique_ptr<Bm25Index> index;
  std::vector<std::vector<QueryTerm>> queries;
  ~Corpus() {
    index.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Corpus& corpus(std::size_t chunks) {
  static std::map<std::size_t, std::unique_ptr<Corpus>> cache;
  auto& c = cache[chunks];
  if (c) return *c;
  c = std::make_unique<Corpus>();
  c->dir = bench_dir(std::string("corpus_").append(std::to_string(chunks)));
  std::filesystem::remove_all(c->dir);
  c->index = std::make_unique<Bm25Index>(std::move(Bm25Index::open(c->dir).value()));
  std::mt19937_64 rng(7);
  ZipfSampler z(kVocab, 1.0);
  for (std::size_t i = 0; i < chunks; ++i) {
    c->index->add(static_cast<ChunkId>(i + 1), {}, make_chunk(rng, z));
    if ((i + 1) % 250000 == 0) (void)c->index->commit(static_cast<Seq>(i + 1));
  }
  (void)c->index->commit(static_cast<Seq>(chunks));
  (void)c->index->merge(1);
  // ~15 distinct terms per query, skipping the 30 most frequent ranks (stop words).
  for (int i = 0; i < 500; ++i) {
    std::vector<QueryTerm> q;
    for (int t = 0; t < 15; ++t) {
      std::size_t r;
      do {
        r = z(rng);
      } while (r < 30);
      q.push_back({vocab()[r], 1.0f});
    }
    c->queries.push_back(std::move(q));
  }
  return *c;
}

void BM_Bm25Search(benchmark::State& state) {
  Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
  const auto k = static_cast<std::size_t>(state.range(1));
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = c.index->search(c.queries[i++ % c.queries.size()], k);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["index_MB"] = static_cast<double>(c.index->stats().bytes_on_disk) / 1e6;
}
BENCHMARK(BM_Bm25Search)->Args({10000, 10})->Args({100000, 10})->Args({100000, 100})
    ->Unit(benchmark::kMicrosecond);

void BM_Bm25Exhaustive(benchmark::State& state) {
  Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = c.index->search_exhaustive(c.queries[i++ % c.queries.size()], 10);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Bm25Exhaustive)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

void BM_Bm25Index(benchmark::State& state) {
  const auto chunks = static_cast<std::size_t>(state.range(0));
  std::mt19937_64 rng(11);
  ZipfSampler z(kVocab, 1.0);
  std::vector<std::vector<std::string>> docs;
  for (std::size_t i = 0; i < chunks; ++i) docs.push_back(make_chunk(rng, z));
  const auto dir = bench_dir("build");
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    auto idx = std::move(Bm25Index::open(dir).value());
    state.ResumeTiming();
    for (std::size_t i = 0; i < chunks; ++i) idx.add(static_cast<ChunkId>(i + 1), {}, docs[i]);
    (void)idx.commit(1);
  }
  std::filesystem::remove_all(dir);
  state.counters["chunks_per_s"] =
      benchmark::Counter(static_cast<double>(chunks * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Bm25Index)->Arg(20000)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_PostingsDecode(benchmark::State& state) {
  Corpus& c = corpus(100000);
  std::filesystem::path seg_path;
  for (const auto& e : std::filesystem::directory_iterator(c.dir)) {
    if (e.path().extension() == ".seg") seg_path = e.path();
  }
  auto seg = std::move(lexical::Segment::open(seg_path).value());
  std::uint64_t postings = 0;
  for (std::uint64_t t = 0; t < seg.n_terms(); ++t) postings += seg.info(t).df;
  std::uint32_t docs[lexical::kBlockSize], tfs[lexical::kBlockSize];
  std::uint64_t decoded = 0;
  std::uint64_t t = 0;
  for (auto _ : state) {
    const auto& ti = seg.info(t);
    for (std::uint32_t b = 0; b < ti.n_blocks; ++b) {
      decoded += seg.decode_block(ti, b, docs, tfs);
      benchmark::DoNotOptimize(docs);
    }
    t = (t + 1) % std::min<std::uint64_t>(seg.n_terms(), 2000);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(decoded));
  state.counters["bytes_per_posting"] = static_cast<double>(seg.file_size()) / static_cast<double>(postings);
}
BENCHMARK(BM_PostingsDecode);

}  // namespace
}  // namespace ragft
