// What it costs to keep a big dense workspace up to date: a real Workspace (store, BM25 index,
// ICT embedder, flat vector index) holding N one-chunk documents, to which a few documents are
// added and caught up, round after round.
//
//   dense_catchup [--n 200000] [--dim 384] [--add 5] [--rounds 7] [--vectors flat] [--dir DIR]
//
// Two ways to save the dense index after each catch-up:
//   log      the delta log (the default): the new vectors are appended, the base file is kept
//   rewrite  compact_ratio=0,compact_min_bytes=0: every save writes the whole vectors file, as
//            every save did before the log
// and two ways to open the workspace for a BM25 query: lazily (the dense index stays on disk)
// and with the dense index loaded as well (what every open did before).
//
// Data: N synthetic documents of 12-40 words drawn (Zipf-like) from a 20000-word vocabulary.
// The embedder ("ict:dim=D,epochs=2") is trained on the first 2000 documents when the dense index
// is first built; the rest are embedded with it in one catch-up. One JSON line per measurement.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evaluate/latency.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"

using namespace ragft;
namespace fs = std::filesystem;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long peak_rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

struct Corpus {
  std::vector<std::string> vocab;
  std::discrete_distribution<std::size_t> word;
  std::mt19937_64 rng{7};

  Corpus() {
    std::vector<double> weights;
    for (std::size_t i = 0; i < 20000; ++i) {
      std::string w;
      for (std::size_t x = i + 1; x > 0; x /= 26) w.push_back(static_cast<char>('a' + x % 26));
      vocab.push_back(w + "o");
      weights.push_back(1.0 / std::pow(static_cast<double>(i + 1), 0.9));
    }
    word = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());
  }
  std::string text() {
    const std::size_t n = 12 + rng() % 29;
    std::string t;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) t.push_back(' ');
      t += vocab[word(rng)];
    }
    return t;
  }
};

Status put_docs(Store& store, Corpus& corpus, std::size_t begin, std::size_t end) {
  constexpr std::size_t kBatch = 2000;
  for (std::size_t b = begin; b < end; b += kBatch) {
    std::vector<std::pair<NewDocument, std::vector<NewChunk>>> batch;
    for (std::size_t i = b; i < std::min(end, b + kBatch); ++i) {
      NewDocument d;
      d.ext_id = fmt::format("doc{}", i);
      d.source = "synthetic:" + d.ext_id;
      d.format = "txt";
      d.title = fmt::format("document {}", i);
      d.text = corpus.text();
      d.content_hash = d.ext_id;
      NewChunk c;
      c.char_end = static_cast<std::int64_t>(d.text.size());
      c.text = d.text;
      batch.emplace_back(std::move(d), std::vector<NewChunk>{c});
    }
    RAGFT_TRY(auto ignored, store.upsert_batch(batch));
    (void)ignored;
  }
  return ok_status();
}

std::uint64_t dir_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

