// swarm: the command line of swarmsim, with the project's own modules, strategies and backends.

#include "swarm/cli.hpp"

int main(int argc, char** argv) { return swarm::cli::main(argc, argv, swarm::builtin_registries()); }
