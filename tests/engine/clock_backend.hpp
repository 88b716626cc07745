#pragma once
// A backend for controller tests: instances run their module at once, then complete after a
// duration chosen per node, on a virtual clock the test controls. Node events pushed with
// push_event() are delivered at their time, before completions at the same time.

#include <deque>
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
    c.start_ns = now_;
    c.end_ns = now_ + nanos_from_seconds(duration_(spec));
    // Ordered by (end time, instance id): deterministic.
    queue_.emplace(std::make_pair(c.end_ns, spec.id), std::move(c));
    ++started_;
  }
  // Delivers `e` from wait() at `at_ns` (events are kept in push order; push them in time order).
  void push_event(Nanos at_ns, NodeEvent e) { events_.emplace_back(at_ns, e); }

  BackendEvent wait(const WaitFor& w) override {
    const std::optional<Nanos> next_end = queue_.empty() ? std::nullopt : std::optional(queue_.begin()->first.first);
    if (!events_.empty() && (!next_end || events_.front().first <= *next_end) &&
        (!w.until_ns || events_.front().first <= *w.until_ns)) {
      now_ = std::max(now_, events_.front().first);
      const NodeEvent e = events_.front().second;
      events_.pop_front();
      return e;
    }
    if (!next_end) return Idle{};
    if (w.until_ns && *next_end > *w.until_ns) {
      now_ = *w.until_ns;
      return Timeout{};
    }
    auto it = queue_.begin();
    now_ = it->first.first;
    Completion c = std::move(it->second);
    queue_.erase(it);
    return c;
  }
  void cancel(uint64_t id) override {
    std::erase_if(queue_, [id](const auto& e) { return e.first.second == id; });
    ++cancelled_;
  }
  Nanos now_ns() const override { return now_; }
  ClockKind clock() const override { return ClockKind::Virtual; }

  int started_ = 0, cancelled_ = 0;
  size_t in_flight() const { return queue_.size(); }

 private:
  const ModuleRegistry& registry_;
  int nodes_;
  std::function<double(const InstanceSpec&)> duration_;
  spdlog::logger logger_;
  LocalData no_data_;
  Nanos now_ = 0;
  std::map<std::pair<Nanos, uint64_t>, Completion> queue_;
  std::deque<std::pair<Nanos, NodeEvent>> events_;
};

}  // namespace swarm::testing
