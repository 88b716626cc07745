// swarm::cli::main: the command line of swarmsim, for the `swarm` binary and users' own.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/calibrate_command.hpp"
#include "cli/node_commands.hpp"
#include "cli/run_command.hpp"
#include "cli/scenario_commands.hpp"
#include "swarm/cli.hpp"
#include "swarm/controller.hpp"
#include "swarm/error.hpp"
#include "swarm/registry.hpp"

int swarm::cli::main(int argc, char** argv, const swarm::Registries& registries) {
  CLI::App app{"swarmsim: simulate and run federated-learning swarms (Manta-style task graphs) with real\n"
               "training, virtual nodes, networks and faults.\n"
               "Try `swarm run` for the default run, `swarm sweep scenarios/quickstart.yaml` for a comparison."};
  app.set_version_flag("--version", SWARM_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  swarm::cli::add_run_command(app, exit_code, registries);
  swarm::cli::add_validate_command(app, exit_code, registries);
  swarm::cli::add_sweep_command(app, exit_code, registries);
  swarm::cli::add_merge_command(app, exit_code);
  swarm::cli::add_report_command(app, exit_code);
  swarm::cli::add_partition_command(app, exit_code, registries);
  swarm::cli::add_deploy_commands(app, exit_code, registries);
  swarm::cli::add_node_commands(app, exit_code, registries);
  swarm::cli::add_calibrate_command(app, exit_code, registries);
  // `swarm help [COMMAND]`: the same text as `swarm --help` / `swarm COMMAND --help`.
  auto topic = std::make_shared<std::string>();
  CLI::App* help = app.add_subcommand("help", "Print this help, or a command's: swarm help run");
  help->add_option("command", *topic, "Command to explain");
  help->callback([&app, topic, &exit_code] {
    if (topic->empty()) {
      // Not app.help(): that one explains the subcommand given (here, help itself).
      std::fputs(app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal).c_str(), stdout);
    } else {
      CLI::App* sub = nullptr;
      try {
        sub = app.get_subcommand(*topic);
      } catch (const CLI::OptionNotFound&) {
      }
      if (sub == nullptr || sub->get_name() == "help") {
        std::vector<std::string> commands;  // as registered above: the list never goes stale
        for (const CLI::App* c : app.get_subcommands([](CLI::App* a) { return a->get_name() != "help"; })) {
          commands.push_back(c->get_name());
        }
        throw swarm::UsageError("help: " + swarm::unknown_name_message("command", *topic, commands));
      }
      std::fputs(sub->help(app.get_name()).c_str(), stdout);
    }
    exit_code = 0;
  });
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
