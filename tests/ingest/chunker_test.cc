#include "ingest/chunker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/utf8.h"

namespace ragft {
namespace {

using ::testing::HasSubstr;

bool is_ws(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::size_t count_words(std::string_view s) {
  std::size_t n = 0;
  bool in = false;
  for (char c : s) {
    if (!is_ws(c) && !in) ++n;
    in = !is_ws(c);
  }
  return n;
}

std::string chunk_str(const LoadedDocument& d, const ChunkSpan& c) {
  return d.text.substr(c.byte_start, c.byte_end - c.byte_start);
}

ChunkerOptions opts(std::uint32_t target, std::uint32_t overlap, std::uint32_t max) {
  ChunkerOptions o;
  o.target_tokens = target;
  o.overlap_tokens = overlap;
  o.max_tokens = max;
  return o;
}

// The invariants every chunking must satisfy.
void check_invariants(const LoadedDocument& d, const std::vector<ChunkSpan>& chunks,
                      const ChunkerOptions& o) {
  std::vector<bool> covered(d.text.size(), false);
  // chars_before[b] = code points in text[0, b), from core/utf8.h on each code point.
  std::vector<std::int64_t> chars_before(d.text.size() + 1, 0);
  for (std::size_t b = 0; b < d.text.size();) {
    std::size_t next = byte_offset(std::string_view(d.text).substr(b), 1) + b;
    for (std::size_t k = b + 1; k <= next; ++k) chars_before[k] = chars_before[b] + 1;
    b = next;
  }
  ASSERT_EQ(static_cast<std::size_t>(chars_before.back()), char_offset(d.text, d.text.size()));
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const ChunkSpan& c = chunks[i];
    ASSERT_LT(c.byte_start, c.byte_end) << "chunk " << i;
    ASSERT_LE(c.byte_end, d.text.size());
    ASSERT_FALSE(is_ws(d.text[c.byte_start])) << "untrimmed start, chunk " << i;
    ASSERT_FALSE(is_ws(d.text[c.byte_end - 1])) << "untrimmed end, chunk " << i;
    EXPECT_EQ(c.char_start, chars_before[c.byte_start]);
    EXPECT_EQ(c.char_end, chars_before[c.byte_end]);
    std::string s = chunk_str(d, c);
    EXPECT_TRUE(is_valid_utf8(s)) << "chunk " << i << " splits a code point";
    EXPECT_LE(count_words(s), o.max_tokens) << "chunk " << i << ": " << s;
    if (i > 0) {
      EXPECT_GT(c.byte_start, chunks[i - 1].byte_start) << "chunk " << i;
      EXPECT_GT(c.byte_end, chunks[i - 1].byte_end) << "chunk " << i;
      if (o.overlap_tokens == 0) {
        EXPECT_GE(c.byte_start, chunks[i - 1].byte_end);
      }
    }
    for (std::uint32_t b = c.byte_start; b < c.byte_end; ++b) covered[b] = true;
  }
  for (std::size_t b = 0; b < d.text.size(); ++b) {
    if (!is_ws(d.text[b])) {
      ASSERT_TRUE(covered[b]) << "byte " << b << " in no chunk";
    }
  }
  std::set<std::uint32_t> starts;
  for (const ChunkSpan& c : chunks) starts.insert(c.byte_start);
  for (std::uint32_t h : d.heading_starts) {
    EXPECT_TRUE(starts.count(h)) << "heading at " << h << " does not start a chunk";
  }
}

// ---- config ----

TEST(ChunkerOptions, ConfigRoundTrip) {
  ChunkerOptions d;
  EXPECT_EQ(d.to_config(), "chunk:target=256,overlap=32,max=384");
  auto p = ChunkerOptions::parse("chunk:target=100,overlap=10,max=150");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->target_tokens, 100u);
  EXPECT_EQ(p->overlap_tokens, 10u);
  EXPECT_EQ(p->max_tokens, 150u);
  EXPECT_EQ(p->to_config(), "chunk:target=100,overlap=10,max=150");
  auto q = ChunkerOptions::parse(d.to_config());
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->to_config(), d.to_config());
}

TEST(ChunkerOptions, UnstatedValuesScaleWithTarget) {
  auto p = ChunkerOptions::parse("chunk:target=512");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->to_config(), "chunk:target=512,overlap=64,max=768");
  auto q = ChunkerOptions::parse("chunk");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->to_config(), ChunkerOptions{}.to_config());
  auto z = ChunkerOptions::parse("chunk:target=64,overlap=0");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->overlap_tokens, 0u);
}

