#pragma once
// backend_options.launcher: docker. One container per node from the node image, started in
// parallel on this machine's Docker engine:
//
//   docker run -d --pull never --name swarm-PID-node-I --network host --read-only --tmpfs /tmp
//     -v SHARD:/data:ro -v KEYS/server.key:/keys/server.key:ro
//     -v KEYS/node-I.key_secret:/keys/node.key_secret:ro [--cpus C] [--memory M]
//     [-e OPENBLAS_CORETYPE=...] IMAGE node --connect ENDPOINT --data /data ...
//
// The host network lets a node reach a coordinator bound to 127.0.0.1; the root file system is
// read-only and the shard and key are mounted read-only. OPENBLAS_CORETYPE is passed on when
// it is set here (a container does not inherit it, and OpenBLAS would pick another kernel).
// The containers are removed (docker rm -f, by the names above) by stop_all(), also after an
// error or Ctrl-C. A container that stops before its node registers fails the run with its
// last log lines.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "deploy/launcher.hpp"

namespace swarm::deploy {

class DockerLauncher final : public NodeLauncher {
 public:
  // Reads image, cpus and memory from `options` (launcher.hpp); throws UsageError.
  DockerLauncher(const Dict& options, int64_t nodes);
  ~DockerLauncher() override { stop_all(); }
  void start(const NodeLaunch& launch) override;
  bool any_exited(std::string* which) override;
  void stop_all() override;
  // The containers' names, node i's at i.
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::string docker_, image_;
  std::vector<NodeLimits> limits_;
  std::vector<std::string> names_;  // all the run's names, created or not
  bool started_ = false;
  std::chrono::steady_clock::time_point next_check_{};
};

// What is wrong when a docker command's `output` says that `image` is missing or that the engine
// does not answer, in a message that says what to do; none for other failures.
std::optional<std::string> image_problem(const std::string& docker, const std::string& image, const std::string& launcher,
                                         const std::string& output);

// The ID of a local image, or a UsageError saying how to build it (scripts/build-image) or
// that the Docker engine does not answer. `launcher` names the caller in the message.
std::string local_image_id(const std::string& docker, const std::string& image, const std::string& launcher);

// -e / --env values to pass on: OPENBLAS_CORETYPE=... when it is set here.
std::vector<std::string> passed_environment();

}  // namespace swarm::deploy
