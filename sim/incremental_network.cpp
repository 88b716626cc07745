// The incremental max-min solver (MaxMinSolver::kIncremental): the same rates as the full
// solver of maxmin_network.cpp, with an event cost of O(log F) for F flows instead of
// O(F log F).
//
// It uses the shape of our star. Every flow crosses exactly one server link (the uplink for
// downloads, the downlink for uploads: the two "groups") and one link of its node; a node's
// link carries only flows of one group. Progressive filling then splits in two levels:
//
// - Within a node link of capacity c, the flows of weights w_f and bounds b_f reach a level
//   lambda_n where sum min(w_f lambda_n, b_f) = c: a flow whose bound level b_f / w_f is lower is
//   bound-limited. So each flow has a cap (the rate its node link and bound allow: b_f or
//   w_f lambda_n) and a cap level theta_f = cap_f / w_f. A node link usually carries one flow:
//   cap = min(c, b).
// - The server link of capacity C then fills to the level lambda where
//   sum_f min(w_f lambda, cap_f) = C: flows with theta_f < lambda run at their cap ("capped"),
//   the others at w_f lambda ("free"). Sorted by theta, the capped flows are a prefix; lambda =
//   (C - sum of capped caps) / (sum of free weights), and the prefix is right when its last
//   theta is <= lambda < the next theta. No prefix (all free) or lambda = infinity (all capped,
//   the server link not saturated) are the extremes.
//
// A change (a flow becomes active, completes, is cancelled; a node link changes) re-solves
// its node link (O(k log k) for its k flows, usually 1), moves the flow in the theta order,
// then moves the prefix boundary until it is right again: each step is O(log F), and a step
// moves one flow between capped and free, so only flows whose bottleneck changes are touched.
// A change of lambda changes the rate of every free flow, so their bytes are not tracked one
// by one: the group keeps a virtual time V (the bytes a flow of weight 1 has received since
// the reference, advancing at lambda), and a free flow its tag, the V at which it completes
// (V at entry + remaining / weight); the free flow that completes first is the one of lowest
// tag. A capped flow has a constant rate, and keeps its remaining bytes as of when it became
// capped and its completion time. Converting a flow between the two costs O(log F).
//
// The results equal the full solver's up to floating-point rounding (the sums are kept
// incrementally, in long double; bytes are integrated per group instead of per flow); the
// randomized test in tests/sim/network_test.cpp bounds the difference.

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "sim/network.hpp"

namespace swarm::sim {
namespace {

constexpr double kDoneBytes = 1e-6;  // a flow with no more than this left is complete
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr uint32_t kDownloads = 0;  // group of the server's uplink
constexpr uint32_t kUploads = 1;    // group of the server's downlink

// An ordered entry pointing at a flow's slot; ties break by flow id, so orders are
// deterministic.
template <typename Key>
struct Entry {
  Key key;
  FlowId id;
  uint32_t slot;
  bool operator<(const Entry& o) const { return key < o.key || (key == o.key && id < o.id); }
};
using LevelSet = std::set<Entry<double>>;
using TimeSet = std::set<Entry<SimTime>>;

double seconds_between(SimTime from, SimTime to) { return static_cast<double>((to - from).ns()) * 1e-9; }

class IncrementalMaxMinNetwork final : public NetworkModel {
 public:
  IncrementalMaxMinNetwork(const ServerLinks& server, const TcpParams& tcp) : server_(server), tcp_(tcp) {
    validate_links(server_);
    detail::check_tcp(tcp_);
    groups_[kDownloads].capacity = server.up_bytes_per_s * tcp_.bandwidth_factor;
    groups_[kUploads].capacity = server.down_bytes_per_s * tcp_.bandwidth_factor;
    for (Group& g : groups_) g.boundary = g.order.end();
  }

  void set_node_links(uint32_t node, const LinkSpec& links) override {
    validate_links(node, links);
    if (node >= nodes_.size()) {
      nodes_.resize(static_cast<size_t>(node) + 1);
      node_flows_.resize(nodes_.size());
    }
    nodes_[node] = links;
    for (uint32_t g = 0; g < 2; ++g) {
      if (node_flows_[node][g].empty()) continue;
      solve_node(node, g);
      rebalance(groups_[g]);
    }
  }

