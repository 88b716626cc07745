#include "swarm/controller.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <variant>

#include "engine/placement.hpp"
#include "swarm/seed.hpp"

namespace swarm {
namespace {

// " (task 'x' reads the datasets 'a', 'b': a node must hold them all)", or "" if it reads none.
std::string datasets_hint(const Module& module) {
  if (module.datasets.empty()) return "";
  std::string names;
  for (const std::string& d : module.datasets) names += (names.empty() ? "'" : ", '") + d + "'";
  return " (module '" + module.name + "' reads the datasets " + names + ": a node must hold them all)";
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

const char* to_string(NodeEvent::Kind k) {
  switch (k) {
    case NodeEvent::Kind::Joined: return "joined";
    case NodeEvent::Kind::Left: return "left";
    case NodeEvent::Kind::Died: return "died";
    case NodeEvent::Kind::Changed: return "changed";
  }
  return "?";
}

const char* to_string(LossCause c) {
  switch (c) {
    case LossCause::Crash: return "crash";
    case LossCause::Transfer: return "transfer";
    case LossCause::Offline: return "offline";
    case LossCause::Deadline: return "deadline";
    case LossCause::Overcommit: return "overcommit";
    case LossCause::Cancelled: return "cancelled";
  }
  return "?";
}

void Controller::check_node_list(std::span<const NodeId> ids) {
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] <= ids[i - 1]) {
      throw BackendError("the backend's node list is not sorted and unique: node " + std::to_string(ids[i]) +
                         " follows node " + std::to_string(ids[i - 1]));
    }
  }
  if (!ids.empty() && ids.back() == kServerNode) {
    throw BackendError("the backend lists node " + std::to_string(kServerNode) + ", the server's id");
  }
}

Nanos Controller::now() {
  const Nanos t = backend_.now_ns();
  if (t < last_now_ns_) {
    throw BackendError("the backend's clock went backwards, from " + std::to_string(last_now_ns_) + " ns to " +
                       std::to_string(t) + " ns");
  }
  last_now_ns_ = t;
  return t;
}

void Controller::note(const NodeEvent& e, IterationReport& report) {
  const std::string what = "the backend reported node " + std::to_string(e.node);
  if (e.node == kServerNode) throw BackendError(what + ", the server's id, " + to_string(e.kind));
  switch (e.kind) {
    case NodeEvent::Kind::Joined: ++report.nodes_joined; break;
    case NodeEvent::Kind::Left: ++report.nodes_left; break;
    case NodeEvent::Kind::Died: ++report.nodes_died; break;
    case NodeEvent::Kind::Changed: ++report.nodes_changed; break;
    default:
      throw BackendError(what + " with an unknown event kind " + std::to_string(static_cast<int>(e.kind)));
  }
  const std::span<const NodeId> known = state_.node_ids();
  if (std::binary_search(known.begin(), known.end(), e.node)) return;
  if (e.kind == NodeEvent::Kind::Joined && backend_.node_ids_may_change()) {
    std::vector<NodeId> ids = backend_.node_ids();
    check_node_list(ids);
    if (std::binary_search(ids.begin(), ids.end(), e.node)) {
      state_.set_node_ids(std::move(ids));
      return;
    }
  }
  throw BackendError(what + " " + to_string(e.kind) + ", but that node is not in its node list" +
                     (e.kind == NodeEvent::Kind::Joined && !backend_.node_ids_may_change()
                          ? " (and the backend says its node list never changes)"
                          : ""));
}

std::optional<Nanos> Controller::next_deadline(const std::vector<TaskRun>& runs) const {
  std::optional<Nanos> until;
  for (int t = 0; t < graph_.num_tasks(); ++t) {
    if (runs[t].phase == Phase::Running && policy(t).has_deadline()) {
      const Nanos d = runs[t].start_ns + deadline_ns_[t];
      until = until ? std::min(*until, d) : d;
    }
  }
  return until;
}

std::vector<int> Controller::check_completion(const Completion& c) const {
  // Built only for a message: a round of 100,000 completions should not format 100,000 strings.
  auto what = [&c] { return "the backend delivered a completion for instance " + std::to_string(c.spec.id); };
  auto it = running_.find(c.spec.id);
  if (it == running_.end()) {
    throw BackendError(what() + (c.spec.id < next_instance_id_ ? ", which is no longer running (completed or cancelled)"
                                                             : ", which was never started"));
  }
  const InstanceSpec& started = it->second;
  if (c.spec.task != started.task || c.spec.node != started.node || c.spec.iteration != started.iteration ||
      c.spec.alias != started.alias) {
    throw BackendError(what() + " with another spec than it was started with (task '" + c.spec.alias + "' on node " +
                       std::to_string(c.spec.node) + " in iteration " + std::to_string(c.spec.iteration) +
                       ", started as task '" + started.alias + "' on node " + std::to_string(started.node) +
                       " in iteration " + std::to_string(started.iteration) + ")");
  }
  if (c.status != InstanceStatus::Ok && c.status != InstanceStatus::Failed && c.status != InstanceStatus::Lost) {
    throw BackendError(what() + " with an unknown status " + std::to_string(static_cast<int>(c.status)));
  }
  if (c.status == InstanceStatus::Lost && static_cast<size_t>(c.loss) >= kLossCauseCount) {
    throw BackendError(what() + " lost for an unknown cause " + std::to_string(static_cast<int>(c.loss)));
  }
  if (!(c.start_ns <= c.end_ns)) {
    throw BackendError(what() + " that ends (" + std::to_string(c.end_ns) + " ns) before it starts (" +
                       std::to_string(c.start_ns) + " ns)");
  }
  std::vector<int> scheduled;
  if (c.status != InstanceStatus::Ok) return scheduled;
  for (const auto& [alias, nodes] : c.output.schedule) {
    std::optional<int> t = graph_.find(alias);
    if (!t) throw BackendError(what() + " that schedules nodes for an unknown task '" + alias + "'");
    scheduled.push_back(*t);
  }
  return scheduled;
}

Controller::Controller(const SwarmGraph& graph, Backend& backend, ControllerOptions options)
    : graph_(graph),
      backend_(backend),
      options_(std::move(options)),
      policies_(static_cast<size_t>(graph.num_tasks())),
      deadline_ns_(static_cast<size_t>(graph.num_tasks()), 0),
      state_(graph, backend.node_ids()) {
  check_node_list(state_.node_ids());
  if (options_.max_iterations < 1) throw UsageError("max_iterations must be >= 1");
  for (const auto& [alias, p] : options_.stragglers) {
    std::optional<int> t = graph_.find(alias);
    if (!t) throw UsageError("straggler policy for unknown task '" + alias + "'");
    if (p.has_deadline() && !(p.deadline_s > 0)) {
      throw UsageError("task '" + alias + "': a deadline must be > 0 seconds");
    }
    if (p.has_over_commit() && !(p.factor >= 1)) {
      throw UsageError("task '" + alias + "': an over-commit factor must be >= 1");
    }
    policies_[*t] = p;
    if (p.has_deadline()) deadline_ns_[*t] = nanos_from_seconds(p.deadline_s);
  }
}

std::optional<ControllerCheckpoint> Controller::checkpoint() const {
  if (!running_.empty()) return std::nullopt;
  ControllerCheckpoint c;
  c.next_iteration = next_iteration_;
  c.next_instance_id = next_instance_id_;
  c.stopped = stopped_;
  c.time_up = time_up_;
  c.end_s = last_end_s_;
  c.globals = state_.saved_globals();
  c.scheduled = scheduled_;
  c.fixed_nodes = fixed_nodes_;
  return c;
}

void Controller::restore(const ControllerCheckpoint& c) {
  if (next_iteration_ != 0 || next_instance_id_ != 0) throw UsageError("a controller is restored before it runs");
  if (c.next_iteration < 0) throw UsageError("a checkpoint's iteration is negative");
  const std::span<const NodeId> known = state_.node_ids();
  for (const auto* tasks : {&c.scheduled, &c.fixed_nodes}) {
    for (const auto& [task, nodes] : *tasks) {
      if (task < 0 || task >= graph_.num_tasks()) {
        throw UsageError("the checkpoint names task " + std::to_string(task) + "; the swarm has " +
                         std::to_string(graph_.num_tasks()));
      }
      for (NodeId n : nodes) {
        if (n != kServerNode && !std::binary_search(known.begin(), known.end(), n)) {
          throw UsageError("the checkpoint places task '" + graph_.task(task).alias() + "' on node " + std::to_string(n) +
                           ", which the backend does not list");
        }
      }
    }
  }
  next_iteration_ = c.next_iteration;
  next_instance_id_ = c.next_instance_id;
  stopped_ = c.stopped;
  time_up_ = c.time_up;
  time_offset_s_ = last_end_s_ = c.end_s;
  state_.restore_globals(c.globals);
  scheduled_ = c.scheduled;
  fixed_nodes_ = c.fixed_nodes;
}

IterationReport Controller::step() {
  return run_iteration(next_iteration_++);
}

RunReport Controller::run() {
  RunReport report;
  while (!done()) report.iterations.push_back(step());
  report.stopped_by_task = stopped_;
  // Instances carried over past the last iteration will never be used.
  while (!running_.empty()) drop(running_.begin()->first, LossCause::Cancelled, nullptr, report.iterations.back());
  return report;
}

int Controller::running_count(int task) const {
  return static_cast<int>(std::count_if(running_.begin(), running_.end(),
                                        [task](const auto& r) { return r.second.task == task; }));
}

bool Controller::ready(int task, const std::vector<TaskRun>& runs) const {
  for (const auto& [pred, edge] : graph_.in_edges(task)) {
    if (edge.condition == Condition::Finished) {
      if (runs[pred].phase != Phase::Finished) return false;
      continue;
    }
    if (runs[pred].phase == Phase::Waiting) return false;
    if (state_.result_count(pred, edge.tag) >= edge.min_results) continue;
    if (runs[pred].phase == Phase::Finished && running_count(pred) == 0) continue;
    return false;
  }
  return true;
}

std::vector<NodeId> Controller::choose_nodes(int task, int iteration) {
  const TaskSpec& spec = graph_.task(task);
  if (spec.options.method == Method::Server) {
    PlacementRequest request{&spec, {}};
    request.running = running_count(task);
    std::mt19937_64 unused;
    return place(request, unused);
  }
  const std::vector<NodeId>* scheduled = nullptr;
  if (auto it = scheduled_.find(task); it != scheduled_.end()) scheduled = &it->second;
  // When a scheduler or specified_ids narrowed the task to a few nodes, only those are asked
  // about: a round costs the same in a population of a hundred nodes or of millions.
  std::vector<NodeDescriptor> available;
  if (scheduled != nullptr) {
    available = backend_.available_among(sorted_unique(*scheduled));
  } else if (!spec.options.specified_ids.empty()) {
    available = backend_.available_among(sorted_unique(spec.options.specified_ids));
  }
  // Nodes still running an instance of this task (carried over) are busy, and count
  // against the task's cap.
  std::vector<NodeId> busy;
  for (const auto& [id, instance] : running_) {
    if (instance.task == task) busy.push_back(instance.node);
  }
  std::mt19937_64 rng(derive_seed(options_.seed, {static_cast<uint64_t>(SeedDomain::kPlacement),
                                                  static_cast<uint64_t>(iteration),
                                                  static_cast<uint64_t>(task)}));
  auto without_busy = [&busy](std::vector<NodeDescriptor>& nodes) {
    if (busy.empty()) return;
    std::vector<NodeId> sorted = sorted_unique(busy);
    std::erase_if(nodes, [&](const NodeDescriptor& n) { return std::binary_search(sorted.begin(), sorted.end(), n.id); });
  };
  const auto fixed = fixed_nodes_.find(task);
  if (scheduled == nullptr && spec.options.specified_ids.empty() && fixed != fixed_nodes_.end()) {
    // A fixed task keeps those of its nodes that are still eligible: only they are asked
    // about, so that its later iterations cost O(its nodes), not O(population). place() needs
    // the other nodes only when none of these is left (a copy of rng: the fallback below then
    // draws as it always did).
    std::vector<NodeDescriptor> own = backend_.available_among(sorted_unique(fixed->second));
    without_busy(own);
    PlacementRequest request{&spec, own};
    request.fixed_nodes = &fixed->second;
    request.running = running_count(task);
    std::mt19937_64 copy = rng;
    std::vector<NodeId> kept = place(request, copy);
    if (!kept.empty()) return kept;
  }
  if (scheduled == nullptr && spec.options.specified_ids.empty()) {
    const Maximum& maximum = spec.options.maximum;
    const bool first_placement = fixed == fixed_nodes_.end();
    // BestResources: the k nodes chosen are among the k + |excluded| fastest available ones.
    // Any: a uniform sample of the instances still allowed, drawn from the available nodes that
    // are not busy with the task, excepted or lacking a dataset (an asynchronous task that
    // replaces 10 of its 100 workers looks up about 10 nodes, not 190).
    if (maximum.is_count() && first_placement && spec.options.method == Method::BestResources) {
      available = backend_.fastest_available(static_cast<size_t>(std::max<int64_t>(0, maximum.resolve(INT64_MAX))) +
                                             busy.size() + spec.options.excepted_ids.size());
    } else if (maximum.is_count() && first_placement && spec.options.method == Method::Any) {
      const std::vector<NodeId> sorted_busy = sorted_unique(busy);
      const IdFilter lists(spec.options, nullptr);
      const std::vector<std::string>& datasets = spec.module.datasets;
      auto admits = [&](const NodeDescriptor& n) {
        return !std::binary_search(sorted_busy.begin(), sorted_busy.end(), n.id) && lists.admits(n.id) &&
               n.holds(datasets);
      };
      const auto still = static_cast<size_t>(maximum.remaining(static_cast<int64_t>(busy.size())));
      available = sample_available(backend_, state_.node_ids(), still, rng, admits);
    } else {
      available = backend_.available_nodes();
    }
  }
  without_busy(available);
  PlacementRequest request{&spec, available};
  request.scheduled = scheduled;
  if (fixed != fixed_nodes_.end()) request.fixed_nodes = &fixed->second;
  request.running = running_count(task);
  return place(request, rng);
}

