// Event queue throughput in the classic hold model, against std::priority_queue.
//
// Hold model: the queue starts with N pending events; each operation pops the earliest event
// and schedules a new one at its time plus a random increment (exponential, mean 1 ms), so
// the queue stays at N. "items/s" counts schedule+pop pairs per second. The baseline is a
// std::priority_queue of (time, sequence, payload) with the same tie-breaking (FIFO among
// equal times) but no cancellation; compare the items/s counters at equal N. The increments
// are drawn before the timed loop.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <vector>

#include "sim/event_queue.hpp"

namespace {

using swarm::sim::EventQueue;
using swarm::sim::SimTime;

constexpr size_t kIncrements = 1 << 16;  // a power of two, indexed by masking

// Exponential increments in ns, mean 1 ms, drawn once with a fixed seed.
const std::vector<int64_t>& increments() {
  static const std::vector<int64_t> table = [] {
    std::mt19937_64 rng(42);
    std::exponential_distribution<double> exp(1.0 / 1e6);
    std::vector<int64_t> t(kIncrements);
    for (auto& x : t) x = static_cast<int64_t>(exp(rng));
    return t;
  }();
  return table;
}

void BM_EventQueueHold(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto& inc = increments();
  EventQueue<uint64_t> queue;
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    queue.schedule(SimTime::from_ns(inc[k++ & (kIncrements - 1)]), i);
  }
  for (auto _ : state) {
    auto e = queue.pop();
    queue.schedule(e.time + SimTime::from_ns(inc[k++ & (kIncrements - 1)]), e.payload);
  }
  benchmark::DoNotOptimize(queue.next_time());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventQueueHold)->Arg(1000)->Arg(100000)->Arg(1000000);

// The payload Simulation uses: a std::function, moved in and out of the slot vector.
void BM_EventQueueHoldFunction(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto& inc = increments();
  EventQueue<std::function<void()>> queue;
  uint64_t sink = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    queue.schedule(SimTime::from_ns(inc[k++ & (kIncrements - 1)]), [&sink, i] { sink += i; });
  }
  for (auto _ : state) {
    auto e = queue.pop();
    queue.schedule(e.time + SimTime::from_ns(inc[k++ & (kIncrements - 1)]), std::move(e.payload));
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventQueueHoldFunction)->Arg(1000)->Arg(100000)->Arg(1000000);

struct PqEntry {
  int64_t time;
  uint64_t seq;
  uint64_t payload;
  // std::priority_queue is a max-heap: "less" means later.
  bool operator<(const PqEntry& o) const {
    return time > o.time || (time == o.time && seq > o.seq);
  }
};

void BM_PriorityQueueHold(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto& inc = increments();
  std::priority_queue<PqEntry> queue;
  uint64_t seq = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) queue.push({inc[k++ & (kIncrements - 1)], seq++, i});
  for (auto _ : state) {
    const PqEntry e = queue.top();
    queue.pop();
    queue.push({e.time + inc[k++ & (kIncrements - 1)], seq++, e.payload});
  }
  benchmark::DoNotOptimize(queue.top());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PriorityQueueHold)->Arg(1000)->Arg(100000)->Arg(1000000);

}  // namespace

BENCHMARK_MAIN();
