// End-to-end rounds of the FL swarm in the simulator: wall time per round as the number of
// nodes per round and the threads grow, the share of that time spent outside task code
// (the simulation's own overhead), and the memory a large idle population costs.
//
// Reference configuration: MLP 784-200-200-10, 600 samples per node (Fashion-MNIST when the
// package is installed, else synthetic data of the same shape), batch 32, 1 local epoch,
// lr 0.05, default population (60% phones, 30% laptops, 10% servers), max-min network.

#include <benchmark/benchmark.h>

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



// The FedAvg run of these benchmarks: `per_round` clients of `nodes`, 600 samples each, the
// default server links, on `threads` threads.
bench::SimulatedFl sim_fl(int64_t nodes, int per_round, int threads) {
  ml::DatasetView train(bench::reference_data().train), test(bench::reference_data().test);
  sim::SimOptions o;
  o.threads = threads;
  return bench::SimulatedFl(nodes, bench::sync_config(per_round), fl::sampled_data(train, test, 600, 1), o);
}

// args: nodes per round, threads. The population is 2x the nodes per round (at least 100).
void BM_SimRound(benchmark::State& state) {
  const int per_round = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  bench::reference_data();
  bench::SimulatedFl run = sim_fl(std::max<int64_t>(100, 2 * per_round), per_round, threads);
  run.controller->step();  // the first round: the data and the speed order are set up
  double wall = 0, task_wall = 0, virtual_s = 0;
  int64_t workers = 0;
  for (auto _ : state) {
    IterationReport r = run.controller->step();
    wall += r.wall_s;
    task_wall += r.task_wall_s;
    virtual_s += r.end_s - r.start_s;
    workers += r.completed;
  }
  state.counters["rounds/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  // Host time outside task code, per host thread-second available.
  state.counters["outside_tasks"] = 1.0 - task_wall / (wall * threads);
  state.counters["virtual_s/round"] = virtual_s / static_cast<double>(state.iterations());
  state.counters["instances/round"] = static_cast<double>(workers) / static_cast<double>(state.iterations());
}
// A fixed number of rounds per row, so that the 1- and 2-thread rows time the very same
// rounds (a seeded run is identical whatever the thread count).
BENCHMARK(BM_SimRound)->ArgNames({"per_round", "threads"})->Args({10, 1})->Args({10, 2})
    ->Iterations(30)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SimRound)->ArgNames({"per_round", "threads"})->Args({100, 1})->Args({100, 2})
    ->Iterations(8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SimRound)->ArgNames({"per_round", "threads"})->Args({1000, 1})->Args({1000, 2})
    ->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The 2-thread speed-up measured by alternation: the same rounds on 1 thread, then on 2, three
// times over, so that a slow or fast spell of a shared machine falls on both. arg: nodes per
// round. Counter speedup = total 1-thread time / total 2-thread time.
void BM_ThreadSpeedup(benchmark::State& state) {
  const int per_round = static_cast<int>(state.range(0));
  bench::reference_data();
  double time[3] = {0, 0, 0};  // indexed by threads
  for (auto _ : state) {
    for (int rep = 0; rep < 3; ++rep) {
      for (int threads : {1, 2}) {
        bench::SimulatedFl run = sim_fl(std::max<int64_t>(100, 2 * per_round), per_round, threads);
        run.controller->step();
        for (int i = 0; i < 4; ++i) time[threads] += run.controller->step().wall_s;
      }
    }
  }
  state.counters["speedup"] = time[1] / time[2];
}
BENCHMARK(BM_ThreadSpeedup)->ArgName("per_round")->Arg(10)->Arg(100)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// A large population with a few nodes sampled per round: what does an idle node cost in
// memory (heap in use after 4 rounds, over the nodes), and does the population add to a
// round's wall time? args: nodes, per round.
void BM_Population(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  const int per_round = static_cast<int>(state.range(1));
  bench::reference_data();
  double extra = 0, round_s = 0;
  for (auto _ : state) {
    const size_t before = bench::heap_bytes();
    bench::SimulatedFl run = sim_fl(nodes, per_round, 1);
    run.controller->step();  // the first round: the data and the speed order are set up
    for (int i = 0; i < 3; ++i) round_s += run.controller->step().wall_s / 3;
    extra = static_cast<double>(bench::heap_bytes() - before);  // while `run` is alive
  }
  state.counters["extra_MB"] = extra / 1e6;
  state.counters["bytes/node"] = extra / static_cast<double>(nodes);
  state.counters["s/round"] = round_s / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Population)->ArgNames({"nodes", "per_round"})
    ->Args({100000, 10})->Args({1000000, 300})->Args({10000000, 300})
    ->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
