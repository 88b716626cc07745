// FedAvg aggregation throughput against a memory copy of the same size.
//
// Bandwidth counts bytes read plus bytes written: FedAvg of K updates of P floats reads
// K*P*4 bytes and writes P*4; the reference memcpy copies the same K*P*4 bytes (read and
// written). The ratio of the two "bytes/s" counters is what bench/README.md reports.

#include <benchmark/benchmark.h>

#include "bench/memcpy_reference.hpp"

#include <cstring>
#include <vector>

#include "fl/strategies/weighted_average.hpp"

namespace {

constexpr int64_t kParams = 200000;

void BM_FedAvg(benchmark::State& state) {
  const auto k = static_cast<size_t>(state.range(0));
  std::vector<std::vector<float>> updates(k, std::vector<float>(kParams));
  for (size_t u = 0; u < k; ++u) {
    for (int64_t i = 0; i < kParams; ++i) updates[u][i] = static_cast<float>((i + u) % 97) * 0.01f;
  }
  std::vector<std::span<const float>> views(updates.begin(), updates.end());
  std::vector<double> weights(k);
  for (size_t u = 0; u < k; ++u) weights[u] = 100.0 + static_cast<double>(u);
  std::vector<float> out(kParams);
  for (auto _ : state) {
    swarm::strategies::weighted_average(views, weights, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>((k + 1) * kParams * sizeof(float));
  state.counters["bytes/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_FedAvg)->Arg(10)->Arg(100);

void BM_MemcpyReference(benchmark::State& state) {
  swarm::bench::memcpy_reference(state, static_cast<size_t>(state.range(0)) * kParams);
}
BENCHMARK(BM_MemcpyReference)->Arg(10)->Arg(100);

}  // namespace

BENCHMARK_MAIN();
