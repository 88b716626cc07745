#pragma once
// Network models of the simulated world.
//
// Every transfer of a swarm goes between a node and the server (the coordinator that holds
// the globals and collects results): a download crosses the server's uplink, then the
// node's downlink; an upload crosses the node's uplink, then the server's downlink. Each
// link is full duplex: a node's uplink and downlink are separate resources.
//
// A flow first waits out its latency (the node's plus the server's), during which it is
// "latent" and uses no bandwidth; then it is "active" and transfers its bytes. A model
// advances in two steps, after SimGrid's resource models: the simulation asks
// next_event_time() ("when does a flow next complete or become active?"), schedules an
// event then, and at that event calls advance(t), which returns the flows completed at t.
// Starting or cancelling a flow can move the next event: reschedule that wake-up after
// each (the Driver in tests/sim/network_test.cpp shows the pattern).
//
//   auto net = make_maxmin_network({});
//   net->set_node_links(7, {.up_bytes_per_s = 1e6, .down_bytes_per_s = 1e7,
//                           .latency = SimTime::from_seconds(0.02)});
//   FlowId f = net->start_flow(sim.now(), 7, Direction::Upload, 4e6);
//   ... at *net->next_event_time(): for (FlowId done : net->advance(sim.now())) ...
//
// The clock of a model only moves forward. start_flow() and cancel_flow() take `now`, which
// must be >= the last time given; if it is later, it must also be earlier than
// next_event_time(), so that no completion or activation is skipped. Calling advance(now)
// first, and handling the flows it returns, always satisfies this. Violations throw
// std::logic_error. Models are not thread-safe.
//
// The max-min models keep their own clock in exact instants (Instant below): a flow completes
// or becomes active at the very instant its last byte arrives or its latency ends, and rates
// change there, not at a whole nanosecond. Only what they report is rounded, to the nearest
// nanosecond (next_event_time()), so rounding does not add up over thousands of changes of
// rates. The constant model rounds a completion up to the next nanosecond (transfer_time()).

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "swarm/error.hpp"
#include "sim/time.hpp"

namespace swarm::sim {

using FlowId = uint64_t;

enum class Direction { Download, Upload };

// The links of a node: bandwidths in bytes per second (> 0, finite) and a one-way latency
// (>= 0) added to every flow of the node.
struct LinkSpec {
  double up_bytes_per_s;
  double down_bytes_per_s;
  SimTime latency;
};

struct ServerLinks {
  double up_bytes_per_s = 1.25e9;  // 10 Gbit/s
  double down_bytes_per_s = 1.25e9;
  SimTime latency = SimTime::zero();
};

class NetworkModel {
 public:
  virtual ~NetworkModel() = default;

  // Declares node `node`'s links. Nodes are dense small integers; may be called for a new
  // node at any time, or again for a known one (active flows then share the new bandwidth;
  // the latency applies to flows started later). Throws swarm::UsageError, naming the node,
  // on a bandwidth that is not positive and finite or on a negative latency.
  virtual void set_node_links(uint32_t node, const LinkSpec& links) = 0;

  // Room for nodes 0 .. n - 1, to be declared next: spares the growth of per-node arrays one
  // node at a time, and lets large ones use huge pages (sim/huge_pages.hpp). Optional.
  virtual void reserve_nodes(size_t n) { (void)n; }

  // Starts a flow of `bytes` between `node` and the server at `now`: it waits the node's
  // latency plus the server's, then transfers. Returns its id; ids increase from 1.
  // Throws swarm::UsageError if `bytes` is negative or not finite, or if the node has no
  // links declared.
  virtual FlowId start_flow(SimTime now, uint32_t node, Direction dir, double bytes) = 0;

  // Removes a flow. No-op if it already completed, was cancelled, or never existed.
  virtual void cancel_flow(SimTime now, FlowId id) = 0;

  // The earliest time a flow completes or becomes active, if any flow is left.
  virtual std::optional<SimTime> next_event_time() const = 0;

  // Moves the model's clock to `to` and returns the flows completed at `to` (for the max-min
  // models: whose completion instant is reported as `to`, see Instant), in increasing FlowId
  // order. A completed flow is gone: rate() reports 0, cancel is a no-op.
  // REQUIRES: to >= the last time given and, if there is a next event, to <= its time;
  // throws std::logic_error otherwise.
  virtual std::vector<FlowId> advance(SimTime to) = 0;

  // Flows started and neither completed nor cancelled (latent ones included).
  virtual size_t active_flows() const = 0;

