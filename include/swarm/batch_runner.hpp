#pragma once
// Runs a batch of task instances for real, in parallel, on this machine's cores. Shared by
// the backends that execute module code in this process (in-process and simulated): the batch
// is what the controller started between two wait() calls, and its completions come
// back in the batch's order, so the outcome does not depend on the thread count.

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <spdlog/logger.h>

#include "swarm/backend.hpp"
#include "swarm/registry.hpp"
#include "swarm/task_context.hpp"

namespace swarm {

struct PendingInstance {
  InstanceSpec spec;
  std::shared_ptr<const StateReader> state;  // what the instance reads
};

// The datasets of a node. Called from several threads at once.
using DataProvider = std::function<LocalData(NodeId)>;

// REQUIRES: threads >= 1. Instances run one per thread; a batch of one instance runs on the
// calling thread and may use all `threads` in its own loops (TaskContext::threads()). Each completion has status Ok or Failed (an unknown module fails
// its instance), its output, and wall_ns set; start_ns/end_ns are left for the backend.
std::vector<Completion> run_batch(const ModuleRegistry& registry,
                                  std::span<const PendingInstance> batch,
                                  const DataProvider& data, int threads, spdlog::logger& logger);

}  // namespace swarm
