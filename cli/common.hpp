#pragma once
// Pieces shared by the subcommands of `swarm`.

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/logger.h>

#include "scenario/scenario.hpp"

namespace swarm::cli {

int default_threads();
std::shared_ptr<spdlog::logger> make_logger(bool verbose);

// Writes a file through `fill` under a temporary name, then renames it: a reader never sees
// half a file, and a failure leaves no temporary file. Throws UsageError naming the path if it
// cannot be written.
void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& fill);

// The runs of a scenario file with overrides; an empty `file` is the built-in default
// scenario (every key at its default).
std::vector<scenario::Scenario> load_scenario_runs(const std::string& file,
                                                   const std::vector<std::string>& overrides);

// Flags that stand for one scenario key each (--rounds N is --set swarm.rounds=N ...).
void add_shortcut_flags(CLI::App* cmd, std::vector<std::string>& overrides);

}  // namespace swarm::cli
