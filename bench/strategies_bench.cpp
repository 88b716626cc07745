// Throughput of every aggregation strategy (fl/strategies) against a memory copy.
//
//   BM_Strategy/<name>/K   Strategy::aggregate of K updates of 200,000 floats into the model,
//                          the strategy's state carried from one iteration to the next (as
//                          across rounds). Krum, Multi-Krum and Bulyan assume K / 10 Byzantine
//                          updates (1 of 10, 10 of 100). Counters: bytes/s = bytes of updates
//                          read plus bytes of model written, (K + 1) * 200,000 * 4 per call;
//                          memcpy_ratio = that rate over the rate of BM_Memcpy/K, timed right
//                          after on the same thread for as many iterations.
//   BM_Memcpy/K            A memcpy of K * 200,000 floats; bytes/s counts bytes read plus
//                          written, 2 * K * 200,000 * 4, as bench/aggregation_bench.cpp does.
//
// Run with --benchmark_min_time=0.2; single-threaded.

#include <benchmark/benchmark.h>

#include "bench/memcpy_reference.hpp"

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "swarm/fl/strategy.hpp"

namespace {

using swarm::Dict;
using namespace swarm::strategies;

constexpr size_t kParams = 200000;

// K updates from a seed: values uniform in [-0.01, 0.01), sample counts 100..199, staleness
// 0..3. Owns the deltas.
struct Updates {
  explicit Updates(size_t k) : deltas(k, std::vector<float>(kParams)) {
    std::mt19937_64 rng(k);
    for (size_t u = 0; u < k; ++u) {
      for (float& x : deltas[u]) x = static_cast<float>(rng() >> 40) * 0x1p-24f * 0.02f - 0.01f;
      ClientUpdate update;
      update.node = static_cast<swarm::NodeId>(u);
      update.delta = deltas[u];
      update.samples = static_cast<double>(100 + u % 100);
      update.staleness = static_cast<int>(u % 4);
      updates.push_back(update);
    }
  }
  std::vector<std::vector<float>> deltas;
  std::vector<ClientUpdate> updates;
};

// The same memcpy as BM_Memcpy, for `iterations` calls; returns bytes/s (read + written).
double memcpy_rate(size_t k, benchmark::IterationCount iterations) {
  const size_t n = k * kParams;
  std::vector<float> src(n, 1.0f), dst(n, 0.0f);
  std::memcpy(dst.data(), src.data(), n * sizeof(float));
  const auto start = std::chrono::steady_clock::now();
  for (benchmark::IterationCount i = 0; i < iterations; ++i) {
    std::memcpy(dst.data(), src.data(), n * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  const std::chrono::duration<double> time = std::chrono::steady_clock::now() - start;
  return 2.0 * static_cast<double>(n * sizeof(float)) * static_cast<double>(iterations) /
         time.count();
}

void BM_Strategy(benchmark::State& state, const std::string& name) {
  const auto k = static_cast<size_t>(state.range(0));
  Dict config{{"strategy", name}};
  if (name == "krum" || name == "multi_krum" || name == "bulyan") config["num_byzantine"] = k / 10;
  auto strategy = make_strategy(config);
  Updates updates(k);
  std::vector<float> params(kParams, 0.0f), server_state;
  std::mt19937_64 rng(1);
  strategy->aggregate(params, updates.updates, server_state, rng);  // warm-up, sizes the state

  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(strategy->aggregate(params, updates.updates, server_state, rng));
    benchmark::ClobberMemory();
  }
  const std::chrono::duration<double> time = std::chrono::steady_clock::now() - start;

  const double bytes = static_cast<double>((k + 1) * kParams * sizeof(float));
  state.counters["bytes/s"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  const double rate = bytes * static_cast<double>(state.iterations()) / time.count();
  state.counters["memcpy_ratio"] = rate / memcpy_rate(k, state.iterations());
}

void BM_Memcpy(benchmark::State& state) {
  swarm::bench::memcpy_reference(state, static_cast<size_t>(state.range(0)) * kParams);
}
BENCHMARK(BM_Memcpy)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  for (const std::string& name : strategy_names()) {
    benchmark::RegisterBenchmark(("BM_Strategy/" + name).c_str(), BM_Strategy, name)
        ->Arg(10)
        ->Arg(100)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
