// The cache of chunks' analysed words that search() highlights from (retrieve/chunk_terms_cache.h).
#include "retrieve/chunk_terms_cache.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "core/check.h"
#include "retrieve/searcher.h"
#include "retrieve/workspace.h"

namespace ragft {
namespace {

std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ragft_ctc_XXXXXX").string();
  RAGFT_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

Analyzer english() {
  auto a = Analyzer::create(AnalyzerOptions{});
  RAGFT_CHECK(a.ok());
  return std::move(*a);
}

TEST(ChunkTermsTest, HoldsTheAnalyzersWordsWithByteAndCodePointOffsets) {
  Analyzer analyzer = english();
  // Non-ASCII before the words moves code points away from bytes; "Running"/"runs" share a stem.
  const std::string text = "Ça coûte — Running dogs: the dog runs, naïve runners run.";
  const ChunkTerms ct = ChunkTerms::analyse(analyzer, text);
  std::vector<std::tuple<std::string, std::uint32_t, std::uint32_t>> expected;
  analyzer.for_each_token(text, [&](std::string_view term, std::uint32_t start, std::uint32_t end) {
    expected.emplace_back(std::string(term), start, end);
  });
  ASSERT_EQ(ct.words.size(), expected.size());
  ASSERT_FALSE(expected.empty());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const ChunkTerms::Word& w = ct.words[i];
    EXPECT_EQ(ct.terms[w.term], std::get<0>(expected[i])) << i;
    EXPECT_EQ(w.byte_start, std::get<1>(expected[i])) << i;
    EXPECT_EQ(w.byte_end, std::get<2>(expected[i])) << i;
    // Code points: count them in the bytes before.
    const auto cps = [&](std::uint32_t byte) {
      std::uint32_t n = 0;
      for (std::uint32_t b = 0; b < byte; ++b) n += (static_cast<unsigned char>(text[b]) & 0xC0) != 0x80;
      return n;
    };
    EXPECT_EQ(w.char_start, cps(w.byte_start)) << i;
    EXPECT_EQ(w.char_end, cps(w.byte_end)) << i;
  }
  // Distinct terms, each findable by its hash; "run" appears once among them.
  std::set<std::string> distinct(ct.terms.begin(), ct.terms.end());
  EXPECT_EQ(distinct.size(), ct.terms.size());
  for (std::size_t i = 0; i < ct.terms.size(); ++i) {
    EXPECT_EQ(ct.find_term(ct.terms[i], chunk_term_hash(ct.terms[i])), static_cast<std::int64_t>(i));
  }
  EXPECT_EQ(ct.find_term("absent", chunk_term_hash("absent")), -1);
  const std::string run = analyzer.analyze_word("running");
  const std::int64_t run_index = ct.find_term(run, chunk_term_hash(run));
  ASSERT_GE(run_index, 0);
  int runs = 0;
  for (const auto& w : ct.words) runs += w.term == run_index;
  EXPECT_GE(runs, 3);  // Running, runs, run
}

TEST(ChunkTermsCacheTest, FindsOnlyTheTextItAnalysed) {
  Analyzer analyzer = english();
  ChunkTermsCache cache(1 << 20);
  EXPECT_EQ(cache.find(7, "some text"), nullptr);
  cache.insert(7, std::make_shared<const ChunkTerms>(ChunkTerms::analyse(analyzer, "some text")));
  auto hit = cache.find(7, "some text");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->text_bytes, 9u);
  EXPECT_EQ(cache.find(7, "some tent"), nullptr);   // same length, other bytes
  EXPECT_EQ(cache.find(7, "some texts"), nullptr);  // other length
  EXPECT_EQ(cache.find(8, "some text"), nullptr);   // other chunk
  // A new text for the id replaces the entry.
  cache.insert(7, std::make_shared<const ChunkTerms>(ChunkTerms::analyse(analyzer, "other words")));
  EXPECT_EQ(cache.find(7, "some text"), nullptr);
  EXPECT_NE(cache.find(7, "other words"), nullptr);
  const auto st = cache.stats();
  EXPECT_EQ(st.entries, 1u);
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.misses, 5u);
}

TEST(ChunkTermsCacheTest, StaysWithinItsBudgetEvictingTheOldest) {
  Analyzer analyzer = english();
  const std::size_t budget = 64 * 1024;
  ChunkTermsCache cache(budget);
  std::vector<std::string> texts;
  for (int i = 0; i < 400; ++i) {
    texts.push_back(fmt::format("chunk {} about apples pears plums and the weather in spring number {}", i, i * 7));
    cache.insert(i, std::make_shared<const ChunkTerms>(ChunkTerms::analyse(analyzer, texts.back())));
    ASSERT_LE(cache.stats().bytes, budget) << i;
  }
  const auto st = cache.stats();
  EXPECT_GT(st.entries, 10u);
  EXPECT_LT(st.entries, 400u);
  EXPECT_NE(cache.find(399, texts[399]), nullptr);  // the newest stays
  EXPECT_EQ(cache.find(0, texts[0]), nullptr);      // the oldest went first
  // An entry larger than a shard's share is not kept.
  ChunkTermsCache tiny(16 * 64);
  tiny.insert(1, std::make_shared<const ChunkTerms>(ChunkTerms::analyse(analyzer, texts[5])));
  EXPECT_EQ(tiny.stats().entries, 0u);
}

