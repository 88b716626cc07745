#pragma once
// The iteration controller: runs a SwarmGraph over a backend's nodes, iteration after
// iteration, until a task calls stop_swarm() or the iteration cap is reached.
//
// In one iteration a task starts when all its incoming edges are satisfied (Finished: every
// instance of the predecessor completed, whatever its status; Result: `min_results` nodes of
// the predecessor added the tag, or the predecessor finished). Its instances are placed by
// place(); a task with no eligible node finishes at once with no instance. The iteration
// ends when every task has finished. Outputs of completed instances are applied in the
// order the backend delivers completions; a backend that delivers them in a deterministic
// order makes the whole run deterministic.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/error.hpp"
#include "engine/state.hpp"
#include "engine/swarm.hpp"

namespace swarm {

struct ControllerOptions {
  uint64_t seed = 1;
  int max_iterations = 1000;       // hard cap, whatever the tasks decide
  bool abort_on_task_error = true;  // a task that throws ends the run with TaskFailed
};

// Per-iteration figures.
struct IterationReport {
  int iteration = 0;
  double start_s = 0, end_s = 0;  // backend clock
  double wall_s = 0;              // host wall clock spent on the iteration
  int instances = 0, failed = 0, lost = 0;
  uint64_t flops = 0, bytes_read = 0, bytes_written = 0;
  bool stop_requested = false;
};

struct RunReport {
  std::vector<IterationReport> iterations;
  bool stopped_by_task = false;  // false: the iteration cap ended the run
};

// Hooks on the controller's progress (metrics, traces, progress display). Called on the
// controller's thread.
class ControllerObserver {
 public:
  virtual ~ControllerObserver() = default;
  virtual void on_instance_start(const InstanceSpec&) {}
  virtual void on_instance_end(const Completion&) {}
  virtual void on_iteration_end(const IterationReport&, const SwarmState&) {}
};

// A task instance threw and the controller was told to stop on task errors.
class TaskFailed : public Error {
 public:
  using Error::Error;
};

class Controller {
 public:
  // `graph` and `backend` must outlive the controller.
  Controller(const SwarmGraph& graph, Backend& backend, ControllerOptions options);

  void add_observer(ControllerObserver* observer) { observers_.push_back(observer); }

  // Runs to the end. Throws TaskFailed (see ControllerOptions) or Error from the backend.
  RunReport run();

  const SwarmState& state() const { return state_; }

 private:
  enum class Phase { Waiting, Running, Finished };
  struct TaskRun {
    Phase phase = Phase::Waiting;
    int pending = 0;
  };

  IterationReport run_iteration(int iteration);
  bool ready(int task, const std::vector<TaskRun>& runs) const;
  void start_task(int task, int iteration, std::vector<TaskRun>& runs, IterationReport& report);

  const SwarmGraph& graph_;
  Backend& backend_;
  ControllerOptions options_;
  SwarmState state_;
  std::vector<ControllerObserver*> observers_;
  uint64_t next_instance_id_ = 0;
  // Per task: the nodes schedule_next_iter() named for the coming iteration.
  std::map<int, std::vector<NodeId>> scheduled_;
  // Per fixed task: the nodes of its first placement.
  std::map<int, std::vector<NodeId>> fixed_nodes_;
};

}  // namespace swarm
