#pragma once
// The shared state of a running swarm, as Manta's World: globals (key -> blob, versioned)
// and results (tag -> {node: blob}) of the current iteration. Task instances read it through
// StateReader and never write it directly: what an instance writes is collected in its
// InstanceOutput and applied by the controller when the instance completes, in completion
// order. This is what lets the same task run in-process, in a simulator or on a remote node.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "swarm/blob.hpp"
#include "swarm/types.hpp"

namespace swarm {

enum class Scope {
  All,   // results added this iteration by any task
  Last,  // results added this iteration by the calling task's predecessors in the graph
};

// Everything an instance produces.
struct InstanceOutput {
  std::vector<std::pair<std::string, Blob>> global_writes;
  std::vector<std::pair<std::string, Blob>> results;  // (tag, value), in add() order
  std::vector<std::pair<std::string, std::vector<NodeId>>> schedule;  // (alias, nodes)
  bool stop = false;
  uint64_t flops = 0;       // computation the instance reported
  uint64_t bytes_read = 0;  // globals and results it read (what it would download)
  uint64_t bytes_written() const;
};

// Read access for running instances. Implementations are safe to call from several threads
// at once as long as nobody writes.
class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual std::optional<Blob> global(const std::string& key) const = 0;
  // {node: value} of `tag`; when a node added the tag several times, its last value.
  virtual std::map<NodeId, Blob> select(const std::string& tag, Scope scope,
                                        int reader_task) const = 0;
  // Every node of the swarm, sorted.
  virtual std::span<const NodeId> node_ids() const = 0;
  virtual bool has_alias(const std::string& alias) const = 0;
};

class StateSnapshot;

// The controller's state store.
class SwarmState : public StateReader {
 public:
  SwarmState(const SwarmGraph& graph, std::vector<NodeId> node_ids);

  std::optional<Blob> global(const std::string& key) const override;
  std::map<NodeId, Blob> select(const std::string& tag, Scope scope,
                                int reader_task) const override;
  std::span<const NodeId> node_ids() const override { return *node_ids_; }
  bool has_alias(const std::string& alias) const override;

  // What an instance started now may read, frozen: later apply() calls do not change it.
  std::shared_ptr<const StateSnapshot> snapshot() const;

  // Version of a global: 0 if never set, +1 at every write.
  uint64_t version(const std::string& key) const;

  // Drops the previous iteration's results.
  void begin_iteration(int iteration);
  // Replaces the swarm's node list (nodes may join or leave between iterations).
  void set_node_ids(std::vector<NodeId> node_ids);
  // Applies a completed instance's writes and results.
  void apply(int task, NodeId node, const InstanceOutput& output);
  // Distinct nodes of `task` that added `tag` this iteration.
  int64_t result_count(int task, const std::string& tag) const;

  // Every global with its version, sorted by key: what a checkpoint saves (results are not
  // saved: an iteration's results are dropped when the next one begins).
  struct SavedGlobal {
    std::string key;
    Blob value;
    uint64_t version = 0;
  };
  std::vector<SavedGlobal> saved_globals() const;
  // Replaces every global by `globals` (from saved_globals()).
  void restore_globals(const std::vector<SavedGlobal>& globals);

 private:
  friend class StateSnapshot;
  struct Global {
    Blob value;
    uint64_t version = 0;
  };
  struct Result {
    int task;
    NodeId node;
    std::string tag;
    Blob value;
  };
  const SwarmGraph& graph_;
  std::shared_ptr<const std::vector<NodeId>> node_ids_;  // shared with snapshots
  std::map<std::string, Global> globals_;
  std::vector<Result> results_;  // this iteration, in arrival order
  int iteration_ = 0;
};

// A frozen copy of a SwarmState, as it was when SwarmState::snapshot() made it: what the
// instances a backend starts may read, valid for as long as someone holds it (a remote backend
// may send it whenever it likes). Blobs are immutable and shared with the state (a write
// replaces a global's blob, never changes its bytes), and so is the node list: a snapshot costs
// O(globals + results of the iteration so far), never their bytes. Safe to read from several
// threads at once. REQUIRES: the SwarmGraph outlives it (results of Scope::Last, has_alias).
class StateSnapshot final : public StateReader {
 public:
  explicit StateSnapshot(const SwarmState& state);

  std::optional<Blob> global(const std::string& key) const override;
  std::map<NodeId, Blob> select(const std::string& tag, Scope scope, int reader_task) const override;
  std::span<const NodeId> node_ids() const override { return *node_ids_; }
  bool has_alias(const std::string& alias) const override;

  // What a backend that ships the snapshot to a remote node sends: every global, every result
  // of the iteration in arrival order, the graph's aliases (by task index) and a task's
  // predecessors (sorted: what Scope::Last reads).
  struct ResultEntry {
    int task;
    NodeId node;
    const std::string& tag;
    const Blob& value;
  };
  std::vector<std::pair<std::string, Blob>> globals() const;
  std::vector<ResultEntry> results() const;
  std::vector<std::string> aliases() const;
  std::vector<int> predecessors(int task) const;

 private:
  const SwarmGraph* graph_;
  std::shared_ptr<const std::vector<NodeId>> node_ids_;
  std::map<std::string, SwarmState::Global> globals_;
  std::vector<SwarmState::Result> results_;
};

}  // namespace swarm
