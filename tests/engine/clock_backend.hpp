#pragma once
// A backend for controller tests: instances run their module at once, then complete after a
// duration chosen per node, on a virtual clock the test controls.

#include <functional>
#include <map>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "swarm/backend.hpp"
#include "swarm/task_context.hpp"

namespace swarm::testing {

class ClockBackend : public Backend {
 public:
  ClockBackend(const ModuleRegistry& registry, int nodes, std::function<double(const InstanceSpec&)> duration)
      : registry_(registry), nodes_(nodes), duration_(std::move(duration)),
        logger_("clock", std::make_shared<spdlog::sinks::null_sink_mt>()) {}

  std::vector<NodeId> node_ids() override {
    ++node_ids_calls;
    std::vector<NodeId> out;
    for (int i = 0; i < nodes_; ++i) out.push_back(static_cast<NodeId>(i));
    return out;
  }
  std::vector<NodeDescriptor> available_nodes() override {
    std::vector<NodeDescriptor> out;
    for (int i = 0; i < nodes_; ++i) out.push_back({static_cast<NodeId>(i), 1e9});
    return out;
  }
  bool node_ids_may_change() const override { return nodes_may_change; }
  // Nodes join: the next iteration sees them if nodes_may_change.
  void set_nodes(int nodes) { nodes_ = nodes; }
  bool nodes_may_change = true;
  int node_ids_calls = 0;

  void start(const InstanceSpec& spec, std::shared_ptr<const StateReader> state) override {
    Completion c = run_instance(*registry_.find(spec.module), spec, *state, no_data_, logger_);
    c.start_s = now_;
    c.end_s = now_ + duration_(spec);
    // Ordered by (end time, instance id): deterministic.
    queue_.emplace(std::make_pair(c.end_s, spec.id), std::move(c));
    ++started_;
  }
  std::optional<Completion> next_completion(std::optional<double> until) override {
    if (queue_.empty()) return std::nullopt;
    auto it = queue_.begin();
    if (until && it->first.first > *until) {
      now_ = *until;
      return std::nullopt;
    }
    now_ = it->first.first;
    Completion c = std::move(it->second);
    queue_.erase(it);
    return c;
  }
  void cancel(uint64_t id) override {
    std::erase_if(queue_, [id](const auto& e) { return e.first.second == id; });
    ++cancelled_;
  }
  double now_s() const override { return now_; }
  ClockKind clock() const override { return ClockKind::Virtual; }

  int started_ = 0, cancelled_ = 0;
  size_t in_flight() const { return queue_.size(); }

 private:
  const ModuleRegistry& registry_;
  int nodes_;
  std::function<double(const InstanceSpec&)> duration_;
  spdlog::logger logger_;
  LocalData no_data_;
  double now_ = 0;
  std::map<std::pair<double, uint64_t>, Completion> queue_;
};

}  // namespace swarm::testing
