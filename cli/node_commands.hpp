#pragma once
// `swarm keys` (CURVE key pairs) and `swarm node` (the node agent).

#include <CLI/CLI.hpp>

#include "swarm/registries.hpp"

namespace swarm::cli {

void add_node_commands(CLI::App& app, int& exit_code, const Registries& registries);

}  // namespace swarm::cli
