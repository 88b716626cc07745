#include "swarm/batch_runner.hpp"

#include <chrono>

namespace swarm {

namespace {

Completion run_one(const ModuleRegistry& registry, const PendingInstance& p,
                   const DataProvider& data, int threads, spdlog::logger& logger) {
  const auto start = std::chrono::steady_clock::now();
  Completion out;
  if (const ModuleFn* fn = registry.find(p.spec.module)) {
    try {
      LocalData local = data(p.spec.node);
      out = run_instance(*fn, p.spec, *p.state, local, logger, threads);
    } catch (const std::exception& e) {  // the data provider refused the node
      out.spec = p.spec;
      out.status = InstanceStatus::Failed;
      out.error = e.what();
    }
  } else {
    out.spec = p.spec;
    out.status = InstanceStatus::Failed;
    out.error = "module '" + p.spec.module + "' is not registered";
  }
  out.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace

std::vector<Completion> run_batch(const ModuleRegistry& registry,
                                  std::span<const PendingInstance> batch,
                                  const DataProvider& data, int threads, spdlog::logger& logger) {
  std::vector<Completion> out(batch.size());
  const auto n = static_cast<int64_t>(batch.size());
  if (n == 1) {
    // A lone instance (an aggregator, a scheduler) gets every thread for its own loops.
    out[0] = run_one(registry, batch[0], data, threads, logger);
    return out;
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) out[i] = run_one(registry, batch[i], data, 1, logger);
  return out;
}

}  // namespace swarm
