// Issue 9, item 12: a run's memory is estimated from its scenario before it starts.
#include "scenario/memory_estimate.hpp"

#include <catch2/catch.hpp>

using namespace swarm::scenario;

TEST_CASE("issue 9.12: the memory estimate counts the model, data, nodes and results", "[scenario][memory]") {
  std::vector<Scenario> runs = load_runs(
      "name: m\nmodel: {hidden: [10]}\ndata: {dataset: synthetic, samples: 1200, features: 8, classes: 2}\n"
      "population: {nodes: 4}\nswarm: {rounds: 3}\n",
      "m.yaml");
  const MemoryEstimate m = estimate_memory(runs.front(), 2);
  // Layers 8 -> 10 -> 2: (8 + 1) x 10 + (10 + 1) x 2 = 112 parameters of 4 bytes.
  CHECK(m.model_bytes == 448);
  // Every node trains in a round (4 updates held); 2 threads: 4 + 4 x 2 + 4 copies.
  CHECK(m.model_copies == 16);
  // The generated set and its split: 2 x 1200 x 8 floats, plus activations 2 x (8 + 10 + 2)
  // widths x 32 per batch x 4 bytes x 2 threads.
  CHECK(m.data_bytes == 2 * 1200 * 8 * 4 + 2 * 20 * 32 * 4 * 2);
  CHECK(m.node_bytes == 4 * 300);
  CHECK(m.result_bytes == 3 * 256);
  CHECK(m.total() == m.model_bytes * m.model_copies + m.data_bytes + m.node_bytes + m.result_bytes);
}

TEST_CASE("issue 9.12: this machine's memory is read from /proc/meminfo", "[scenario][memory]") {
  const std::optional<double> available = available_memory();
  REQUIRE(available);
  CHECK(*available > 0);
}
