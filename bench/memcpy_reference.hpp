#pragma once
// The memory-bandwidth reference measured next to a memory-bound benchmark, in the same
// binary: a memcpy of `floats` floats, reporting bytes read plus written per second.

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

namespace swarm::bench {

inline void memcpy_reference(benchmark::State& state, size_t floats) {
  std::vector<float> src(floats, 1.0f), dst(floats, 0.0f);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), floats * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(2 * floats * sizeof(float));
  state.counters["bytes/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace swarm::bench
