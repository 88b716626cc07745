// Cost of a max-min event (a flow starts or ends) as the number of concurrent flows grows,
// for the full solver (re-solves every flow) and the incremental one (re-solves what the
// change affects), the network model's default.
//
// N flows (half downloads, half uploads) run between N / 4 nodes and the server, so every
// flow shares a server link with N / 2 others and a node link with a few; node bandwidths
// spread over two decades so that the bottlenecks differ. Flows are huge and latencies zero,
// so nothing completes and a new flow is active at once. One iteration adds a flow and asks
// for the next event (one re-solve), then cancels it and asks again (a second re-solve):
// "s/resolve" is the time of one of them, reported with an SI prefix (1.2m = 1.2 ms). The
// constant model is measured the same way as a reference. The full solver's 100,000 flows
// are measured with fewer iterations (its re-solve takes milliseconds).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>

#include "sim/network.hpp"

namespace {

using namespace swarm::sim;

enum class Model { kConstant, kFull, kIncremental };

std::unique_ptr<NetworkModel> make_model(Model model) {
  switch (model) {
    case Model::kConstant: return make_constant_network({});
    case Model::kFull: return make_maxmin_network({}, {}, MaxMinSolver::kFull);
    case Model::kIncremental: break;
  }
  return make_maxmin_network({}, {}, MaxMinSolver::kIncremental);
}

std::unique_ptr<NetworkModel> loaded_network(Model model, size_t flows) {
  auto net = make_model(model);
  const auto nodes = static_cast<uint32_t>(std::max<size_t>(1, flows / 4));
  for (uint32_t n = 0; n < nodes; ++n) {
    const double bw = 1e6 * (1.0 + static_cast<double>(n % 100));  // 1 MB/s .. 100 MB/s
    net->set_node_links(n, {.up_bytes_per_s = bw, .down_bytes_per_s = 4 * bw,
                            .latency = SimTime::zero()});
  }
  for (size_t f = 0; f < flows; ++f) {
    net->start_flow(SimTime::zero(), static_cast<uint32_t>(f % nodes),
                    f % 2 == 0 ? Direction::Download : Direction::Upload, 1e15);
  }
  benchmark::DoNotOptimize(net->next_event_time());
  return net;
}

void resolve_loop(benchmark::State& state, Model model) {
  const auto flows = static_cast<size_t>(state.range(0));
  auto net = loaded_network(model, flows);
  uint32_t node = 0;
  const auto nodes = static_cast<uint32_t>(std::max<size_t>(1, flows / 4));
  for (auto _ : state) {
    const FlowId id = net->start_flow(SimTime::zero(), node, Direction::Upload, 1e15);
    benchmark::DoNotOptimize(net->next_event_time());
    net->cancel_flow(SimTime::zero(), id);
    benchmark::DoNotOptimize(net->next_event_time());
    node = (node + 1) % nodes;
  }
  state.counters["flows"] = static_cast<double>(flows);
  state.counters["s/resolve"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_MaxMinResolve(benchmark::State& state) { resolve_loop(state, Model::kFull); }
BENCHMARK(BM_MaxMinResolve)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxMinResolve)->Arg(100000)->Iterations(20)->Unit(benchmark::kMillisecond);

void BM_MaxMinIncremental(benchmark::State& state) { resolve_loop(state, Model::kIncremental); }
BENCHMARK(BM_MaxMinIncremental)->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

// All N flows on one node's downlink (as when an aggregator node downloads every update):
// each event changes the rate of every flow of that link.
void one_node_loop(benchmark::State& state, Model model) {
  const auto flows = static_cast<size_t>(state.range(0));
  auto net = make_model(model);
  net->set_node_links(0, {.up_bytes_per_s = 1e8, .down_bytes_per_s = 1e8, .latency = SimTime::zero()});
  for (size_t f = 0; f < flows; ++f) net->start_flow(SimTime::zero(), 0, Direction::Download, 1e15);
  benchmark::DoNotOptimize(net->next_event_time());
  for (auto _ : state) {
    const FlowId id = net->start_flow(SimTime::zero(), 0, Direction::Download, 1e15);
    benchmark::DoNotOptimize(net->next_event_time());
    net->cancel_flow(SimTime::zero(), id);
    benchmark::DoNotOptimize(net->next_event_time());
  }
  state.counters["flows"] = static_cast<double>(flows);
  state.counters["s/resolve"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_MaxMinOneNode(benchmark::State& state) { one_node_loop(state, Model::kFull); }
BENCHMARK(BM_MaxMinOneNode)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_MaxMinOneNodeIncremental(benchmark::State& state) { one_node_loop(state, Model::kIncremental); }
BENCHMARK(BM_MaxMinOneNodeIncremental)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_ConstantStartCancel(benchmark::State& state) { resolve_loop(state, Model::kConstant); }
BENCHMARK(BM_ConstantStartCancel)->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
