#pragma once
// Running one resolved Scenario: builds its data and partition, population, swarm, backend and
// controller, runs it, and returns what the results file stores.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <spdlog/logger.h>

#include "swarm/batch_runner.hpp"
#include "swarm/controller.hpp"
#include "swarm/ml/idx.hpp"
#include "swarm/ml/kernel.hpp"
#include "results/results.hpp"
#include "scenario/scenario.hpp"

namespace swarm::scenario {

// Datasets loaded once and shared by every run of a sweep (thread-safe).
class DataCache {
 public:
  // Throws DataError naming the file on a missing or corrupt dataset.
  ml::TrainTest get(const DataSpec& spec, uint64_t seed);
  // The shapes get() would give, from the files' headers (or the synthetic set's rule) alone:
  // for timing-only runs. Not cached (cheap). Throws DataError as get().
  static ml::TrainTestShape shape(const DataSpec& spec, uint64_t seed);

 private:
  std::mutex mutex_;
  std::map<std::string, ml::TrainTest> cache_;
};

struct RunContext {
  int threads = 1;
  std::shared_ptr<spdlog::logger> logger;
  std::vector<ControllerObserver*> observers;  // e.g. a progress printer
  std::string version;
  // Checkpoints (checkpoint.hpp), for wall-clock backends: when set, written after every round
  // that ends with no instance in flight. With `resume`, the run goes on from the checkpoint
  // (which must be of the same scenario and seed), and `on_resume` gets the rounds it holds.
  std::filesystem::path checkpoint;
  bool resume = false;
  std::function<void(const std::vector<results::RoundRow>&)> on_resume;
  // Called before the first round with the run's GEMM kernel once chosen (e.g. to print it),
  // or none when the run trains nothing (training.mode: timing).
  std::function<void(const std::optional<ml::KernelChoice>&)> on_kernel;
};

// The datasets of the nodes of `scenario` as a run gives them: "train", the node's part of
// data.train under data.partition, and "test", data.test. `shards` holds every node's part for
// the partitions that split the training set, and is null for "sampled" (each node draws its
// samples from the seed when asked). Throws a swarm::Error (ScenarioError, UsageError) when the
// partition cannot be made.
struct NodeData {
  DataProvider provider;
  std::shared_ptr<const std::vector<ml::DatasetView>> shards;
};
NodeData node_data(const Scenario& scenario, const ml::TrainTest& data);
// The same for a timing-only run: every node holds ml::DataShape instead of samples ("train":
// the size of its part, from `shards` or data.samples_per_node; "test": `shape.test`).
NodeData timing_node_data(const Scenario& scenario, const ml::TrainTestShape& shape,
                          std::shared_ptr<const std::vector<ml::DatasetView>> shards);

// Throws UsageError unless runs of `scenario` can be checkpointed: those of wall-clock backends.
void check_checkpointable(const Scenario& scenario);

// Runs `scenario` to its end. Throws ScenarioError for what only shows once the data is
// loaded (more nodes than samples to split...), DataError, or TaskFailed.
// Modules, strategy and backend come from `registries` (the names were checked against it
// when the scenario was loaded).
results::RunResult run_scenario(const Scenario& scenario, const RunContext& context, DataCache& cache,
                                const Registries& registries);
// The same with the project's names only (builtin_registries()).
results::RunResult run_scenario(const Scenario& scenario, const RunContext& context, DataCache& cache);

}  // namespace swarm::scenario