TEST(ChunkTermsCacheTest, ManyThreadsFindAndInsertTheSameChunks) {
  Analyzer analyzer = english();
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i) texts.push_back(fmt::format("text number {} with words like river stone", i));
  std::vector<std::shared_ptr<const ChunkTerms>> analysed;
  for (const auto& t : texts) analysed.push_back(std::make_shared<const ChunkTerms>(ChunkTerms::analyse(analyzer, t)));
  ChunkTermsCache cache(32 * 1024);  // small: inserts evict while others read
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int n = 0; n < 3000; ++n) {
        const std::size_t i = rng() % texts.size();
        auto found = cache.find(static_cast<ChunkId>(i), texts[i]);
        if (found) {
          if (found->words.size() != analysed[i]->words.size() || found->terms != analysed[i]->terms) ++wrong;
        } else {
          cache.insert(static_cast<ChunkId>(i), analysed[i]);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const auto st = cache.stats();
  EXPECT_EQ(st.hits + st.misses, 8u * 3000u);
  EXPECT_GT(st.hits, 0u);
  EXPECT_LE(st.bytes, 32u * 1024u);
}

NewDocument doc(const std::string& id, const std::string& text) {
  NewDocument d;
  d.ext_id = id;
  d.tenant = "default";
  d.source = fmt::format("mem:{}", id);
  d.format = "txt";
  d.text = text;
  d.content_hash = std::to_string(std::hash<std::string>{}(text));
  return d;
}

TEST(ChunkTermsCacheTest, SearchHighlightsTheSameWithTheCacheColdOrWarm) {
  const auto dir = temp_dir();
  const std::vector<std::string> texts = {
      "Über die Brücke: running rivers run past the old mill, and the runner rested.",
      "Stones in the river; a stone wall stands near the mill. Rivers flood in spring.",
      "The miller’s dog runs along the wall — naïve, quick, and tireless in the rain.",
      "Nothing here matches, only clouds and weather over distant hills.",
  };
  {
    auto ws = Workspace::open(dir);
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    for (std::size_t i = 0; i < texts.size(); ++i) {
      NewChunk c;
      c.char_start = 10;  // a chunk later in its document: highlights are document offsets
      c.char_end = 10 + static_cast<std::int64_t>(texts[i].size());
      c.text = texts[i];
      ASSERT_TRUE(ws->store().upsert(doc(fmt::format("d{}", i), fmt::format("0123456789{}", texts[i])), {c}).ok());
    }
  }
  auto plain = Workspace::open(dir);
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  WorkspaceOptions options;
  options.chunk_terms_cache = std::make_shared<ChunkTermsCache>(1 << 20);
  auto cached = Workspace::open(dir, options);
  ASSERT_TRUE(cached.ok()) << cached.error().to_string();
  const std::vector<std::string> queries = {"running river", "stone walls", "mill runner rain", "naive dog",
                                            "rivers run"};
  std::size_t highlights = 0;
  for (int round = 0; round < 2; ++round) {  // round 0 fills the cache, round 1 reads it
    for (const std::string& q : queries) {
      SearchRequest r;
      r.query = q;
      r.k = 4;
      r.snippet_chars = 40;
      auto a = search(*plain, r);
      auto b = search(*cached, r);
      ASSERT_TRUE(a.ok() && b.ok()) << q;
      ASSERT_EQ(a->size(), b->size()) << q;
      for (std::size_t i = 0; i < a->size(); ++i) {
        const SearchHit& x = (*a)[i];
        const SearchHit& y = (*b)[i];
        EXPECT_EQ(x.chunk_id, y.chunk_id) << q;
        EXPECT_EQ(x.snippet, y.snippet) << q;
        ASSERT_EQ(x.highlights.size(), y.highlights.size()) << q;
        for (std::size_t h = 0; h < x.highlights.size(); ++h) {
          EXPECT_EQ(x.highlights[h].char_start, y.highlights[h].char_start) << q;
          EXPECT_EQ(x.highlights[h].char_end, y.highlights[h].char_end) << q;
        }
        highlights += x.highlights.size();
      }
    }
  }
  EXPECT_GT(highlights, 10u);
  const auto st = options.chunk_terms_cache->stats();
  EXPECT_GT(st.hits, 0u);
  EXPECT_EQ(st.entries, st.misses);  // each chunk analysed once
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ragft