TEST(ChunkerOptions, InvalidValues) {
  for (const char* bad :
       {"chunk:target=0", "chunk:target=100,overlap=100", "chunk:target=100,overlap=150,max=200",
        "chunk:target=100,max=99", "chunk:target=-5", "chunk:target=abc", "chunk:target=10x",
        "chunk:size=10", "chunk:target", "sentence:target=10", "chunky:target=10",
        "chunk:target=10,"}) {
    auto r = ChunkerOptions::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(ChunkerOptions::parse("chunk:target=100,overlap=100").error().message,
              HasSubstr("overlap"));
}

// ---- behaviour on hand-made texts ----

TEST(Chunker, EmptyTextGivesNoChunks) {
  LoadedDocument d;
  EXPECT_TRUE(chunk_text(d, {}).empty());
  d.text = " \n\n\t ";
  EXPECT_TRUE(chunk_text(d, {}).empty());
}

// Found by fuzz/ingest_txt_fuzz: a text of Unicode spaces only (a .txt file holding one NBSP)
// gave one chunk of whitespace, as the sentence splitter found no sentence in it.
TEST(Chunker, UnicodeWhitespaceTextGivesNoChunks) {
  LoadedDocument d;
  d.text = "\xC2\xA0";  // NBSP
  EXPECT_TRUE(chunk_text(d, {}).empty());
  d.text = "\xC2\xA0 \xE3\x80\x80\n\n\xE2\x80\x83\n";  // NBSP, ideographic space, em space
  EXPECT_TRUE(chunk_text(d, {}).empty());
  d.heading_starts = {0, 8};  // blank sections too
  EXPECT_TRUE(chunk_text(d, {}).empty());
  // A blank section before text: only the text's section gives a chunk.
  d.text = "\xC2\xA0\n\nBody text here.";
  d.heading_starts = {4};
  auto chunks = chunk_text(d, {});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunk_str(d, chunks[0]), "Body text here.");
}

TEST(Chunker, ShortTextIsOneTrimmedChunk) {
  LoadedDocument d;
  d.text = "\n  Hello there. General Kenobi!  \n";
  auto chunks = chunk_text(d, {});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunk_str(d, chunks[0]), "Hello there. General Kenobi!");
  EXPECT_EQ(chunks[0].byte_start, 3u);
  EXPECT_EQ(chunks[0].char_start, 3);
  EXPECT_EQ(chunks[0].page, 0);
}

TEST(Chunker, PrefersParagraphBoundaries) {
  // Three paragraphs of 8 words; target 20: the first two fit together, the third would only fit
  // by splitting it, so it starts the next chunk instead.
  LoadedDocument d;
  d.text =
      "One two three four five six seven eight.\n\n"
      "Nine ten eleven twelve thirteen fourteen fifteen sixteen.\n\n"
      "Seventeen eighteen nineteen twenty. Twenty-one twenty-two twenty-three twenty-four.";
  auto o = opts(20, 0, 30);
  auto chunks = chunk_text(d, o);
  check_invariants(d, chunks, o);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunk_str(d, chunks[0]),
            "One two three four five six seven eight.\n\n"
            "Nine ten eleven twelve thirteen fourteen fifteen sixteen.");
  EXPECT_EQ(chunk_str(d, chunks[1]),
            "Seventeen eighteen nineteen twenty. Twenty-one twenty-two twenty-three twenty-four.");
}

TEST(Chunker, LongParagraphSplitsAtSentences) {
  // Ten sentences of 4 words in one paragraph; target 10: chunks of two whole sentences (8 words).
  LoadedDocument d;
  for (int i = 0; i < 10; ++i) d.text += "Sentence number " + std::to_string(i) + " here. ";
  auto o = opts(10, 0, 12);
  auto chunks = chunk_text(d, o);
  check_invariants(d, chunks, o);
  ASSERT_EQ(chunks.size(), 5u);
  EXPECT_EQ(chunk_str(d, chunks[0]), "Sentence number 0 here. Sentence number 1 here.");
  EXPECT_EQ(chunk_str(d, chunks[4]), "Sentence number 8 here. Sentence number 9 here.");
}

