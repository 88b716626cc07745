#pragma once
// What the simulated-round benchmarks (sim_round_bench, scale_bench) share: an FL swarm on
// the simulated backend that steps round by round, the reference dataset and a heap measurement.

#include <malloc.h>

#include <cstddef>
#include <filesystem>
#include <memory>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "sim/population.hpp"
#include "sim/simulated_backend.hpp"
#include "swarm/controller.hpp"
#include "swarm/fl/fl_swarm.hpp"
#include "swarm/fl/modules.hpp"
#include "swarm/ml/idx.hpp"
#include "swarm/ml/synthetic.hpp"

namespace swarm::bench {

// Fashion-MNIST when installed, else synthetic data of its shape (70,000 samples of 784
// features, 10 classes), loaded once.
inline const ml::TrainTest& reference_data() {
  static const ml::TrainTest tt = [] {
    if (std::filesystem::exists(ml::kFashionMnistDir / "train-images-idx3-ubyte.gz")) return ml::load_fashion_mnist();
    ml::SyntheticOptions s;
    s.num_samples = 70000;
    s.num_features = 784;
    s.num_classes = 10;
    auto all = ml::make_synthetic(s);
    return ml::TrainTest{all, all};
  }();
  return tt;
}

// Heap bytes in use (glibc's allocator: small blocks plus mmapped ones). Unlike the resident
// set, it drops when memory is freed, so a measurement does not depend on what ran before.
inline size_t heap_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// A swarm of `config`, a population of `nodes` of the default mix (seed 1), the simulated backend
// with `options`, and a controller that steps round by round (seed 1). Not movable: the
// controller and the backend hold references to the members.
struct SimulatedFl {
  ModuleRegistry registry;
  std::unique_ptr<fl::FLSwarm> swarm;
  SwarmGraph graph;
  sim::Population population;
  std::unique_ptr<sim::SimulatedBackend> backend;
  std::unique_ptr<Controller> controller;

  SimulatedFl(int64_t nodes, const fl::FlConfig& config, DataProvider data, const sim::SimOptions& options)
      : population(sim::default_population(nodes, 1)) {
    fl::register_modules(registry);
    swarm = std::make_unique<fl::FLSwarm>(config);
    graph = swarm->build(registry);
    auto logger = std::make_shared<spdlog::logger>("b", std::make_shared<spdlog::sinks::null_sink_mt>());
    backend = std::make_unique<sim::SimulatedBackend>(registry, population, std::move(data), options, logger);
    controller = std::make_unique<Controller>(graph, *backend, ControllerOptions{.seed = 1, .max_iterations = 1000000});
  }
  SimulatedFl(const SimulatedFl&) = delete;
  SimulatedFl& operator=(const SimulatedFl&) = delete;
};

// Synchronous FedAvg drawing `per_round` clients a round, with rounds enough for any benchmark.
inline fl::FlConfig sync_config(int per_round) {
  fl::FlConfig cfg;
  cfg.clients_per_round = per_round;
  cfg.max_rounds = 1000000;
  return cfg;
}

}  // namespace swarm::bench
