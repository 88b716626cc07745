#pragma once
// A backend that runs instances in this process, on the host's wall clock. Instances started
// between two wait() calls form a batch that runs in parallel on `threads` OpenMP
// threads (run_batch); their completions are then delivered in start order, so the run is
// identical whatever the thread count. Instances always run to their end: deadlines are not
// enforced here (they are in simulation and on real nodes).

#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include <spdlog/logger.h>

#include "swarm/backend.hpp"
#include "swarm/batch_runner.hpp"
#include "swarm/registry.hpp"

namespace swarm {

// A node of an in-process run: its id, speed and datasets (the names it declares to
// placement are the keys of `data`).
struct LocalNode {
  NodeId id = 0;
  double flops = 1e9;
  LocalData data;
  uint32_t cores = 1;
  uint64_t memory_bytes = 0;  // 0: not known
};

class InProcessBackend : public Backend {
 public:
  // `registry` must outlive the backend. `server_data`: the datasets of the server, where
  // Method::Server tasks run (kServerNode). Throws UsageError if threads < 1, no node is
  // given, or two nodes share an id.
  InProcessBackend(const ModuleRegistry& registry, std::vector<LocalNode> nodes, int threads,
                   std::shared_ptr<spdlog::logger> logger, LocalData server_data = {});

  std::vector<NodeId> node_ids() override;
  bool node_ids_may_change() const override { return false; }  // nodes are given at construction
  std::vector<NodeDescriptor> available_nodes() override;
  void start(const InstanceSpec& spec, std::shared_ptr<const StateReader> state) override;
  // Runs the instances started since the last call as one batch, then returns their
  // completions one by one in start order. Its nodes never change and instances run to their
  // end: it never returns a NodeEvent or a Timeout, and returns Idle when nothing is in flight.
  BackendEvent wait(const WaitFor& w) override;
  void cancel(uint64_t instance_id) override;
  Nanos now_ns() const override;
  ClockKind clock() const override { return ClockKind::Wall; }

 private:
  const LocalNode* find(NodeId id) const;

  const ModuleRegistry& registry_;
  std::vector<LocalNode> nodes_;  // sorted by id
  std::vector<NodeTraits> traits_;  // by position in nodes_
  LocalData server_data_;
  int threads_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<PendingInstance> pending_;
  std::deque<Completion> done_;
  std::chrono::steady_clock::time_point epoch_;
};

}  // namespace swarm
