#include "cli/node_commands.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>

#include "cli/common.hpp"
#include "deploy/keys.hpp"
#include "deploy/node_agent.hpp"

namespace swarm::cli {
namespace {

std::atomic<bool> g_stop{false};

struct NodeCommand {
  deploy::NodeAgentOptions agent;
  std::string server_key_file, key_file, data;
  int dead_after_ms = 3000;
  bool insecure = false, exit_with_parent = false, verbose = false;
};

int run_node(NodeCommand& c, const Registries& registries) {
  if (c.exit_with_parent) {
    // Started by `swarm deploy`: never outlive it, even after a kill -9 of the coordinator.
    const pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return 0;
  }
  c.agent.curve = !c.insecure;
  if (c.agent.curve) {
    if (c.server_key_file.empty() || c.key_file.empty()) {
      throw UsageError("node: --server-key and --key are required (or --insecure on a trusted network)");
    }
    c.agent.server_key = deploy::read_certificate(c.server_key_file).public_key;
    c.agent.keys = deploy::read_certificate(c.key_file);
    if (c.agent.keys.secret_key.empty()) throw UsageError("node: --key must be a secret key file (NAME.key_secret)");
  }
  c.agent.data = c.data;
  c.agent.dead_after_ns = static_cast<Nanos>(c.dead_after_ms) * 1'000'000;
  g_stop = false;
  c.agent.stop = &g_stop;
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  auto logger = make_logger(c.verbose);
  if (!c.verbose) logger->set_level(spdlog::level::warn);
  return deploy::run_node_agent(registries.modules, c.agent, *logger);
}

}  // namespace

void add_node_commands(CLI::App& app, int& exit_code, const Registries& registries) {
  {
    auto name = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>(".");
    CLI::App* cmd = app.add_subcommand("keys", "Write a CURVE key pair in ZeroMQ's certificate format: DIR/NAME.key "
                                               "(public) and DIR/NAME.key_secret (secret, mode 0600)");
    cmd->add_option("name", *name, "Name of the pair (server, node-0, ...)")->required();
    cmd->add_option("--dir", *dir, "Folder to write them in (created)")->capture_default_str();
    cmd->callback([name, dir, &exit_code] {
      deploy::write_key_pair(*dir, *name, deploy::make_key_pair());
      std::printf("wrote %s/%s.key and %s/%s.key_secret\n", dir->c_str(), name->c_str(), dir->c_str(), name->c_str());
      exit_code = 0;
    });
  }
  {
    auto c = std::make_shared<NodeCommand>();
    CLI::App* cmd = app.add_subcommand(
        "node", "Run a node agent: register with a coordinator, run the task instances it sends on this "
                "node's shard, heartbeat, reconnect after a lost connection with the same identity");
    // Each also read from the environment when not given: a container platform (Docker Swarm
    // mode, a Kubernetes Job) sets them per task where it cannot template the arguments.
    cmd->add_option("--connect", c->agent.connect, "The coordinator's address, tcp://HOST:PORT")
        ->required()->envname("SWARM_CONNECT");
    cmd->add_option("--server-key", c->server_key_file, "The coordinator's public key file (server.key)")
        ->envname("SWARM_SERVER_KEY");
    cmd->add_option("--key", c->key_file, "This node's secret key file (NAME.key_secret)")->envname("SWARM_NODE_KEY");
    cmd->add_option("--data", c->data, "This node's shard folder (shard.json and its datasets); it reads nothing else")
        ->required()->envname("SWARM_NODE_DATA");
    cmd->add_option("-t,--threads", c->agent.threads, "Threads for task code")->capture_default_str()->check(CLI::Range(1, 1024));
    cmd->add_option("--dead-after-ms", c->dead_after_ms, "Coordinator silence after which the node reconnects")
        ->capture_default_str()->check(CLI::Range(2, 600000));
    cmd->add_flag("--insecure", c->insecure, "Plain TCP without CURVE (trusted networks only)");
    cmd->add_flag("--exit-with-parent", c->exit_with_parent, "Exit when the process that started it exits (swarm deploy)");
    cmd->add_flag("-v,--verbose", c->verbose, "Log what the agent does (to stderr)");
    cmd->callback([c, &exit_code, &registries] { exit_code = run_node(*c, registries); });
  }
}

}  // namespace swarm::cli
