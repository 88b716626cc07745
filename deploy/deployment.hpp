#pragma once
// Real nodes as a backend of the registry: backend "nodes" (scenario `backend: nodes`, or the
// `swarm deploy` and `swarm coordinator` commands) builds a Coordinator and, with
// `backend_options.launcher: local`, starts the node agents itself as local processes: keys
// made in a private temporary folder, one shard folder per node, every process stopped and
// the folder removed at the end (also on an error or Ctrl-C).
//
// Settings, in the scenario's `deploy:` section or in `backend_options` (which wins on a key
// set in both; the CLI's flags go there), all optional:
//   launcher            local (the default) | docker | swarm-mode | none (nodes are started by
//                       someone else); docker and swarm-mode also read image, cpus and memory,
//                       swarm-mode constraints (launcher.hpp)
//   bind                the coordinator's address; default tcp://127.0.0.1:0 (any free port)
//                       with a launcher, kDefaultBind without
//   keys                none: the folder holding server.key_secret
//   allow               none: the folder of the admitted nodes' *.key
//   shards              none: where each node's shard folder is written (node-ID/)
//   curve               false: plain TCP, for trusted networks
//   heartbeat_ms        heartbeat interval both ways (200)
//   dead_after_ms       silence after which a node is dead (3000)
//   register_timeout_s  how long to wait for the nodes to register (60)

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "deploy/launcher.hpp"
#include "swarm/backend_registry.hpp"

namespace swarm::deploy {

// Where the coordinator listens when nodes are started elsewhere and no address is given.
inline constexpr const char* kDefaultBind = "tcp://127.0.0.1:5555";

// The launchers that start nodes (backend_options.launcher), besides none.
const std::vector<std::string>& launcher_names();

// The option keys backend "nodes" reads.
const std::vector<std::string>& deployment_option_keys();

void register_deploy_backend(BackendRegistry& registry);

// Set by the CLI's SIGINT/SIGTERM handler while a deployment runs.
std::atomic<bool>& interrupt_flag();

// Local node processes, started by posix_spawn and stopped by PID.
class LocalLauncher {
 public:
  LocalLauncher() = default;
  LocalLauncher(const LocalLauncher&) = delete;
  LocalLauncher& operator=(const LocalLauncher&) = delete;
  ~LocalLauncher() { stop_all(); }

  // Starts `program args...`; throws Error when it cannot.
  void spawn(const std::string& program, const std::vector<std::string>& args);
  // Whether a process exited (it is then reaped), and its description.
  bool any_exited(std::string* which = nullptr);
  // SIGTERM to the processes still running, up to 5 s for them to exit, then SIGKILL.
  void stop_all();
  const std::vector<int>& pids() const { return pids_; }

 private:
  std::vector<int> pids_;  // running, not reaped
};

// The path of the running executable (/proc/self/exe).
std::filesystem::path self_executable();

}  // namespace swarm::deploy
