#pragma once
// The project's backends as entries of a BackendRegistry ("sim", "inprocess"), and what a
// built-in backend tells a run's results beyond the Backend interface.

#include <string>
#include <vector>

#include "swarm/backend_registry.hpp"
#include "results/run_details.hpp"

namespace swarm::scenario {

// Adds "sim" (clock Virtual: the simulated population, network and faults of the scenario,
// read through BackendArgs::scenario, which it requires) and "inprocess" (clock Wall: every
// node a thread of this process, at 1 GFLOP/s for placement; public arguments only).
void register_builtin_backends(BackendRegistry& registry);

// Backends that say more of their nodes to the results implement results::RunDetails
// (results/run_details.hpp).
using results::RunDetails;

}  // namespace swarm::scenario
