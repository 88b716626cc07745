#pragma once
// The `swarm` command line as a function, so that a user's program that registered its own
// modules, strategies or backends is a full `swarm` that knows their names.

#include "swarm/registries.hpp"

namespace swarm::cli {

// Parses and runs one command (run, validate, sweep, report, partition, help) with the names
// of `registries`. Returns the exit code: 0 success, 2 bad input (a swarm::Error, a bad flag),
// 1 a task that failed or a run that stopped early.
int main(int argc, char** argv, const Registries& registries);

}  // namespace swarm::cli
