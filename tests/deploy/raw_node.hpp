#pragma once
// A node's side of the wire without a node agent, for the coordinator's tests and benchmark
// (tests/deploy/coordinator_test.cpp, bench/deploy_bench.cpp): a plain-TCP DEALER that
// registers as node 0 and then does what the caller scripts (heartbeats, silence, a close).

#include <string>
#include <vector>

#include <zmq.hpp>

#include "deploy/node_agent.hpp"
#include "deploy/protocol.hpp"
#include "deploy/wire.hpp"

namespace swarm::deploy::testing {

// Sends node 0's registration offering `kernels` (by default every kernel of this build).
inline void send_register(zmq::socket_t& socket, std::vector<std::string> kernels = gemm_kernels()) {
  Register reg;
  reg.node = 0;
  reg.kernels = std::move(kernels);
  send_message(socket, reg);
}

// A DEALER connected to `endpoint` (no CURVE, no linger) that has sent node 0's registration.
inline zmq::socket_t registered_raw_node(zmq::context_t& context, const std::string& endpoint,
                                         std::vector<std::string> kernels = gemm_kernels()) {
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(endpoint);
  send_register(socket, std::move(kernels));
  return socket;
}

}  // namespace swarm::deploy::testing
