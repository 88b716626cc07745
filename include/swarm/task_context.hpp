#pragma once
// What a running task instance sees, as Manta's World and Local: the swarm's globals and
// results, the node's own datasets, its identity, a logger and an RNG stream of its own.
//
// Reads go to a StateReader (the controller's store, or a copy shipped to a remote node);
// writes are collected into an InstanceOutput that the controller applies when the instance
// completes. A TaskContext is used by one thread.

#include <any>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "swarm/backend.hpp"
#include "swarm/error.hpp"
#include "swarm/state.hpp"
#include "swarm/registry.hpp"

namespace swarm {

// A task's code met a situation it cannot run in (a missing global, a missing dataset...).
// Fails the instance with this message.
class TaskError : public Error {
 public:
  using Error::Error;
};

// A task's numbers stopped being finite (a model that diverged: a learning rate or an attack
// scale too large). Fails the instance and, unlike other failures, always ends the run: what
// follows would be built on NaN.
class Diverged : public TaskError {
 public:
  using TaskError::TaskError;
};

// The datasets a node holds, by name ("train", "test"), of whatever type its tasks read (the FL
// modules read swarm::ml::DatasetView, views into shared storage). The engine never looks
// inside: a task asks for the type it expects with TaskContext::dataset<T>().
using LocalData = std::map<std::string, std::any>;

class TaskContext {
 public:
  // `threads`: host threads the task may use for its own parallel loops (see threads()).
  TaskContext(const InstanceSpec& spec, const StateReader& state, const LocalData& local,
              spdlog::logger& logger, int threads = 1);
  TaskContext(const TaskContext&) = delete;
  TaskContext& operator=(const TaskContext&) = delete;

  NodeId node_id() const { return spec_.node; }
  int iteration() const { return spec_.iteration; }
  const std::string& alias() const { return spec_.alias; }

  class Globals {
   public:
    // The value, the instance's own write first. Throws TaskError if the key is not set.
    Blob get(const std::string& key);
    // The value as a dict; a stored null reads as the empty object. Throws TaskError if the
    // key is not set or is not a dict.
    Dict get_dict(const std::string& key);
    bool contains(const std::string& key) const;
    void set(const std::string& key, Blob value);
    // A null dict (`Dict{}`, `{}`) is stored as the empty object.
    void set(const std::string& key, const Dict& value);

   private:
    friend class TaskContext;
    explicit Globals(TaskContext& ctx) : ctx_(ctx) {}
    TaskContext& ctx_;
  };

  class Results {
   public:
    void add(const std::string& tag, Blob value);
    void add(const std::string& tag, const Dict& value);  // null stored as the empty object
    // {node: value} of `tag` in this iteration (see Scope).
    std::map<NodeId, Blob> select(const std::string& tag, Scope scope = Scope::All);

   private:
    friend class TaskContext;
    explicit Results(TaskContext& ctx) : ctx_(ctx) {}
    TaskContext& ctx_;
  };

  Globals& globals() { return globals_; }
  Results& results() { return results_; }

  // Restricts the nodes that run `alias` in the next iteration (a scheduler sampling clients).
  // Several calls for one alias add up.
  void schedule_next_iter(std::vector<NodeId> node_ids, const std::string& alias);
  // Ends the swarm after the current iteration.
  void stop_swarm() { output_.stop = true; }

  const LocalData& local() const { return local_; }
  // The node's dataset `name` as a T; throws TaskError naming the node if it has none or if it
  // holds another type.
  template <typename T>
  const T& dataset(const std::string& name) const {
    const std::any& value = find_dataset(name);
    if (const T* typed = std::any_cast<T>(&value)) return *typed;
    throw TaskError(where() + "'s dataset '" + name + "' is not of the type task '" + alias() + "' reads");
  }

  // Every node of the swarm, sorted.
  std::span<const NodeId> node_ids() const { return state_.node_ids(); }

  spdlog::logger& logger() { return logger_; }
  std::mt19937_64& rng() { return rng_; }
  // Host threads this instance may use inside its own code (an evaluation split over batches):
  // all of them when it runs alone, 1 when it runs beside other instances. A task's results
  // must not depend on it.
  int threads() const { return threads_; }
  // Reports computation done by the task (the simulator turns it into time).
  void add_flops(uint64_t flops) { output_.flops += flops; }

  InstanceOutput& output() { return output_; }

 private:
  void count_read(const std::string& key, const Blob& blob);
  const std::any& find_dataset(const std::string& name) const;
  std::string where() const;  // "node 3" or "the server"

  const InstanceSpec& spec_;
  const StateReader& state_;
  const LocalData& local_;
  spdlog::logger& logger_;
  int threads_;
  std::mt19937_64 rng_;
  InstanceOutput output_;
  std::set<std::string> read_keys_;  // each global or result counted once as read
  Globals globals_{*this};
  Results results_{*this};
};

// Runs `fn` for `spec` on a node holding `local`: builds the context, catches whatever the
// task throws, and returns the completion (times left at zero for the backend to fill).
// `threads` as in TaskContext.
Completion run_instance(const ModuleFn& fn, const InstanceSpec& spec, const StateReader& state,
                        const LocalData& local, spdlog::logger& logger, int threads = 1);

}  // namespace swarm
