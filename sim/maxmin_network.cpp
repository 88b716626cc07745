// The max-min network model: active flows share links by max-min fairness.
//
// Resources are numbered: 0 is the server's uplink, 1 the server's downlink, 2 + 2n node
// n's uplink and 3 + 2n its downlink. A download uses {server up, node down}, an upload
// {node up, server down}.
//
// Rates are solved by progressive filling. Every resource r whose unfixed flows have weights
// summing to w_r, with capacity c_r left, offers the fair share c_r / w_r per unit of weight;
// the resource with the smallest share is the bottleneck of its unfixed flows, each of which
// gets that share times its weight, and gives it up on its other resource. A flow with a rate
// bound b and weight w is fixed at b instead if b / w is below every share (its bound is then
// its bottleneck). Shares never decrease in this process (a resource of share s >= x losing a
// flow fixed at x w keeps (c - x w) / (w_r - w) >= s), so an indexed min-heap of resources
// keyed by share, updated once per fixed flow, solves F flows over R resources in
// O(F log F + R). Only resources that carry an active flow take part. With weights 1 and no
// bounds (the `maxmin` model), this is the plain max-min of equal shares.
//
// This is the reference solver (MaxMinSolver::kFull); incremental_network.cpp solves the
// same system re-solving only what a change affects.
//
// Solving is lazy: a change (a flow becomes active, completes, is cancelled; a capacity
// changes) marks the solution stale, and the next query solves once, however many flows
// changed at the same time. The rates and completion times of the flows are a cache of that
// solution, hence mutable.

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "sim/huge_pages.hpp"
#include "sim/network.hpp"

namespace swarm::sim {
namespace {

constexpr double kDoneBytes = 1e-6;  // a flow with no more than this left is complete
constexpr uint32_t kServerUp = 0;
constexpr uint32_t kServerDown = 1;
constexpr uint32_t kNotInHeap = std::numeric_limits<uint32_t>::max();
constexpr Instant kNever = std::numeric_limits<Instant>::infinity();

uint32_t node_up(uint32_t node) { return 2 + 2 * node; }
uint32_t node_down(uint32_t node) { return 3 + 2 * node; }

class MaxMinNetwork final : public NetworkModel {
 public:
  MaxMinNetwork(const ServerLinks& server, const TcpParams& tcp) : server_(server), tcp_(tcp) {
    validate_links(server_);
    detail::check_tcp(tcp_);
    capacity_ = {server.up_bytes_per_s * tcp_.bandwidth_factor,
                 server.down_bytes_per_s * tcp_.bandwidth_factor};
    grow_scratch();
  }

  void set_node_links(uint32_t node, const LinkSpec& links) override {
    validate_links(node, links);
    if (node >= nodes_.size()) {
      nodes_.resize(static_cast<size_t>(node) + 1);
      capacity_.resize(2 + 2 * nodes_.size(), 0.0);
      grow_scratch();
    }
    // Rates in force so far apply up to the clock; the new capacities from there on.
    solve_if_stale();
    nodes_[node] = links;
    capacity_[node_up(node)] = links.up_bytes_per_s * tcp_.bandwidth_factor;
    capacity_[node_down(node)] = links.down_bytes_per_s * tcp_.bandwidth_factor;
    stale_ = true;
  }

  void reserve_nodes(size_t n) override {
    reserve_huge(nodes_, n);
    reserve_huge(capacity_, 2 + 2 * n);
    for (auto* v : {&count_, &begin_, &end_, &heap_pos_}) reserve_huge(*v, 2 + 2 * n);
    for (auto* v : {&left_, &weights_}) reserve_huge(*v, 2 + 2 * n);
  }