  FlowId start_flow(SimTime now, uint32_t node, Direction dir, double bytes) override {
    const LinkSpec& links = detail::check_flow(nodes_, node, bytes);
    move_clock(now, "start_flow");
    const detail::FlowShape shape = detail::flow_shape(tcp_, links, server_, dir);
    uint32_t slot;
    if (free_slots_.empty()) {
      slot = static_cast<uint32_t>(flows_.size());
      flows_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    Flow& flow = flows_[slot];
    flow = Flow{};
    flow.id = next_id_++;
    flow.node = node;
    flow.group = dir == Direction::Download ? kDownloads : kUploads;
    flow.weight = shape.weight;
    flow.bound = shape.bound;
    flow.remaining = bytes;
    flow.active_at = add_saturated(now, shape.latency);
    index_.emplace(flow.id, slot);
    if (flow.active_at > clock_) {
      activations_.insert({flow.active_at, flow.id, slot});
    } else {
      activate(slot);
    }
    return flows_[slot].id;
  }

  void cancel_flow(SimTime now, FlowId id) override {
    move_clock(now, "cancel_flow");
    auto it = index_.find(id);
    if (it == index_.end()) return;
    remove(it->second);
  }

  std::optional<SimTime> next_event_time() const override {
    std::optional<SimTime> next;
    auto consider = [&](SimTime t) {
      if (!next || t < *next) next = t;
    };
    if (!activations_.empty()) consider(activations_.begin()->key);
    if (!capped_done_.empty()) consider(capped_done_.begin()->key);
    for (const Group& g : groups_) {
      if (!g.tags.empty()) consider(free_done_at(g, g.tags.begin()->key));
    }
    return next;
  }

  std::vector<FlowId> advance(SimTime to) override {
    detail::check_advance("maxmin network", clock_, next_event_time(), to, "advance");
    clock_ = to;
    // The flows done at `to` under the rates in force until now; then the flows whose latency
    // ends at `to`, which may complete at once (no bytes).
    std::vector<FlowId> done;
    remove_done(to, done);
    if (!activations_.empty() && activations_.begin()->key == to) {
      while (!activations_.empty() && activations_.begin()->key == to) {
        const uint32_t slot = activations_.begin()->slot;
        activations_.erase(activations_.begin());
        activate(slot);
      }
      remove_done(to, done);
    }
    std::sort(done.begin(), done.end());
    return done;
  }

  size_t active_flows() const override { return index_.size(); }

  double rate(FlowId id) const override {
    auto it = index_.find(id);
    if (it == index_.end()) return 0;
    const Flow& flow = flows_[it->second];
    if (!flow.active) return 0;
    return flow.capped ? flow.cap : flow.weight * groups_[flow.group].lambda;
  }

 private:
  struct Flow {
    FlowId id = 0;
    uint32_t node = 0;
    uint32_t group = 0;
    bool active = false;
    bool placed = false;  // in its group's order (active, and its cap known)
    bool capped = false;  // in the capped prefix
    double weight = 1;
    double bound = kInf;
    SimTime active_at;
    double theta = 0;      // cap / weight: the level where the node link or bound stops it
    double cap = 0;        // the rate its node link and bound allow
    double remaining = 0;  // bytes as of t0 (latent or capped flows)
    SimTime t0;
    double tag = 0;  // free flows: the group's virtual time at which it completes
    SimTime done_at;  // capped flows
  };

  struct Group {
    double capacity = 0;  // of the server link
    LevelSet order;       // placed flows by theta
    LevelSet::iterator boundary;  // first free flow of `order`; those before it are capped
    long double capped_sum = 0;   // of the caps of the capped flows
    long double free_weight = 0;  // of the weights of the free flows
    size_t capped = 0;
    size_t free = 0;
    double lambda = kInf;  // rate per unit of weight of the free flows
    // Virtual time: v_ref at t_ref, then rising at v_rate (lambda while there are free flows).
    SimTime t_ref;
    double v_ref = 0;
    double v_rate = 0;
    LevelSet tags;  // free flows by tag
  };

  // Removes the flows complete at `to` (their completion time, or no more than kDoneBytes
  // left), appending their ids to `done`.
  void remove_done(SimTime to, std::vector<FlowId>& done) {
    done_slots_.clear();
    for (auto it = capped_done_.begin(); it != capped_done_.end() && it->key == to; ++it) {
      done_slots_.push_back(it->slot);
    }
    for (const Group& g : groups_) {
      const double v = virtual_time(g, to);
      for (const auto& e : g.tags) {
        if (free_done_at(g, e.key) != to && (e.key - v) * flows_[e.slot].weight > kDoneBytes) break;
        done_slots_.push_back(e.slot);
      }
    }
    for (uint32_t slot : done_slots_) {
      done.push_back(flows_[slot].id);
      remove(slot);
    }
  }

  double virtual_time(const Group& g, SimTime t) const {
    if (g.v_rate == 0 || t == g.t_ref) return g.v_ref;
    return g.v_ref + g.v_rate * seconds_between(g.t_ref, t);
  }

  SimTime free_done_at(const Group& g, double tag) const {
    return add_saturated(g.t_ref, transfer_time(std::max(0.0, tag - g.v_ref), g.lambda));
  }

  void move_clock(SimTime now, const char* op) {
    if (now == clock_) return;
    detail::check_move("maxmin network", clock_, next_event_time(), now, op);
    clock_ = now;
  }

  double node_capacity(uint32_t node, uint32_t group) const {
    const LinkSpec& l = *nodes_[node];
    return (group == kDownloads ? l.down_bytes_per_s : l.up_bytes_per_s) * tcp_.bandwidth_factor;
  }

  void activate(uint32_t slot) {
    Flow& flow = flows_[slot];
    flow.active = true;
    flow.t0 = clock_;
    node_flows_[flow.node][flow.group].push_back(slot);
    solve_node(flow.node, flow.group);
    rebalance(groups_[flow.group]);
  }

  void remove(uint32_t slot) {
    Flow& flow = flows_[slot];
    if (flow.active) {
      if (flow.placed) unplace(slot);
      auto& list = node_flows_[flow.node][flow.group];
      *std::find(list.begin(), list.end(), slot) = list.back();
      list.pop_back();
      if (!list.empty()) solve_node(flow.node, flow.group);
      rebalance(groups_[flow.group]);
    } else {
      activations_.erase({flow.active_at, flow.id, slot});
    }
    index_.erase(flow.id);
    flow.active = false;
    free_slots_.push_back(slot);
  }

  // Re-solves the node link of `node` in `group`: the caps of its flows, by the water level
  // lambda_n of the link (bound-limited flows below it), as progressive filling gives them.
  // Flows whose cap changes move in the group's order.
  void solve_node(uint32_t node, uint32_t group) {
    const auto& list = node_flows_[node][group];
    auto level = [&](uint32_t s) { return flows_[s].bound / flows_[s].weight; };
    scratch_.assign(list.begin(), list.end());
    std::sort(scratch_.begin(), scratch_.end(), [&](uint32_t a, uint32_t b) {
      return level(a) < level(b) || (level(a) == level(b) && flows_[a].id < flows_[b].id);
    });
    double left = node_capacity(node, group);
    double weights = 0;
    for (uint32_t s : scratch_) weights += flows_[s].weight;
    double lambda_n = kInf;
    size_t bounded = 0;
    for (uint32_t s : scratch_) {
      const double share = left / weights;
      if (!(level(s) < share)) {
        lambda_n = share;
        break;
      }
      left = std::max(0.0, left - flows_[s].bound);
      weights -= flows_[s].weight;
      ++bounded;
    }
    for (size_t i = 0; i < scratch_.size(); ++i) {
      const uint32_t s = scratch_[i];
      Flow& f = flows_[s];
      const double cap = i < bounded ? f.bound : lambda_n * f.weight;
      const double theta = i < bounded ? level(s) : lambda_n;
      if (f.placed && f.cap == cap && f.theta == theta) continue;
      if (f.placed) unplace(s);
      f.cap = cap;
      f.theta = theta;
      place(s);
    }
  }

  // Brings the flow's remaining bytes to clock_ and takes it out of its group's order.
  void unplace(uint32_t slot) {
    Flow& f = flows_[slot];
    Group& g = groups_[f.group];
    unmark(slot);
    auto it = g.order.find({f.theta, f.id, slot});
    if (it == g.boundary) ++g.boundary;
    g.order.erase(it);
    f.placed = false;
  }

  // Puts a flow whose remaining bytes are as of clock_ into its group's order, capped if it
  // falls in the capped prefix. rebalance() then moves the prefix boundary.
  void place(uint32_t slot) {
    Flow& f = flows_[slot];
    Group& g = groups_[f.group];
    const Entry<double> e{f.theta, f.id, slot};
    const bool capped = g.boundary == g.order.end() || e < *g.boundary;
    g.order.insert(e);
    f.placed = true;
    if (capped) {
      mark_capped(slot);
    } else {
      mark_free(slot);
    }
  }

  void mark_capped(uint32_t slot) {
    Flow& f = flows_[slot];
    Group& g = groups_[f.group];
    f.capped = true;
    f.t0 = clock_;
    f.done_at = add_saturated(clock_, transfer_time(f.remaining, f.cap));
    capped_done_.insert({f.done_at, f.id, slot});
    g.capped_sum += f.cap;
    ++g.capped;
  }

  void mark_free(uint32_t slot) {
    Flow& f = flows_[slot];
    Group& g = groups_[f.group];
    f.capped = false;
    f.tag = virtual_time(g, clock_) + f.remaining / f.weight;
    g.tags.insert({f.tag, f.id, slot});
    g.free_weight += f.weight;
    ++g.free;
  }

  // Undoes mark_capped/mark_free, leaving the remaining bytes as of clock_.
  void unmark(uint32_t slot) {
    Flow& f = flows_[slot];
    Group& g = groups_[f.group];
    if (f.capped) {
      f.remaining = std::max(0.0, f.remaining - f.cap * seconds_between(f.t0, clock_));
      capped_done_.erase({f.done_at, f.id, slot});
      g.capped_sum -= f.cap;
      if (--g.capped == 0) g.capped_sum = 0;
    } else {
      f.remaining = std::max(0.0, (f.tag - virtual_time(g, clock_)) * f.weight);
      g.tags.erase({f.tag, f.id, slot});
      g.free_weight -= f.weight;
      if (--g.free == 0) g.free_weight = 0;
    }
  }

  double level_of(const Group& g) const {
    if (g.free == 0) return g.capped_sum <= g.capacity ? kInf : -kInf;
    return static_cast<double>((g.capacity - g.capped_sum) / g.free_weight);
  }

  // Moves the prefix boundary until the capped flows are those whose theta is below the
  // group's level, then fixes the level from clock_ on.
  void rebalance(Group& g) {
    FlowId last_in = 0;
    FlowId last_out = 0;
    for (;;) {
      const double lambda = level_of(g);
      if (g.boundary != g.order.begin()) {
        auto last = std::prev(g.boundary);
        if (last->key > lambda && last->id != last_in) {
          unmark(last->slot);
          mark_free(last->slot);
          g.boundary = last;
          last_out = last->id;
          continue;
        }
      }
      if (g.boundary != g.order.end() && g.boundary->key < lambda && g.boundary->id != last_out) {
        unmark(g.boundary->slot);
        mark_capped(g.boundary->slot);
        last_in = g.boundary->id;
        ++g.boundary;
        continue;
      }
      break;  // the prefix is right (or rounding would flip one flow back and forth)
    }
    // Free flows' tags stay valid across a change of level: fold V up to now first.
    g.v_ref = g.free == 0 ? 0 : virtual_time(g, clock_);
    g.t_ref = clock_;
    g.lambda = level_of(g);
    g.v_rate = g.free == 0 ? 0 : g.lambda;
  }

  ServerLinks server_;
  TcpParams tcp_;
  std::vector<std::optional<LinkSpec>> nodes_;
  std::vector<std::array<std::vector<uint32_t>, 2>> node_flows_;  // active flows by node, group
  std::vector<Flow> flows_;  // by slot
  std::vector<uint32_t> free_slots_;
  std::unordered_map<FlowId, uint32_t> index_;  // flow id -> slot
  std::array<Group, 2> groups_;
  TimeSet activations_;  // latent flows
  TimeSet capped_done_;  // capped flows by completion time
  SimTime clock_ = SimTime::zero();
  FlowId next_id_ = 1;
  std::vector<uint32_t> scratch_;
  std::vector<uint32_t> done_slots_;
};

}  // namespace

namespace detail {
std::unique_ptr<NetworkModel> make_incremental_maxmin_network(const ServerLinks& server,
                                                              const TcpParams& tcp) {
  return std::make_unique<IncrementalMaxMinNetwork>(server, tcp);
}
}  // namespace detail

}  // namespace swarm::sim
