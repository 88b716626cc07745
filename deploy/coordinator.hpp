#pragma once
// The coordinator's side of real nodes: a Backend (the controller's own interface) whose
// instances run on node agents (node_agent.hpp) over ZeroMQ, encrypted and authenticated
// with CURVE, admitted by a ZAP handler that knows the allowed public keys. Server instances
// (Method::Server) run in this process, as in the in-process backend.
//
// Determinism: completions are delivered in start order (the order the controller placed
// the instances, node ids ascending within a task), whatever order they arrive in, so a
// synchronous run equals an in-process one bit for bit. Node events come at once.
//
// Faults: a node that sends nothing (heartbeats included) for `dead_after` is declared dead
// (NodeEvent::Died); its instances in flight come back Lost (LossCause::Crash). A node that
// registers again with its key and id rejoins (NodeEvent::Changed) and is placed again.
//
// Results (results::RunDetails): per node its measured speed, GEMM kernel and bytes on the
// wire (kept across reconnections); the run's wire totals; and a trace of every instance's
// start and end in the order they happened: the arrival order an async run depends on.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "deploy/keys.hpp"
#include "deploy/protocol.hpp"
#include "results/run_details.hpp"
#include "swarm/backend.hpp"
#include "swarm/batch_runner.hpp"
#include "swarm/registry.hpp"

namespace swarm::deploy {

struct CoordinatorOptions {
  std::string bind = "tcp://127.0.0.1:0";  // port 0: any free port (see Coordinator::endpoint)
  bool curve = true;                        // false: plain TCP, for trusted networks only
  KeyPair server_keys;                      // the coordinator's own pair (curve)
  std::vector<std::string> allowed_keys;    // node public keys admitted (curve)
  int64_t nodes = 1;                        // node ids 0 .. nodes - 1
  std::string kernel;                       // nodes must offer this GEMM kernel ("NAME: IDENTITY"); "" = any
  Nanos heartbeat_ns = 200'000'000;         // heartbeat interval, both ways
  Nanos dead_after_ns = 3'000'000'000;      // silence after which a node is dead
  Nanos register_timeout_ns = 60'000'000'000;  // waiting for the nodes at start
  size_t max_message_bytes = kDefaultMaxMessageBytes;
  int threads = 1;                          // for server instances
  // Set from a signal handler (Ctrl-C): waits end with an Error("interrupted").
  const std::atomic<bool>* interrupted = nullptr;
};

// Wire totals, framing included (see docs/protocol.md).
struct WireStats {
  uint64_t bytes_sent = 0, bytes_received = 0;
  uint64_t messages_sent = 0, messages_received = 0;
  uint64_t messages_dropped = 0;  // malformed, unexpected or from unknown peers
};

class Coordinator : public Backend, public results::RunDetails {
 public:
  // Binds and starts the ZAP handler. Throws Error when the address cannot be bound.
  Coordinator(const ModuleRegistry& modules, CoordinatorOptions options, std::shared_ptr<spdlog::logger> logger,
              LocalData server_data);
  ~Coordinator() override;  // shutdown()

  // Says bye to the nodes and closes the socket; the backend is unusable after. Idempotent.
  void shutdown();

  // The address nodes connect to (the port resolved when bound to port 0).
  const std::string& endpoint() const { return endpoint_; }
  // Blocks until every node 0 .. nodes-1 registered. Throws Error naming the missing ones
  // after register_timeout_ns, or when `give_up()` returns true (a launched node exited).
  void wait_for_nodes(const std::function<bool()>& give_up = {});

  std::vector<NodeId> node_ids() override;
  bool node_ids_may_change() const override { return false; }
  std::vector<NodeDescriptor> available_nodes() override;
  void start(const InstanceSpec& spec, std::shared_ptr<const StateReader> state) override;
  BackendEvent wait(const WaitFor& w) override;
  void cancel(uint64_t instance_id) override;
  Nanos now_ns() const override;
  ClockKind clock() const override { return ClockKind::Wall; }

  const WireStats& wire() const { return wire_; }

  void describe_node(NodeId id, results::NodeRow& row) const override;
  void append_trace(std::vector<results::TraceRow>& out) const override;
  std::optional<results::WireTotals> wire_totals() const override;
  std::optional<results::DriverTimes> driver_times() const override;

 private:
  struct Node {
    bool alive = false;
    std::string routing_id;  // ZeroMQ identity of its connection
    std::string key;         // its public key (Z85), "" without curve
    Nanos last_seen = 0;
    Register info;
    NodeTraits traits;
    uint64_t bytes_sent = 0, bytes_received = 0;  // framed, over all its connections
  };
  struct Flight {
    InstanceSpec spec;
    Nanos started = 0;
    std::optional<Completion> done;
  };

  // Sends to node `n`, counting the bytes; false when its connection has closed. `bytes`, when
  // given, receives the bytes sent.
  bool send(Node& n, const Message& m, uint64_t* bytes = nullptr);
  // Sends to a connection by its routing id (a refused registration); false as send().
  bool send_to_peer(const std::string& routing_id, const Message& m, uint64_t* bytes = nullptr);
  // Records an event of instance `spec` in the trace.
  void trace(const InstanceSpec& spec, Nanos at, std::string event, uint64_t bytes = 0);
  // Receives what is queued; returns whether anything came.
  bool receive();
  // `bytes`: the message's size on the wire, for the trace.
  void handle(const std::string& routing_id, const std::string& key, Message m, uint64_t bytes);
  void heartbeat_and_reap();
  // How long from `now` until heartbeat_and_reap() has something to do.
  Nanos next_check_in(Nanos now) const;
  void declare_dead(NodeId id, const std::string& why);
  void run_server_batch();
  // Polls the router for up to `timeout`, the time counted as waiting.
  void poll_router(Nanos timeout);
  Node* node_of(const std::string& routing_id);

  const ModuleRegistry& modules_;
  CoordinatorOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  LocalData server_data_;
  std::chrono::steady_clock::time_point epoch_;
  struct Sockets;  // ZeroMQ context, ROUTER, ZAP handler (coordinator.cpp)
  std::unique_ptr<Sockets> zmq_;
  std::string endpoint_;
  std::vector<Node> nodes_;
  std::map<uint64_t, Flight> flights_;  // by instance id = start order
  std::vector<PendingInstance> server_pending_;
  std::deque<NodeEvent> events_;
  Nanos last_heartbeat_ = 0;
  Nanos waiting_ns_ = 0, server_ns_ = 0;  // see driver_times()
  WireStats wire_;
  std::vector<results::TraceRow> trace_;
};

}  // namespace swarm::deploy
