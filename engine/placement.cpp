#include "engine/placement.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "swarm/sampling.hpp"

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

bool by_id(const NodeDescriptor& a, const NodeDescriptor& b) { return a.id < b.id; }

}  // namespace

IdFilter::IdFilter(const TaskOptions& options, const std::vector<NodeId>* scheduled)
    : specified_(sorted_unique(options.specified_ids)),
      excepted_(sorted_unique(options.excepted_ids)),
      scheduled_(scheduled ? sorted_unique(*scheduled) : std::vector<NodeId>{}),
      has_schedule_(scheduled != nullptr) {}

bool IdFilter::admits(NodeId id) const {
  if (!specified_.empty() && !contains(specified_, id)) return false;
  if (contains(excepted_, id)) return false;
  return !has_schedule_ || contains(scheduled_, id);
}

std::vector<NodeId> IdFilter::named_nodes() const {
  std::vector<NodeId> out;
  for (NodeId id : has_schedule_ ? scheduled_ : specified_) {
    if (admits(id)) out.push_back(id);
  }
  return out;
}

std::vector<NodeDescriptor> sample_available(Backend& backend, std::span<const NodeId> ids, size_t count,
                                             std::mt19937_64& rng,
                                             const std::function<bool(const NodeDescriptor&)>& admits) {
  std::vector<NodeDescriptor> found;
  if (count == 0) return found;
  auto admitted = [&](const NodeDescriptor& n) { return !admits || admits(n); };
  // Draws beyond this many mean most nodes are off: listing the available ones is cheaper.
  const size_t draw_limit = 4 * count + 64;
  if (ids.size() <= draw_limit) {
    found = backend.available_among(ids);
    std::erase_if(found, [&](const NodeDescriptor& n) { return !admitted(n); });
    sample_in_place(found, count, rng);
    std::sort(found.begin(), found.end(), by_id);
    return found;
  }
  std::unordered_set<size_t> drawn;
  std::uniform_int_distribution<size_t> position(0, ids.size() - 1);
  std::vector<NodeId> batch;
  while (found.size() < count && drawn.size() + (count - found.size()) <= draw_limit) {
    // As many new ids as nodes still wanted: a batch never overshoots, so the result is the
    // first `count` available nodes in the order drawn.
    batch.clear();
    while (batch.size() < count - found.size()) {
      const size_t p = position(rng);
      if (drawn.insert(p).second) batch.push_back(ids[p]);
    }
    std::sort(batch.begin(), batch.end());
    for (const NodeDescriptor& n : backend.available_among(batch)) {
      if (admitted(n)) found.push_back(n);
    }
  }
  if (found.size() < count) {
    // The rest of the random order, in one go: the available nodes not drawn yet, sampled.
    std::vector<NodeDescriptor> rest;
    for (const NodeDescriptor& n : backend.available_among(ids)) {
      const size_t p = static_cast<size_t>(std::lower_bound(ids.begin(), ids.end(), n.id) - ids.begin());
      if (!drawn.count(p) && admitted(n)) rest.push_back(n);
    }
    sample_in_place(rest, count - found.size(), rng);
    found.insert(found.end(), rest.begin(), rest.end());
  }
  std::sort(found.begin(), found.end(), by_id);
  return found;
}

std::vector<NodeId> place(const PlacementRequest& request, std::mt19937_64& rng) {
  const TaskOptions& opt = request.task->options;
  if (opt.method == Method::Server) return request.running > 0 ? std::vector<NodeId>{} : std::vector<NodeId>{kServerNode};
  const IdFilter lists(opt, request.scheduled);
  std::vector<NodeDescriptor> eligible;
  const std::vector<std::string>& datasets = request.task->module.datasets;
  for (const NodeDescriptor& n : request.available) {
    if (lists.admits(n.id) && n.holds(datasets)) eligible.push_back(n);
  }

  // A `maximum` that is a count caps the instances running at once, carried-over ones included.
  const auto count_cap = static_cast<size_t>(opt.maximum.remaining(request.running));

  if (opt.fixed && request.fixed_nodes && !request.fixed_nodes->empty()) {
    const std::vector<NodeId> fixed = sorted_unique(*request.fixed_nodes);
    std::vector<NodeId> kept;
    for (const NodeDescriptor& n : eligible) {
      if (contains(fixed, n.id)) kept.push_back(n.id);
    }
    if (!kept.empty()) {
      if (kept.size() > count_cap) kept.resize(count_cap);
      return kept;
    }
  }

  const auto cap = std::min(count_cap, static_cast<size_t>(opt.maximum.resolve(static_cast<int64_t>(eligible.size()))));
  std::vector<NodeId> chosen;
  switch (opt.method) {
    case Method::All:
      for (size_t i = 0; i < cap; ++i) chosen.push_back(eligible[i].id);
      break;
    case Method::Any:
      sample_in_place(eligible, cap, rng);
      for (const NodeDescriptor& n : eligible) chosen.push_back(n.id);
      break;
    case Method::Server:  // handled above
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
