#pragma once
// The node agent: registers with a coordinator (coordinator.hpp) with its cores and memory
// (a container's cgroup limits when lower than the machine's), receives task instances,
// runs the registered module on its own shard and sends the outputs back; heartbeats; after
// losing the coordinator (silence, a restart) it reconnects and registers again with the
// same id and key.

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "deploy/keys.hpp"
#include "deploy/protocol.hpp"
#include "swarm/ml/kernel.hpp"
#include "swarm/registry.hpp"

namespace swarm::deploy {

struct NodeAgentOptions {
  std::string connect;                  // tcp://HOST:PORT
  bool curve = true;
  std::string server_key;               // the coordinator's public key (Z85)
  KeyPair keys;                         // the node's own pair
  std::filesystem::path data;           // its shard folder (shard.hpp); it reads nothing else
  int threads = 1;
  Nanos dead_after_ns = 3'000'000'000;  // coordinator silence before reconnecting
  int max_refusals = 20;                // registrations refused before giving up
  size_t max_message_bytes = kDefaultMaxMessageBytes;
  // Set from a signal handler: the agent stops at its next turn (within a heartbeat).
  const std::atomic<bool>* stop = nullptr;
};

// A GEMM kernel as nodes and coordinator compare it: "NAME: IDENTITY" (swarm/ml/kernel.hpp), e.g.
// "openblas: OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"; the identity
// follows the CPU, OPENBLAS_CORETYPE and the instruction sets the build was compiled for.
std::string gemm_kernel(ml::Kernel kernel);
// Every kernel of this build and environment, as gemm_kernel() names them.
std::vector<std::string> gemm_kernels();

// Runs until the coordinator says bye (returns 0), `stop` is set (returns 0), or the
// coordinator refused it max_refusals times (returns 3). Throws DataError for a bad shard.
int run_node_agent(const ModuleRegistry& modules, const NodeAgentOptions& options, spdlog::logger& logger);

}  // namespace swarm::deploy
