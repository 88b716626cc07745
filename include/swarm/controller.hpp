#pragma once
// The iteration controller: runs a SwarmGraph over a backend's nodes, iteration after
// iteration, until a task calls stop_swarm() or the iteration cap is reached.
//
// In one iteration a task starts when all its incoming edges are satisfied (Finished: every
// instance the predecessor started in this iteration completed, whatever its status; Result:
// `min_results` nodes of the predecessor added the tag in this iteration, or the predecessor
// finished and none of its instances is still running). Its instances are placed by place();
// a task with no eligible node finishes at once with no instance. The iteration ends when the
// terminal task has finished. Instances still running then (possible only behind Result edges
// or straggler policies) are carried over: they keep running, and when they complete their
// output is applied in the iteration current at that time, counted as stale by the number of
// iterations that passed (this is what buffered asynchronous aggregation such as FedBuff
// needs). Outputs are applied in the order the backend delivers completions; a backend that
// delivers them in a deterministic order makes the whole run deterministic.
//
// See docs/engine.md for the full rules.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "swarm/backend.hpp"
#include "swarm/error.hpp"
#include "swarm/state.hpp"
#include "swarm/types.hpp"

namespace swarm {

// What the controller does with the slow instances of a task.
struct StragglerPolicy {
  enum class Kind {
    WaitAll,    // wait for every instance
    Deadline,   // instances still running `deadline_s` after the task started are dropped
    OverCommit,  // of n instances placed, keep the first round(n / factor) that succeed and
                 // drop the others (FedScale's over-commitment; the sampler places n = K x factor)
    DeadlineAndOverCommit  // both: the first round(n / factor) successes, none after the deadline
  };
  Kind kind = Kind::WaitAll;
  double deadline_s = 0;
  double factor = 1.0;

  bool has_deadline() const { return kind == Kind::Deadline || kind == Kind::DeadlineAndOverCommit; }
  bool has_over_commit() const { return kind == Kind::OverCommit || kind == Kind::DeadlineAndOverCommit; }

  static StragglerPolicy wait_all() { return {}; }
  static StragglerPolicy deadline(double seconds) { return {Kind::Deadline, seconds, 1.0}; }
  static StragglerPolicy over_commit(double factor) { return {Kind::OverCommit, 0, factor}; }
  static StragglerPolicy deadline_and_over_commit(double seconds, double factor) {
    return {Kind::DeadlineAndOverCommit, seconds, factor};
  }
};

struct ControllerOptions {
  uint64_t seed = 1;
  int max_iterations = 1000;        // hard cap, whatever the tasks decide
  std::optional<double> max_time_s;  // stop after the iteration that reaches this backend time
  bool abort_on_task_error = true;  // a task that throws ends the run with TaskFailed
  std::map<std::string, StragglerPolicy> stragglers;  // by task alias; absent = WaitAll
};

// Per-iteration figures.
struct IterationReport {
  int iteration = 0;
  double start_s = 0, end_s = 0;  // backend clock (virtual seconds in simulation)
  double wall_s = 0;              // host wall clock spent on the iteration
  double task_wall_s = 0;         // host seconds spent inside task code (summed over instances)
  int instances = 0;              // started in this iteration
  int unplaced = 0;               // instances that tasks with a count `maximum` asked for and
                                  // no eligible node could take (fewer nodes on than wanted)
  int completed = 0;              // applied in this iteration (including carried-over ones)
  int failed = 0, lost = 0;
  LossCounts lost_by_cause;
  uint64_t flops = 0;
  uint64_t bytes_down = 0;  // globals and results read by completed instances on nodes
  uint64_t bytes_up = 0;    // globals and results they wrote (the server's: not counted)
  int nodes_joined = 0, nodes_left = 0, nodes_died = 0, nodes_changed = 0;  // NodeEvents seen
  int stale = 0;            // completions started in an earlier iteration
  int max_staleness = 0;    // iterations since the stalest of them started
  bool stop_requested = false;
};

struct RunReport {
  std::vector<IterationReport> iterations;
  bool stopped_by_task = false;  // false: the iteration cap ended the run
};

// What a run needs to go on from the end of an iteration as if it had never stopped (see
// Controller::checkpoint). Placement and instance seeds derive from the run's seed and the
// iteration, task and node, so no random generator state needs saving.
struct ControllerCheckpoint {
  int next_iteration = 0;
  uint64_t next_instance_id = 0;
  bool stopped = false, time_up = false;
  double end_s = 0;  // backend time at the end of the iteration: later reports continue from it
  std::vector<SwarmState::SavedGlobal> globals;
  std::map<int, std::vector<NodeId>> scheduled;    // by task index: schedule_next_iter()'s nodes
  std::map<int, std::vector<NodeId>> fixed_nodes;  // by task index: a fixed task's first placement
};

// Hooks on the controller's progress (metrics, traces, progress display). Called on the
// controller's thread.
class ControllerObserver {
 public:
  virtual ~ControllerObserver() = default;
  virtual void on_instance_start(const InstanceSpec&) {}
  // Every instance ends exactly once: completed, failed, or lost (including dropped by a
  // straggler policy or cancelled at the end of the run).
  virtual void on_instance_end(const Completion&) {}
  virtual void on_iteration_end(const IterationReport&, const SwarmState&) {}
};

// A task instance threw and the controller was told to stop on task errors.
class TaskFailed : public Error {
 public:
  using Error::Error;
};

// A task's numbers were not finite (swarm::Diverged): the run always stops there.
class RunDiverged : public TaskFailed {
 public:
  using TaskFailed::TaskFailed;
};

// A task has no node to run on, and the backend says none will ever come on again (every
// node is off for good, as at the end of an availability trace).
class NoNodeAvailable : public Error {
 public:
  using Error::Error;
};

class Controller {
 public:
  // `graph` and `backend` must outlive the controller. Throws UsageError on bad options (a
  // straggler policy for an unknown alias, a non-positive deadline, a factor < 1).
  Controller(const SwarmGraph& graph, Backend& backend, ControllerOptions options);

  void add_observer(ControllerObserver* observer) { observers_.push_back(observer); }

  // Runs to the end. Throws TaskFailed (see ControllerOptions), BackendError when the backend
  // breaks its contract, or Error from the backend.
  RunReport run();

  // Runs one iteration (for benchmarks and step-by-step drivers). REQUIRES: !done().
  IterationReport step();
  // True once a task stopped the swarm or the iteration cap is reached.
  bool done() const { return stopped_ || time_up_ || next_iteration_ >= options_.max_iterations; }

  const SwarmState& state() const { return state_; }

  // The state after the last iteration (also when called from on_iteration_end), or nullopt
  // while instances are in flight (carried
  // over past an iteration by a Result edge or a straggler policy: those cannot be saved).
  std::optional<ControllerCheckpoint> checkpoint() const;
  // Goes on from `c`, made by checkpoint() of a controller of the same graph, seed and
  // options. REQUIRES: no iteration run yet. Throws UsageError if `c` names a task the graph
  // does not have or a node the backend does not list.
  void restore(const ControllerCheckpoint& c);

 private:
  enum class Phase { Waiting, Running, Finished };
  struct TaskRun {
    Phase phase = Phase::Waiting;
    int pending = 0;   // instances of this iteration still running
    int ok = 0;        // ... completed successfully
    int keep = -1;     // OverCommit: successes after which the rest is dropped
    Nanos start_ns = 0;
  };

  IterationReport run_iteration(int iteration);
  bool ready(int task, const std::vector<TaskRun>& runs) const;
  void start_task(int task, int iteration, std::vector<TaskRun>& runs, IterationReport& report);
  // The nodes placement gives the task now (see place()).
  std::vector<NodeId> choose_nodes(int task, int iteration);
  // The nodes that could take the task if they were on (sorted; empty: any node of the
  // swarm), or nullopt when none could.
  std::optional<std::vector<NodeId>> candidates(int task) const;
  void handle(Completion c, int iteration, std::vector<TaskRun>& runs, IterationReport& report,
              std::map<int, std::vector<NodeId>>& next_schedule);
  // Drops a running instance: cancels it in the backend and reports it lost for `cause`.
  void drop(uint64_t id, LossCause cause, std::vector<TaskRun>* runs, IterationReport& report);
  // Throws BackendError unless `c` is a well-formed completion of an instance in flight,
  // with the spec it was started with. Returns its task's index for c.output.schedule's
  // aliases, in order.
  std::vector<int> check_completion(const Completion& c) const;
  // Counts a node event in `report`; asks the backend for its node list again when a node
  // it did not list joined. Throws BackendError on an event about an unknown node.
  void note(const NodeEvent& e, IterationReport& report);
  // The earliest deadline among this iteration's running tasks, if any.
  std::optional<Nanos> next_deadline(const std::vector<TaskRun>& runs) const;
  // The backend's clock; throws BackendError if it went backwards.
  Nanos now();
  // Throws BackendError unless `ids` is sorted and unique.
  static void check_node_list(std::span<const NodeId> ids);
  int running_count(int task) const;
  const StragglerPolicy& policy(int task) const { return policies_[task]; }

  const SwarmGraph& graph_;
  Backend& backend_;
  ControllerOptions options_;
  std::vector<StragglerPolicy> policies_;  // by task index
  std::vector<Nanos> deadline_ns_;         // by task index: policy(t).deadline_s, if it has one
  SwarmState state_;
  std::vector<ControllerObserver*> observers_;
  uint64_t next_instance_id_ = 0;
  int next_iteration_ = 0;
  bool stopped_ = false;
  bool time_up_ = false;
  Nanos last_now_ns_ = 0;  // the backend clock when last read
  double time_offset_s_ = 0;  // added to the backend clock in reports (restore())
  double last_end_s_ = 0;     // end_s of the last iteration
  std::map<uint64_t, InstanceSpec> running_;  // every instance in flight, any iteration
  // Per task: the nodes schedule_next_iter() named for the coming iteration.
  std::map<int, std::vector<NodeId>> scheduled_;
  // Per fixed task: the nodes of its first placement.
  std::map<int, std::vector<NodeId>> fixed_nodes_;
};

}  // namespace swarm
