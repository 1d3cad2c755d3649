#include "generate/torch/matvec.h"

#include <atomic>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RAGFT_MATVEC_X86 1
#endif

namespace ragft::matvec {

namespace {

std::atomic<bool> g_allow_bf16_dot{true};

inline float bf16_value(std::uint16_t b) {
  std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline float load(const float* p, std::int64_t i) { return p[i]; }
inline float load(const std::uint16_t* p, std::int64_t i) { return bf16_value(p[i]); }

// The portable path: one weight row at a time against every x row, four partial sums.
template <typename W>
void portable(const float* x, std::int64_t rows, std::int64_t in, const W* w, const float* bias, std::int64_t c0,
              std::int64_t c1, float* y, std::int64_t y_stride) {
  for (std::int64_t o = c0; o < c1; ++o) {
    const W* wo = w + o * in;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * in;
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

// One weight row at a time, so the matrix is read in address order (a single sequential stream
// the hardware prefetcher follows; interleaving several rows was ~2x slower from DRAM), dotted
// with every x row while it is in L1/L2. Four accumulators hide the FMA latency.
template <typename W>
RAGFT_AVX2 void avx2(const float* x, std::int64_t rows, std::int64_t in, const W* w, const float* bias,
                     std::int64_t c0, std::int64_t c1, float* y, std::int64_t y_stride) {
  const std::int64_t in32 = in & ~std::int64_t{31}, in8 = in & ~std::int64_t{7};
  for (std::int64_t o = c0; o < c1; ++o) {
    const W* wo = w + o * in;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * in;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      std::int64_t i = 0;
      for (; i < in32; i += 32) {
        a0 = _mm256_fmadd_ps(load8(wo + i), _mm256_loadu_ps(xr + i), a0);
        a1 = _mm256_fmadd_ps(load8(wo + i + 8), _mm256_loadu_ps(xr + i + 8), a1);
        a2 = _mm256_fmadd_ps(load8(wo + i + 16), _mm256_loadu_ps(xr + i + 16), a2);
        a3 = _mm256_fmadd_ps(load8(wo + i + 24), _mm256_loadu_ps(xr + i + 24), a3);
      }
      for (; i < in8; i += 8) a0 = _mm256_fmadd_ps(load8(wo + i), _mm256_loadu_ps(xr + i), a0);
      float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
      for (; i < in; ++i) s += xr[i] * load(wo, i);
      y[r * y_stride + o] = s + (bias ? bias[o] : 0.0f);
    }
  }
}

// bfloat16 weights with AVX512-BF16's pairwise dot product (vdpbf16ps), which multiplies bf16 by
// bf16. To keep fp32 activations, x is split into x_hi = bf16(x) and x_lo = bf16(x - x_hi) and
// both are dotted with the weights: x_hi + x_lo carries 16 bits of mantissa (relative error
// < 2^-16), the products are exact in fp32 and accumulate in fp32. Two instructions per 32
// weights instead of four conversions and four FMAs per 32 on the AVX2 path.
#define RAGFT_AVX512BF16 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512bf16")))

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(), which
// -Wmaybe-uninitialized reports once they are inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

RAGFT_AVX512BF16 inline __m512bh bh(const std::uint16_t* p) {
  return reinterpret_cast<__m512bh>(_mm512_loadu_si512(p));
}

RAGFT_AVX512BF16 void bf16_dot(const float* x, std::int64_t rows, std::int64_t in, const std::uint16_t* w,
                               const float* bias, std::int64_t c0, std::int64_t c1, float* y, std::int64_t y_stride) {
  const std::int64_t in32 = in & ~std::int64_t{31}, in64 = in & ~std::int64_t{63};
  thread_local std::vector<std::uint16_t> split;  // per row: x_hi [in32], x_lo [in32]
  split.resize(static_cast<std::size_t>(2 * rows * in32));
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * in;
    std::uint16_t* hi = split.data() + 2 * r * in32;
    std::uint16_t* lo = hi + in32;
    for (std::int64_t i = 0; i < in32; i += 32) {
      const __m512 a = _mm512_loadu_ps(xr + i), b = _mm512_loadu_ps(xr + i + 16);
      const __m512i h = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));  // a -> low half
      const __m512 ha = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
      const __m512 hb =
          _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
      const __m512i l = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(_mm512_sub_ps(b, hb), _mm512_sub_ps(a, ha)));
      _mm512_storeu_si512(hi + i, h);
      _mm512_storeu_si512(lo + i, l);
    }
  }
  for (std::int64_t o = c0; o < c1; ++o) {
    const std::uint16_t* wo = w + o * in;
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::uint16_t* hi = split.data() + 2 * r * in32;
      const std::uint16_t* lo = hi + in32;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
      std::int64_t i = 0;
      for (; i < in64; i += 64) {
        const __m512bh v = bh(wo + i), u = bh(wo + i + 32);
        a0 = _mm512_dpbf16_ps(a0, v, bh(hi + i));
        b0 = _mm512_dpbf16_ps(b0, v, bh(lo + i));
        a1 = _mm512_dpbf16_ps(a1, u, bh(hi + i + 32));
        b1 = _mm512_dpbf16_ps(b1, u, bh(lo + i + 32));
      }
      if (i < in32) {
        const __m512bh v = bh(wo + i);
        a0 = _mm512_dpbf16_ps(a0, v, bh(hi + i));
        b0 = _mm512_dpbf16_ps(b0, v, bh(lo + i));
        i += 32;
      }
      float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, b0), _mm512_add_ps(a1, b1)));
      const float* xr = x + r * in;
      for (; i < in; ++i) s += xr[i] * bf16_value(wo[i]);
      y[r * y_stride + o] = s + (bias ? bias[o] : 0.0f);
    }
  }
}

#pragma GCC diagnostic pop

bool has_avx512bf16() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512bf16");
  return yes;
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

#else

bool has_avx2() { return false; }
bool has_avx512bf16() { return false; }

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
  if (has_avx512bf16() && g_allow_bf16_dot.load(std::memory_order_relaxed)) {
    return bf16_dot(x, rows, in, w, bias, col_begin, col_end, y, y_stride);
  }
  if (has_avx2()) return avx2(x, rows, in, w, bias, col_begin, col_end, y, y_stride);
#endif
  portable(x, rows, in, w, bias, col_begin, col_end, y, y_stride);
}

void use_avx512bf16(bool enabled) { g_allow_bf16_dot.store(enabled); }

const char* kernel_name() {
  if (has_avx512bf16() && g_allow_bf16_dot.load(std::memory_order_relaxed)) return "avx2+avx512bf16";
  return has_avx2() ? "avx2" : "portable";
}

}  // namespace ragft::matvec
