#pragma once
// Where a task's instances go in an iteration: Manta's method / maximum / fixed /
// specified_ids / excepted_ids, plus the restriction a scheduler set with
// schedule_next_iter().

#include <optional>
#include <random>
#include <span>
#include <vector>

#include "engine/backend.hpp"
#include "engine/swarm.hpp"

namespace swarm {

struct PlacementRequest {
  const TaskSpec* task = nullptr;
  std::span<const NodeDescriptor> available;  // sorted by id
  // Nodes named by schedule_next_iter() for this task, if any.
  const std::vector<NodeId>* scheduled = nullptr;
  // Nodes the task ran on in its first placement, if it is `fixed` and has run before.
  const std::vector<NodeId>* fixed_nodes = nullptr;
};

// Eligible = available, in specified_ids (if any), not in excepted_ids, in `scheduled` (if
// set). A fixed task keeps its earlier nodes that are still eligible (choosing anew only if
// none is). Then `maximum` caps the count and `method` chooses: All the lowest ids, Any a
// uniform sample drawn from `rng`, BestResources the highest flops (ties: lowest id).
// Returns node ids sorted ascending.
// Costs O(available log k) where k is the size of the id lists, and O(available log maximum)
// for BestResources.
std::vector<NodeId> place(const PlacementRequest& request, std::mt19937_64& rng);

// `ids` sorted ascending without repeats.
std::vector<NodeId> sorted_unique(std::vector<NodeId> ids);

}  // namespace swarm