std::optional<std::vector<NodeId>> Controller::candidates(int task) const {
  const TaskOptions& opt = graph_.task(task).options;
  if (opt.method == Method::Server) return std::nullopt;  // the server is always there
  const auto scheduled = scheduled_.find(task);
  const IdFilter lists(opt, scheduled != scheduled_.end() ? &scheduled->second : nullptr);
  const std::span<const NodeId> all = state_.node_ids();
  std::vector<NodeId> out;
  if (lists.named()) {
    for (NodeId id : lists.named_nodes()) {
      if (std::binary_search(all.begin(), all.end(), id)) out.push_back(id);
    }
  } else if (!lists.excepts_any()) {
    return all.empty() ? std::nullopt : std::optional(out);  // empty: any node
  } else {
    for (NodeId id : all) {
      if (lists.admits(id)) out.push_back(id);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

void Controller::start_task(int task, int iteration, std::vector<TaskRun>& runs,
                            IterationReport& report) {
  const TaskSpec& spec = graph_.task(task);
  std::vector<NodeId> nodes = choose_nodes(task, iteration);
  // No node is on for a task that some node could take, and nothing runs that could change
  // that: time moves on to the next node that comes on (in simulation; nodes of other
  // backends are on or gone).
  std::optional<std::vector<NodeId>> waiting_for;
  while (nodes.empty() && running_.empty() && (waiting_for = candidates(task))) {
    const std::span<const NodeId> wanted = *waiting_for;
    BackendEvent e = backend_.wait({.until_ns = std::nullopt, .node_on = wanted});
    if (std::holds_alternative<Idle>(e)) {
      throw NoNodeAvailable("iteration " + std::to_string(iteration) + " (round " + std::to_string(iteration + 1) +
                            "): task '" + spec.alias() + "' has no node to run on at " +
                            std::to_string(to_seconds(now())) + " s, and no node will ever come on again" +
                            datasets_hint(spec.module));
    }
    if (const NodeEvent* n = std::get_if<NodeEvent>(&e)) {
      note(*n, report);
    } else {
      throw BackendError(std::string("the backend returned ") +
                         (std::holds_alternative<Timeout>(e) ? "a timeout, though it was given no time limit,"
                                                             : "a completion, though no instance was in flight,") +
                         " while task '" + spec.alias() + "' waited for a node to come on");
    }
    nodes = choose_nodes(task, iteration);
  }
  const Maximum& maximum = spec.options.maximum;
  if (spec.options.method != Method::Server && maximum.is_count()) {
    const int64_t wanted = maximum.remaining(running_count(task));
    report.unplaced += static_cast<int>(std::max<int64_t>(0, wanted - static_cast<int64_t>(nodes.size())));
  }
  if (spec.options.fixed && !fixed_nodes_.count(task) && !nodes.empty()) fixed_nodes_[task] = nodes;

  TaskRun& run = runs[task];
  run.phase = nodes.empty() ? Phase::Finished : Phase::Running;
  run.pending = static_cast<int>(nodes.size());
  run.start_ns = now();
  if (policy(task).has_over_commit()) {
    // K of the K x factor wanted; a round short of nodes keeps up to K of those it got.
    const double wanted = maximum.is_count() ? static_cast<double>(maximum.resolve(INT64_MAX))
                                             : static_cast<double>(nodes.size());
    run.keep = std::max(1, std::min(static_cast<int>(nodes.size()),
                                    static_cast<int>(std::lround(wanted / policy(task).factor))));
  }
  const std::span<const NodeId> known = state_.node_ids();
  for (NodeId node : nodes) {
    if (node != kServerNode && !std::binary_search(known.begin(), known.end(), node)) {
      throw BackendError("the backend offered node " + std::to_string(node) + " for task '" + spec.alias() +
                         "', but that node is not in its node list");
    }
  }
  std::shared_ptr<const StateSnapshot> snapshot;
  if (!nodes.empty()) snapshot = state_.snapshot();
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
    running_.emplace(inst.id, inst);
    for (ControllerObserver* o : observers_) o->on_instance_start(inst);
    backend_.start(inst, snapshot);
    ++report.instances;
  }
}

void Controller::drop(uint64_t id, LossCause cause, std::vector<TaskRun>* runs,
                      IterationReport& report) {
  auto it = running_.find(id);
  Completion c;
  c.spec = it->second;
  c.status = InstanceStatus::Lost;
  c.loss = cause;
  c.start_ns = c.end_ns = now();
  running_.erase(it);
  backend_.cancel(id);
  ++report.lost;
  ++report.lost_by_cause[cause];
  for (ControllerObserver* o : observers_) o->on_instance_end(c);
  if (runs && c.spec.iteration == report.iteration) {
    TaskRun& run = (*runs)[c.spec.task];
    if (--run.pending == 0) run.phase = Phase::Finished;
  }
}

void Controller::handle(Completion c, int iteration, std::vector<TaskRun>& runs,
                        IterationReport& report, std::map<int, std::vector<NodeId>>& next_schedule) {
  const std::vector<int> scheduled = check_completion(c);
  running_.erase(c.spec.id);
  for (ControllerObserver* o : observers_) o->on_instance_end(c);
  report.task_wall_s += to_seconds(c.wall_ns);
  switch (c.status) {
    case InstanceStatus::Ok:
      state_.apply(c.spec.task, c.spec.node, c.output);
      ++report.completed;
      report.flops += c.output.flops;
      if (c.spec.node != kServerNode) {  // the server reads and writes in place
        report.bytes_down += c.output.bytes_read;
        report.bytes_up += c.output.bytes_written();
      }
      report.stop_requested |= c.output.stop;
      for (size_t i = 0; i < scheduled.size(); ++i) {
        const std::vector<NodeId>& nodes = c.output.schedule[i].second;
        auto& slot = next_schedule[scheduled[i]];
        slot.insert(slot.end(), nodes.begin(), nodes.end());
      }
      if (c.spec.iteration < iteration) {
        ++report.stale;
        report.max_staleness = std::max(report.max_staleness, iteration - c.spec.iteration);
      }
      break;
    case InstanceStatus::Failed:
      ++report.failed;
      if (c.diverged) {
        throw RunDiverged("iteration " + std::to_string(c.spec.iteration) + " (round " +
                          std::to_string(c.spec.iteration + 1) + "): task '" + c.spec.alias + "' on " +
                          (c.spec.node == kServerNode ? std::string("the server")
                                                      : "node " + std::to_string(c.spec.node)) +
                          " diverged: " + c.error);
      }
      if (options_.abort_on_task_error) {
        throw TaskFailed("task '" + c.spec.alias + "' failed on node " +
                         std::to_string(c.spec.node) + " in iteration " +
                         std::to_string(c.spec.iteration) + ": " + c.error);
      }
      break;
    case InstanceStatus::Lost:
      ++report.lost;
      ++report.lost_by_cause[c.loss];
      break;
  }
  if (c.spec.iteration != iteration) return;  // carried over: its own iteration is over
  TaskRun& run = runs[c.spec.task];
  if (c.status == InstanceStatus::Ok) ++run.ok;
  if (--run.pending == 0) run.phase = Phase::Finished;
  if (run.keep >= 0 && run.ok >= run.keep && run.pending > 0) {
    std::vector<uint64_t> extra;
    for (const auto& [id, spec] : running_) {
      if (spec.task == c.spec.task && spec.iteration == iteration) extra.push_back(id);
    }
    for (uint64_t id : extra) drop(id, LossCause::Overcommit, &runs, report);
  }
}

IterationReport Controller::run_iteration(int iteration) {
  const auto wall_start = std::chrono::steady_clock::now();
  IterationReport report;
  report.iteration = iteration;
  report.start_s = time_offset_s_ + to_seconds(now());
  state_.begin_iteration(iteration);
  if (iteration > 0 && backend_.node_ids_may_change()) {
    std::vector<NodeId> ids = backend_.node_ids();
    check_node_list(ids);
    state_.set_node_ids(std::move(ids));
  }

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
    if (runs[graph_.terminal()].phase == Phase::Finished) break;

    const std::optional<Nanos> until = next_deadline(runs);
    BackendEvent e = backend_.wait({.until_ns = until, .node_on = std::nullopt});
    if (Completion* c = std::get_if<Completion>(&e)) {
      handle(std::move(*c), iteration, runs, report, next_schedule);
      continue;
    }
    if (const NodeEvent* n = std::get_if<NodeEvent>(&e)) {
      note(*n, report);
      continue;
    }
    if (std::holds_alternative<Idle>(e)) {
      throw BackendError("the backend reported no instance in flight while " + std::to_string(running_.size()) +
                         " it was given still run" +
                         (running_.empty() ? std::string()
                                           : " (instance " + std::to_string(running_.begin()->first) +
                                                 " of task '" + running_.begin()->second.alias + "' among them)"));
    }
    if (!until) throw BackendError("the backend returned a timeout, though it was given no time limit");
    // A wall clock may wake early: ask again. A virtual clock must have reached `until`.
    const Nanos reached = now();
    if (reached < *until) {
      if (backend_.clock() == ClockKind::Wall) continue;
      throw BackendError("the backend returned a timeout at " + std::to_string(reached) + " ns, before " +
                         std::to_string(*until) + " ns, the time limit it was given");
    }
    // The deadlines that defined it are up; compared as the same sums, not to now().
    std::vector<uint64_t> late;
    for (const auto& [id, spec] : running_) {
      const TaskRun& r = runs[spec.task];
      if (spec.iteration == iteration && policy(spec.task).has_deadline() &&
          r.start_ns + deadline_ns_[spec.task] <= *until) {
        late.push_back(id);
      }
    }
    if (late.empty()) {
      throw BackendError("the backend returned a timeout at " + std::to_string(*until) +
                         " ns, but no instance of iteration " + std::to_string(iteration) + " is past its deadline there");
    }
    for (uint64_t id : late) drop(id, LossCause::Deadline, &runs, report);
  }

  for (auto& [task, nodes] : next_schedule) {
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  }
  scheduled_ = std::move(next_schedule);
  report.end_s = time_offset_s_ + to_seconds(now());
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  // Before the observers: checkpoint() called from on_iteration_end sees the iteration done.
  last_end_s_ = report.end_s;
  stopped_ = report.stop_requested;
  time_up_ = options_.max_time_s && report.end_s >= *options_.max_time_s;
  for (ControllerObserver* o : observers_) o->on_iteration_end(report, state_);
  return report;
}

}  // namespace swarm