int fail(const Error& e) {
  fmt::print(stderr, "dense_catchup: {}\n", e.to_string());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 200000, add = 5, rounds = 7;
  int dim = 384;
  std::string vectors = "flat";
  fs::path dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--n") n = std::stoul(v);
    else if (k == "--dim") dim = std::stoi(v);
    else if (k == "--add") add = std::stoul(v);
    else if (k == "--rounds") rounds = std::stoul(v);
    else if (k == "--vectors") vectors = v;
    else if (k == "--dir") dir = v;
    else {
      fmt::print(stderr, "unknown option {}\n", k);
      return 2;
    }
  }
  const bool own_dir = dir.empty();
  if (own_dir) dir = fs::temp_directory_path() / fmt::format("ragft_dense_catchup_{}", ::getpid());
  fs::remove_all(dir);
  const std::size_t train_docs = std::min<std::size_t>(n, 2000);
  const std::string embedder = fmt::format("ict:dim={},epochs=2", dim);
  auto options = [&](bool rewrite) {
    WorkspaceOptions o;
    DenseOptions d;
    d.embedder = embedder;
    d.vectors = vectors;
    if (rewrite) d.compact_ratio = 0, d.compact_min_bytes = 0;
    o.dense = d;
    return o;
  };
  Corpus corpus;
  std::size_t next = 0;
  {
    // Build: the embedder trains on the first documents, then the rest are embedded.
    double t0 = now_s();
    auto ws = Workspace::open(dir, options(false));
    if (!ws.ok()) return fail(ws.error());
    if (Status s = put_docs(ws->store(), corpus, 0, train_docs); !s.ok()) return fail(s.error());
    auto first = ws->catch_up();
    if (!first.ok()) return fail(first.error());
    const double train_s = now_s() - t0;
    if (Status s = put_docs(ws->store(), corpus, train_docs, n); !s.ok()) return fail(s.error());
    const double store_s = now_s() - t0 - train_s;
    auto caught = ws->catch_up();
    if (!caught.ok()) return fail(caught.error());
    next = n;
    fmt::print("{}\n", nlohmann::json{{"bench", "dense_catchup"}, {"phase", "build"}, {"n", n}, {"dim", dim},
                                      {"embedder", embedder}, {"vectors", ws->dense()->config()},
                                      {"train_and_first_s", train_s}, {"store_s", store_s},
                                      {"catch_up_s", caught->seconds + caught->dense_seconds},
                                      {"dense_dir_mb", static_cast<double>(dir_bytes(dir / "index" / "dense")) / 1e6},
                                      {"peak_rss_mb", peak_rss_mb()}}
                           .dump());
  }
  for (const bool rewrite : {true, false}) {
    auto ws = Workspace::open(dir, options(rewrite));
    if (!ws.ok()) return fail(ws.error());
    // Round 0 loads the dense index (it has work to do); rounds 1.. are timed.
    std::vector<double> total_ms, dense_ms;
    std::uint64_t written_before = 0;
    double written = 0;
    for (std::size_t r = 0; r <= rounds; ++r) {
      if (Status s = put_docs(ws->store(), corpus, next, next + add); !s.ok()) return fail(s.error());
      next += add;
      const std::uint64_t log0 = ws->dense() ? ws->dense()->log_bytes() : 0;
      const double t0 = now_s();
      auto caught = ws->catch_up();
      const double t1 = now_s();
      if (!caught.ok()) return fail(caught.error());
      if (r == 0) continue;
      total_ms.push_back((t1 - t0) * 1e3);
      dense_ms.push_back(caught->dense_seconds * 1e3);
      // Bytes the save wrote: the new log records, or the whole base file.
      DenseIndex* d = ws->dense();
      const std::uint64_t base = dir_bytes(dir / "index" / "dense") - d->log_bytes();
      written += d->compactions() > written_before ? static_cast<double>(base) : static_cast<double>(d->log_bytes() - log0);
      written_before = d->compactions();
    }
    fmt::print("{}\n", nlohmann::json{{"bench", "dense_catchup"}, {"phase", "add"}, {"save", rewrite ? "rewrite" : "log"},
                                      {"n", next}, {"dim", dim}, {"docs_per_round", add}, {"rounds", rounds},
                                      {"catch_up_p50_ms", percentile(total_ms, 0.5)},
                                      {"catch_up_max_ms", *std::max_element(total_ms.begin(), total_ms.end())},
                                      {"dense_p50_ms", percentile(dense_ms, 0.5)},
                                      {"bytes_written_per_round", written / static_cast<double>(rounds)},
                                      {"peak_rss_mb", peak_rss_mb()}}
                           .dump());
  }
  {
    // Opening for a BM25 query: lazily, and with the dense index loaded as every open did before.
    std::vector<double> lazy_ms, eager_ms;
    for (int rep = 0; rep < 3; ++rep) {
      for (const bool eager : {false, true}) {
        const double t0 = now_s();
        auto ws = Workspace::open(dir);
        if (!ws.ok()) return fail(ws.error());
        if (eager) {
          auto loaded = ws->load_dense();
          if (!loaded.ok()) return fail(loaded.error());
        }
        SearchRequest r;
        r.query = corpus.text();
        auto hits = search(*ws, r);
        if (!hits.ok()) return fail(hits.error());
        (eager ? eager_ms : lazy_ms).push_back((now_s() - t0) * 1e3);
      }
    }
    fmt::print("{}\n", nlohmann::json{{"bench", "dense_catchup"}, {"phase", "open_bm25"}, {"n", next}, {"dim", dim},
                                      {"lazy_p50_ms", percentile(lazy_ms, 0.5)},
                                      {"with_dense_load_p50_ms", percentile(eager_ms, 0.5)}}
                           .dump());
  }
  if (own_dir) fs::remove_all(dir);
  return 0;
}
