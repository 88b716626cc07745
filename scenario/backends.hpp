#pragma once
// The project's backends as entries of a BackendRegistry ("sim", "inprocess"), and what a
// built-in backend tells a run's results beyond the Backend interface.

#include <string>
#include <vector>

#include "swarm/backend_registry.hpp"
#include "results/results.hpp"

namespace swarm::scenario {

// Adds "sim" (clock Virtual: the simulated population, network and faults of the scenario,
// read through BackendArgs::scenario, which it requires) and "inprocess" (clock Wall: every
// node a thread of this process, at 1 GFLOP/s for placement; public arguments only).
void register_builtin_backends(BackendRegistry& registry);

// Implemented by backends that know more about their nodes than the Backend interface says.
// The runner asks a run's backend for it (dynamic_cast); a backend without it has nodes of
// profile "local" and no trace.
class RunDetails {
 public:
  virtual ~RunDetails() = default;
  // The name of node `id`'s profile ("phone"), for the results' node table.
  virtual std::string node_profile(NodeId id) const = 0;
  // Appends the event trace recorded so far (empty unless the scenario asked for it).
  virtual void append_trace(std::vector<results::TraceRow>& out) const = 0;
};

}  // namespace swarm::scenario
