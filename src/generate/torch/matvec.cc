#include "generate/torch/matvec.h"

#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RAGFT_MATVEC_X86 1
#endif

namespace ragft::matvec {

namespace {

inline float bf16_value(std::uint16_t b) {
  std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline float load(const float* p, std::int64_t i) { return p[i]; }
inline float load(const std::uint16_t* p, std::int64_t i) { return bf16_value(p[i]); }

// The portable path: four output columns at a time, four partial sums each.
template <typename W>
void portable(const float* x, std::int64_t rows, std::int64_t in, const W* w, const float* bias, std::int64_t c0,
              std::int64_t c1, float* y, std::int64_t y_stride) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * in;
    for (std::int64_t o = c0; o < c1; ++o) {
      const W* wo = w + o * in;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      std::int64_t i = 0;
      for (; i + 4 <= in; i += 4) {
        s0 += xr[i] * load(wo, i);
        s1 += xr[i + 1] * load(wo, i + 1);
        s2 += xr[i + 2] * load(wo, i + 2);
        s3 += xr[i + 3] * load(wo, i + 3);
      }
      for (; i < in; ++i) s0 += xr[i] * load(wo, i);
      y[r * y_stride + o] = (s0 + s1) + (s2 + s3) + (bias ? bias[o] : 0.0f);
    }
  }
}

#ifdef RAGFT_MATVEC_X86

#define RAGFT_AVX2 __attribute__((target("avx2,fma")))

RAGFT_AVX2 inline float hsum(__m256 v) {
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  a = _mm_add_ss(a, _mm_shuffle_ps(a, a, 1));
  return _mm_cvtss_f32(a);
}

RAGFT_AVX2 inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
RAGFT_AVX2 inline __m256 load8(const std::uint16_t* p) {
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// Four output columns at a time; each weight row is streamed once per x row (the first row
// brings it into L1/L2 for the others). Two accumulators per column hide the FMA latency.
template <typename W>
RAGFT_AVX2 void avx2(const float* x, std::int64_t rows, std::int64_t in, const W* w, const float* bias,
                     std::int64_t c0, std::int64_t c1, float* y, std::int64_t y_stride) {
  const std::int64_t in16 = in & ~std::int64_t{15}, in8 = in & ~std::int64_t{7};
  std::int64_t o = c0;
  for (; o + 4 <= c1; o += 4) {
    const W* w0 = w + o * in;
    const W* w1 = w0 + in;
    const W* w2 = w1 + in;
    const W* w3 = w2 + in;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * in;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      std::int64_t i = 0;
      for (; i < in16; i += 16) {
        const __m256 xa = _mm256_loadu_ps(xr + i), xb = _mm256_loadu_ps(xr + i + 8);
        a0 = _mm256_fmadd_ps(load8(w0 + i), xa, a0);
        a1 = _mm256_fmadd_ps(load8(w1 + i), xa, a1);
        a2 = _mm256_fmadd_ps(load8(w2 + i), xa, a2);
        a3 = _mm256_fmadd_ps(load8(w3 + i), xa, a3);
        b0 = _mm256_fmadd_ps(load8(w0 + i + 8), xb, b0);
        b1 = _mm256_fmadd_ps(load8(w1 + i + 8), xb, b1);
        b2 = _mm256_fmadd_ps(load8(w2 + i + 8), xb, b2);
        b3 = _mm256_fmadd_ps(load8(w3 + i + 8), xb, b3);
      }
      for (; i < in8; i += 8) {
        const __m256 xa = _mm256_loadu_ps(xr + i);
        a0 = _mm256_fmadd_ps(load8(w0 + i), xa, a0);
        a1 = _mm256_fmadd_ps(load8(w1 + i), xa, a1);
        a2 = _mm256_fmadd_ps(load8(w2 + i), xa, a2);
        a3 = _mm256_fmadd_ps(load8(w3 + i), xa, a3);
      }
      float s0 = hsum(_mm256_add_ps(a0, b0)), s1 = hsum(_mm256_add_ps(a1, b1)), s2 = hsum(_mm256_add_ps(a2, b2)),
            s3 = hsum(_mm256_add_ps(a3, b3));
      for (; i < in; ++i) {
        s0 += xr[i] * load(w0, i);
        s1 += xr[i] * load(w1, i);
        s2 += xr[i] * load(w2, i);
        s3 += xr[i] * load(w3, i);
      }
      float* yr = y + r * y_stride + o;
      yr[0] = s0 + (bias ? bias[o] : 0.0f);
      yr[1] = s1 + (bias ? bias[o + 1] : 0.0f);
      yr[2] = s2 + (bias ? bias[o + 2] : 0.0f);
      yr[3] = s3 + (bias ? bias[o + 3] : 0.0f);
    }
  }
  for (; o < c1; ++o) {  // the last 1-3 columns
    const W* wo = w + o * in;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * in;
      __m256 a = _mm256_setzero_ps();
      std::int64_t i = 0;
      for (; i < in8; i += 8) a = _mm256_fmadd_ps(load8(wo + i), _mm256_loadu_ps(xr + i), a);
      float s = hsum(a);
      for (; i < in; ++i) s += xr[i] * load(wo, i);
      y[r * y_stride + o] = s + (bias ? bias[o] : 0.0f);
    }
  }
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

#else

bool has_avx2() { return false; }

#endif

}  // namespace

void f32(const float* x, std::int64_t rows, std::int64_t in, const float* w, const float* bias,
         std::int64_t col_begin, std::int64_t col_end, float* y, std::int64_t y_stride) {
#ifdef RAGFT_MATVEC_X86
  if (has_avx2()) return avx2(x, rows, in, w, bias, col_begin, col_end, y, y_stride);
#endif
  portable(x, rows, in, w, bias, col_begin, col_end, y, y_stride);
}

void bf16(const float* x, std::int64_t rows, std::int64_t in, const std::uint16_t* w, const float* bias,
          std::int64_t col_begin, std::int64_t col_end, float* y, std::int64_t y_stride) {
#ifdef RAGFT_MATVEC_X86
  if (has_avx2()) return avx2(x, rows, in, w, bias, col_begin, col_end, y, y_stride);
#endif
  portable(x, rows, in, w, bias, col_begin, col_end, y, y_stride);
}

const char* kernel_name() { return has_avx2() ? "avx2" : "portable"; }

}  // namespace ragft::matvec
