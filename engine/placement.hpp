#pragma once
// Where a task's instances go in an iteration: Manta's method / maximum / fixed /
// specified_ids / excepted_ids, plus the restriction a scheduler set with
// schedule_next_iter().

#include <functional>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "swarm/backend.hpp"
#include "swarm/swarm.hpp"

namespace swarm {

struct PlacementRequest {
  const TaskSpec* task = nullptr;
  std::span<const NodeDescriptor> available;  // sorted by id
  // Nodes named by schedule_next_iter() for this task, if any.
  const std::vector<NodeId>* scheduled = nullptr;
  // Nodes the task ran on in its first placement, if it is `fixed` and has run before.
  const std::vector<NodeId>* fixed_nodes = nullptr;
  // Instances of the task still running (carried over): they count against a `maximum` that
  // is a count.
  int64_t running = 0;
};

// Eligible = available, holding every dataset of the task's Module::datasets
// (NodeDescriptor::holds), in specified_ids (if any), not in excepted_ids, in `scheduled` (if
// set). A fixed task keeps its earlier nodes that are still eligible (choosing anew only if
// none is). Then `maximum` (less `running`, for a count) caps the count and `method` chooses: All the lowest ids, Any a
// uniform sample drawn from `rng`, BestResources the highest flops (ties: lowest id).
// Server: the server alone (kServerNode), unless an instance of the task still runs there.
// Returns node ids sorted ascending.
// Costs O(available log k) where k is the size of the id lists, and O(available log maximum)
// for BestResources.
std::vector<NodeId> place(const PlacementRequest& request, std::mt19937_64& rng);

// A uniform sample of `count` of the nodes among `ids` that `backend` reports available (all
// of them if fewer are), sorted by id: the first `count` available nodes of a random order
// of `ids`. It asks the backend about drawn ids only, in batches, so that when most nodes are
// on, a round in a population of millions costs O(count); it lists every available node only
// when too few of the drawn ones are on. With `admits`, only the available nodes it admits
// count (placement passes over the nodes busy with the task, excepted, or lacking a dataset,
// so that it draws for the instances still allowed only). Same `rng`, same availability:
// same sample, whatever the backend. REQUIRES: `ids` sorted ascending, unique.
std::vector<NodeDescriptor> sample_available(Backend& backend, std::span<const NodeId> ids, size_t count,
                                             std::mt19937_64& rng,
                                             const std::function<bool(const NodeDescriptor&)>& admits = {});

// The id lists of placement: a node passes if it is in specified_ids (when that is non-empty),
// not in excepted_ids, and in `scheduled` (when a scheduler named nodes).
class IdFilter {
 public:
  IdFilter(const TaskOptions& options, const std::vector<NodeId>* scheduled);
  bool admits(NodeId id) const;
  // Whether some list narrows the task to named nodes (specified_ids or a schedule).
  bool named() const { return has_schedule_ || !specified_.empty(); }
  bool excepts_any() const { return !excepted_.empty(); }
  // The named nodes that pass, sorted. REQUIRES: named().
  std::vector<NodeId> named_nodes() const;

 private:
  std::vector<NodeId> specified_, excepted_, scheduled_;
  bool has_schedule_ = false;
};

// `ids` sorted ascending without repeats.
std::vector<NodeId> sorted_unique(std::vector<NodeId> ids);

}  // namespace swarm
