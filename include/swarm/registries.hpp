#pragma once
// Everything a program can name in a scenario file or on its command line: task modules,
// aggregation strategies and backends, one registry of each. The `swarm` CLI runs with
// builtin_registries(); a user's program adds its own names to it and hands it to
// swarm::cli::main (swarm/cli.hpp), which then knows them in every command.

#include <memory>

#include "swarm/backend_registry.hpp"
#include "swarm/fl/strategy.hpp"
#include "swarm/registry.hpp"

namespace swarm {

struct Registries {
  ModuleRegistry modules;
  // Shared with the fl.aggregator module, which builds its strategy from it each round:
  // strategies added here after the modules were registered are found too. A copy of a
  // Registries shares its strategies with the original.
  std::shared_ptr<strategies::StrategyRegistry> strategies = std::make_shared<strategies::StrategyRegistry>();
  BackendRegistry backends;
};

// The project's own names: modules fl.worker, fl.aggregator and fl.scheduler (built with this
// object's `strategies`), the built-in strategies (strategies::register_builtin), and the
// backends "sim" and "inprocess".
Registries builtin_registries();

}  // namespace swarm
