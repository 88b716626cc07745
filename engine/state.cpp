#include "swarm/state.hpp"

#include <algorithm>
#include <set>

#include "swarm/swarm.hpp"

namespace swarm {

uint64_t InstanceOutput::bytes_written() const {
  uint64_t total = 0;
  for (const auto& [key, blob] : global_writes) total += blob.size();
  for (const auto& [tag, blob] : results) total += blob.size();
  return total;
}

SwarmState::SwarmState(const SwarmGraph& graph, std::vector<NodeId> node_ids)
    : graph_(graph), node_ids_(std::move(node_ids)) {
  std::sort(node_ids_.begin(), node_ids_.end());
  for (const auto& [key, value] : graph.initial_globals()) globals_[key] = {value, 1};
}

std::optional<Blob> SwarmState::global(const std::string& key) const {
  auto it = globals_.find(key);
  if (it == globals_.end()) return std::nullopt;
  return it->second.value;
}

std::map<NodeId, Blob> SwarmState::select(const std::string& tag, Scope scope,
                                          int reader_task) const {
  std::vector<int> from;
  if (scope == Scope::Last) from = graph_.predecessors(reader_task);
  std::map<NodeId, Blob> out;
  for (const Result& r : results_) {  // arrival order: a later value replaces an earlier one
    if (r.tag != tag) continue;
    if (scope == Scope::Last && !std::binary_search(from.begin(), from.end(), r.task)) continue;
    out[r.node] = r.value;
  }
  return out;
}

bool SwarmState::has_alias(const std::string& alias) const {
  return graph_.find(alias).has_value();
}

uint64_t SwarmState::version(const std::string& key) const {
  auto it = globals_.find(key);
  return it == globals_.end() ? 0 : it->second.version;
}

void SwarmState::set_node_ids(std::vector<NodeId> node_ids) {
  node_ids_ = std::move(node_ids);
  std::sort(node_ids_.begin(), node_ids_.end());
}

void SwarmState::begin_iteration(int iteration) {
  iteration_ = iteration;
  results_.clear();
}

void SwarmState::apply(int task, NodeId node, const InstanceOutput& output) {
  for (const auto& [key, value] : output.global_writes) {
    Global& g = globals_[key];
    g.value = value;
    ++g.version;
  }
  for (const auto& [tag, value] : output.results) results_.push_back({task, node, tag, value});
}

int64_t SwarmState::result_count(int task, const std::string& tag) const {
  std::set<NodeId> nodes;
  for (const Result& r : results_) {
    if (r.task == task && r.tag == tag) nodes.insert(r.node);
  }
  return static_cast<int64_t>(nodes.size());
}

}  // namespace swarm
