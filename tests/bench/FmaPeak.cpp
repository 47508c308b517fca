//===- FmaPeak.cpp - The machine's fp32 fused multiply-add peak -----------===//
//
// A probe, not a kernel: twelve independent chains of vector FMAs (more
// than FMA units x latency on the CPUs seen: 2 x 4), with 256-bit (ymm)
// and, where the CPU has AVX-512, 512-bit (zmm) vectors, on 1 and 2
// threads. What the generated matmuls are measured against (% of peak in
// tests/bench/compare.sh).
//
//===----------------------------------------------------------------------===//
#include <benchmark/benchmark.h>

#include <immintrin.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12;
/// FMAs per chain per call: about 10 ms at 4 GHz.
constexpr int64_t kSteps = 4'000'000;

volatile float sink;

__attribute__((target("avx2,fma"))) void chainsYmm() {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm256_set1_ps(static_cast<float>(c));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < kSteps; ++i)
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  float total = 0;
  for (int c = 0; c < kChains; ++c)
    total += _mm256_cvtss_f32(acc[c]);
  sink = total;
}

__attribute__((target("avx512f"))) void chainsZmm() {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < kSteps; ++i)
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  float total = 0;
  for (int c = 0; c < kChains; ++c)
    total += _mm512_cvtss_f32(acc[c]);
  sink = total;
}

/// `range(0)` threads each running the chains with vectors of `lanes` floats.
void BM_FmaPeak(benchmark::State &state, int lanes) {
  bool zmm = lanes == 16;
  if (zmm ? !__builtin_cpu_supports("avx512f")
          : !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    state.SkipWithError(zmm ? "skipped: no AVX-512" : "skipped: no AVX2 and FMA");
    return;
  }
  int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back(zmm ? chainsZmm : chainsYmm);
    for (std::thread &w : workers)
      w.join();
  }
  double flops = 2.0 * kChains * lanes * static_cast<double>(kSteps) * threads;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_FmaPeak, ymm, 8)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FmaPeak, zmm, 16)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace
