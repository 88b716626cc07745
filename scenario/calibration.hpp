#pragma once
// The simulator checked against real nodes (`swarm calibrate`): a probe run on real nodes
// measures each node's speed on the model's own training and its link to the coordinator; a
// population file lists them for the simulator (`population.from`); a real run and its
// simulated prediction are then compared round by round.
//
// What is measured, per completed worker instance on a real node: the node's time in the
// task's code (Completion::wall_ns) and the time from the coordinator's send to the arrival
// of its result (end_ns - start_ns). The node's speed is its FLOPs over its task time; its
// link carries the instance's bytes (read and written) in the rest. The server's speed is the
// FLOPs of its instances over their time. The coordinator's own work is not modelled: it is
// reported beside the error.

#include <cstdint>
#include <string>
#include <vector>

#include "results/results.hpp"
#include "swarm/controller.hpp"

namespace swarm::scenario {

// One completed instance, as the controller saw it end.
struct InstanceRecord {
  int iteration = 0;
  bool worker = false;         // on a node (not Method::Server)
  NodeId node = 0;
  Nanos start_ns = 0, end_ns = 0;  // backend clock: sent to arrived (or started to done)
  Nanos task_ns = 0;               // real nodes: time in the task's code; 0 in simulation
  uint64_t flops = 0, bytes = 0;   // computed; read plus written
};

// Records every instance that completes (status Ok).
class InstanceRecorder : public ControllerObserver {
 public:
  void on_instance_end(const Completion& c) override;
  std::vector<InstanceRecord> records;
};

struct NodeFit {
  NodeId node = 0;
  double flops_per_s = 0;
  double link_bytes_per_s = 0;
  int instances = 0;
};

struct CalibrationFit {
  std::vector<NodeFit> nodes;  // by node id
  double server_flops_per_s = 0;
  int first_iteration = 0;     // iterations measured: first_iteration .. the probe's last
};

// Fits speeds and links to the records of iterations >= first_iteration. Throws Error when a
// node has no completed instance there, or an instance has no task time (not a real node).
CalibrationFit fit_population(const std::vector<InstanceRecord>& records, int64_t num_nodes, int first_iteration);

// The population file: `population` (one profile per node, in node-id order) and `network`
// (the server's speed; links fast enough never to bind), with `header` as comment lines.
std::string population_yaml(const CalibrationFit& fit, const std::string& header);

struct RoundComparison {
  int round = 0;
  double predicted_s = 0, measured_s = 0;                 // the round, start to end
  double predicted_workers_s = 0, measured_workers_s = 0;  // first worker start to last worker end
  uint64_t predicted_bytes = 0, measured_bytes = 0;       // payload vs wire (framing included)
  double coordinator_s = 0;                               // measured own work (not modelled)
  double error() const { return measured_s > 0 ? (predicted_s - measured_s) / measured_s : 0; }
};

struct CalibrationReport {
  std::vector<RoundComparison> rounds;
  double median_abs_error = 0;  // of the round time, over rounds
  // Summed over the real run's worker instances: measured time in the task and on the link,
  // and what the fitted population predicts for the same FLOPs and bytes.
  double measured_compute_s = 0, predicted_compute_s = 0;
  double measured_transfer_s = 0, predicted_transfer_s = 0;
  double coordinator_s = 0, measured_total_s = 0;
};

CalibrationReport compare_runs(const results::RunResult& predicted, const std::vector<InstanceRecord>& predicted_records,
                               const results::RunResult& measured, const std::vector<InstanceRecord>& measured_records,
                               const CalibrationFit& fit);

}  // namespace swarm::scenario
