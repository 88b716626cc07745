#pragma once
// Who starts a deployment's node agents (backend_options.launcher): local processes
// (deployment.cpp), one Docker container per node (docker_launcher.hpp), or Docker Swarm mode
// jobs (swarm_mode_launcher.hpp). A launcher starts the nodes of one run and removes every one
// it started when stop_all() is called or it is destroyed, also after an error or Ctrl-C; it
// touches nothing it did not create (containers and services are found by the names it gave).
//
// Container launchers read these backend_options:
//   image    the node image (default swarmsim-node:latest, built by scripts/build-image)
//   cpus     CPUs per node: a number (every node), or "2,1,0.5" (node i gets item i mod 3)
//   memory   memory per node: "512m" (every node), or "1g,512m" (node i gets item i mod 2);
//            bytes with an optional unit b, k, m or g (1024-based), at least 6m
// and swarm-mode also:
//   constraints  where a node's task may run, a Swarm placement constraint per node:
//            "node.labels.profile==big" (every node), or
//            "node.labels.profile==big,node.labels.profile==small" (node i gets item i mod 2)

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "swarm/blob.hpp"

namespace swarm::deploy {

// What the nodes of one run need, the same for every launcher.
struct NodeLaunch {
  std::string endpoint;                        // the coordinator's address, tcp://HOST:PORT
  std::vector<std::filesystem::path> shards;   // node i's shard folder (shard.hpp)
  std::filesystem::path keys;                  // server.key and node-I.key_secret; empty: no CURVE
  bool verbose = false;                        // the nodes log what they do
};

class NodeLauncher {
 public:
  virtual ~NodeLauncher() = default;
  // Starts every node; throws Error (having removed what it started) when one cannot start.
  virtual void start(const NodeLaunch& launch) = 0;
  // Whether a node stopped; called while the coordinator waits for registrations, so a node
  // that died at start fails the run at once. Its description (and last log lines) in `which`.
  virtual bool any_exited(std::string* which) = 0;
  // Stops and removes every node started; safe to call again.
  virtual void stop_all() = 0;
};

// A container's resource limits; an empty string: no limit.
struct NodeLimits {
  std::string cpus;      // decimal CPUs, as given ("0.5")
  uint64_t memory = 0;   // bytes; 0: no limit
  bool operator==(const NodeLimits&) const = default;
};

// Node i's limits from backend_options.cpus and memory (see above). Throws UsageError naming
// the key and what was expected.
std::vector<NodeLimits> node_limits(const Dict& options, int64_t nodes);

// backend_options.image, or the default; throws UsageError.
std::string node_image(const Dict& options);

// Node i's Swarm placement constraint from backend_options.constraints (see above), empty
// when none is given. Throws UsageError naming the key and what was expected.
std::vector<std::string> node_constraints(const Dict& options, int64_t nodes);

// Bytes of a memory size "512m", "1g", "1048576"; throws UsageError mentioning `where`.
uint64_t parse_memory(const std::string& text, const std::string& where);

// The docker command line tool: $SWARM_DOCKER, else Debian's /usr/bin/docker when present
// (a newer CLI elsewhere in PATH may not match the daemon), else `docker` from PATH.
std::string docker_program();

// The argument vector of a program to start (posix_spawn): `program`, then `args`, then a null
// pointer. It owns its strings.
class Argv {
 public:
  Argv(const std::string& program, const std::vector<std::string>& args);
  Argv(const Argv&) = delete;  // its pointers point into its own strings
  Argv& operator=(const Argv&) = delete;
  char* const* get() const { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

struct CommandResult {
  int status = -1;     // exit code; -1 when it could not start or was killed
  std::string output;  // stdout and stderr together
};

// Runs `program args...` to completion, capturing its output. Never throws for the command's
// own failure (see status).
CommandResult run_command(const std::string& program, const std::vector<std::string>& args);

// Runs `program` with each of `commands` (argument lists), at most `parallel` at a time, and
// returns their results in the same order.
std::vector<CommandResult> run_commands(const std::string& program, const std::vector<std::vector<std::string>>& commands,
                                        size_t parallel = 16);

// The last lines of a text, for error messages.
std::string last_lines(const std::string& text, int lines);

}  // namespace swarm::deploy
