// libFuzzer target: query text -> analyzer -> QueryTerms (retrieve/searcher.h analyze_query) ->
// BM25 search with a filter, over a small fixed index built once in LLVMFuzzerInitialize
// (three segments, deletions, three tenants, ACLs over five groups).
//
// Input: the query text, followed by control bytes at the end (read with FuzzedDataProvider,
// which takes integers from the end): k, the analyzer, the filter (tenant, groups, allowlist),
// an optional term weight and the pruning algorithm. Checked, beyond "does not crash":
//   - tokens: non-empty terms, source spans in order within the text on code-point boundaries
//     (disjoint, or shared by the pieces NFKC splits a word into), positions ascending;
//     Analyzer::terms() gives the same terms as analyze();
//   - analyze_query: the terms deduplicated, weights the occurrence counts;
//   - search (pruned, forced even on these small segments) equals search_exhaustive bit for bit;
//   - at most k hits, score-descending with ties by ascending id, finite scores, no duplicates;
//   - every hit is live, holds a query term and is admitted by the filter, and the number of hits
//     is min(k, the chunks that are) -- computed here from the corpus, independently.
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "fuzz/fuzz_check.h"
#include "index/lexical/bm25_index.h"
#include "index/lexical/search_tuning.h"
#include "retrieve/searcher.h"
#include "text/analyzer.h"

namespace {

using namespace ragft;

// Words of the synthetic corpus: common English (stemming, stopwords), accented and non-Latin
// words (folding, NFKC), digits and a possessive.
constexpr const char* kWords[] = {
    "the",      "a",         "of",        "and",      "retrieval", "retrieve",   "retrieved",
    "index",    "indexes",   "indexing",  "search",   "searching", "query",      "queries",
    "document", "documents", "chunk",     "chunks",   "score",     "scoring",    "ranking",
    "rank",     "model",     "models",    "train",    "training",  "tune",       "tuning",
    "protein",  "cell",      "cells",     "gene",     "genes",     "vitamin",    "dose",
    "patients", "study",     "studies",   "effect",   "effects",   "risk",       "increase",
    "café",     "naïve",     "Straße",    "résumé",   "Ελληνικά",  "русский",    "日本語",
    "ﬁle",      "Ｆｕｌｌ",   "2024",      "3.5",      "x86_64",    "COVID-19",   "user's",
    "isn't",    "e.g.",      "BM25",      "k1",       "don't",     "running",    "runs",
    "happily",  "happiness", "generalization", "generalize", "analysis", "analyses",
};
constexpr int kTenants = 3;
constexpr int kGroups = 5;

struct Chunk {
  ChunkAttrs attrs;
  std::unordered_set<std::string> terms;
};

struct Fixture {
  std::filesystem::path dir;
  std::optional<Bm25Index> index;
  std::map<ChunkId, Chunk> live;  // the index's live chunks, as built
  std::vector<Analyzer> analyzers;
  ChunkId max_id = 0;
};

Fixture* g = nullptr;

void remove_dir() {
  if (g != nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(g->dir, ec);
  }
}

std::string group(int i) { return fmt::format("g{}", i); }

void build_index() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_query_fuzz_XXXXXX").string();
  FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
  g->dir = tmpl;
  std::atexit(remove_dir);
  auto index = Bm25Index::open(g->dir);
  FUZZ_CHECK(index.ok(), index.ok() ? "" : index.error().message);
  g->index.emplace(std::move(*index));

