#pragma once
// What a backend tells a run's results beyond the Backend interface: its nodes (profile,
// speed, kernel, bytes on the wire), an event trace, and the real bytes on its wire. The
// runner asks a run's backend for it (dynamic_cast); a backend without it has nodes of
// profile "local", no trace and no wire.

#include <cstdint>
#include <optional>
#include <vector>

#include "swarm/time.hpp"
#include "swarm/types.hpp"
#include "results/results.hpp"

namespace swarm::results {

// Bytes that crossed a real network since the run began, framing included.
struct WireTotals {
  uint64_t up = 0;    // received from the nodes
  uint64_t down = 0;  // sent to the nodes
};

// Where the thread that drives a wall-clock run (controller and backend) spent its time since
// the backend began. What is in none of the parts is the driver's own work: placement,
// encoding and decoding messages, results and checkpoints.
struct DriverTimes {
  Nanos elapsed = 0;       // since the backend began
  Nanos waiting = 0;       // blocked until a node answers: nodes compute, bytes cross the wire
  Nanos server_tasks = 0;  // running the server's instances (aggregation, evaluation)
};

class RunDetails {
 public:
  virtual ~RunDetails() = default;
  // Fills what the backend knows of node `id` in `row`: profile, flops_per_s, kernel, wire
  // bytes (the runner fills the rest).
  virtual void describe_node(NodeId id, NodeRow& row) const = 0;
  // Appends the event trace recorded so far: the simulated trace when the scenario asks for
  // it; on real nodes, when each instance started and arrived, in arrival order.
  virtual void append_trace(std::vector<TraceRow>& out) const = 0;
  // The real bytes on the wire so far; nullopt for a backend without a wire of its own.
  virtual std::optional<WireTotals> wire_totals() const { return std::nullopt; }
  // Where the driving thread's time went so far; nullopt for a backend that does not say.
  virtual std::optional<DriverTimes> driver_times() const { return std::nullopt; }
};

}  // namespace swarm::results
