// Matrix-vector kernels for decoding: y = x W^T (+ b) for a few rows of x, with W in fp32 or
// bfloat16 and x, y, b in fp32 (accumulation in fp32). At batch 1 a decoder step is a chain of
// such products whose cost is reading W once from memory; a general GEMM with one row (and
// libtorch's per-call overhead) reaches a fraction of the memory bandwidth on small CPUs, these
// reach most of it (docs/benchmarks.md, decode).
//
// Torch-free and single-threaded: a call computes the output columns [col_begin, col_end), so a
// caller splits the columns between threads (the engine uses at::parallel_for). Paths are chosen
// at run time (the build has no -march flag): x86-64 CPUs with AVX2 and FMA take a vectorised
// loop, bf16 weights on CPUs with AVX512-BF16 its bf16 dot product (x split into two bf16 halves,
// so activations keep 16 bits of mantissa: relative error < 2^-16 per product), others a portable
// loop. All give the same sums up to float rounding.
#pragma once

#include <cstdint>

namespace ragft::matvec {

// x: `rows` rows of `in` floats (row stride `in`); w: `out` rows of `in` weights (row-major,
// W[o][i] at w[o * in + i]); bias: `out` floats or nullptr; y: `rows` rows with stride
// `y_stride` (>= col_end). Writes y[r][o] = sum_i x[r][i] * W[o][i] + bias[o] for every row r and
// o in [col_begin, col_end). No alignment is required.
void f32(const float* x, std::int64_t rows, std::int64_t in, const float* w, const float* bias,
         std::int64_t col_begin, std::int64_t col_end, float* y, std::int64_t y_stride);
// The same with bfloat16 weights (the upper 16 bits of an IEEE float, as libtorch's kBFloat16).
void bf16(const float* x, std::int64_t rows, std::int64_t in, const std::uint16_t* w, const float* bias,
          std::int64_t col_begin, std::int64_t col_end, float* y, std::int64_t y_stride);

// "avx2+avx512bf16", "avx2" or "portable": the paths the calls above take on this CPU.
const char* kernel_name();
// For tests and benchmarks: false makes bf16() skip the AVX512-BF16 path (default true).
// Process-wide; not meant to change while kernels run.
void use_avx512bf16(bool enabled);

}  // namespace ragft::matvec
