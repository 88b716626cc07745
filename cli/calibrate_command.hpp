#pragma once
// `swarm calibrate`: the simulator checked against real nodes (scenario/calibration.hpp).

#include <CLI/CLI.hpp>

#include "swarm/registries.hpp"

namespace swarm::cli {

// Adds the subcommand to `app`; its callback runs it and sets `exit_code`. `registries` must
// outlive the parse.
void add_calibrate_command(CLI::App& app, int& exit_code, const Registries& registries);

}  // namespace swarm::cli
