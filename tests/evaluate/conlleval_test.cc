#include "evaluate/conlleval.h"

#include <algorithm>
#include <cstdint>

#include <gtest/gtest.h>

namespace ragft {
namespace {

using Tags = std::vector<std::string>;

ConllevalResult score(const std::vector<std::pair<Tags, Tags>>& sentences) {
  ConllevalAccumulator acc;
  for (const auto& [gold, guess] : sentences) EXPECT_TRUE(acc.add(gold, guess).ok());
  return acc.result();
}

TEST(ConllevalTest, ChunksFromBio) {
  EXPECT_EQ(extract_chunks({"B-PER", "I-PER", "O", "B-LOC"}),
            (std::vector<Chunk>{{0, 2, "PER"}, {3, 4, "LOC"}}));
  // B-X B-X: two chunks.
  EXPECT_EQ(extract_chunks({"B-PER", "B-PER"}), (std::vector<Chunk>{{0, 1, "PER"}, {1, 2, "PER"}}));
  // I-X after O starts a chunk (read as B-X).
  EXPECT_EQ(extract_chunks({"O", "I-PER", "I-PER"}), (std::vector<Chunk>{{1, 3, "PER"}}));
  // I-X at the start of a sentence starts a chunk.
  EXPECT_EQ(extract_chunks({"I-LOC"}), (std::vector<Chunk>{{0, 1, "LOC"}}));
  // Type change without B-: B-PER I-LOC is PER then LOC.
  EXPECT_EQ(extract_chunks({"B-PER", "I-LOC", "I-LOC"}), (std::vector<Chunk>{{0, 1, "PER"}, {1, 3, "LOC"}}));
  // Hyphenated types keep everything after the first '-'.
  EXPECT_EQ(extract_chunks({"B-creative-work", "I-creative-work"}), (std::vector<Chunk>{{0, 2, "creative-work"}}));
  EXPECT_TRUE(extract_chunks({"O", "O"}).empty());
}

TEST(ConllevalTest, ChunksFromIobes) {
  // S-PER, B-LOC E-LOC, then E-LOC I-LOC: E ends a chunk, so I-LOC after E starts a new one.
  EXPECT_EQ(extract_chunks({"S-PER", "B-LOC", "E-LOC", "I-LOC"}),
            (std::vector<Chunk>{{0, 1, "PER"}, {1, 3, "LOC"}, {3, 4, "LOC"}}));
}

TEST(ConllevalTest, ToBioRepairsIob1AndIobes) {
  // IOB1: I- opens chunks, B- only separates adjacent chunks of one type.
  EXPECT_EQ(to_bio({"I-PER", "I-PER", "O", "I-LOC", "B-LOC"}),
            (Tags{"B-PER", "I-PER", "O", "B-LOC", "B-LOC"}));
  EXPECT_EQ(to_bio({"S-PER", "B-LOC", "I-LOC", "E-LOC"}), (Tags{"B-PER", "B-LOC", "I-LOC", "I-LOC"}));
}

TEST(ConllevalTest, OneSentenceTypeMismatch) {
  // gold PER[0,2) LOC[3,4); guessed PER[0,2) ORG[3,4): correct 1 of 2 guessed, 2 gold.
  // P = 1/2, R = 1/2, F1 = 2*0.5*0.5/1.0 = 0.5. Tokens equal at 0,1,2 -> accuracy 3/4.
  auto r = score({{{"B-PER", "I-PER", "O", "B-LOC"}, {"B-PER", "I-PER", "O", "B-ORG"}}});
  EXPECT_EQ(r.overall.gold, 2u);
  EXPECT_EQ(r.overall.guessed, 2u);
  EXPECT_EQ(r.overall.correct, 1u);
  EXPECT_DOUBLE_EQ(r.overall.precision(), 0.5);
  EXPECT_DOUBLE_EQ(r.overall.recall(), 0.5);
  EXPECT_DOUBLE_EQ(r.overall.f1(), 0.5);
  EXPECT_DOUBLE_EQ(r.accuracy(), 0.75);
  // Per type: PER 1/1/1 -> F1 1; LOC gold 1 guessed 0 -> 0; ORG guessed 1 correct 0 -> 0.
  ASSERT_EQ(r.per_type.size(), 3u);
  EXPECT_DOUBLE_EQ(r.per_type.at("PER").f1(), 1.0);
  EXPECT_EQ(r.per_type.at("LOC").gold, 1u);
  EXPECT_EQ(r.per_type.at("LOC").guessed, 0u);
  EXPECT_DOUBLE_EQ(r.per_type.at("LOC").f1(), 0.0);
  EXPECT_EQ(r.per_type.at("ORG").guessed, 1u);
  EXPECT_DOUBLE_EQ(r.per_type.at("ORG").precision(), 0.0);
}

TEST(ConllevalTest, IAfterOMatchesBAsAChunk) {
  // gold O I-PER I-PER O has chunk PER[1,3) (I after O starts it); guessed B-PER I-PER: the
  // same chunk. Correct 1/1/1 -> F1 1. Token 1 differs (I-PER vs B-PER) -> accuracy 3/4.
  auto r = score({{{"O", "I-PER", "I-PER", "O"}, {"O", "B-PER", "I-PER", "O"}}});
  EXPECT_EQ(r.overall.correct, 1u);
  EXPECT_DOUBLE_EQ(r.overall.f1(), 1.0);
  EXPECT_DOUBLE_EQ(r.accuracy(), 0.75);
}

TEST(ConllevalTest, TypeChangeInsideIsTwoChunks) {
  // gold B-PER I-LOC = PER[0,1) LOC[1,2); guessed B-PER B-LOC = the same chunks: 2 correct.
  // Token 1 differs (I-LOC vs B-LOC) -> accuracy 1/2.
  auto r = score({{{"B-PER", "I-LOC"}, {"B-PER", "B-LOC"}}});
  EXPECT_EQ(r.overall.gold, 2u);
  EXPECT_EQ(r.overall.correct, 2u);
  EXPECT_DOUBLE_EQ(r.overall.f1(), 1.0);
  EXPECT_DOUBLE_EQ(r.accuracy(), 0.5);
  // The other way: gold PER[0,2), guessed B-PER I-LOC = PER[0,1) LOC[1,2): nothing correct.
  // P = 0/2, R = 0/1, F1 = 0.
  auto w = score({{{"B-PER", "I-PER"}, {"B-PER", "I-LOC"}}});
  EXPECT_EQ(w.overall.guessed, 2u);
  EXPECT_EQ(w.overall.gold, 1u);
  EXPECT_EQ(w.overall.correct, 0u);
  EXPECT_DOUBLE_EQ(w.overall.f1(), 0.0);
}

TEST(ConllevalTest, BoundaryMismatchIsWrong) {
  // gold LOC[0,3), guessed LOC[0,2): same start and type, different end -> not correct.
  auto r = score({{{"B-LOC", "I-LOC", "I-LOC"}, {"B-LOC", "I-LOC", "O"}}});
  EXPECT_EQ(r.overall.correct, 0u);
  EXPECT_EQ(r.overall.gold, 1u);
  EXPECT_EQ(r.overall.guessed, 1u);
  EXPECT_DOUBLE_EQ(r.overall.f1(), 0.0);
  EXPECT_NEAR(r.accuracy(), 2.0 / 3.0, 1e-12);
}

TEST(ConllevalTest, SentencesAccumulateAndChunksStopAtBoundaries) {
  // Sentence 1 (as in OneSentenceTypeMismatch): gold 2, guessed 2, correct 1; 4 tokens, 3 right.
  // Sentence 2: gold B-PER; sentence 3: gold I-PER: a chunk never spans sentences, so gold has
  // 2 chunks here; guessed B-PER / O: 1 chunk, correct.
  // Totals: gold 4, guessed 3, correct 2 -> P = 2/3, R = 2/4, F1 = 2*(2/3)*(1/2)/(2/3+1/2) = 4/7.
  // Tokens: 3 + 1 + 0 right of 6 -> accuracy 4/6.
  auto r = score({{{"B-PER", "I-PER", "O", "B-LOC"}, {"B-PER", "I-PER", "O", "B-ORG"}},
                  {{"B-PER"}, {"B-PER"}},
                  {{"I-PER"}, {"O"}}});
  EXPECT_EQ(r.sentences, 3u);
  EXPECT_EQ(r.overall.gold, 4u);
  EXPECT_EQ(r.overall.guessed, 3u);
  EXPECT_EQ(r.overall.correct, 2u);
  EXPECT_NEAR(r.overall.precision(), 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.overall.recall(), 0.5);
  EXPECT_NEAR(r.overall.f1(), 4.0 / 7.0, 1e-12);
  EXPECT_NEAR(r.accuracy(), 4.0 / 6.0, 1e-12);
  // PER: gold 3 (s1, s2, s3), guessed 2, correct 2 -> P 1, R 2/3, F1 = 2*(2/3)/(5/3) = 0.8.
  EXPECT_NEAR(r.per_type.at("PER").f1(), 0.8, 1e-12);
  auto j = r.to_json();
  EXPECT_NEAR(j["f1"].get<double>(), 4.0 / 7.0, 1e-12);
  EXPECT_EQ(j["per_type"]["PER"]["gold"].get<int>(), 3);
}

TEST(ConllevalTest, EmptyAndNoChunks) {
  ConllevalAccumulator acc;
  EXPECT_DOUBLE_EQ(acc.result().overall.f1(), 0.0);
  EXPECT_DOUBLE_EQ(acc.result().accuracy(), 0.0);
  ASSERT_TRUE(acc.add({"O", "O"}, {"O", "O"}).ok());
  // No chunks anywhere: P, R, F1 are 0 (0 denominators); accuracy 2/2.
  EXPECT_DOUBLE_EQ(acc.result().overall.f1(), 0.0);
  EXPECT_DOUBLE_EQ(acc.result().accuracy(), 1.0);
}

TEST(ConllevalTest, LengthMismatchIsInvalidArgument) {
  ConllevalAccumulator acc;
  Status st = acc.add({"O", "B-PER"}, {"O"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
}


TEST(ConllevalTest, CorrectCountEqualsExactSpanMatchesOnRandomBio) {
  // For BIO tags conlleval's counting loop credits a guessed chunk exactly when a gold chunk has
  // the same start, end and type. Check the loop against that span-set definition on random
  // tag sequences (including I- after O and type changes).
  const Tags alphabet = {"O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
  std::uint64_t seed = 12345;
  auto next = [&] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>(seed >> 33);
  };
  std::size_t expected_correct = 0, expected_gold = 0, expected_guessed = 0;
  ConllevalAccumulator acc;
  for (int s = 0; s < 500; ++s) {
    std::size_t n = 1 + next() % 12;
    Tags gold(n), guess(n);
    for (std::size_t i = 0; i < n; ++i) {
      gold[i] = alphabet[next() % alphabet.size()];
      guess[i] = next() % 3 == 0 ? alphabet[next() % alphabet.size()] : gold[i];
    }
    auto g = extract_chunks(gold), p = extract_chunks(guess);
    expected_gold += g.size();
    expected_guessed += p.size();
    for (const auto& c : p) expected_correct += std::count(g.begin(), g.end(), c);
    ASSERT_TRUE(acc.add(gold, guess).ok());
  }
  EXPECT_EQ(acc.result().overall.gold, expected_gold);
  EXPECT_EQ(acc.result().overall.guessed, expected_guessed);
  EXPECT_EQ(acc.result().overall.correct, expected_correct);
  EXPECT_GT(expected_correct, 100u);
  EXPECT_LT(expected_correct, expected_guessed);
}

}  // namespace
}  // namespace ragft
