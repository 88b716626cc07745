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
#include "swarm/registries.hpp"

namespace swarm::cli {

int default_threads();
std::shared_ptr<spdlog::logger> make_logger(bool verbose);

// Writes a file through `fill` under a temporary name beside it, then renames it: a reader
// never sees half a file, and a failure leaves no temporary file. A symlink is followed (the
// file it names is replaced, the link stays); a device or a pipe (/dev/stdout, a FIFO) is
// written in place. Throws UsageError naming the path if it cannot be written.
void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& fill);

// Checks, before a run, that `path` (given with `flag`, e.g. "--metrics") can be written: not
// a directory, in a folder that exists and takes a new file (tried, not guessed from
// permission bits), or a device or pipe open for writing. Throws UsageError naming the flag.
void check_output_path(const std::string& path, const std::string& flag);

// The runs of a scenario file with overrides, its names checked against `registries`; an
// empty `file` is the built-in default scenario (every key at its default).
std::vector<scenario::Scenario> load_scenario_runs(const std::string& file,
                                                   const std::vector<scenario::Override>& overrides,
                                                   const Registries& registries);

// Prints scenario::warnings() of the runs on stderr, each once.
void print_warnings(const std::vector<scenario::Scenario>& runs);

// --set KEY=VALUE and the flags that stand for one scenario key each (--rounds N is --set
// swarm.rounds=N ...), appended to `overrides` in command-line order: the last one wins. The
// help of --backend and --strategy lists the names of `registries`.
void add_shortcut_flags(CLI::App* cmd, std::vector<scenario::Override>& overrides, const Registries& registries);

}  // namespace swarm::cli
