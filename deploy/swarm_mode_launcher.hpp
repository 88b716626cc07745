#pragma once
// backend_options.launcher: swarm-mode. The nodes as Docker Swarm mode jobs on the swarm this
// Docker engine manages (one machine or many), one single-task job per node:
//
//   docker service create --name swarm-PID-node-I --mode replicated-job --replicas 1
//     --no-resolve-image --network host --read-only --mount type=tmpfs,dst=/tmp
//     --mount type=bind,src=SHARD,dst=/data,readonly
//     --mount type=bind,src=KEYS/server.key,dst=/keys/server.key,readonly (and node-I.key_secret)
//     [--limit-cpu C] [--limit-memory M] [--constraint node.labels.profile==big]
//     --env SWARM_CONNECT=ENDPOINT --env SWARM_NODE_DATA=/data
//     --env SWARM_SERVER_KEY=... --env SWARM_NODE_KEY=... [--env OPENBLAS_CORETYPE=...] IMAGE node
//
// Why one job per node rather than one job of N tasks: a node needs its own shard and key, and
// Docker 20.10 numbers a replicated job's tasks from slot 0, which {{.Task.Slot}} renders as
// the host's node ID, so a task cannot name its shard by its slot (measured); and Swarm takes
// limits per service, so heterogeneous nodes need a service each anyway. The image is the
// local one (--no-resolve-image: no registry). On several hosts the bind sources must exist on
// the host a task lands on (README "Real nodes"). stop_all() removes the services (docker
// service rm, by the names above) and this engine's containers of them, which Swarm leaves
// behind for finished job tasks.

#include <chrono>

#include "deploy/launcher.hpp"

namespace swarm::deploy {

class SwarmModeLauncher final : public NodeLauncher {
 public:
  // Reads image, cpus, memory and constraints from `options` (launcher.hpp); throws UsageError.
  SwarmModeLauncher(const Dict& options, int64_t nodes);
  ~SwarmModeLauncher() override { stop_all(); }
  void start(const NodeLaunch& launch) override;
  bool any_exited(std::string* which) override;
  void stop_all() override;
  const std::vector<std::string>& services() const { return services_; }

 private:
  std::string docker_, image_;
  std::vector<NodeLimits> limits_;
  std::vector<std::string> constraints_;  // node i's placement constraint, or empty
  std::vector<std::string> services_;  // created ones
  std::chrono::steady_clock::time_point next_check_{};
};

}  // namespace swarm::deploy
