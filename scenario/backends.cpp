#include "scenario/backends.hpp"

#include <memory>

#include "swarm/fl/modules.hpp"
#include "swarm/inprocess_backend.hpp"
#include "swarm/registries.hpp"
#include "deploy/deployment.hpp"
#include "scenario/scenario.hpp"
#include "sim/simulated_backend.hpp"

namespace swarm::scenario {
namespace {

// Holds the population, so that it is built before the SimulatedBackend that refers to it
// (bases are constructed in declaration order) and lives as long as it.
struct PopulationHolder {
  explicit PopulationHolder(const sim::PopulationSpec& spec) : population(spec) {}
  sim::Population population;
};

// The simulated backend of a scenario, owning its population.
class ScenarioSimBackend : private PopulationHolder, public sim::SimulatedBackend, public RunDetails {
 public:
  ScenarioSimBackend(const BackendArgs& args, const Scenario& sc)
      : PopulationHolder(sc.population),
        sim::SimulatedBackend(args.modules, population, args.data, options(sc, args), args.logger) {}

  void describe_node(NodeId id, results::NodeRow& row) const override {
    row.profile = population.profile(id).name;
    row.flops_per_s = population.flops(id);
  }
  void append_trace(std::vector<results::TraceRow>& out) const override {
    for (const sim::TraceEvent& e : trace()) out.push_back({e.time_s, e.node, e.event, e.task, e.instance, e.bytes});
  }

 private:
  static sim::SimOptions options(const Scenario& sc, const BackendArgs& args) {
    sim::SimOptions o = sc.sim;
    o.threads = args.threads;
    o.fault_tasks = {"worker"};  // the FL swarms' workers; the server side does not fail
    return o;
  }
};

std::unique_ptr<Backend> make_sim(const BackendArgs& args) {
  if (args.scenario == nullptr) {
    throw UsageError("backend 'sim' is built from a scenario (it reads the population, network and faults)");
  }
  return std::make_unique<ScenarioSimBackend>(args, *args.scenario);
}

std::unique_ptr<Backend> make_inprocess(const BackendArgs& args) {
  std::vector<LocalNode> nodes;
  nodes.reserve(static_cast<size_t>(args.num_nodes));
  for (int64_t i = 0; i < args.num_nodes; ++i) {
    nodes.push_back({static_cast<NodeId>(i), 1e9, args.data(static_cast<NodeId>(i))});
  }
  return std::make_unique<InProcessBackend>(args.modules, std::move(nodes), args.threads, args.logger,
                                            args.data(kServerNode));
}

}  // namespace

void register_builtin_backends(BackendRegistry& registry) {
  registry.add("sim", {make_sim, ClockKind::Virtual, "simulated", {}});
  registry.add("inprocess", {make_inprocess, ClockKind::Wall, "in-process, wall clock", {}});
  deploy::register_deploy_backend(registry);
}

}  // namespace swarm::scenario

namespace swarm {

Registries builtin_registries() {
  Registries r;
  strategies::register_builtin(*r.strategies);
  fl::register_modules(r.modules, r.strategies);
  scenario::register_builtin_backends(r.backends);
  return r;
}

}  // namespace swarm
