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

namespace {

std::shared_ptr<const std::vector<NodeId>> sorted_shared(std::vector<NodeId> ids) {
  std::sort(ids.begin(), ids.end());
  return std::make_shared<const std::vector<NodeId>>(std::move(ids));
}

// The global `key` of `globals` (a SwarmState's or a snapshot's).
template <typename Globals>
std::optional<Blob> find_global(const Globals& globals, const std::string& key) {
  auto it = globals.find(key);
  if (it == globals.end()) return std::nullopt;
  return it->second.value;
}

// {node: value} of `tag` among `results`, in arrival order: a later value replaces an earlier one.
template <typename Results>
std::map<NodeId, Blob> select_results(const SwarmGraph& graph, const Results& results, const std::string& tag,
                                      Scope scope, int reader_task) {
  std::vector<int> from;
  if (scope == Scope::Last) from = graph.predecessors(reader_task);
  std::map<NodeId, Blob> out;
  for (const auto& r : results) {
    if (r.tag != tag) continue;
    if (scope == Scope::Last && !std::binary_search(from.begin(), from.end(), r.task)) continue;
    out[r.node] = r.value;
  }
  return out;
}

}  // namespace

SwarmState::SwarmState(const SwarmGraph& graph, std::vector<NodeId> node_ids)
    : graph_(graph), node_ids_(sorted_shared(std::move(node_ids))) {
  for (const auto& [key, value] : graph.initial_globals()) globals_[key] = {value, 1};
}

std::optional<Blob> SwarmState::global(const std::string& key) const { return find_global(globals_, key); }

std::map<NodeId, Blob> SwarmState::select(const std::string& tag, Scope scope,
                                          int reader_task) const {
  return select_results(graph_, results_, tag, scope, reader_task);
}

std::shared_ptr<const StateSnapshot> SwarmState::snapshot() const { return std::make_shared<const StateSnapshot>(*this); }

StateSnapshot::StateSnapshot(const SwarmState& state)
    : graph_(&state.graph_), node_ids_(state.node_ids_), globals_(state.globals_), results_(state.results_) {}

std::optional<Blob> StateSnapshot::global(const std::string& key) const { return find_global(globals_, key); }

std::map<NodeId, Blob> StateSnapshot::select(const std::string& tag, Scope scope, int reader_task) const {
  return select_results(*graph_, results_, tag, scope, reader_task);
}

bool StateSnapshot::has_alias(const std::string& alias) const { return graph_->find(alias).has_value(); }

std::vector<std::pair<std::string, Blob>> StateSnapshot::globals() const {
  std::vector<std::pair<std::string, Blob>> out;
  out.reserve(globals_.size());
  for (const auto& [key, g] : globals_) out.emplace_back(key, g.value);
  return out;
}

std::vector<StateSnapshot::ResultEntry> StateSnapshot::results() const {
  std::vector<ResultEntry> out;
  out.reserve(results_.size());
  for (const auto& r : results_) out.push_back({r.task, r.node, r.tag, r.value});
  return out;
}

std::vector<std::string> StateSnapshot::aliases() const {
  std::vector<std::string> out;
  for (int t = 0; t < graph_->num_tasks(); ++t) out.push_back(graph_->task(t).alias());
  return out;
}

std::vector<int> StateSnapshot::predecessors(int task) const {
  std::vector<int> out = graph_->predecessors(task);
  std::sort(out.begin(), out.end());
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
  node_ids_ = sorted_shared(std::move(node_ids));
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

std::vector<SwarmState::SavedGlobal> SwarmState::saved_globals() const {
  std::vector<SavedGlobal> out;
  out.reserve(globals_.size());
  for (const auto& [key, g] : globals_) out.push_back({key, g.value, g.version});
  return out;
}

void SwarmState::restore_globals(const std::vector<SavedGlobal>& globals) {
  globals_.clear();
  for (const SavedGlobal& g : globals) globals_[g.key] = {g.value, g.version};
}

int64_t SwarmState::result_count(int task, const std::string& tag) const {
  std::set<NodeId> nodes;
  for (const Result& r : results_) {
    if (r.task == task && r.tag == tag) nodes.insert(r.node);
  }
  return static_cast<int64_t>(nodes.size());
}

}  // namespace swarm
