#include "engine/batch_runner.hpp"

#include <chrono>

#include <omp.h>

namespace swarm {

std::vector<Completion> run_batch(const ModuleRegistry& registry,
                                  std::span<const PendingInstance> batch,
                                  const DataProvider& data, int threads, spdlog::logger& logger) {
  std::vector<Completion> out(batch.size());
  const auto n = static_cast<int64_t>(batch.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    const PendingInstance& p = batch[i];
    const auto start = std::chrono::steady_clock::now();
    if (const ModuleFn* fn = registry.find(p.spec.module)) {
      try {
        LocalData local = data(p.spec.node);
        out[i] = run_instance(*fn, p.spec, *p.state, local, logger);
      } catch (const std::exception& e) {  // the data provider refused the node
        out[i].spec = p.spec;
        out[i].status = InstanceStatus::Failed;
        out[i].error = e.what();
      }
    } else {
      out[i].spec = p.spec;
      out[i].status = InstanceStatus::Failed;
      out[i].error = "module '" + p.spec.module + "' is not registered";
    }
    out[i].wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return out;
}

}  // namespace swarm
