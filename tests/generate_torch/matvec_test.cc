#include "generate/torch/matvec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "embed/safetensors.h"

namespace ragft {
namespace {

// y[r][o] for o in [2, 10) of an 11-column product, every other column untouched, against a
// plain double loop.
void check(std::int64_t in, bool bf16_weights, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  const std::int64_t out = 11, rows = 3, c0 = 2, c1 = 10;
  std::vector<float> x(rows * in), w(out * in), bias(out);
  std::vector<std::uint16_t> wb(out * in);
  for (auto& v : x) v = normal(rng);
  for (std::size_t i = 0; i < w.size(); ++i) {
    wb[i] = f32_to_bf16(normal(rng));
    w[i] = bf16_to_f32(wb[i]);  // the same values for both kernels
  }
  for (auto& v : bias) v = normal(rng);
  std::vector<float> y(rows * out, -7.0f);
  if (bf16_weights) {
    matvec::bf16(x.data(), rows, in, wb.data(), bias.data(), c0, c1, y.data(), out);
  } else {
    matvec::f32(x.data(), rows, in, w.data(), bias.data(), c0, c1, y.data(), out);
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t o = 0; o < out; ++o) {
      if (o < c0 || o >= c1) {
        EXPECT_EQ(y[r * out + o], -7.0f) << "column " << o << " is outside the range";
        continue;
      }
      double want = bias[o];
      for (std::int64_t i = 0; i < in; ++i) want += static_cast<double>(x[r * in + i]) * w[o * in + i];
      // fp32 accumulation of `in` products of magnitude ~1 (and < 2^-16 relative error from the
      // split activations of the AVX512-BF16 path).
      EXPECT_NEAR(y[r * out + o], want, 1e-4 * std::sqrt(static_cast<double>(in)))
          << "in " << in << (bf16_weights ? " bf16" : " f32");
    }
  }
}

// Sizes with every tail (in % 64, in % 32, in % 8 nonzero); bf16 with and without the
// AVX512-BF16 path (where the CPU has it).
TEST(MatvecTest, MatchesNaiveProducts) {
  std::mt19937 rng(3);
  for (std::int64_t in : {5, 8, 37, 64, 96, 101, 768}) {
    check(in, false, rng);
    for (bool dot : {true, false}) {
      matvec::use_avx512bf16(dot);
      check(in, true, rng);
    }
  }
  matvec::use_avx512bf16(true);
  const std::string k = matvec::kernel_name();
  EXPECT_TRUE(k == "avx2+avx512bf16" || k == "avx2" || k == "portable") << k;
}

}  // namespace
}  // namespace ragft
