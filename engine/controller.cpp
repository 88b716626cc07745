#include "engine/controller.hpp"

#include <algorithm>
#include <random>

#include "engine/placement.hpp"
#include "engine/seed.hpp"

namespace swarm {
namespace {

std::vector<NodeId> all_node_ids(Backend& backend) {
  std::vector<NodeId> ids;
  for (const NodeDescriptor& n : backend.available_nodes()) ids.push_back(n.id);
  return ids;
}

}  // namespace

const char* to_string(InstanceStatus s) {
  switch (s) {
    case InstanceStatus::Ok: return "ok";
    case InstanceStatus::Failed: return "failed";
    case InstanceStatus::Lost: return "lost";
  }
  return "?";
}

Controller::Controller(const SwarmGraph& graph, Backend& backend, ControllerOptions options)
    : graph_(graph), backend_(backend), options_(options), state_(graph, all_node_ids(backend)) {
  if (options_.max_iterations < 1) throw UsageError("max_iterations must be >= 1");
}

RunReport Controller::run() {
  RunReport report;
  for (int it = 0; it < options_.max_iterations; ++it) {
    report.iterations.push_back(run_iteration(it));
    if (report.iterations.back().stop_requested) {
      report.stopped_by_task = true;
      break;
    }
  }
  return report;
}

bool Controller::ready(int task, const std::vector<TaskRun>& runs) const {
  for (const auto& [pred, edge] : graph_.in_edges(task)) {
    if (runs[pred].phase == Phase::Finished) continue;
    if (edge.condition == Condition::Result && runs[pred].phase == Phase::Running &&
        state_.result_count(pred, edge.tag) >= edge.min_results) {
      continue;
    }
    return false;
  }
  return true;
}

void Controller::start_task(int task, int iteration, std::vector<TaskRun>& runs,
                            IterationReport& report) {
  const TaskSpec& spec = graph_.task(task);
  std::vector<NodeDescriptor> available = backend_.available_nodes();
  PlacementRequest request{&spec, available};
  if (auto it = scheduled_.find(task); it != scheduled_.end()) request.scheduled = &it->second;
  if (auto it = fixed_nodes_.find(task); it != fixed_nodes_.end()) request.fixed_nodes = &it->second;
  std::mt19937_64 rng(derive_seed(options_.seed, {static_cast<uint64_t>(SeedDomain::kPlacement),
                                                  static_cast<uint64_t>(iteration),
                                                  static_cast<uint64_t>(task)}));
  std::vector<NodeId> nodes = place(request, rng);
  if (spec.options.fixed && !fixed_nodes_.count(task) && !nodes.empty()) fixed_nodes_[task] = nodes;

  runs[task].phase = nodes.empty() ? Phase::Finished : Phase::Running;
  runs[task].pending = static_cast<int>(nodes.size());
  for (NodeId node : nodes) {
    InstanceSpec inst;
    inst.id = next_instance_id_++;
    inst.task = task;
    inst.alias = spec.alias();
    inst.module = spec.module.name;
    inst.node = node;
    inst.iteration = iteration;
    inst.seed = derive_seed(options_.seed, {static_cast<uint64_t>(SeedDomain::kInstance),
                                            static_cast<uint64_t>(iteration),
                                            static_cast<uint64_t>(task), node});
    for (ControllerObserver* o : observers_) o->on_instance_start(inst);
    backend_.start(inst, state_);
    ++report.instances;
  }
}

IterationReport Controller::run_iteration(int iteration) {
  const auto wall_start = std::chrono::steady_clock::now();
  IterationReport report;
  report.iteration = iteration;
  report.start_s = backend_.now_s();
  state_.begin_iteration(iteration);

  std::map<int, std::vector<NodeId>> next_schedule;
  std::vector<TaskRun> runs(static_cast<size_t>(graph_.num_tasks()));
  for (;;) {
    // Start every task whose inputs are satisfied; repeat, since a task placed on no node
    // finishes at once and may free its successors.
    for (bool progress = true; progress;) {
      progress = false;
      for (int t : graph_.topological_order()) {
        if (runs[t].phase == Phase::Waiting && ready(t, runs)) {
          start_task(t, iteration, runs, report);
          progress = true;
        }
      }
    }
    if (std::all_of(runs.begin(), runs.end(), [](const TaskRun& r) { return r.phase == Phase::Finished; })) {
      break;
    }
    std::optional<Completion> c = backend_.next_completion();
    if (!c) {
      throw Error("backend reported no instance in flight while iteration " +
                  std::to_string(iteration) + " still waits for tasks");
    }
    for (ControllerObserver* o : observers_) o->on_instance_end(*c);
    TaskRun& run = runs[c->spec.task];
    switch (c->status) {
      case InstanceStatus::Ok:
        state_.apply(c->spec.task, c->spec.node, c->output);
        report.flops += c->output.flops;
        report.bytes_read += c->output.bytes_read;
        report.bytes_written += c->output.bytes_written();
        report.stop_requested |= c->output.stop;
        for (auto& [alias, nodes] : c->output.schedule) {
          auto& slot = next_schedule[*graph_.find(alias)];
          slot.insert(slot.end(), nodes.begin(), nodes.end());
        }
        break;
      case InstanceStatus::Failed:
        ++report.failed;
        if (options_.abort_on_task_error) {
          throw TaskFailed("task '" + c->spec.alias + "' failed on node " +
                           std::to_string(c->spec.node) + " in iteration " +
                           std::to_string(iteration) + ": " + c->error);
        }
        break;
      case InstanceStatus::Lost:
        ++report.lost;
        break;
    }
    if (--run.pending == 0) run.phase = Phase::Finished;
  }

  for (auto& [task, nodes] : next_schedule) {
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  }
  scheduled_ = std::move(next_schedule);
  report.end_s = backend_.now_s();
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  for (ControllerObserver* o : observers_) o->on_iteration_end(report, state_);
  return report;
}

}  // namespace swarm
