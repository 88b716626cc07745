#include "deploy/swarm_mode_launcher.hpp"

#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "deploy/docker_launcher.hpp"
#include "swarm/error.hpp"

namespace swarm::deploy {
namespace fs = std::filesystem;
namespace {

constexpr auto kCheckEvery = std::chrono::milliseconds(400);

}  // namespace

SwarmModeLauncher::SwarmModeLauncher(const Dict& options, int64_t nodes)
    : docker_(docker_program()), image_(node_image(options)), limits_(node_limits(options, nodes)),
      constraints_(node_constraints(options, nodes)) {}

void SwarmModeLauncher::start(const NodeLaunch& launch) {
  const CommandResult info = run_command(docker_, {"info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"});
  if (info.status != 0) {
    throw UsageError("launcher swarm-mode: the Docker engine does not answer (" + docker_ + " info): " +
                     last_lines(info.output, 3) + "; start it (scripts/dockerd-up) or set SWARM_DOCKER");
  }
  if (info.output.rfind("active true", 0) != 0) {
    throw UsageError("launcher swarm-mode: this Docker engine is not a manager of a swarm (state: " +
                     last_lines(info.output, 1) + "); make one with `docker swarm init --advertise-addr ADDRESS` "
                     "or run this on a manager");
  }
  const std::string image_id = local_image_id(docker_, image_, "swarm-mode");
  const std::string prefix = "swarm-" + std::to_string(::getpid()) + "-node-";
  std::vector<std::vector<std::string>> commands;
  for (size_t i = 0; i < limits_.size(); ++i) {
    std::vector<std::string> a = {"service", "create", "--detach", "--quiet", "--name", prefix + std::to_string(i),
                                  "--mode", "replicated-job", "--replicas", "1", "--max-concurrent", "1",
                                  "--no-resolve-image", "--network", "host", "--read-only",
                                  "--mount", "type=tmpfs,dst=/tmp",
                                  "--mount", "type=bind,src=" + launch.shards[i].string() + ",dst=/data,readonly",
                                  "--env", "SWARM_CONNECT=" + launch.endpoint, "--env", "SWARM_NODE_DATA=/data"};
    if (!launch.keys.empty()) {
      a.insert(a.end(), {"--mount", "type=bind,src=" + (launch.keys / "server.key").string() + ",dst=/keys/server.key,readonly",
                         "--mount", "type=bind,src=" + (launch.keys / ("node-" + std::to_string(i) + ".key_secret")).string() +
                                        ",dst=/keys/node.key_secret,readonly",
                         "--env", "SWARM_SERVER_KEY=/keys/server.key", "--env", "SWARM_NODE_KEY=/keys/node.key_secret"});
    }
    if (!limits_[i].cpus.empty()) a.insert(a.end(), {"--limit-cpu", limits_[i].cpus});
    if (limits_[i].memory > 0) a.insert(a.end(), {"--limit-memory", std::to_string(limits_[i].memory)});
    if (!constraints_[i].empty()) a.insert(a.end(), {"--constraint", constraints_[i]});
    for (const std::string& e : passed_environment()) a.insert(a.end(), {"--env", e});
    a.insert(a.end(), {image_id, "node", "--threads", "1"});
    if (launch.keys.empty()) a.push_back("--insecure");
    if (launch.verbose) a.push_back("--verbose");
    commands.push_back(std::move(a));
  }
  const std::vector<CommandResult> results = run_commands(docker_, commands);
  std::string failed;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].status == 0) {
      services_.push_back(prefix + std::to_string(i));
    } else if (failed.empty()) {
      failed = "cannot create node " + std::to_string(i) + "'s service " + prefix + std::to_string(i) + ": " +
               last_lines(results[i].output, 3);
    }
  }
  if (!failed.empty()) {
    stop_all();
    throw Error("launcher swarm-mode: " + failed);
  }
}

bool SwarmModeLauncher::any_exited(std::string* which) {
  if (services_.empty()) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return false;
  next_check_ = now + kCheckEvery;
  std::vector<std::string> a = {"service", "ps", "--no-trunc", "--format", "{{.Name}}|{{.CurrentState}}|{{.Error}}"};
  a.insert(a.end(), services_.begin(), services_.end());
  const CommandResult r = run_command(docker_, a);
  if (r.status != 0) {
    if (which) *which = "docker service ps failed: " + last_lines(r.output, 3);
    return true;
  }
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    // A task that ended before its node registered: its state and Swarm's error.
    for (const char* state : {"|Failed", "|Rejected", "|Complete", "|Shutdown", "|Orphaned"}) {
      if (line.find(state) != std::string::npos) {
        if (which) *which = "task " + line;
        return true;
      }
    }
  }
  return false;
}

void SwarmModeLauncher::stop_all() {
  if (services_.empty()) return;
  std::vector<std::string> a = {"service", "rm"};
  a.insert(a.end(), services_.begin(), services_.end());
  run_command(docker_, a);
  // Swarm stops the tasks' containers but leaves those of finished job tasks behind (measured
  // with 20.10): remove this engine's containers of the services, found by the label Swarm
  // gives them, until none is left (bounded), so that nothing outlives the run nor uses its
  // folder as it is removed. Containers on other hosts stay until `docker container prune`.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    const CommandResult r = run_command(docker_, {"ps", "-a", "--format", "{{.ID}} {{.Label \"com.docker.swarm.service.name\"}}"});
    std::vector<std::string> rm = {"rm", "-f"};
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {  // "ID SERVICE", SERVICE empty outside Swarm
      const size_t space = line.find(' ');
      if (space == std::string::npos) continue;
      if (std::find(services_.begin(), services_.end(), line.substr(space + 1)) != services_.end()) {
        rm.push_back(line.substr(0, space));
      }
    }
    if (r.status != 0 || rm.size() == 2 || std::chrono::steady_clock::now() >= deadline) break;
    run_command(docker_, rm);
  }
  services_.clear();
}

}  // namespace swarm::deploy
