#pragma once
// Running one resolved Scenario: builds its data and partition, population, swarm, backend and
// controller, runs it, and returns what the results file stores.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/logger.h>

#include "engine/controller.hpp"
#include "engine/ml/idx.hpp"
#include "results/results.hpp"
#include "scenario/scenario.hpp"

namespace swarm::scenario {

// Datasets loaded once and shared by every run of a sweep (thread-safe).
class DataCache {
 public:
  // Throws DataError naming the file on a missing or corrupt dataset.
  ml::TrainTest get(const DataSpec& spec, uint64_t seed);

 private:
  std::mutex mutex_;
  std::map<std::string, ml::TrainTest> cache_;
};

struct RunContext {
  int threads = 1;
  std::shared_ptr<spdlog::logger> logger;
  std::vector<ControllerObserver*> observers;  // e.g. a progress printer
  std::string version;
};

// Runs `scenario` to its end. Throws ScenarioError for what only shows once the data is
// loaded (more nodes than samples to split...), DataError, or TaskFailed.
results::RunResult run_scenario(const Scenario& scenario, const RunContext& context, DataCache& cache);

}  // namespace swarm::scenario
