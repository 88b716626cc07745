#pragma once
// `swarm run`: runs the federated-learning swarm and prints one line per round.

#include <CLI/CLI.hpp>

namespace swarm::cli {

// Adds the subcommand to `app`; the returned callback runs it and returns the exit code.
void add_run_command(CLI::App& app, int& exit_code);

}  // namespace swarm::cli
