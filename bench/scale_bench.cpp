// Timing-only FL at Internet scale (training.mode: timing, README "Timing-only runs"): nodes
// hold the shape of their data, not samples; workers report the FLOPs and send updates of the
// size a real run would, without training. What is measured is the simulation itself:
// placement, availability, the max-min network, the event queue, the controller.
//
//  - BM_TimingRound: one synchronous FedAvg round of K clients sampled from N nodes (the
//    issue's goal: 100,000 of 1,000,000 in <= 10 s and <= 2 GB), with the time to build the
//    population and the backend, and the process's peak resident memory.
//  - BM_ModeRound: the same small round in real and in timing mode, one after the other: the
//    reference the timing figures are read against (the cost of a client in each mode).
//  - BM_FedBuffIteration: asynchronous FedBuff (100 workers at a time, an aggregation every 10
//    updates) over N = 1e5, 1e6, 1e7 nodes: the wall time of an iteration must not grow with N.
//
// Model: MLP 784-200-200-10, 600 samples per node, batch 32, 1 epoch; default population (60%
// phones, 30% laptops, 10% servers, Markov availability); max-min network, server links 1 Gbit/s.

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <malloc.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "bench/round_support.hpp"
#include "swarm/controller.hpp"
#include "swarm/fl/fl_swarm.hpp"
#include "swarm/fl/modules.hpp"
#include "swarm/ml/idx.hpp"
#include "swarm/ml/synthetic.hpp"
#include "sim/population.hpp"
#include "sim/simulated_backend.hpp"

namespace {

using namespace swarm;

constexpr int64_t kSamplesPerNode = 600;

// What a timing-only node holds: the shapes of Fashion-MNIST's sets and of its own sample
// (scenario::timing_node_data gives the same for a `sampled` partition).
DataProvider shapes() {
  const ml::DataShape test{10000, 784, 10};
  return [test](NodeId id) {
    if (id == kServerNode) return LocalData{{"test", test}};
    return LocalData{{"train", ml::DataShape{kSamplesPerNode, 784, 10}}, {"test", test}};
  };
}


double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);  // ru_maxrss in KiB on Linux
  return static_cast<double>(usage.ru_maxrss) * 1024 / 1e6;
}


// CPU seconds of this thread: on a shared machine, unlike the wall time, it does not count the
// time other processes held the core (the benchmarks run on one thread).
double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The simulated backend's options here: `threads`, `network`, and a 1 Gbit/s server.
sim::SimOptions scale_options(int threads = 1, sim::NetworkKind network = sim::NetworkKind::MaxMin) {
  sim::SimOptions o;
  o.threads = threads;
  o.network = network;
  o.server.up_bytes_per_s = o.server.down_bytes_per_s = 1.25e8;  // 1 Gbit/s
  return o;
}

// args: nodes, clients per round, network (1 max-min, 0 constant: the engine's own cost without
// the max-min solver). One round, from nothing: setup_s builds the population, the
// availability and network models and the controller; round_s is the first round (placement
// draws the sample, every client downloads, trains in virtual time and uploads through the
// max-min network, the server aggregates and evaluates).
void BM_TimingRound(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  const int per_round = static_cast<int>(state.range(1));
  const sim::NetworkKind network = state.range(2) != 0 ? sim::NetworkKind::MaxMin : sim::NetworkKind::Constant;
  double setup_s = 0, round_s = 0, round_cpu_s = 0, virtual_s = 0, extra = 0;
  int64_t clients = 0;
  for (auto _ : state) {
    const size_t before = bench::heap_bytes();
    const auto t0 = std::chrono::steady_clock::now();
    bench::SimulatedFl run(nodes, bench::sync_config(per_round), shapes(), scale_options(1, network));
    setup_s = seconds_since(t0);
    const double cpu0 = thread_cpu_s();
    IterationReport r = run.controller->step();
    round_cpu_s = thread_cpu_s() - cpu0;
    round_s = r.wall_s;
    virtual_s = r.end_s - r.start_s;
    clients = r.completed;
    extra = static_cast<double>(bench::heap_bytes() - before);
  }
  state.counters["setup_s"] = setup_s;
  state.counters["round_s"] = round_s;
  state.counters["round_cpu_s"] = round_cpu_s;
  state.counters["virtual_s"] = virtual_s;
  state.counters["instances"] = static_cast<double>(clients);
  state.counters["us/client"] = round_s / static_cast<double>(per_round) * 1e6;
  state.counters["heap_MB"] = extra / 1e6;
  state.counters["peak_rss_MB"] = peak_rss_mb();  // of the process so far: run the row alone
}
BENCHMARK(BM_TimingRound)->ArgNames({"nodes", "per_round", "maxmin"})
    ->Args({100000, 10000, 0})->Args({1000000, 100000, 0})->Args({100000, 10000, 1})->Args({1000000, 100000, 1})
    ->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// args: timing (0 real, 1 timing). The same 200-client round of 2,000 nodes in either mode,
// rounds 2-3 (the first loads the data for the real one); us/client is the reference the
// BM_TimingRound rows compare with.
void BM_ModeRound(benchmark::State& state) {
  const bool timing = state.range(0) != 0;
  constexpr int kPerRound = 200;
  DataProvider data;
  if (timing) {
    data = shapes();
  } else {
    ml::DatasetView train(bench::reference_data().train), test(bench::reference_data().test);
    data = fl::sampled_data(train, test, kSamplesPerNode, 1);
  }
  double round_s = 0;
  for (auto _ : state) {
    bench::SimulatedFl run(2000, bench::sync_config(kPerRound), data, scale_options(2));
    run.controller->step();
    for (int i = 0; i < 2; ++i) round_s += run.controller->step().wall_s / 2;
  }
  round_s /= static_cast<double>(state.iterations());
  state.counters["round_s"] = round_s;
  state.counters["us/client"] = round_s / kPerRound * 1e6;
}
BENCHMARK(BM_ModeRound)->ArgName("timing")->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// args: nodes. FedBuff, timing only: concurrency 100, buffer 10. After 20 warm-up iterations,
// the mean wall time of the next 5,000 (each: the buffer's 10 updates arrive, the aggregator
// and scheduler run, 10 new workers are placed and start).
void BM_FedBuffIteration(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  fl::FlConfig cfg;
  cfg.async = true;
  cfg.concurrency = 100;
  cfg.buffer_size = 10;
  cfg.max_rounds = 1000000;
  double per_iteration = 0, cpu_per_iteration = 0, setup_s = 0, virtual_s = 0;
  constexpr int kWarmup = 20, kMeasured = 5000;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    bench::SimulatedFl run(nodes, cfg, shapes(), scale_options());
    setup_s = seconds_since(t0);
    for (int i = 0; i < kWarmup; ++i) run.controller->step();
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu1 = thread_cpu_s();
    double start = 0, end = 0;
    for (int i = 0; i < kMeasured; ++i) {
      IterationReport r = run.controller->step();
      if (i == 0) start = r.start_s;
      end = r.end_s;
    }
    per_iteration = seconds_since(t1) / kMeasured;
    cpu_per_iteration = (thread_cpu_s() - cpu1) / kMeasured;
    virtual_s = (end - start) / kMeasured;
  }
  state.counters["setup_s"] = setup_s;
  state.counters["ms/iteration"] = per_iteration * 1e3;
  state.counters["cpu_ms/iteration"] = cpu_per_iteration * 1e3;
  state.counters["virtual_s/iteration"] = virtual_s;
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(BM_FedBuffIteration)->ArgName("nodes")->Arg(100000)->Arg(1000000)->Arg(10000000)
    ->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