  FlowId start_flow(SimTime now, uint32_t node, Direction dir, double bytes) override {
    const LinkSpec& links = detail::check_flow(nodes_, node, bytes);
    move_clock(now, "start_flow");
    const detail::FlowShape shape = detail::flow_shape(tcp_, links, server_, dir);
    Flow flow;
    flow.id = next_id_++;
    if (dir == Direction::Download) {
      flow.resources = {kServerUp, node_down(node)};
    } else {
      flow.resources = {node_up(node), kServerDown};
    }
    flow.remaining = bytes;
    flow.weight = shape.weight;
    flow.bound = shape.bound;
    flow.active_at = clock_ + shape.latency;
    index_.emplace(flow.id, static_cast<uint32_t>(flows_.size()));
    flows_.push_back(flow);
    if (flow.active_at > clock_) {
      activations_.emplace(flow.active_at, flow.id);
    } else {
      activate(flows_.back());
    }
    return flow.id;
  }

  void cancel_flow(SimTime now, FlowId id) override {
    move_clock(now, "cancel_flow");
    auto it = index_.find(id);
    if (it == index_.end()) return;
    const Flow& flow = flows_[it->second];
    if (flow.active) {
      stale_ = true;
    } else {
      activations_.erase({flow.active_at, id});
    }
    remove(it->second);
  }

  std::optional<SimTime> next_event_time() const override {
    const std::optional<Instant> next = next_instant();
    if (!next) return std::nullopt;
    return reported(*next);
  }

  std::vector<FlowId> advance(SimTime to) override {
    detail::check_advance("maxmin network", reported_, next_event_time(), to, "advance");
    reported_ = to;
    // Every event reported at `to`, each at its own instant, in order.
    std::vector<FlowId> done;
    for (std::optional<Instant> next = next_instant(); next && reported(*next) <= to; next = next_instant()) {
      progress_to(std::max(clock_, *next));
      while (!activations_.empty() && activations_.begin()->first <= clock_) {
        const FlowId id = activations_.begin()->second;
        activations_.erase(activations_.begin());
        activate(flows_[index_.at(id)]);
      }
      for (size_t i = 0; i < flows_.size();) {
        const Flow& flow = flows_[i];
        if (flow.active && (flow.done_at <= clock_ || flow.remaining <= kDoneBytes)) {
          done.push_back(flow.id);
          stale_ = true;
          remove(i);  // moves the last flow into i
        } else {
          ++i;
        }
      }
    }
    progress_to(std::max(clock_, instant(to)));
    std::sort(done.begin(), done.end());
    return done;
  }

  size_t active_flows() const override { return flows_.size(); }

  double rate(FlowId id) const override {
    solve_if_stale();
    auto it = index_.find(id);
    if (it == index_.end()) return 0;
    const Flow& flow = flows_[it->second];
    return flow.active ? flow.rate : 0;
  }

 private:
  struct Flow {
    FlowId id = 0;
    std::array<uint32_t, 2> resources{};
    double remaining = 0;  // bytes, as of clock_
    double weight = 1;
    double bound = std::numeric_limits<double>::infinity();
    Instant active_at = 0;
    bool active = false;
    // Cache of the current solution (valid while !stale_ and active).
    mutable double rate = 0;
    mutable Instant done_at = kNever;
  };

  void activate(Flow& flow) {
    flow.active = true;
    flow.rate = 0;
    flow.done_at = kNever;
    stale_ = true;
  }

  // Removes flows_[i] by moving the last flow into its place.
  void remove(size_t i) {
    index_.erase(flows_[i].id);
    if (i + 1 != flows_.size()) {
      flows_[i] = flows_.back();
      index_[flows_[i].id] = static_cast<uint32_t>(i);
    }
    flows_.pop_back();
  }

  // The instant of the next event: a flow completes or becomes active.
  std::optional<Instant> next_instant() const {
    solve_if_stale();
    std::optional<Instant> next;
    if (next_done_ != kNever) next = next_done_;
    if (!activations_.empty() && (!next || activations_.begin()->first < *next)) {
      next = activations_.begin()->first;
    }
    return next;
  }

  // Moves the clock to `now` for start_flow/cancel_flow (no event may be reported in
  // (reported_, now]), or keeps it at the instant of an event reported at `now` and already
  // handled, a fraction of a nanosecond later.
  void move_clock(SimTime now, const char* op) {
    if (now == reported_) return;
    detail::check_move("maxmin network", reported_, next_event_time(), now, op);
    reported_ = now;
    progress_to(std::max(clock_, instant(now)));
  }

