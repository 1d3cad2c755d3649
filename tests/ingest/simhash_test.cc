#include "ingest/simhash.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/hash.h"

namespace ragft {
namespace {

const char* kParagraph =
    "The committee met on Tuesday to review the budget for the coming year. Members discussed "
    "the rising cost of maintenance for the older buildings on the north campus, and several "
    "proposed that the university sell two of them rather than repair the roofs again. Others "
    "argued that the buildings have historic value and that selling them would anger alumni. "
    "After a long debate the chair asked the finance office to prepare a detailed comparison of "
    "both options, including the expected cost of repairs over ten years, before the next meeting "
    "in March.";

std::vector<std::string> random_vocab(std::mt19937& rng, int n) {
  std::vector<std::string> vocab;
  for (int i = 0; i < n; ++i) {
    std::string w;
    const int len = 3 + static_cast<int>(rng() % 6);
    for (int k = 0; k < len; ++k) w.push_back(static_cast<char>('a' + rng() % 26));
    vocab.push_back(w);
  }
  return vocab;
}

TEST(SimHash, EmptyAndWordlessTextIsZero) {
  EXPECT_EQ(simhash(""), 0u);
  EXPECT_EQ(simhash("  \n\t "), 0u);
  EXPECT_EQ(simhash("... --- !!!"), 0u);
}

TEST(SimHash, FewerThanThreeWordsHashSingleWords) {
  // One feature: each bit takes that feature's bit. Two features: a bit is set only when both
  // vote for it (a tie of +1 and -1 is 0, which is not > 0).
  EXPECT_EQ(simhash("Hello"), hash64("hello"));
  EXPECT_EQ(simhash("hello world"), hash64("hello") & hash64("world"));
}

TEST(SimHash, NormalisationIgnoresCasePunctuationSpacingAndAccents) {
  const std::uint64_t h = simhash("The cafe serves naive resume writers, daily.");
  EXPECT_NE(h, 0u);
  EXPECT_EQ(simhash("the CAFÉ serves   naïve\nrésumé writers daily!!"), h);
  EXPECT_EQ(simhash("The cafe -- serves (naive) resume \"writers\" daily"), h);
  EXPECT_NE(simhash("The cafe serves resume naive writers daily"), h);  // order matters
}

TEST(SimHash, Hamming) {
  EXPECT_EQ(hamming(0, 0), 0);
  EXPECT_EQ(hamming(0b1011, 0b0001), 2);
  EXPECT_EQ(hamming(~0ull, 0), 64);
}

TEST(SimHash, OneWordChangedStaysClose) {
  // Changing one word of an n-word text changes 3 of its n-2 shingles. SimHash bits differ with
  // probability angle/pi, so the expected distance is 64 * acos((n-5)/(n-2)) / pi:
  // n=100: 64 * acos(95/98) / pi = 5.1 bits; n=300: 64 * acos(295/298) / pi = 2.9 bits.
  std::mt19937 rng(2024);
  const std::vector<std::string> vocab = random_vocab(rng, 2000);
  for (int len : {100, 300}) {
    double total = 0;
    int worst = 0;
    const int trials = 300;
    for (int t = 0; t < trials; ++t) {
      std::string a, b;
      const int pos = static_cast<int>(rng() % static_cast<unsigned>(len));
      for (int i = 0; i < len; ++i) {
        const std::string& w = vocab[rng() % vocab.size()];
        a += w + " ";
        b += (i == pos ? std::string("zzchanged") : w) + " ";
      }
      const int d = hamming(simhash(a), simhash(b));
      total += d;
      worst = std::max(worst, d);
    }
    const double mean = total / trials;
    SCOPED_TRACE("words " + std::to_string(len));
    if (len == 100) {
      EXPECT_NEAR(mean, 5.1, 1.5);
      EXPECT_LE(worst, 16);
    } else {
      EXPECT_NEAR(mean, 2.9, 1.0);
      EXPECT_LE(mean, kNearDuplicateBits + 0.5);  // chunk-sized texts: near-duplicates on average
      EXPECT_LE(worst, 12);
    }
  }
  // The fixed paragraph (86 words) with one word changed, and with a typo.
  std::string edited = kParagraph;
  edited.replace(edited.find("Tuesday"), 7, "Thursday");
  EXPECT_LE(hamming(simhash(kParagraph), simhash(edited)), 12);
}

TEST(SimHash, UnrelatedTextsAreFarApart) {
  // Independent texts: each bit differs with probability 1/2, so distances centre on 32.
  std::mt19937 rng(77);
  const std::vector<std::string> vocab = random_vocab(rng, 2000);
  double total = 0;
  const int trials = 300;
  for (int t = 0; t < trials; ++t) {
    std::string a, b;
    for (int i = 0; i < 100; ++i) {
      a += vocab[rng() % vocab.size()] + " ";
      b += vocab[rng() % vocab.size()] + " ";
    }
    const int d = hamming(simhash(a), simhash(b));
    EXPECT_GT(d, 10);
    total += d;
  }
  EXPECT_NEAR(total / trials, 32.0, 2.0);
  const char* other =
      "Photosynthesis converts light energy into chemical energy stored in glucose. In plants "
      "this happens in the chloroplasts, where chlorophyll absorbs mostly blue and red light and "
      "reflects green, which is why leaves look green to us. The process also releases oxygen "
      "as a by-product, which most life on Earth depends on.";
  EXPECT_GT(hamming(simhash(kParagraph), simhash(other)), 10);
}

}  // namespace
}  // namespace ragft
