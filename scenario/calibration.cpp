#include "scenario/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "engine/text.hpp"
#include "swarm/error.hpp"

namespace swarm::scenario {
namespace {

// Links of the server in the population file: fast enough never to be the bottleneck, since
// each node's fitted link already holds what its transfers shared.
constexpr double kServerLinkMbps = 1e6;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// First worker start and last worker end of each iteration.
std::map<int, std::pair<Nanos, Nanos>> worker_spans(const std::vector<InstanceRecord>& records) {
  std::map<int, std::pair<Nanos, Nanos>> out;
  for (const InstanceRecord& r : records) {
    if (!r.worker) continue;
    auto [it, fresh] = out.try_emplace(r.iteration, r.start_ns, r.end_ns);
    if (!fresh) {
      it->second.first = std::min(it->second.first, r.start_ns);
      it->second.second = std::max(it->second.second, r.end_ns);
    }
  }
  return out;
}

}  // namespace

void InstanceRecorder::on_instance_end(const Completion& c) {
  if (c.status != InstanceStatus::Ok) return;
  records.push_back({c.spec.iteration, c.spec.node != kServerNode, c.spec.node, c.start_ns, c.end_ns, c.wall_ns,
                     c.output.flops, c.output.bytes_read + c.output.bytes_written()});
}

CalibrationFit fit_population(const std::vector<InstanceRecord>& records, int64_t num_nodes, int first_iteration) {
  struct Sums {
    double flops = 0, task_s = 0, bytes = 0, link_s = 0;
    int instances = 0;
  };
  std::vector<Sums> nodes(static_cast<size_t>(num_nodes));
  Sums server;
  for (const InstanceRecord& r : records) {
    if (r.iteration < first_iteration) continue;
    if (!r.worker) {
      server.flops += static_cast<double>(r.flops);
      server.task_s += to_seconds(r.end_ns - r.start_ns);
      continue;
    }
    if (r.node >= nodes.size()) throw Error("calibration: an instance ran on node " + std::to_string(r.node) + ", not one of the run's");
    if (r.task_ns <= 0) throw Error("calibration: node " + std::to_string(r.node) + " reported no task time (not a real node?)");
    Sums& s = nodes[r.node];
    s.flops += static_cast<double>(r.flops);
    s.task_s += to_seconds(r.task_ns);
    s.bytes += static_cast<double>(r.bytes);
    // The rest of the instance's time went to moving its bytes (encoding and decoding too).
    s.link_s += std::max(to_seconds(r.end_ns - r.start_ns - r.task_ns), 1e-9);
    ++s.instances;
  }
  CalibrationFit fit;
  fit.first_iteration = first_iteration;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Sums& s = nodes[i];
    if (s.instances == 0 || s.flops <= 0 || s.bytes <= 0) {
      throw Error("calibration: node " + std::to_string(i) + " completed no training from round " +
                  std::to_string(first_iteration + 1) + " of the probe on; give more --probe-rounds, or every node "
                  "a worker each round (swarm.clients_per_round: -1)");
    }
    fit.nodes.push_back({static_cast<NodeId>(i), s.flops / s.task_s, s.bytes / s.link_s, s.instances});
  }
  fit.server_flops_per_s = server.flops > 0 && server.task_s > 0 ? server.flops / server.task_s : 0;
  return fit;
}

std::string population_yaml(const CalibrationFit& fit, const std::string& header) {
  std::ostringstream out;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) out << "# " << line << '\n';
  out << "population:\n  nodes: " << fit.nodes.size() << "\n  order: listed\n  profiles:\n";
  for (const NodeFit& n : fit.nodes) {
    const std::string mbps = shortest(n.link_bytes_per_s * 8 / 1e6);
    out << "    - {name: node-" << n.node << ", count: 1, flops: " << shortest(n.flops_per_s) << ", up_mbps: " << mbps
        << ", down_mbps: " << mbps << ", latency_ms: 0}\n";
  }
  out << "network:\n";
  if (fit.server_flops_per_s > 0) out << "  server_flops: " << shortest(fit.server_flops_per_s) << '\n';
  out << "  server_up_mbps: " << shortest(kServerLinkMbps) << "\n  server_down_mbps: " << shortest(kServerLinkMbps)
      << "\n  server_latency_ms: 0\n";
  return out.str();
}

CalibrationReport compare_runs(const results::RunResult& predicted, const std::vector<InstanceRecord>& predicted_records,
                               const results::RunResult& measured, const std::vector<InstanceRecord>& measured_records,
                               const CalibrationFit& fit) {
  CalibrationReport report;
  const auto predicted_spans = worker_spans(predicted_records);
  const auto measured_spans = worker_spans(measured_records);
  const size_t rounds = std::min(predicted.rounds.size(), measured.rounds.size());
  std::vector<double> errors;
  for (size_t i = 0; i < rounds; ++i) {
    const results::RoundRow& p = predicted.rounds[i];
    const results::RoundRow& m = measured.rounds[i];
    RoundComparison c;
    c.round = m.round;
    c.predicted_s = p.t_end_s - p.t_start_s;
    c.measured_s = m.t_end_s - m.t_start_s;
    const int iteration = m.round - 1;
    if (auto it = predicted_spans.find(iteration); it != predicted_spans.end()) {
      c.predicted_workers_s = to_seconds(it->second.second - it->second.first);
    }
    if (auto it = measured_spans.find(iteration); it != measured_spans.end()) {
      c.measured_workers_s = to_seconds(it->second.second - it->second.first);
    }
    c.predicted_bytes = p.bytes_up + p.bytes_down;
    c.measured_bytes = m.wire_bytes_up + m.wire_bytes_down;
    c.coordinator_s = m.coordinator_s;
    report.coordinator_s += m.coordinator_s;
    report.measured_total_s += c.measured_s;
    errors.push_back(std::abs(c.error()));
    report.rounds.push_back(c);
  }
  report.median_abs_error = median(errors);
  for (const InstanceRecord& r : measured_records) {
    if (!r.worker || r.node >= fit.nodes.size()) continue;
    const NodeFit& n = fit.nodes[r.node];
    report.measured_compute_s += to_seconds(r.task_ns);
    report.measured_transfer_s += to_seconds(r.end_ns - r.start_ns - r.task_ns);
    report.predicted_compute_s += static_cast<double>(r.flops) / n.flops_per_s;
    report.predicted_transfer_s += static_cast<double>(r.bytes) / n.link_bytes_per_s;
  }
  return report;
}

}  // namespace swarm::scenario
