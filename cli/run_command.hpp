#pragma once
// `swarm run`: runs the federated-learning swarm and prints one line per round.

#include <CLI/CLI.hpp>

#include "swarm/registries.hpp"

namespace swarm::cli {

// Adds the subcommand to `app`; its callback runs it and sets `exit_code`. `registries` must
// outlive the parse.
void add_run_command(CLI::App& app, int& exit_code, const Registries& registries);

// `swarm deploy` (coordinator and local node processes) and `swarm coordinator` (nodes started
// elsewhere): `swarm run` on backend "nodes" (deploy/deployment.hpp).
void add_deploy_commands(CLI::App& app, int& exit_code, const Registries& registries);

}  // namespace swarm::cli