  // Current rate of a flow in bytes/s: 0 while latent, and for unknown or finished flows.
  // For tests and reports.
  virtual double rate(FlowId id) const = 0;
};

// Each flow takes latency + bytes / (its node link's bandwidth); flows never interfere. The
// server's bandwidths are ignored, its latency is not. Throws swarm::UsageError on bad
// server links, as validate_links() does.
std::unique_ptr<NetworkModel> make_constant_network(ServerLinks server);

// SimGrid's TCP corrections to max-min sharing, as its CM02 network model applies them
// (SimGrid 3.32's NetworkCm02Model): the defaults are plain max-min
// (`maxmin`); cm02() and lv08() are SimGrid's two models of that name. With rtt_sharing, a
// flow's share of a bottleneck is proportional to 1 / penalty, where penalty = its route's
// latency (node's + server's, in seconds) + weight_s_bytes / bandwidth of each link of the
// route; a flow whose route has zero latency keeps SimGrid's initial penalty of 1. The latency
// phase lasts latency_factor * route latency; every link's bandwidth is multiplied by
// bandwidth_factor; with window_bytes > 0 (SimGrid's TCP-gamma) a flow's rate is at most
// bandwidth_factor * window_bytes / (2 * route latency). Weights and bounds are taken from the
// links as they are when the flow starts. SimGrid's cross-traffic (5% of every flow on the
// reverse route, its network/crosstraffic option) is not modelled: compare with it off.
struct TcpParams {
  bool rtt_sharing = false;
  double latency_factor = 1;
  double bandwidth_factor = 1;
  double window_bytes = 0;    // 0: no window bound
  double weight_s_bytes = 0;  // SimGrid's network/weight-S