TEST(Chunker, OverlapCarriesTrailingWholeSentences) {
  LoadedDocument d;
  for (int i = 0; i < 12; ++i) d.text += "Sentence number " + std::to_string(i) + " here. ";
  auto o = opts(12, 5, 16);  // overlap 5 words: one 4-word sentence fits, two do not
  auto chunks = chunk_text(d, o);
  check_invariants(d, chunks, o);
  ASSERT_GE(chunks.size(), 3u);
  // 3 sentences (12 words) in the first chunk; each next chunk repeats the last one.
  EXPECT_EQ(chunk_str(d, chunks[0]),
            "Sentence number 0 here. Sentence number 1 here. Sentence number 2 here.");
  EXPECT_EQ(chunk_str(d, chunks[1]),
            "Sentence number 2 here. Sentence number 3 here. Sentence number 4 here.");
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    ASSERT_LT(chunks[i].byte_start, chunks[i - 1].byte_end) << "no overlap at chunk " << i;
    std::string shared =
        d.text.substr(chunks[i].byte_start, chunks[i - 1].byte_end - chunks[i].byte_start);
    EXPECT_EQ(count_words(shared), 4u) << shared;
    EXPECT_EQ(shared.rfind("Sentence number", 0), 0u) << shared;
  }
  // Without overlap, chunks are disjoint and there are fewer of them.
  auto o0 = opts(12, 0, 16);
  auto disjoint = chunk_text(d, o0);
  check_invariants(d, disjoint, o0);
  EXPECT_EQ(disjoint.size(), 4u);
  EXPECT_LT(disjoint.size(), chunks.size());
}

TEST(Chunker, HeadingStartsChunkAndStaysWithFollowingText) {
  LoadedDocument d;
  d.text = "Intro words here.\n\nSetup\n\n";
  d.heading_starts.push_back(static_cast<std::uint32_t>(d.text.find("Setup")));
  // A paragraph of 3 sentences x 5 words: heading (1) + paragraph (15) > target 10.
  d.text +=
      "Install the tool first. Then run the command. Finally check the output.\n\nUsage\n\nShort.";
  d.heading_starts.push_back(static_cast<std::uint32_t>(d.text.find("Usage")));
  auto o = opts(10, 0, 12);
  auto chunks = chunk_text(d, o);
  check_invariants(d, chunks, o);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunk_str(d, chunks[0]), "Intro words here.");  // the heading breaks here
  EXPECT_EQ(chunk_str(d, chunks[1]), "Setup\n\nInstall the tool first. Then run the command.");
  EXPECT_EQ(chunk_str(d, chunks[2]), "Finally check the output.");
  EXPECT_EQ(chunk_str(d, chunks[3]), "Usage\n\nShort.");
}

TEST(Chunker, OverlapDoesNotCrossHeadings) {
  LoadedDocument d;
  d.text = "First section sentence one. First section sentence two.\n\nNext\n\nBody text.";
  d.heading_starts.push_back(static_cast<std::uint32_t>(d.text.find("Next")));
  auto o = opts(20, 8, 30);
  auto chunks = chunk_text(d, o);
  check_invariants(d, chunks, o);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunk_str(d, chunks[1]), "Next\n\nBody text.");
}

TEST(Chunker, OverlongSentenceCutAtWordBoundaries) {
  LoadedDocument d;
  for (int i = 0; i < 50; ++i) {
    d.text += 'w';
    d.text += std::to_string(i);
    d.text += i % 7 == 0 ? ",\t" : " ";
  }
  d.text += "end.";
  auto o = opts(10, 3, 12);  // 51 words, no sentence break: cut into ceil(51/10) = 6 pieces
  auto chunks = chunk_text(d, o);
  check_invariants(d, chunks, o);
  ASSERT_EQ(chunks.size(), 6u);
  for (const auto& c : chunks) EXPECT_LE(count_words(chunk_str(d, c)), 10u);
  EXPECT_EQ(chunk_str(d, chunks[0]).rfind("w0,", 0), 0u);
  // Word windows are not sentences: no overlap between them.
  for (std::size_t i = 1; i < chunks.size(); ++i)
    EXPECT_GE(chunks[i].byte_start, chunks[i - 1].byte_end);
}