  Analyzer& analyzer = g->analyzers.front();
  std::mt19937 rng(20240601);
  const std::size_t n_words = std::size(kWords);
  // Zipf-like: low ranks far more frequent, so common terms span several 128-posting blocks.
  std::vector<double> weights(n_words);
  for (std::size_t i = 0; i < n_words; ++i) weights[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  ChunkId next = 1;
  auto add_chunks = [&](int count) {
    for (int c = 0; c < count; ++c) {
      const ChunkId id = next;
      next += 1 + static_cast<ChunkId>(rng() % 3);  // gaps, as after deletions in the store
      std::string text;
      const int len = 3 + static_cast<int>(rng() % 40);
      for (int w = 0; w < len; ++w) text.append(kWords[pick(rng)]).push_back(' ');
      std::vector<std::string> terms;
      analyzer.terms(text, terms);
      Chunk chunk;
      chunk.attrs.tenant = fmt::format("t{}", rng() % kTenants);
      for (int gi = 0; gi < kGroups; ++gi) {
        if (rng() % 4 == 0) chunk.attrs.acl.push_back(group(gi));
      }
      chunk.terms.insert(terms.begin(), terms.end());
      g->index->add(id, chunk.attrs, terms);
      g->live.emplace(id, std::move(chunk));
      g->max_id = id;
    }
  };
  auto commit = [&](Seq seq) {
    Status s = g->index->commit(seq);
    FUZZ_CHECK(s.ok(), s.ok() ? "" : s.error().message);
  };
  add_chunks(400);
  commit(1);
  add_chunks(300);
  commit(2);
  // Deletions in committed segments and in the buffer.
  std::vector<ChunkId> ids;
  for (const auto& [id, chunk] : g->live) ids.push_back(id);
  for (std::size_t i = 0; i < ids.size(); i += 7) {
    g->index->remove(ids[i]);
    g->live.erase(ids[i]);
  }
  add_chunks(150);
  g->index->remove(g->max_id);
  g->live.erase(g->max_id);
  commit(3);
}

bool admitted(ChunkId id, const Chunk& chunk, const FilterSpec& f) {
  if (f.tenant && chunk.attrs.tenant != *f.tenant) return false;
  if (f.groups && !chunk.attrs.acl.empty()) {
    bool any = false;
    for (const auto& a : chunk.attrs.acl) {
      any = any || std::find(f.groups->begin(), f.groups->end(), a) != f.groups->end();
    }
    if (!any) return false;
  }
  if (f.allowlist && std::find(f.allowlist->begin(), f.allowlist->end(), id) == f.allowlist->end()) {
    return false;
  }
  return true;
}

void check_tokens(Analyzer& analyzer, std::string_view text) {
  std::vector<Token> tokens;
  analyzer.analyze(text, tokens);
  std::vector<std::string> terms;
  analyzer.terms(text, terms);
  FUZZ_CHECK(terms.size() == tokens.size(), "terms() and analyze() disagree on the count");
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    auto where = [&] { return fmt::format("token {} \"{}\" [{}, {})", i, t.term, t.start, t.end); };
    FUZZ_CHECK(!t.term.empty() && is_valid_utf8(t.term), where());
    FUZZ_CHECK(t.term == terms[i], where() + " vs terms() \"" + terms[i] + "\"");
    FUZZ_CHECK(t.start < t.end && t.end <= text.size(), where());
    if (is_valid_utf8(text)) {
      FUZZ_CHECK(fuzz::on_code_point(text, t.start) && fuzz::on_code_point(text, t.end), where());
    }
    if (i > 0) {
      // Disjoint, or pieces of one source word that NFKC split ("¾" -> "3⁄4"): the same span.
      const Token& p = tokens[i - 1];
      FUZZ_CHECK(t.start >= p.end || (t.start == p.start && t.end == p.end), where());
      FUZZ_CHECK(t.position > tokens[i - 1].position, where());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g = new Fixture;
  for (const char* config : {"analyzer:lang=english,stop=snowball,maxlen=64",
                             "analyzer:lang=none,stop=none,maxlen=8",
                             "analyzer:lang=porter,stop=english,maxlen=1024"}) {
    auto options = AnalyzerOptions::parse(config);
    FUZZ_CHECK(options.ok(), config);
    auto analyzer = Analyzer::create(*options);
    FUZZ_CHECK(analyzer.ok(), config);
    g->analyzers.push_back(std::move(*analyzer));
  }
  build_index();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::size_t k = in.ConsumeIntegralInRange<std::size_t>(1, 64);
  Analyzer& analyzer = g->analyzers[in.ConsumeIntegralInRange<std::size_t>(0, g->analyzers.size() - 1)];
  FilterSpec filter;
  const std::uint8_t tenant = in.ConsumeIntegral<std::uint8_t>();
  if (tenant % 5 < kTenants) filter.tenant = fmt::format("t{}", tenant % 5);
  if (tenant % 5 == kTenants) filter.tenant = "nobody";
  const std::uint8_t groups = in.ConsumeIntegral<std::uint8_t>();
  if (groups & 0x80) {
    filter.groups.emplace();
    for (int gi = 0; gi < kGroups + 1; ++gi) {  // g5 admits nothing by itself
      if (groups & (1 << gi)) filter.groups->push_back(group(gi));
    }
  }
  const std::uint8_t allow = in.ConsumeIntegral<std::uint8_t>();
  if (allow & 0x80) {
    filter.allowlist.emplace();
    for (int i = 0; i < (allow & 0x1F); ++i) {
      filter.allowlist->push_back(in.ConsumeIntegralInRange<ChunkId>(0, g->max_id + 2));
    }
  }
  const std::uint8_t weight = in.ConsumeIntegral<std::uint8_t>();
  const bool bmw = in.ConsumeBool();
  const std::string text = in.ConsumeRemainingBytesAsString();

  check_tokens(analyzer, text);
  AnalyzedQuery q = analyze_query(analyzer, text);
  {
    std::vector<std::string> terms;
    analyzer.terms(text, terms);
    std::map<std::string, float> counts;
    for (const auto& t : terms) counts[t] += 1.0f;
    FUZZ_CHECK(q.terms.size() == counts.size(), "analyze_query did not deduplicate");
    for (const QueryTerm& t : q.terms) FUZZ_CHECK(counts[t.term] == t.weight, t.term);
  }
  // A boost, a zero or a negative weight on one term (zero and negative contribute nothing).
  if (!q.terms.empty() && (weight & 0x80)) {
    constexpr float kWeights[] = {0.0f, -1.0f, 0.5f, 2.5f, 1e-3f, 40.0f};
    q.terms[(weight & 0x70) % q.terms.size()].weight = kWeights[(weight & 0x0F) % std::size(kWeights)];
  }

  // Force dynamic pruning on these small segments, so it is the path under test.
  lexical::set_search_tuning({0, bmw ? lexical::PrunedAlgorithm::kBlockMaxWand
                                     : lexical::PrunedAlgorithm::kMaxScore});
  const std::vector<ScoredChunk> hits = g->index->search(q.terms, k, filter);
  const std::vector<ScoredChunk> oracle = g->index->search_exhaustive(q.terms, k, filter);
  FUZZ_CHECK(hits == oracle, fmt::format("pruned search ({} hits) differs from exhaustive ({} hits)",
                                         hits.size(), oracle.size()));

  std::set<std::string> positive;
  for (const QueryTerm& t : q.terms) {
    if (t.weight > 0) positive.insert(t.term);
  }
  std::size_t eligible = 0;
  for (const auto& [id, chunk] : g->live) {
    if (!admitted(id, chunk, filter)) continue;
    const auto& terms = chunk.terms;  // (clang 14 cannot capture a structured binding)
    eligible += std::any_of(positive.begin(), positive.end(),
                            [&](const std::string& t) { return terms.count(t) > 0; });
  }
  FUZZ_CHECK(hits.size() == std::min(k, eligible),
             fmt::format("{} hits, expected min(k={}, {} matching admitted chunks)", hits.size(), k,
                         eligible));
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const ScoredChunk& h = hits[i];
    auto where = [&] { return fmt::format("hit {} (chunk {}, score {})", i, h.id, h.score); };
    FUZZ_CHECK(std::isfinite(h.score) && h.score > 0, where());
    if (i > 0) {
      const ScoredChunk& p = hits[i - 1];
      FUZZ_CHECK(p.score > h.score || (p.score == h.score && p.id < h.id), where() + " out of order");
    }
    auto it = g->live.find(h.id);
    FUZZ_CHECK(it != g->live.end(), where() + " is not live");
    FUZZ_CHECK(admitted(h.id, it->second, filter), where() + " is not admitted by the filter");
    FUZZ_CHECK(std::any_of(positive.begin(), positive.end(),
                           [&](const std::string& t) { return it->second.terms.count(t) > 0; }),
               where() + " holds no query term");
  }
  return 0;
}
