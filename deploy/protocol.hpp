#pragma once
// The wire protocol between the coordinator and node agents (docs/protocol.md). A message is
// a ZeroMQ multipart message: frame 0 is a MessagePack map, the header, with its type "t" and
// the protocol version "v"; frames 1.. are blobs (models, updates) that the header refers to
// by index, sent as they are, never re-encoded. decode() validates everything before a
// message is used: a malformed, oversized or unknown message is a ProtocolError, never a crash.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "swarm/backend.hpp"
#include "swarm/blob.hpp"
#include "swarm/error.hpp"
#include "swarm/state.hpp"

namespace swarm::deploy {

inline constexpr int kProtocolVersion = 2;  // 2: Register lists its kernels
// Default limits: a header of at most 1 MiB, a message of at most 1 GiB in all.
inline constexpr size_t kMaxHeaderBytes = size_t{1} << 20;
inline constexpr size_t kDefaultMaxMessageBytes = size_t{1} << 30;

class ProtocolError : public Error {
 public:
  using Error::Error;
};

// node -> coordinator: who it is and what it holds.
struct Register {
  NodeId node = 0;
  uint32_t cores = 1;
  uint64_t memory_bytes = 0;
  double flops = 1e9;
  // The GEMM kernels it can run, each "NAME: IDENTITY" (gemm_kernels() in node_agent.hpp):
  // a run's models compute on one kernel, and a node joins when it computes that one alike.
  std::vector<std::string> kernels;
  std::vector<std::string> datasets;
};

// coordinator -> node: admitted, and the heartbeat it expects.
struct Welcome {
  uint32_t heartbeat_ms = 200;
  // The GEMM kernel the node's tasks compute with, as gemm_kernel() names it ("NAME: IDENTITY",
  // one of the node's `kernels`); "" for the node's default.
  std::string kernel;
};

// coordinator -> node: refused (a second connection with an identity already in use...).
struct Refused {
  std::string reason;
};

// A result of the current iteration, as an instance may select it.
struct ShippedResult {
  int task = 0;
  NodeId node = 0;
  std::string tag;
  Blob value;
};

// coordinator -> node: run one instance on the state it may read.
struct Run {
  InstanceSpec spec;
  std::vector<NodeId> node_ids;       // the swarm's nodes, sorted
  std::vector<std::string> aliases;   // the graph's task aliases
  std::vector<int> predecessors;      // of spec.task, sorted (what Scope::Last reads)
  std::vector<std::pair<std::string, Blob>> globals;
  std::vector<ShippedResult> results;  // in arrival order
};

// node -> coordinator: an instance ended.
struct Done {
  uint64_t instance = 0;
  InstanceStatus status = InstanceStatus::Ok;  // Ok or Failed
  std::string error;
  bool diverged = false;
  Nanos wall_ns = 0;
  InstanceOutput output;
};

struct Cancel {
  uint64_t instance = 0;
};

// Both ways: "I am alive". `busy` (node -> coordinator): instances it is running.
struct Heartbeat {
  uint32_t busy = 0;
};

// node -> coordinator: a message it received was refused; it dropped it and stays up.
struct ErrorReport {
  std::string reason;
};

// coordinator -> node: the run is over; the node exits.
struct Bye {};

using Message = std::variant<Register, Welcome, Refused, Run, Done, Cancel, Heartbeat, ErrorReport, Bye>;

// "register", "welcome", ... (the "t" of the header).
const char* type_name(const Message& m);

// The frames of `m`: a header, then its blobs.
std::vector<Blob> encode(const Message& m);

// Validates and decodes the frames of one message. Throws ProtocolError naming what is wrong:
// no frame, a header over kMaxHeaderBytes or not a MessagePack map, another version, an
// unknown type, a missing or mistyped field, a blob index out of range or a blob left over, or
// more than `max_bytes` in all.
Message decode(std::span<const std::span<const std::byte>> frames, size_t max_bytes = kDefaultMaxMessageBytes);

}  // namespace swarm::deploy
