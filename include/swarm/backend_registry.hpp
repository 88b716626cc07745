#pragma once
// Backends by name: what a scenario's `backend:` key (and `swarm run --backend`) chooses. The
// project registers "sim" (virtual nodes and time) and "inprocess" (this machine's threads,
// wall clock); a user's program registers its own beside them (docs/extending.md).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "swarm/backend.hpp"
#include "swarm/batch_runner.hpp"
#include "swarm/blob.hpp"
#include "swarm/registry.hpp"
#include "swarm/types.hpp"

namespace swarm {

namespace scenario {
struct Scenario;  // private to the project; see BackendArgs::scenario
}

// What a backend factory is given to build the backend of one run.
struct BackendArgs {
  const ModuleRegistry& modules;  // the task code the backend runs; outlives the backend
  int64_t num_nodes = 0;          // the run's nodes have ids 0 .. num_nodes - 1
  int threads = 1;                // threads the run may use for task code
  std::shared_ptr<spdlog::logger> logger;
  uint64_t seed = 0;              // the run's seed, for any randomness of the backend's own
  // The datasets of a node (a node id, or kServerNode for where Method::Server tasks run).
  // Called from several threads at once.
  DataProvider data;
  // The scenario's `backend_options` map (numbers, strings and booleans), with only the keys
  // the backend's entry declares (BackendEntry::options); an empty object if none is given.
  Dict options = Dict::object();
  // The whole resolved scenario, for the project's own backends ("sim" reads its population,
  // network and faults from it). Its type is private to the project: a user factory has
  // everything it needs above and leaves this alone.
  const scenario::Scenario* scenario = nullptr;
  // The GEMM kernel the run's models compute with ("openblas", "eigen"; swarm/ml/kernel.hpp),
  // or "" when the run chose none. A backend whose nodes compute elsewhere makes them compute alike.
  std::string kernel;
};

// Builds a backend for one run. Throws a swarm::Error (UsageError...) when it cannot.
using BackendFactory = std::function<std::unique_ptr<Backend>(const BackendArgs&)>;

struct BackendEntry {
  BackendFactory make;
  // What the backend's clock counts. Only a Virtual backend models the scenario keys of the
  // simulated world (network, faults, population.profiles, swarm.max_virtual_time_s,
  // output.trace); with a Wall backend they are refused. Output names times by it.
  ClockKind clock = ClockKind::Wall;
  // How `swarm run`'s header names the nodes' kind: "simulated", "in-process, wall clock".
  std::string description;
  // Keys the backend reads from the scenario's `backend_options`; any other key is refused
  // when the scenario is loaded, with a "did you mean".
  std::vector<std::string> options;
  // A top-level scenario section that holds the same settings as `backend_options` (real
  // nodes: "deploy"), so that one file carries how it is deployed and still runs on any other
  // backend: the section is checked against `options` whatever backend the scenario runs on,
  // and read only by this one; backend_options wins on a key set in both.
  std::string section;
  // Whether the backend records a trace of its own (results::RunDetails::append_trace) on
  // a Wall clock, as real nodes record every start and end: output.trace is then allowed.
  bool traces = false;
};

class BackendRegistry : public Registry<BackendEntry> {
 public:
  BackendRegistry() : Registry("backend") {}
};

}  // namespace swarm
