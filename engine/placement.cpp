#include "engine/placement.hpp"

#include <algorithm>

#include "engine/sampling.hpp"

namespace swarm {
std::vector<NodeId> sorted_unique(std::vector<NodeId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

namespace {

bool contains(const std::vector<NodeId>& sorted, NodeId id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

}  // namespace

std::vector<NodeId> place(const PlacementRequest& request, std::mt19937_64& rng) {
  const TaskOptions& opt = request.task->options;
  const std::vector<NodeId> specified = sorted_unique(opt.specified_ids);
  const std::vector<NodeId> excepted = sorted_unique(opt.excepted_ids);
  const std::vector<NodeId> scheduled =
      request.scheduled ? sorted_unique(*request.scheduled) : std::vector<NodeId>{};
  std::vector<NodeDescriptor> eligible;
  for (const NodeDescriptor& n : request.available) {
    if (!specified.empty() && !contains(specified, n.id)) continue;
    if (contains(excepted, n.id)) continue;
    if (request.scheduled && !contains(scheduled, n.id)) continue;
    eligible.push_back(n);
  }

  if (opt.fixed && request.fixed_nodes && !request.fixed_nodes->empty()) {
    const std::vector<NodeId> fixed = sorted_unique(*request.fixed_nodes);
    std::vector<NodeId> kept;
    for (const NodeDescriptor& n : eligible) {
      if (contains(fixed, n.id)) kept.push_back(n.id);
    }
    if (!kept.empty()) return kept;
  }

  const auto cap = static_cast<size_t>(opt.maximum.resolve(static_cast<int64_t>(eligible.size())));
  std::vector<NodeId> chosen;
  switch (opt.method) {
    case Method::All:
      for (size_t i = 0; i < cap; ++i) chosen.push_back(eligible[i].id);
      break;
    case Method::Any:
      sample_in_place(eligible, cap, rng);
      for (const NodeDescriptor& n : eligible) chosen.push_back(n.id);
      break;
    case Method::BestResources:
      // Fastest first, the lowest id on a tie: a total order, so a partial sort is exact.
      std::partial_sort(eligible.begin(), eligible.begin() + static_cast<std::ptrdiff_t>(cap),
                        eligible.end(), Backend::faster);
      for (size_t i = 0; i < cap; ++i) chosen.push_back(eligible[i].id);
      break;
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace swarm
