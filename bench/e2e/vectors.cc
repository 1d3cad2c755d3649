// Dense search at scale: N vectors of dimension D in an HNSW index (index/vector), top-10
// latency on one thread and recall@10 against exact (flat) search, at several efSearch values.
//
//   vectors [--n 1000000] [--dim 384] [--queries 200] [--m 32] [--efc 80] [--efs 32,64,128,256]
//
// Data: embedding-like synthetic vectors, not uniform noise: 2000 cluster centres drawn from a
// standard normal, each vector a centre plus Gaussian noise of norm ~0.9 of the centre's (cosine
// to its own centre ~0.75, to other centres ~0), L2-normalised. Queries are fresh draws from the
// same process. One JSON line per efSearch value, plus one for the build.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evaluate/latency.h"
#include "index/vector/vector_index.h"

using namespace ragft;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long peak_rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

std::vector<float> draw(std::size_t n, int dim, const std::vector<float>& centres, std::size_t n_centres,
                        std::mt19937_64& rng) {
  std::normal_distribution<float> normal;
  const std::size_t d = static_cast<std::size_t>(dim);
  const float noise = 0.9f;
  std::vector<float> v(n * d);
  for (std::size_t i = 0; i < n; ++i) {
    const float* c = &centres[(rng() % n_centres) * d];
    for (std::size_t k = 0; k < d; ++k) v[i * d + k] = c[k] + noise * normal(rng);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1000000, n_queries = 200;
  int dim = 384, m = 32, efc = 80;
  std::vector<int> efs = {32, 64, 128, 256};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--n") n = std::stoul(v);
    else if (k == "--dim") dim = std::stoi(v);
    else if (k == "--queries") n_queries = std::stoul(v);
    else if (k == "--m") m = std::stoi(v);
    else if (k == "--efc") efc = std::stoi(v);
    else if (k == "--efs") {
      efs.clear();
      for (std::size_t p = 0; p < v.size();) {
        std::size_t c = v.find(',', p);
        efs.push_back(std::stoi(v.substr(p, c - p)));
        p = c == std::string::npos ? v.size() : c + 1;
      }
    } else {
      fmt::print(stderr, "unknown option {}\n", k);
      return 2;
    }
  }
  const std::size_t d = static_cast<std::size_t>(dim);
  std::mt19937_64 rng(1);
  constexpr std::size_t kCentres = 2000;
  std::vector<float> centres(kCentres * d);
  std::normal_distribution<float> normal;
  for (float& x : centres) x = normal(rng);
  const std::vector<float> data = draw(n, dim, centres, kCentres, rng);
  const std::vector<float> queries = draw(n_queries, dim, centres, kCentres, rng);
  std::vector<ChunkId> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<ChunkId>(i + 1);

  VectorIndexOptions o;
  o.kind = "hnsw";
  o.dim = dim;
  o.metric = "cosine";
  o.hnsw_m = m;
  o.ef_construction = efc;
  auto hnsw = VectorIndex::create(o);
  if (!hnsw.ok()) return fmt::print(stderr, "{}\n", hnsw.error().to_string()), 1;
  double t0 = now_s();
  constexpr std::size_t kAddBatch = 100000;
  for (std::size_t b = 0; b < n; b += kAddBatch) {
    const std::size_t e = std::min(n, b + kAddBatch);
    std::vector<ChunkId> batch(ids.begin() + static_cast<std::ptrdiff_t>(b), ids.begin() + static_cast<std::ptrdiff_t>(e));
    Status s = hnsw->add(batch, data.data() + b * d);
    if (!s.ok()) return fmt::print(stderr, "{}\n", s.error().to_string()), 1;
    fmt::print(stderr, "\radded {}/{} ({:.0f} s)", e, n, now_s() - t0);
  }
  const double build_s = now_s() - t0;
  fmt::print(stderr, "\n");

  // Exact top-10 by a flat index (its own copy of the data).
  auto flat_o = VectorIndexOptions::parse(fmt::format("flat:dim={},metric=cosine", dim));
  auto flat = VectorIndex::create(*flat_o);
  if (!flat->add(ids, data.data()).ok()) return 1;
  std::vector<std::set<ChunkId>> truth(n_queries);
  std::vector<double> flat_ms;
  for (std::size_t q = 0; q < n_queries; ++q) {
    double s0 = now_s();
    auto top = flat->search(queries.data() + q * d, 10);
    flat_ms.push_back((now_s() - s0) * 1e3);
    for (const auto& h : top) truth[q].insert(h.id);
  }
  fmt::print("{}\n", nlohmann::json{{"bench", "vectors"}, {"phase", "build"}, {"n", n}, {"dim", dim},
                                    {"config", hnsw->options().to_config()}, {"build_seconds", build_s},
                                    {"add_per_second", static_cast<double>(n) / build_s},
                                    {"flat_p50_ms", percentile(flat_ms, 0.5)}, {"peak_rss_mb", peak_rss_mb()}}
                         .dump());
  for (int ef : efs) {
    hnsw->set_ef_search(ef);
    std::vector<double> ms;
    double hits = 0;
    for (int rep = 0; rep < 3; ++rep) {
      for (std::size_t q = 0; q < n_queries; ++q) {
        double s0 = now_s();
        auto top = hnsw->search(queries.data() + q * d, 10);
        ms.push_back((now_s() - s0) * 1e3);
        if (rep == 0) {
          for (const auto& h : top) hits += truth[q].count(h.id);
        }
      }
    }
    fmt::print("{}\n", nlohmann::json{{"bench", "vectors"}, {"phase", "search"}, {"n", n}, {"dim", dim}, {"efs", ef},
                                      {"recall@10", hits / (10.0 * static_cast<double>(n_queries))},
                                      {"p50_ms", percentile(ms, 0.5)}, {"p95_ms", percentile(ms, 0.95)},
                                      {"p99_ms", percentile(ms, 0.99)}, {"queries", n_queries}}
                           .dump());
    std::fflush(stdout);
  }
  return 0;
}
