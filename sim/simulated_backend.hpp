#pragma once
// The simulated backend: runs a swarm's task instances on a population of virtual nodes, in
// the virtual time of a discrete-event Simulation, with real module code.
//
// An instance started at virtual time t0 on node i goes through three phases:
//   download  the bytes it read (globals, selected results) from the server to node i;
//   compute   its reported FLOPs / node i's speed, times a log-normal noise factor
//             exp(N(0, compute_noise)) drawn from the instance's own stream;
//   upload    the bytes it wrote (globals, results) from node i to the server;
// and completes at the end of the upload. The module code itself runs for real as soon as the
// controller asks for the next completion, in parallel with the other instances started at
// the same virtual time (run_batch); its output is held until its virtual completion. Wall
// time never enters the simulation.
//
// Faults, each drawn from the instance's own stream:
//   crash     (tasks named in fault_tasks) with probability crash_probability the node crashes at a uniform point of the
//             compute phase: the instance is lost (LossCause::Crash);
//   transfer  each transfer fails with probability transfer_failure_probability at a uniform
//             fraction of its nominal duration (latency + bytes / link bandwidth), if still
//             running then (LossCause::Transfer);
//   offline   a node whose availability turns off while it runs an instance loses it
//             (LossCause::Offline); nodes that are off are not offered to the controller.
//
// Instances on the server (kServerNode, Method::Server) only compute, at server_flops.
//
// Determinism: events run in (time, schedule order); batches are scheduled in start order;
// every random draw comes from a stream derived from the instance's seed. The same seed gives
// the same run whatever the thread count.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "swarm/backend.hpp"
#include "swarm/batch_runner.hpp"
#include "swarm/registry.hpp"
#include "sim/availability.hpp"
#include "sim/network.hpp"
#include "sim/population.hpp"
#include "sim/simulation.hpp"

namespace swarm::sim {

enum class NetworkKind { Constant, MaxMin };

struct SimOptions {
  int threads = 1;
  NetworkKind network = NetworkKind::MaxMin;
  ServerLinks server;
  TcpParams tcp;  // of the max-min model: `maxmin` (the default), cm02, lv08
  // Compute speed of the server, where tasks placed with Method::Server run: they read and
  // write the server's state in place (no transfer), take their FLOPs / server_flops, and
  // see no faults (a server crash is out of this model). Default: the built-in "server"
  // profile's speed.
  double server_flops = 2e11;
  double crash_probability = 0;             // per instance
  double transfer_failure_probability = 0;  // per transfer
  // Tasks (by alias) subject to crash and transfer faults; empty = every task. FL runs name
  // only the workers: the aggregator and scheduler stand for the server side.
  std::vector<std::string> fault_tasks;
  bool record_trace = false;
  uint64_t seed = 1;  // availability streams
};

// One line of the optional event trace.
struct TraceEvent {
  double time_s;
  NodeId node;
  const char* event;  // "start", "download_done", "compute_done", "complete", or a LossCause's to_string
  std::string task;
  uint64_t instance;
  uint64_t bytes;  // of the transfer that ended, if any
};

class SimulatedBackend : public Backend {
 public:
  // `registry` and `population` must outlive the backend. `data` gives each node's datasets
  // (called from several threads). Throws UsageError on bad options.
  SimulatedBackend(const ModuleRegistry& registry, const Population& population, DataProvider data,
                   SimOptions options, std::shared_ptr<spdlog::logger> logger);
  ~SimulatedBackend() override;

  std::vector<NodeId> node_ids() override;
  bool node_ids_may_change() const override { return false; }  // the population is fixed
  std::vector<NodeDescriptor> available_nodes() override;
  std::vector<NodeDescriptor> available_among(std::span<const NodeId> ids) override;
  // Walks the population from the fastest node down (an order built on the first call, 4
  // bytes per node kept, 16 more while it is sorted) until `count` are available.
  std::vector<NodeDescriptor> fastest_available(size_t count) override;
  void start(const InstanceSpec& spec, std::shared_ptr<const StateReader> state) override;
  // Runs the simulation to the next completion, to `until_ns`, or (with nothing in flight) to
  // the time the first of `node_on` comes on: a NodeEvent::Changed for it. Finding that node
  // costs O(candidates), or O(nodes) for "any node" (only when every eligible node is off).
  BackendEvent wait(const WaitFor& w) override;
  void cancel(uint64_t instance_id) override;
  Nanos now_ns() const override { return sim_.now().ns(); }
  ClockKind clock() const override { return ClockKind::Virtual; }

  const std::vector<TraceEvent>& trace() const { return trace_; }
  uint64_t events_run() const { return sim_.events_run(); }

 private:
  // Appends {node, its flops} to `out` if the node is on at `now`.
  void add_if_available(uint32_t node, SimTime now, std::vector<NodeDescriptor>& out);
  enum class Phase { Download, Compute, Upload };
  struct InFlight {
    Completion completion;
    Phase phase = Phase::Download;
    SimTime started;
    std::vector<EventId> events;  // pending events of the instance (phase ends, faults)
    FlowId flow = 0;
    uint64_t draws = 0;  // counter of the instance's random stream
    bool faulty = true;  // subject to crash and transfer faults
  };

  void schedule_batch();
  void begin_transfer(uint64_t id, Direction dir, double bytes);
  void begin_compute(uint64_t id);
  void finish(uint64_t id);
  void lose(uint64_t id, LossCause cause);
  void clear_events(InFlight& f);
  // Brings the network up to now(): hands completed flows to their instances, reschedules
  // the network's next event.
  void sync_network();
  double uniform(InFlight& f);  // in [0, 1), from the instance's stream
  // The first time one of `candidates` (empty: any node) that is off now comes on, and that
  // node (the lowest id on a tie); nullopt if none ever will.
  std::optional<std::pair<SimTime, NodeId>> next_on(std::span<const NodeId> candidates);
  void record(const InFlight& f, const char* event, uint64_t bytes = 0);

  const ModuleRegistry& registry_;
  const Population& population_;
  std::vector<uint32_t> by_speed_;  // node ids, fastest first (see fastest_available)
  DataProvider data_;
  SimOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  Simulation sim_;
  std::unique_ptr<NetworkModel> network_;
  AvailabilityModel availability_;
  std::optional<EventId> network_event_;
  std::vector<PendingInstance> pending_;
  std::vector<SimTime> pending_start_;
  std::unordered_map<uint64_t, InFlight> in_flight_;
  std::unordered_map<FlowId, uint64_t> flow_owner_;
  std::deque<Completion> ready_;
  std::vector<TraceEvent> trace_;
};

}  // namespace swarm::sim
