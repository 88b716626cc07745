#pragma once
// The swarm model, after Manta: a Swarm declares Tasks (a Module placed with scheduling
// options) and globals; its execute() chains task calls, which records the edges of one
// iteration's graph:
//
//   TaskRef execute() override {
//     auto m = worker_();
//     m = aggregator_(m);        // aggregator starts when every worker instance finished
//     return scheduler_(m);      // the terminal task; the iteration then repeats
//   }
//
// build() runs execute() once and validates the graph into a SwarmGraph, which is what the
// controller runs.
//
// This is the umbrella header of the public API: it includes what a user swarm needs to
// declare its graph, write its modules (TaskContext), register them and run them (Controller,
// InProcessBackend).

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "swarm/blob.hpp"
#include "swarm/controller.hpp"
#include "swarm/error.hpp"
#include "swarm/inprocess_backend.hpp"
#include "swarm/registry.hpp"
#include "swarm/task_context.hpp"
#include "swarm/types.hpp"

namespace swarm {

// A task implementation and what it needs to run on a node.
struct Module {
  std::string name;                   // registry name, e.g. "fl.worker"
  std::string image;                  // container image carrying it, e.g. "swarmsim-node:latest"
  std::vector<std::string> datasets;  // local datasets a node must hold to run it
};

enum class Method {
  All,            // one instance on every eligible node (up to `maximum`, lowest ids first)
  Any,            // instances on nodes drawn at random (seeded) among the eligible ones
  BestResources,  // the fastest eligible nodes first
  Server,         // one instance on the server (kServerNode), as classic FL aggregates and
                  // evaluates; maximum, fixed and the id lists do not apply
};

// Cap on the number of instances: a count (>= 1), a fraction of the eligible nodes in (0, 1),
// or unlimited (-1, the default). An int is a count, a double a fraction; 1.0 means all.
class Maximum {
 public:
  Maximum() = default;
  Maximum(int count);        // NOLINT: implicit so that `.maximum = 4` reads naturally
  Maximum(double fraction);  // NOLINT: implicit so that `.maximum = 0.1` reads naturally
  static Maximum unlimited() { return Maximum(); }

  bool is_unlimited() const { return kind_ == Kind::Unlimited; }
  bool is_fraction() const { return kind_ == Kind::Fraction; }
  bool is_count() const { return kind_ == Kind::Count; }
  // A count: the instances it still allows beside `running` ones (>= 0). Else no cap, INT64_MAX.
  int64_t remaining(int64_t running) const {
    return is_count() ? std::max<int64_t>(0, count_ - running) : INT64_MAX;
  }
  // Instances allowed among `eligible` nodes: a fraction rounds to nearest, at least 1.
  int64_t resolve(int64_t eligible) const;
  // Empty when valid, else what is wrong.
  std::string check() const;
  std::string to_string() const;

