#include "engine/placement.hpp"

#include <algorithm>

#include "engine/sampling.hpp"

namespace swarm {
namespace {

bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

std::vector<NodeId> place(const PlacementRequest& request, std::mt19937_64& rng) {
  const TaskOptions& opt = request.task->options;
  std::vector<NodeDescriptor> eligible;
  for (const NodeDescriptor& n : request.available) {
    if (!opt.specified_ids.empty() && !contains(opt.specified_ids, n.id)) continue;
    if (contains(opt.excepted_ids, n.id)) continue;
    if (request.scheduled && !contains(*request.scheduled, n.id)) continue;
    eligible.push_back(n);
  }

  if (opt.fixed && request.fixed_nodes && !request.fixed_nodes->empty()) {
    std::vector<NodeId> kept;
    for (const NodeDescriptor& n : eligible) {
      if (contains(*request.fixed_nodes, n.id)) kept.push_back(n.id);
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
      std::stable_sort(eligible.begin(), eligible.end(),
                       [](const NodeDescriptor& a, const NodeDescriptor& b) { return a.flops > b.flops; });
      for (size_t i = 0; i < cap; ++i) chosen.push_back(eligible[i].id);
      break;
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace swarm