  // Transfers bytes at the current rates from clock_ to `to`, and sets clock_ = to.
  void progress_to(Instant to) {
    solve_if_stale();
    const double dt = static_cast<double>((to - clock_) * 1e-9L);
    if (dt > 0) {
      for (Flow& flow : flows_) {
        if (flow.active) flow.remaining = std::max(0.0, flow.remaining - flow.rate * dt);
      }
    }
    clock_ = to;
  }

  void grow_scratch() const {
    const size_t r = capacity_.size();
    count_.resize(r, 0);
    begin_.resize(r, 0);
    weights_.resize(r, 0.0);
    end_.resize(r, 0);
    left_.resize(r, 0.0);
    heap_pos_.resize(r, kNotInHeap);
  }

  void solve_if_stale() const {
    if (stale_) solve();
  }

  // Progressive filling over the active flows, then their completion times. O(F log R + R_used).
  void solve() const;

  // Indexed min-heap of resources by (fair share, resource id).
  bool heap_less(uint32_t a, uint32_t b) const {
    const double sa = left_[a] / weights_[a];
    const double sb = left_[b] / weights_[b];
    return sa < sb || (sa == sb && a < b);
  }
  void heap_place(size_t i, uint32_t r) const {
    heap_[i] = r;
    heap_pos_[r] = static_cast<uint32_t>(i);
  }
  void heap_sift_up(size_t i) const {
    const uint32_t r = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!heap_less(r, heap_[parent])) break;
      heap_place(i, heap_[parent]);
      i = parent;
    }
    heap_place(i, r);
  }
  void heap_sift_down(size_t i) const {
    const uint32_t r = heap_[i];
    const size_t n = heap_.size();
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_less(heap_[child + 1], heap_[child])) ++child;
      if (!heap_less(heap_[child], r)) break;
      heap_place(i, heap_[child]);
      i = child;
    }
    heap_place(i, r);
  }
  void heap_erase(uint32_t r) const {
    const size_t i = heap_pos_[r];
    heap_pos_[r] = kNotInHeap;
    const uint32_t last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    heap_place(i, last);
    heap_sift_up(i);
    heap_sift_down(heap_pos_[last]);
  }

  ServerLinks server_;
  TcpParams tcp_;
  std::vector<std::optional<LinkSpec>> nodes_;
  std::vector<double> capacity_;  // by resource
  std::vector<Flow> flows_;       // latent and active, in no order
  std::unordered_map<FlowId, uint32_t> index_;         // flow id -> position in flows_
  std::set<std::pair<Instant, FlowId>> activations_;  // latent flows
  Instant clock_ = 0;                    // the model's own clock
  SimTime reported_ = SimTime::zero();  // the last time given by the caller
  FlowId next_id_ = 1;

  mutable bool stale_ = false;
  mutable Instant next_done_ = kNever;  // earliest done_at of an active flow
  // Scratch of solve(), by resource; count_ is all zero between solves.
  mutable std::vector<uint32_t> count_;     // unfixed active flows
  mutable std::vector<uint32_t> begin_;     // bucket of the resource's flows in members_
  mutable std::vector<uint32_t> end_;
  mutable std::vector<double> left_;        // capacity not yet given to fixed flows
  mutable std::vector<double> weights_;     // sum of the weights of the unfixed flows
  mutable std::vector<uint32_t> bounded_;   // active flows with a bound, by bound / weight
  mutable std::vector<uint32_t> heap_pos_;  // position in heap_, or kNotInHeap
  mutable std::vector<uint32_t> heap_;
  mutable std::vector<uint32_t> used_;     // resources with at least one active flow
  mutable std::vector<uint32_t> members_;  // active flows (positions in flows_) by resource
  mutable std::vector<char> fixed_;        // by position in flows_
};

