// Scale benchmark for the lexical index: a synthetic corpus of N chunks made from SciFact
// abstracts with shuffled sentences and fresh ids.
//
//   scale build  --corpus corpus.jsonl.gz --out DIR [--chunks 1000000] [--commit-every 250000]
//   scale search --corpus corpus.jsonl.gz --queries queries.jsonl --qrels test.tsv --out DIR
//
// `build` prints one JSON line: chunks, raw text bytes, analysis and indexing throughput on one
// core (parsing excluded: the corpus is loaded before timing), index bytes and ratio to raw text.
// `search` runs in a fresh process so its peak RSS reflects searching only: top-10 latency
// percentiles over the queries (repeated), and peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evaluate/latency.h"
#include "evaluate/trec.h"
#include "index/lexical/bm25_index.h"
#include "ingest/loader.h"
#include "text/analyzer.h"
#include "text/sentences.h"

using namespace ragft;

namespace {

struct Args {
  std::string mode, corpus, queries, qrels, out;
  std::size_t chunks = 1000000, commit_every = 250000;
  int repeat = 3;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long peak_rss_kb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int fail(const Error& e) {
  fmt::print(stderr, "error: {}\n", e.to_string());
  return 1;
}

int build(const Args& a) {
  auto loaded = load_file(a.corpus);
  if (!loaded.ok()) return fail(loaded.error());
  // Sentences of every abstract, kept as strings (title + sentences).
  std::vector<std::vector<std::string>> abstracts;
  for (const auto& d : loaded->documents) {
    std::vector<std::string> sents;
    for (const Span& s : split_sentences(d.text)) sents.emplace_back(d.text.substr(s.start, s.end - s.start));
    if (!sents.empty()) abstracts.push_back(std::move(sents));
  }
  auto analyzer = Analyzer::create();
  if (!analyzer.ok()) return fail(analyzer.error());
  std::filesystem::remove_all(a.out);
  auto index = Bm25Index::open(a.out);
  if (!index.ok()) return fail(index.error());

  std::mt19937_64 rng(42);
  std::vector<std::string> terms;
  std::string text;
  ChunkAttrs attrs;
  std::uint64_t raw_bytes = 0, tokens = 0;
  double analyze_s = 0, add_s = 0, commit_s = 0;
  for (std::size_t i = 0; i < a.chunks; ++i) {
    auto sents = abstracts[rng() % abstracts.size()];
    std::shuffle(sents.begin(), sents.end(), rng);
    text.clear();
    for (const auto& s : sents) {
      if (!text.empty()) text += ' ';
      text += s;
    }
    raw_bytes += text.size();
    double t0 = now_s();
    terms.clear();
    analyzer->terms(text, terms);
    double t1 = now_s();
    index->add(static_cast<ChunkId>(i + 1), attrs, terms);
    double t2 = now_s();
    analyze_s += t1 - t0;
    add_s += t2 - t1;
    tokens += terms.size();
    if ((i + 1) % a.commit_every == 0 || i + 1 == a.chunks) {
      double c0 = now_s();
      Status st = index->commit(static_cast<Seq>(i + 1));
      if (!st.ok()) return fail(st.error());
      commit_s += now_s() - c0;
      fmt::print(stderr, "committed {} chunks\n", i + 1);
    }
  }
  double m0 = now_s();
  Status st = index->merge(1);
  if (!st.ok()) return fail(st.error());
  double merge_s = now_s() - m0;
  IndexStats s = index->stats();
  double index_s = add_s + commit_s + merge_s;
  nlohmann::json j = {
      {"bench", "scale-build"},
      {"chunks", a.chunks},
      {"tokens", tokens},
      {"raw_text_bytes", raw_bytes},
      {"analyze_s", analyze_s},
      {"index_s", index_s},
      {"add_s", add_s},
      {"commit_s", commit_s},
      {"merge_s", merge_s},
      {"chunks_per_s_index_only", static_cast<double>(a.chunks) / index_s},
      {"chunks_per_s_with_analysis", static_cast<double>(a.chunks) / (index_s + analyze_s)},
      {"index_bytes", s.bytes_on_disk},
      {"index_to_raw", static_cast<double>(s.bytes_on_disk) / static_cast<double>(raw_bytes)},
      {"segments", s.segments},
      {"config", index->options().to_config()},
      {"peak_rss_mb", peak_rss_kb() / 1024.0}};
  fmt::print("{}\n", j.dump());
  return 0;
}

int search(const Args& a) {
  auto queries = read_queries(a.queries);
  if (!queries.ok()) return fail(queries.error());
  auto qrels = read_qrels(a.qrels);
  if (!qrels.ok()) return fail(qrels.error());
  auto analyzer = Analyzer::create();
  if (!analyzer.ok()) return fail(analyzer.error());
  double o0 = now_s();
  auto index = Bm25Index::open(a.out);
  if (!index.ok()) return fail(index.error());
  double open_s = now_s() - o0;
  std::vector<double> ms;
  std::vector<std::string> terms;
  for (int r = 0; r < a.repeat; ++r) {
    for (const auto& q : *queries) {
      if (!qrels->count(q.id)) continue;
      double t0 = now_s();
      terms.clear();
      analyzer->terms(q.text, terms);
      std::vector<QueryTerm> qt;
      for (auto& t : terms) {
        auto it = std::find_if(qt.begin(), qt.end(), [&](const QueryTerm& x) { return x.term == t; });
        if (it == qt.end()) qt.push_back({t, 1.0f});
        else it->weight += 1.0f;
      }
      auto hits = index->search(qt, 10);
      ms.push_back((now_s() - t0) * 1000.0);
      if (hits.size() > 10) return fail(make_error(ErrorCode::kInternal, "too many hits"));
    }
  }
  IndexStats s = index->stats();
  nlohmann::json j = {{"bench", "scale-search"},      {"chunks", s.live_chunks},
                      {"index_bytes", s.bytes_on_disk}, {"open_s", open_s},
                      {"samples", ms.size()},          {"p50_ms", percentile(ms, 0.5)},
                      {"p95_ms", percentile(ms, 0.95)},       {"p99_ms", percentile(ms, 0.99)},
                      {"peak_rss_mb", peak_rss_kb() / 1024.0},
                      {"index_mb", static_cast<double>(s.bytes_on_disk) / (1024.0 * 1024.0)}};
  fmt::print("{}\n", j.dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    fmt::print(stderr, "usage: scale build|search --corpus C --out DIR [--chunks N] [--queries Q --qrels R]\n");
    return 2;
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--corpus") a.corpus = v;
    else if (k == "--queries") a.queries = v;
    else if (k == "--qrels") a.qrels = v;
    else if (k == "--out") a.out = v;
    else if (k == "--chunks") a.chunks = std::stoull(v);
    else if (k == "--commit-every") a.commit_every = std::stoull(v);
    else if (k == "--repeat") a.repeat = std::stoi(v);
    else {
      fmt::print(stderr, "unknown option {}\n", k);
      return 2;
    }
  }
  if (a.mode == "build") return build(a);
  if (a.mode == "search") return search(a);
  fmt::print(stderr, "unknown mode {}\n", a.mode);
  return 2;
}
