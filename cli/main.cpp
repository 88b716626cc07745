// swarm: the command line of swarmsim.

#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/run_command.hpp"
#include "cli/scenario_commands.hpp"
#include "engine/controller.hpp"
#include "engine/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"swarmsim: simulate and run federated-learning swarms (Manta-style task graphs) with real\n"
               "training, virtual nodes, networks and faults.\n"
               "Try `swarm run` for the default run, `swarm sweep scenarios/quickstart.yaml` for a comparison."};
  app.set_version_flag("--version", SWARM_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  swarm::cli::add_run_command(app, exit_code);
  swarm::cli::add_validate_command(app, exit_code);
  swarm::cli::add_sweep_command(app, exit_code);
  swarm::cli::add_report_command(app, exit_code);
  swarm::cli::add_partition_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const swarm::TaskFailed& e) {
    std::fprintf(stderr, "swarm: error: %s\n", e.what());
    return 1;
  } catch (const swarm::Error& e) {
    std::fprintf(stderr, "swarm: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swarm: internal error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