void MaxMinNetwork::solve() const {
  stale_ = false;
  next_done_ = kNever;

  // Count the active flows of each resource and list the resources used.
  used_.clear();
  bounded_.clear();
  size_t active = 0;
  for (size_t i = 0; i < flows_.size(); ++i) {
    const Flow& flow = flows_[i];
    if (!flow.active) continue;
    ++active;
    if (flow.bound < std::numeric_limits<double>::infinity()) {
      bounded_.push_back(static_cast<uint32_t>(i));
    }
    for (uint32_t r : flow.resources) {
      if (count_[r]++ == 0) {
        used_.push_back(r);
        weights_[r] = 0;
      }
      weights_[r] += flow.weight;
    }
  }
  if (active == 0) return;

  // Bucket the active flows by resource (counting sort); heap the resources by fair share.
  members_.resize(2 * active);
  heap_.clear();
  uint32_t offset = 0;
  for (uint32_t r : used_) {
    begin_[r] = end_[r] = offset;
    offset += count_[r];
    left_[r] = capacity_[r];
    heap_pos_[r] = static_cast<uint32_t>(heap_.size());
    heap_.push_back(r);
  }
  for (size_t i = 0; i < flows_.size(); ++i) {
    if (!flows_[i].active) continue;
    for (uint32_t r : flows_[i].resources) members_[end_[r]++] = static_cast<uint32_t>(i);
  }
  for (size_t i = heap_.size() / 2; i-- > 0;) heap_sift_down(i);
  fixed_.assign(flows_.size(), 0);
  auto level = [&](uint32_t i) { return flows_[i].bound / flows_[i].weight; };
  std::sort(bounded_.begin(), bounded_.end(), [&](uint32_t a, uint32_t b) {
    return level(a) < level(b) || (level(a) == level(b) && a < b);
  });
  size_t next_bounded = 0;

  // Fixes flow i at `rate`: it gives the rate up on its resources other than `skip`.
  auto fix = [&](uint32_t i, double rate, uint32_t skip) {
    fixed_[i] = 1;
    const Flow& flow = flows_[i];
    flow.rate = rate;
    for (uint32_t other : flow.resources) {
      if (other == skip) continue;
      left_[other] = std::max(0.0, left_[other] - rate);
      weights_[other] -= flow.weight;
      if (--count_[other] == 0) {
        heap_erase(other);
      } else {
        heap_sift_up(heap_pos_[other]);
        heap_sift_down(heap_pos_[other]);
      }
    }
  };

  // Progressive filling: the resource of smallest fair share is the bottleneck of its
  // unfixed flows, unless a flow's bound comes first; each fixed flow gives its rate up on
  // its other resources, whose shares then rise.
  while (!heap_.empty()) {
    const uint32_t r = heap_[0];
    const double share = left_[r] / weights_[r];
    while (next_bounded < bounded_.size() && fixed_[bounded_[next_bounded]]) ++next_bounded;
    if (next_bounded < bounded_.size() && level(bounded_[next_bounded]) < share) {
      const uint32_t i = bounded_[next_bounded++];
      fix(i, flows_[i].bound, kNotInHeap);
      continue;
    }
    heap_erase(r);
    count_[r] = 0;
    for (uint32_t m = begin_[r]; m < end_[r]; ++m) {
      const uint32_t i = members_[m];
      if (!fixed_[i]) fix(i, share * flows_[i].weight, r);
    }
  }

  for (const Flow& flow : flows_) {
    if (!flow.active) continue;
    // A zero rate cannot happen with positive capacities, but would mean "never".
    flow.done_at = after_transfer(clock_, flow.remaining, flow.rate);
    next_done_ = std::min(next_done_, flow.done_at);
  }
}

}  // namespace

namespace detail {
// sim/incremental_network.cpp
std::unique_ptr<NetworkModel> make_incremental_maxmin_network(const ServerLinks& server,
                                                              const TcpParams& tcp);
}  // namespace detail

std::unique_ptr<NetworkModel> make_maxmin_network(ServerLinks server, TcpParams tcp, MaxMinSolver solver) {
  if (solver == MaxMinSolver::kIncremental) return detail::make_incremental_maxmin_network(server, tcp);
  return std::make_unique<MaxMinNetwork>(server, tcp);
}

}  // namespace swarm::sim