  static TcpParams cm02() { return {.rtt_sharing = true, .window_bytes = 4194304}; }
  static TcpParams lv08() {
    return {.rtt_sharing = true, .latency_factor = 13.01, .bandwidth_factor = 0.97,
            .window_bytes = 4194304, .weight_s_bytes = 20537};
  }
};

// How the max-min models compute rates. Both give the same rates and completion times up to
// floating-point rounding (tests/sim/network_test.cpp compares them on thousands of random
// platforms): kFull re-solves every active flow by progressive filling at each change, the
// reference; kIncremental re-solves only what a change can affect (sim/incremental_network.cpp),
// so that an event costs O(log F) for F flows instead of O(F log F).
enum class MaxMinSolver { kFull, kIncremental };

// Active flows share every node's uplink, every node's downlink and the server's uplink
// and downlink by max-min fairness (progressive filling), re-solved whenever a flow becomes
// active, completes or is cancelled, at the exact instant it does (see Instant). This is SimGrid's fluid model; `tcp` sets its TCP
// corrections (none by default: a flow's rate is not bounded by latency or a TCP window).
// Remaining bytes are tracked in doubles; a flow with <= 1e-6 bytes left counts as done.
// Throws swarm::UsageError on bad server links or TCP parameters.
std::unique_ptr<NetworkModel> make_maxmin_network(ServerLinks server, TcpParams tcp = {},
                                                  MaxMinSolver solver = MaxMinSolver::kIncremental);

// Time to send `bytes` at `bytes_per_s`, rounded up to the next nanosecond. A result within
// 1e-13 (relative) above a whole nanosecond counts as that nanosecond, so that floating-point
// noise does not add one: 1e6 bytes at 1e6 bytes/s is exactly 1 s. Positive byte counts take
// at least 1 ns; a time beyond SimTime::max() is SimTime::max(). REQUIRES: bytes >= 0,
// bytes_per_s > 0.
inline SimTime transfer_time(double bytes, double bytes_per_s) {
  const double ns = bytes / bytes_per_s * 1e9;
  if (!(ns > 0)) return SimTime::zero();
  const double rounded = std::ceil(ns - ns * 1e-13);
  if (rounded < 1) return SimTime::from_ns(1);
  if (!(rounded < 9223372036854775808.0)) return SimTime::max();
  return SimTime::from_ns(static_cast<int64_t>(rounded));
}

// An instant of a max-min model's own clock: nanoseconds since 0 with their fraction. A long
// double holds every SimTime exactly (64-bit significand) and, at 100 s, a fraction of 5e-9 ns.
using Instant = long double;
static_assert(std::numeric_limits<Instant>::digits >= 64,
              "sim::Instant needs a long double of at least 64 bits of significand (x87 or IEEE quad)");

inline Instant instant(SimTime t) { return static_cast<Instant>(t.ns()); }

// The nanosecond nearest to an instant, as the models report it; SimTime::max() beyond it.
inline SimTime reported(Instant x) {
  if (!(x < 9223372036854775807.0L)) return SimTime::max();
  if (!(x > 0)) return SimTime::zero();
  return SimTime::from_ns(static_cast<int64_t>(std::floor(x + 0.5L)));
}

// The instant `bytes` are sent from `from` at `bytes_per_s` (infinity at rate 0).
inline Instant after_transfer(Instant from, double bytes, double bytes_per_s) {
  if (!(bytes > 0)) return from;
  if (!(bytes_per_s > 0)) return std::numeric_limits<Instant>::infinity();
  return from + static_cast<Instant>(bytes / bytes_per_s * 1e9);  // the duration to 1e-16 relative
}

namespace detail {

// What the max-min models need of a flow, from its links and the TCP parameters (see
// TcpParams): how long its latency phase lasts, its sharing weight (1 / penalty) and its
// rate bound (infinity if none).
struct FlowShape {
  Instant latency = 0;  // in ns, exact: latency_factor x the route's latency
  double weight = 1;
  double bound = std::numeric_limits<double>::infinity();
};

inline FlowShape flow_shape(const TcpParams& tcp, const LinkSpec& node, const ServerLinks& server,
                            Direction dir) {
  FlowShape shape;
  const double route_s = node.latency.seconds() + server.latency.seconds();
  shape.latency = (instant(node.latency) + instant(server.latency)) * static_cast<Instant>(tcp.latency_factor);
  if (tcp.rtt_sharing) {
    // The route in SimGrid's order: a download leaves by the server's uplink.
    const double first = dir == Direction::Download ? server.up_bytes_per_s : node.up_bytes_per_s;
    const double second = dir == Direction::Download ? node.down_bytes_per_s : server.down_bytes_per_s;
    double penalty = route_s;
    if (tcp.weight_s_bytes > 0) penalty += tcp.weight_s_bytes / first + tcp.weight_s_bytes / second;
    if (!(route_s * tcp.latency_factor > 0)) penalty = 1;
    shape.weight = 1 / penalty;
  }
  if (tcp.window_bytes > 0 && route_s > 0) {
    shape.bound = tcp.bandwidth_factor * tcp.window_bytes / (2 * route_s);
  }
  return shape;
}

inline void check_tcp(const TcpParams& tcp) {
  auto check = [](double v, bool zero_ok, const char* what) {
    if (!(std::isfinite(v) && (v > 0 || (zero_ok && v == 0)))) {
      std::ostringstream msg;
      msg << "network: " << what << " is " << v << "; expected a finite number "
          << (zero_ok ? ">= 0" : "> 0");
      throw UsageError(msg.str());
    }
  };
  check(tcp.latency_factor, false, "the latency factor");
  check(tcp.bandwidth_factor, false, "the bandwidth factor");
  check(tcp.window_bytes, true, "the TCP window");
  check(tcp.weight_s_bytes, true, "the weight-S parameter");
}

// The clock rules shared by the models (see the header comment): advance(to) may not go back
// nor skip an event; start_flow/cancel_flow at `now` may not step over or onto one either.
inline void check_advance(const char* model, SimTime clock, std::optional<SimTime> next, SimTime to,
                          const char* op) {
  if (to < clock) {
    throw std::logic_error(std::string(model) + ": " + op + " at " + to.to_string() +
                           ", before the model's clock " + clock.to_string());
  }
  if (next && to > *next) {
    throw std::logic_error(std::string(model) + ": " + op + " at " + to.to_string() +
                           " skips the event at " + next->to_string());
  }
}

inline void check_move(const char* model, SimTime clock, std::optional<SimTime> next, SimTime now,
                       const char* op) {
  check_advance(model, clock, next, now, op);
  if (next && *next == now) {
    throw std::logic_error(std::string(model) + ": " + op + " at " + now.to_string() +
                           " without advance(" + now.to_string() + ") first");
  }
}

// The arguments of start_flow, common to the models: the node has links, the size is sane.
// Returns the node's links.
inline const LinkSpec& check_flow(const std::vector<std::optional<LinkSpec>>& nodes, uint32_t node,
                                  double bytes) {
  if (node >= nodes.size() || !nodes[node]) {
    throw UsageError("network: flow to node " + std::to_string(node) + ", which has no links declared");
  }
  if (!(std::isfinite(bytes) && bytes >= 0)) {
    throw UsageError("network: flow of " + std::to_string(bytes) + " bytes to node " +
                     std::to_string(node) + "; expected a finite number >= 0");
  }
  return *nodes[node];
}

inline void check_links(const std::string& who, double up, double down, SimTime latency) {
  auto check = [&](double bw, const char* what) {
    if (!(std::isfinite(bw) && bw > 0)) {
      std::ostringstream msg;
      msg << "network: " << who << " has " << what << " bandwidth " << bw
          << " bytes/s; expected a positive finite number";
      throw UsageError(msg.str());
    }
  };
  check(up, "uplink");
  check(down, "downlink");
  if (latency < SimTime::zero()) {
    throw UsageError("network: " + who + " has negative latency " + latency.to_string());
  }
}
}  // namespace detail

// Throws swarm::UsageError, naming `node`, unless both bandwidths are positive and finite
// and the latency is not negative. Both models call it from set_node_links().
inline void validate_links(uint32_t node, const LinkSpec& links) {
  detail::check_links("node " + std::to_string(node), links.up_bytes_per_s,
                      links.down_bytes_per_s, links.latency);
}

// The same for the server's links; the factories call it.
inline void validate_links(const ServerLinks& server) {
  detail::check_links("the server", server.up_bytes_per_s, server.down_bytes_per_s,
                      server.latency);
}

}  // namespace swarm::sim
