// The constant network model: every flow takes latency + bytes / bandwidth of its node link,
// independently of every other flow. Each flow has exactly one pending event: its
// activation while latent, then its completion.

#include <algorithm>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "sim/network.hpp"

namespace swarm::sim {
namespace {

class ConstantNetwork final : public NetworkModel {
 public:
  explicit ConstantNetwork(const ServerLinks& server) : server_(server) { validate_links(server_); }

  void set_node_links(uint32_t node, const LinkSpec& links) override {
    validate_links(node, links);
    if (node >= nodes_.size()) nodes_.resize(static_cast<size_t>(node) + 1);
    nodes_[node] = links;
  }

  FlowId start_flow(SimTime now, uint32_t node, Direction dir, double bytes) override {
    const LinkSpec& links = detail::check_flow(nodes_, node, bytes);
    move_clock(now, "start_flow");
    const double bw = dir == Direction::Download ? links.down_bytes_per_s : links.up_bytes_per_s;
    Flow flow;
    flow.active_at = add_saturated(add_saturated(now, links.latency), server_.latency);
    flow.done_at = add_saturated(flow.active_at, transfer_time(bytes, bw));
    flow.bytes_per_s = bw;
    const FlowId id = next_id_++;
    flows_.emplace(id, flow);
    events_.emplace(next_event_of(flow), id);
    return id;
  }

  void cancel_flow(SimTime now, FlowId id) override {
    move_clock(now, "cancel_flow");
    auto it = flows_.find(id);
    if (it == flows_.end()) return;
    events_.erase({next_event_of(it->second), id});
    flows_.erase(it);
  }

  std::optional<SimTime> next_event_time() const override {
    if (events_.empty()) return std::nullopt;
    return events_.begin()->first;
  }

  std::vector<FlowId> advance(SimTime to) override {
    check_advance(to, "advance");
    clock_ = to;
    std::vector<FlowId> done;
    // Every event left is at `to`: they pop in FlowId order, activations re-enter later
    // (or at `to` again for an empty flow, which then completes in this same loop).
    while (!events_.empty() && events_.begin()->first == to) {
      const FlowId id = events_.begin()->second;
      events_.erase(events_.begin());
      const Flow& flow = flows_.at(id);
      if (flow.done_at == to) {
        done.push_back(id);
        flows_.erase(id);
      } else {
        events_.emplace(flow.done_at, id);
      }
    }
    std::sort(done.begin(), done.end());
    return done;
  }

  size_t active_flows() const override { return flows_.size(); }

  double rate(FlowId id) const override {
    auto it = flows_.find(id);
    if (it == flows_.end() || clock_ < it->second.active_at) return 0;
    return it->second.bytes_per_s;
  }

 private:
  struct Flow {
    SimTime active_at;
    SimTime done_at;
    double bytes_per_s = 0;
  };

  SimTime next_event_of(const Flow& flow) const {
    return clock_ < flow.active_at ? flow.active_at : flow.done_at;
  }

  void check_advance(SimTime to, const char* op) const {
    detail::check_advance("constant network", clock_, next_event_time(), to, op);
  }

  // Moves the clock to `now` for start_flow/cancel_flow: no event may lie in (clock_, now].
  void move_clock(SimTime now, const char* op) {
    if (now == clock_) return;
    detail::check_move("constant network", clock_, next_event_time(), now, op);
    clock_ = now;
  }


  ServerLinks server_;
  std::vector<std::optional<LinkSpec>> nodes_;
  std::unordered_map<FlowId, Flow> flows_;
  std::set<std::pair<SimTime, FlowId>> events_;  // (next event time, flow): one per flow
  SimTime clock_ = SimTime::zero();
  FlowId next_id_ = 1;
};

}  // namespace

std::unique_ptr<NetworkModel> make_constant_network(ServerLinks server) {
  return std::make_unique<ConstantNetwork>(server);
}

}  // namespace swarm::sim
