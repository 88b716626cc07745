#pragma once
// `swarm validate`, `swarm sweep`, `swarm merge`, `swarm report` and `swarm partition`.

#include <CLI/CLI.hpp>

#include "swarm/registries.hpp"

namespace swarm::cli {

// Each adds its subcommand to `app`; `registries` must outlive the parse.
void add_validate_command(CLI::App& app, int& exit_code, const Registries& registries);
void add_sweep_command(CLI::App& app, int& exit_code, const Registries& registries);
void add_merge_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_partition_command(CLI::App& app, int& exit_code, const Registries& registries);

}  // namespace swarm::cli
