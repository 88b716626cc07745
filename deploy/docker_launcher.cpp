#include "deploy/docker_launcher.hpp"

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <thread>

#include "swarm/error.hpp"

namespace swarm::deploy {
namespace {

// How often a waiting coordinator asks Docker whether a container stopped: each question
// costs a docker process (tens of ms), the wait polls every 100 ms.
constexpr auto kCheckEvery = std::chrono::milliseconds(400);

}  // namespace

std::optional<std::string> image_problem(const std::string& docker, const std::string& image, const std::string& launcher,
                                         const std::string& output) {
  if (output.find("No such image") != std::string::npos) {
    return "launcher " + launcher + ": no image " + image +
           " in the local Docker engine; build it with scripts/build-image (no registry is used)";
  }
  if (const size_t at = output.find("Cannot connect to the Docker daemon"); at != std::string::npos) {
    const std::string line = output.substr(at, output.find('\n', at) - at);
    return "launcher " + launcher + ": the Docker engine does not answer (" + docker + "): " + line +
           " Start it (scripts/dockerd-up) or set SWARM_DOCKER.";
  }
  return std::nullopt;
}

std::string local_image_id(const std::string& docker, const std::string& image, const std::string& launcher) {
  const CommandResult r = run_command(docker, {"image", "inspect", "--format", "{{.Id}}", image});
  if (r.status == 0) {
    std::string id = r.output.substr(0, r.output.find('\n'));
    if (!id.empty()) return id;
  }
  if (std::optional<std::string> why = image_problem(docker, image, launcher, r.output)) throw UsageError(*why);
  throw UsageError("launcher " + launcher + ": the Docker engine does not answer (" + docker + " image inspect " + image +
                   "): " + last_lines(r.output, 3) + "; start it (scripts/dockerd-up) or set SWARM_DOCKER");
}

std::vector<std::string> passed_environment() {
  std::vector<std::string> out;
  if (const char* t = std::getenv("OPENBLAS_CORETYPE"); t != nullptr) out.push_back(std::string("OPENBLAS_CORETYPE=") + t);
  return out;
}

DockerLauncher::DockerLauncher(const Dict& options, int64_t nodes)
    : docker_(docker_program()), image_(node_image(options)), limits_(node_limits(options, nodes)) {
  const std::string prefix = "swarm-" + std::to_string(::getpid()) + "-node-";
  for (int64_t i = 0; i < nodes; ++i) names_.push_back(prefix + std::to_string(i));
}

void DockerLauncher::start(const NodeLaunch& launch) {
  started_ = true;  // from here on, stop_all() removes the names
  std::vector<std::vector<std::string>> commands;
  for (size_t i = 0; i < names_.size(); ++i) {
    // The image by name, never pulled (no registry): a missing image fails each run at once,
    // and a separate `docker image inspect` first would add a docker process (0.1 s) to the
    // time to the first round.
    std::vector<std::string> a = {"run", "-d", "--pull", "never", "--name", names_[i], "--label", "swarmsim.node=" + std::to_string(i),
                                  "--network", "host", "--read-only", "--tmpfs", "/tmp",
                                  "-v", launch.shards[i].string() + ":/data:ro"};
    if (!launch.keys.empty()) {
      a.insert(a.end(), {"-v", (launch.keys / "server.key").string() + ":/keys/server.key:ro", "-v",
                         (launch.keys / ("node-" + std::to_string(i) + ".key_secret")).string() +
                             ":/keys/node.key_secret:ro"});
    }
    if (!limits_[i].cpus.empty()) a.insert(a.end(), {"--cpus", limits_[i].cpus});
    if (limits_[i].memory > 0) {
      // No swap beyond the limit: the node has the memory it is given.
      a.insert(a.end(), {"--memory", std::to_string(limits_[i].memory), "--memory-swap", std::to_string(limits_[i].memory)});
    }
    for (const std::string& e : passed_environment()) a.insert(a.end(), {"-e", e});
    a.insert(a.end(), {image_, "node", "--connect", launch.endpoint, "--data", "/data", "--threads", "1"});
    if (!launch.keys.empty()) {
      a.insert(a.end(), {"--server-key", "/keys/server.key", "--key", "/keys/node.key_secret"});
    } else {
      a.push_back("--insecure");
    }
    if (launch.verbose) a.push_back("--verbose");
    commands.push_back(std::move(a));
  }
  // In parallel (16 at a time): each `docker run` waits for its container to start (0.3-1 s).
  const std::vector<CommandResult> results = run_commands(docker_, commands);
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].status != 0) {
      const std::string why = last_lines(results[i].output, 3);
      stop_all();
      if (std::optional<std::string> problem = image_problem(docker_, image_, "docker", results[i].output)) {
        throw UsageError(*problem);
      }
      throw Error("launcher docker: cannot start node " + std::to_string(i) + "'s container " + names_[i] + ": " + why);
    }
  }
}

bool DockerLauncher::any_exited(std::string* which) {
  if (!started_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return false;
  next_check_ = now + kCheckEvery;
  std::vector<std::string> a = {"container", "inspect", "--format",
                                "{{.Name}} {{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}"};
  a.insert(a.end(), names_.begin(), names_.end());
  const CommandResult r = run_command(docker_, a);
  std::istringstream lines(r.output);
  std::string name, running, oom;
  int code = 0;
  while (lines >> name >> running >> code >> oom) {
    if (running == "true") continue;
    if (!name.empty() && name.front() == '/') name.erase(0, 1);
    if (which) {
      const CommandResult log = run_command(docker_, {"logs", "--tail", "5", name});
      *which = "container " + name + " exited with " + std::to_string(code) +
               (oom == "true" ? " (killed out of memory: backend_options.memory is too small for a node)" : "") + ": " +
               last_lines(log.output, 5);
    }
    return true;
  }
  if (r.status != 0) {  // a container gone (removed by someone) or Docker gone
    if (which) *which = "docker container inspect failed: " + last_lines(r.output, 3);
    return true;
  }
  return false;
}

void DockerLauncher::stop_all() {
  if (!started_) return;
  started_ = false;
  // The nodes were told bye and leave by themselves; rm -f ends those that did not. Names that
  // were never created are reported missing by docker and otherwise ignored.
  std::vector<std::string> a = {"rm", "-f"};
  a.insert(a.end(), names_.begin(), names_.end());
  run_command(docker_, a);
}

}  // namespace swarm::deploy