TEST(Chunker, MultiByteCharOffsets) {
  LoadedDocument d;
  d.text =
      "Ünïcödé wörds hére. 日本語の文です。 Straße café naïve. ✓ done now.\n\nΑλφα βήτα γάμμα. "
      "Ωμέγα τέλος.";
  auto o = opts(4, 1, 6);
  auto chunks = chunk_text(d, o);
  check_invariants(d, chunks, o);
  ASSERT_GE(chunks.size(), 3u);
  // Char offsets index the same text in code points, and code points are fewer than bytes here.
  const auto total_chars = static_cast<std::int64_t>(char_offset(d.text, d.text.size()));
  EXPECT_LT(total_chars, static_cast<std::int64_t>(d.text.size()));
  for (const auto& c : chunks) {
    EXPECT_LE(c.char_end, total_chars);
    EXPECT_EQ(byte_offset(d.text, static_cast<std::size_t>(c.char_start)), c.byte_start);
    EXPECT_EQ(byte_offset(d.text, static_cast<std::size_t>(c.char_end)), c.byte_end);
  }
  EXPECT_EQ(chunks.back().char_end, total_chars);
}

// ---- randomised invariants ----

std::string random_doc(std::mt19937& rng, LoadedDocument& d) {
  static const char* kWords[] = {"alpha", "beta",   "gamma",  "delta", "naïve",
                                 "café",  "日本語", "Straße", "3.5",   "e.g.",
                                 "Dr.",   "x",      "résumé", "✓",     "end"};
  std::uniform_int_distribution<int> pick(0, 14), nsent(1, 8), nword(1, 30), coin(0, 9);
  d = LoadedDocument{};
  const int paras = 1 + static_cast<int>(rng() % 40);
  for (int p = 0; p < paras; ++p) {
    if (p > 0) d.text += coin(rng) == 0 ? "\n \n\n" : "\n\n";
    if (coin(rng) < 2) {
      d.heading_starts.push_back(static_cast<std::uint32_t>(d.text.size()));
      d.text += "Heading " + std::to_string(p) + "\n\n";
    }
    const int sents = nsent(rng);
    for (int s = 0; s < sents; ++s) {
      int words = coin(rng) == 0 ? nword(rng) * 5 : nword(rng);  // some sentences over max
      for (int w = 0; w < words; ++w) {
        if (w > 0) d.text += coin(rng) == 0 ? "  \t" : (coin(rng) == 1 ? "\n" : " ");
        std::string word = kWords[pick(rng)];
        if (w == 0) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
        d.text += word;
      }
      d.text += coin(rng) < 8 ? ". " : "? ";
    }
  }
  return d.text;
}

TEST(Chunker, RandomDocumentsKeepInvariants) {
  std::mt19937 rng(12345);
  const ChunkerOptions configs[] = {opts(256, 32, 384), opts(20, 5, 30),  opts(8, 3, 8),
                                    opts(5, 0, 5),      opts(40, 39, 40), opts(1, 0, 1)};
  for (int iter = 0; iter < 60; ++iter) {
    LoadedDocument d;
    random_doc(rng, d);
    for (const ChunkerOptions& o : configs) {
      SCOPED_TRACE("iter " + std::to_string(iter) + " " + o.to_config());
      auto chunks = chunk_text(d, o);
      ASSERT_FALSE(chunks.empty());
      check_invariants(d, chunks, o);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(Chunker, ChunksAreReasonablyFull) {
  // With short paragraphs, greedy packing fills chunks: on average over half the target.
  std::mt19937 rng(7);
  LoadedDocument d;
  std::string big;
  for (int i = 0; i < 20; ++i) {
    LoadedDocument part;
    random_doc(rng, part);
    if (!big.empty()) big += "\n\n";
    big += part.text;
  }
  d.text = big;
  auto o = opts(256, 32, 384);
  auto chunks = chunk_text(d, o);
  check_invariants(d, chunks, o);
  std::size_t words = 0;
  for (const auto& c : chunks) words += count_words(chunk_str(d, c));
  ASSERT_GT(chunks.size(), 5u);
  EXPECT_GT(static_cast<double>(words) / static_cast<double>(chunks.size()), 128.0);
}

TEST(Chunker, LargeDocumentCoversAllText) {
  std::mt19937 rng(99);
  LoadedDocument d;
  while (d.text.size() < (8u << 20)) {
    LoadedDocument part;
    random_doc(rng, part);
    d.text += part.text;
    d.text += "\n\n";
  }
  auto chunks = chunk_text(d, ChunkerOptions{});
  EXPECT_GT(chunks.size(), 1000u);
  // Chunks are ordered and the last one reaches the last non-space byte.
  for (std::size_t i = 1; i < chunks.size(); ++i) EXPECT_LE(chunks[i - 1].byte_start, chunks[i].byte_start);
  std::size_t last = d.text.find_last_not_of(" \n\t");
  EXPECT_EQ(chunks.back().byte_end, last + 1);
}

}  // namespace
}  // namespace ragft