 private:
  enum class Kind { Unlimited, Count, Fraction };
  Kind kind_ = Kind::Unlimited;
  int64_t count_ = -1;
  double fraction_ = 1.0;
};

struct TaskOptions {
  Method method = Method::All;
  Maximum maximum;
  bool fixed = false;  // keep the nodes chosen in the first iteration
  std::string alias;   // defaults to the module name; unique in a swarm
  std::vector<NodeId> specified_ids;  // if non-empty, only these nodes are eligible
  std::vector<NodeId> excepted_ids;   // never these nodes
};

// Task options by name, in any order and only those that differ from the defaults:
//   task(module, opt::method = Method::Any, opt::fixed = false, opt::maximum = 1,
//        opt::alias = "aggregator")
// is task(module, {.method = Method::Any, .maximum = 1, .fixed = false, .alias = "aggregator"}),
// whose designated initializers must follow the declaration order of TaskOptions.
namespace opt {

// `name = value`: sets one member of TaskOptions.
template <auto Member>
struct OptionValue;

template <typename T, typename C>
T member_type_of(T C::*);

template <auto Member>
struct OptionName {
  using Value = decltype(member_type_of(Member));
  OptionValue<Member> operator=(Value value) const { return {std::move(value)}; }  // NOLINT
};

template <auto Member>
struct OptionValue {
  typename OptionName<Member>::Value value;
  void apply(TaskOptions& options) const { options.*Member = value; }
};

template <typename T>
inline constexpr bool kIsOptionValue = false;
template <auto Member>
inline constexpr bool kIsOptionValue<OptionValue<Member>> = true;

inline constexpr OptionName<&TaskOptions::method> method{};
inline constexpr OptionName<&TaskOptions::maximum> maximum{};
inline constexpr OptionName<&TaskOptions::fixed> fixed{};
inline constexpr OptionName<&TaskOptions::alias> alias{};
inline constexpr OptionName<&TaskOptions::specified_ids> specified_ids{};
inline constexpr OptionName<&TaskOptions::excepted_ids> excepted_ids{};

}  // namespace opt

struct TaskSpec {
  Module module;
  TaskOptions options;
  const std::string& alias() const { return options.alias; }
};

enum class Condition {
  Finished,  // the successor starts once every instance of the predecessor has completed
  Result,    // ... once `min_results` distinct nodes of the predecessor added result `tag`
};

struct EdgeSpec {
  Condition condition = Condition::Finished;
  std::string tag;      // Result only
  int min_results = 1;  // Result only
};

class Swarm;
class TaskRef;

// An incoming edge as written in execute(): a TaskRef converts to a Finished dependency.
struct Dependency {
  Dependency(const TaskRef& from);  // NOLINT: implicit, so `aggregator_(m)` works
  Dependency(const TaskRef& from, EdgeSpec edge);
  const Swarm* swarm;  // the swarm `from` belongs to (a task call refuses another swarm's)
  int from;
  EdgeSpec edge;
};

// `b(on_result(a, "update", 10))`: b starts once 10 nodes running a added "update".
Dependency on_result(const TaskRef& from, std::string tag, int min_results = 1);

// A cheap handle to a task of a Swarm. Calling it records edges from its arguments to it and
// returns a handle to it, so calls chain. Its arguments must be handles of the same swarm
// (GraphError naming both tasks otherwise); a handle is valid while its swarm lives.
class TaskRef {
 public:
  TaskRef() = default;
  template <typename... Deps>
  TaskRef operator()(const Deps&... deps) const {
    return call({Dependency(deps)...});
  }
  bool valid() const { return swarm_ != nullptr; }
  int index() const { return index_; }

 private:
  friend class Swarm;
  friend struct Dependency;
  TaskRef(Swarm* swarm, int index) : swarm_(swarm), index_(index) {}
  TaskRef call(std::vector<Dependency> deps) const;
  Swarm* swarm_ = nullptr;
  int index_ = -1;
};

// The validated graph of one iteration. Vertices are tasks (index = declaration order),
// edges carry their condition.
// Immutable once built; copies share it.
class SwarmGraph {
 public:
  int num_tasks() const;
  const TaskSpec& task(int i) const;
  int terminal() const;
  // Tasks in an order where every edge goes forward.
  const std::vector<int>& topological_order() const;
  // (predecessor, edge) pairs of task i.
  std::vector<std::pair<int, EdgeSpec>> in_edges(int i) const;
  std::vector<int> predecessors(int i) const;
  std::optional<int> find(const std::string& alias) const;
  const std::map<std::string, Blob>& initial_globals() const;

 private:
  friend class Swarm;
  struct Impl;  // the Boost.Graph and what build() derived from it (swarm.cpp)
  std::shared_ptr<const Impl> impl_;
};

// Base of user swarms. The constructor of a derived class declares tasks with task() and
// initial globals with set_global(); execute() returns the terminal task of an iteration.
// Neither copyable nor movable: the TaskRef handles its constructor stored point to it.
class Swarm {
 public:
  Swarm() = default;
  Swarm(const Swarm&) = delete;
  Swarm& operator=(const Swarm&) = delete;
  virtual ~Swarm() = default;
  virtual TaskRef execute() = 0;

  // Records the graph by calling execute() and validates it: every module known to
  // `registry`, aliases unique, no cycle, every declared task used, exactly one task without
  // successor and it is the one execute() returned, options in range. Throws GraphError.
  SwarmGraph build(const ModuleRegistry& registry);

 protected:
  TaskRef task(Module module, TaskOptions options = {});
  // The same with named options (see opt): task(module, opt::alias = "worker", opt::maximum = 4).
  template <typename... Options>
    requires(sizeof...(Options) > 0 && (opt::kIsOptionValue<Options> && ...))
  TaskRef task(Module module, const Options&... options) {
    TaskOptions o;
    (options.apply(o), ...);
    return task(std::move(module), std::move(o));
  }
  void set_global(const std::string& key, Blob value);
  // A null dict (what `Dict{}` and `{}` are) is stored as the empty object.
  void set_global(const std::string& key, const Dict& value);

 private:
  friend class TaskRef;
  struct RecordedEdge {
    int from, to;
    EdgeSpec edge;
  };
  std::vector<TaskSpec> tasks_;
  std::vector<RecordedEdge> edges_;
  std::map<std::string, Blob> globals_;
};

}  // namespace swarm
