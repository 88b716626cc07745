#pragma once
// `swarm validate`, `swarm sweep` and `swarm report`.

#include <CLI/CLI.hpp>

namespace swarm::cli {

void add_validate_command(CLI::App& app, int& exit_code);
void add_sweep_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_partition_command(CLI::App& app, int& exit_code);

}  // namespace swarm::cli
