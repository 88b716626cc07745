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
//   bound-limited (at most a few; found by walking the link's flows in bound-level order). So
//   each flow has a cap (b_f, or w_f lambda_n) and a cap level theta = cap / w_f: b_f / w_f for a
//   bound-limited flow, lambda_n for all the others of the link.
// - The server link of capacity C then fills to the level lambda where
//   sum_f min(w_f lambda, cap_f) = C: flows with theta < lambda run at their cap ("capped"), the
//   others at w_f lambda ("free").
//
// The flows of a node link that share theta = lambda_n form one "unit" (the link's main unit);
// each bound-limited flow is a unit of its own. A unit has a weight (the sum of its flows'),
// a level theta and a cap theta x weight, and it is capped or free as a whole. Sorted by theta,
// the capped units are a prefix of the group; lambda = (C - sum of capped caps) / (sum of free
// weights), and the prefix is right when its last theta is <= lambda < the next theta. No
// prefix (all free) or lambda = infinity (all capped, the server link not saturated) are the
// extremes.
//
// A change (a flow becomes active, completes, is cancelled; a node link changes) re-solves its
// node link, moves the link's units in the theta order, then moves the prefix boundary until
// it is right again: each step is O(log F) and moves one unit between capped and free, so only
// units whose bottleneck changes are touched. Rates change for whole units and groups at once,
// so bytes are not tracked flow by flow: a unit has a virtual time V_u (the bytes a flow of
// weight 1 of it has received), advancing at theta while capped and with the group's virtual
// time (which advances at lambda) while free, and each flow a tag, the V_u at which it
// completes (V_u at entry + remaining / weight): a unit's first flow to complete is its lowest
// tag, and the group orders its free units by their lowest tag in the group's virtual time.
// An event costs O(log F), whatever the number of flows of a link.
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

#include "sim/huge_pages.hpp"
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
using TimeSet = std::set<Entry<Instant>>;

double seconds_between(Instant from, Instant to) { return static_cast<double>((to - from) * 1e-9L); }

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
      main_.resize(nodes_.size(), {kNone, kNone});
      link_.resize(nodes_.size(), {kNone, kNone});
    }
    nodes_[node] = links;
    for (uint32_t g = 0; g < 2; ++g) {
      if (link_[node][g] == kNone) continue;  // no active flow
      begin_node_change(node, g);
      solve_node(node, g);
      rebalance(groups_[g]);
    }
  }

  void reserve_nodes(size_t n) override {
    reserve_huge(nodes_, n);
    reserve_huge(main_, n);
    reserve_huge(link_, n);
  }

  FlowId start_flow(SimTime now, uint32_t node, Direction dir, double bytes) override {
    const LinkSpec& links = detail::check_flow(nodes_, node, bytes);
    move_clock(now, "start_flow");
    const detail::FlowShape shape = detail::flow_shape(tcp_, links, server_, dir);
    const uint32_t slot = allocate(flows_, free_flows_);
    Flow& flow = flows_[slot];
    flow = Flow{};
    flow.id = next_id_++;
    flow.node = node;
    flow.group = dir == Direction::Download ? kDownloads : kUploads;
    flow.weight = shape.weight;
    flow.bound = shape.bound;
    flow.remaining = bytes;
    flow.active_at = clock_ + shape.latency;
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
    const std::optional<Instant> next = next_instant();
    if (!next) return std::nullopt;
    return reported(*next);
  }

  std::vector<FlowId> advance(SimTime to) override {
    detail::check_advance("maxmin network", reported_, next_event_time(), to, "advance");
    reported_ = to;
    // Every event reported at `to`, each at its own instant, in order: the flows done then
    // under the rates in force until then; then the flows whose latency ends then, which may
    // complete at once (no bytes).
    std::vector<FlowId> done;
    for (std::optional<Instant> next = next_instant(); next && reported(*next) <= to; next = next_instant()) {
      clock_ = std::max(clock_, *next);
      remove_done(clock_, done);
      while (!activations_.empty() && activations_.begin()->key <= clock_) {
        const uint32_t slot = activations_.begin()->slot;
        activations_.erase(activations_.begin());
        activate(slot);
      }
    }
    clock_ = std::max(clock_, instant(to));
    std::sort(done.begin(), done.end());
    return done;
  }

  size_t active_flows() const override { return index_.size(); }

  double rate(FlowId id) const override {
    auto it = index_.find(id);
    if (it == index_.end()) return 0;
    const Flow& flow = flows_[it->second];
    if (!flow.active) return 0;
    const Unit& u = units_[flow.unit];
    return flow.weight * (u.capped ? u.theta : groups_[flow.group].lambda);
  }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  struct Flow {
    FlowId id = 0;
    uint32_t node = 0;
    uint32_t group = 0;
    bool active = false;
    bool bounded = false;  // its bound, below its node link's level, caps it: a unit of its own
    double weight = 1;
    double bound = kInf;
    Instant active_at = 0;
    double remaining = 0;  // bytes, while latent
    uint32_t unit = kNone;
    double tag = 0;  // the virtual time of its unit at which it completes
  };

  // Flows that share one rate per unit of weight: the flows of a node link that its bound does
  // not cap (the link's "main" unit), or one bound-limited flow. Its level theta (the rate per
  // unit of weight its node link or bound allows) orders it in its group; capped, it runs at
  // theta, free, at the group's lambda. Its virtual time V_u (bytes per unit of weight received)
  // is v_ref + theta (t - t_ref) while capped, the group's V + offset while free, and v_ref while
  // out of the group (during a change, at clock_).
  struct Unit {
    uint64_t serial = 0;  // breaks ties in the group's order
    uint32_t group = 0;
    bool placed = false;
    bool capped = false;
    double theta = 0;
    long double weight = 0;
    double cap = 0;  // theta * weight
    double v_ref = 0;
    Instant t_ref = 0;
    double offset = 0;
    LevelSet tags;      // its flows by tag
    Instant done_key = 0;  // capped: its key in capped_done_
    double free_key = 0;  // free: its key in the group's tags (first tag - offset)
  };

  // A node link that carries active flows. Held only while it does (a pool slot, see link_):
  // a population of millions has a few thousand such links at a time, and the others cost
  // their main unit's index alone.
  struct NodeLink {
    LevelSet by_beta;    // active flows by bound / weight
    size_t bounded = 0;  // the first `bounded` of by_beta are bound-limited
    long double weight = 0;
  };

  struct Group {
    double capacity = 0;  // of the server link
    LevelSet order;       // placed units by theta
    LevelSet::iterator boundary;  // first free unit of `order`; those before it are capped
    long double capped_sum = 0;   // of the caps of the capped units
    long double free_weight = 0;  // of the weights of the free units
    size_t capped = 0;
    size_t free = 0;
    double lambda = kInf;  // rate per unit of weight of the free units
    // Virtual time: v_ref at t_ref, then rising at v_rate (lambda while there are free units).
    Instant t_ref = 0;
    double v_ref = 0;
    double v_rate = 0;
    LevelSet tags;  // free units by free_key
  };

  template <typename T>
  static uint32_t allocate(std::vector<T>& v, std::vector<uint32_t>& free) {
    if (free.empty()) {
      v.emplace_back();
      return static_cast<uint32_t>(v.size() - 1);
    }
    const uint32_t slot = free.back();
    free.pop_back();
    return slot;
  }

  double group_v(const Group& g, Instant t) const {
    if (g.v_rate == 0 || t == g.t_ref) return g.v_ref;
    return g.v_ref + g.v_rate * seconds_between(g.t_ref, t);
  }

  double unit_v(const Unit& u, Instant t) const {
    if (!u.placed) return u.v_ref;
    if (!u.capped) return group_v(groups_[u.group], t) + u.offset;
    if (t == u.t_ref) return u.v_ref;
    return u.v_ref + u.theta * seconds_between(u.t_ref, t);
  }

  Instant group_done_at(const Group& g, double key) const { return after_transfer(g.t_ref, key - g.v_ref, g.lambda); }

  Instant unit_done_at(const Unit& u, double tag) const {
    if (!u.capped) return group_done_at(groups_[u.group], tag - u.offset);
    return after_transfer(u.t_ref, tag - u.v_ref, u.theta);
  }

  // The instant of the next event: a flow completes or becomes active.
  std::optional<Instant> next_instant() const {
    std::optional<Instant> next;
    auto consider = [&](Instant t) {
      if (!next || t < *next) next = t;
    };
    if (!activations_.empty()) consider(activations_.begin()->key);
    if (!capped_done_.empty()) consider(capped_done_.begin()->key);
    for (const Group& g : groups_) {
      if (!g.tags.empty()) consider(group_done_at(g, g.tags.begin()->key));
    }
    return next;
  }

  // A start or cancel at `now`: the clock moves there, or stays at the instant of an event
  // reported at `now` and already handled, a fraction of a nanosecond later.
  void move_clock(SimTime now, const char* op) {
    if (now == reported_) return;
    detail::check_move("maxmin network", reported_, next_event_time(), now, op);
    reported_ = now;
    clock_ = std::max(clock_, instant(now));
  }

  double node_capacity(uint32_t node, uint32_t group) const {
    const LinkSpec& l = *nodes_[node];
    return (group == kDownloads ? l.down_bytes_per_s : l.up_bytes_per_s) * tcp_.bandwidth_factor;
  }

  // Removes the flows complete at instant `to` (their completion instant is not later, or no
  // more than kDoneBytes are left), appending their ids to `done`.
  void remove_done(Instant to, std::vector<FlowId>& done) {
    done_slots_.clear();
    auto collect = [&](const Unit& u) {
      const double v = unit_v(u, to);
      for (const auto& e : u.tags) {
        if (unit_done_at(u, e.key) > to && (e.key - v) * flows_[e.slot].weight > kDoneBytes) break;
        done_slots_.push_back(e.slot);
      }
    };
    for (auto it = capped_done_.begin(); it != capped_done_.end() && it->key <= to; ++it) collect(units_[it->slot]);
    for (const Group& g : groups_) {
      const double v = group_v(g, to);
      for (const auto& e : g.tags) {
        const Unit& u = units_[e.slot];
        const double first_weight = flows_[u.tags.begin()->slot].weight;
        if (group_done_at(g, e.key) > to && (e.key - v) * first_weight > kDoneBytes) break;
        collect(u);
      }
    }
    for (uint32_t slot : done_slots_) {
      done.push_back(flows_[slot].id);
      remove(slot);
    }
  }

  void activate(uint32_t slot) {
    Flow& f = flows_[slot];
    f.active = true;
    uint32_t& main = main_[f.node][f.group];
    if (main == kNone) {
      main = allocate(units_, free_units_);
      units_[main] = Unit{};
      units_[main].serial = next_serial_++;
      units_[main].group = f.group;
    }
    uint32_t& held = link_[f.node][f.group];
    if (held == kNone) held = allocate(node_links_, free_node_links_);  // comes empty
    NodeLink& nl = node_links_[held];
    begin_node_change(f.node, f.group);
    nl.by_beta.insert({f.bound / f.weight, f.id, slot});
    nl.weight += f.weight;
    join(slot, main, f.remaining);
    solve_node(f.node, f.group);
    rebalance(groups_[f.group]);
  }

  void remove(uint32_t slot) {
    Flow& f = flows_[slot];
    if (f.active) {
      NodeLink& nl = node_links_[link_[f.node][f.group]];
      begin_node_change(f.node, f.group);
      const uint32_t u = f.unit;
      if (u != main_[f.node][f.group]) {
        unplace(u);
        leave(slot);
        free_units_.push_back(u);
        --nl.bounded;
      } else {
        leave(slot);
      }
      nl.by_beta.erase({f.bound / f.weight, f.id, slot});
      nl.weight -= f.weight;
      if (nl.by_beta.empty()) nl.weight = 0;
      solve_node(f.node, f.group);
      rebalance(groups_[f.group]);
      if (nl.by_beta.empty()) {  // its last flow: the link is given back empty (solve_node zeroed `bounded`)
        free_node_links_.push_back(link_[f.node][f.group]);
        link_[f.node][f.group] = kNone;
      }
    } else {
      activations_.erase({f.active_at, f.id, slot});
    }
    index_.erase(f.id);
    f.active = false;
    free_flows_.push_back(slot);
  }

  // Adds a flow with `bytes` left to unit u, which is out of its group.
  void join(uint32_t slot, uint32_t u, double bytes) {
    Flow& f = flows_[slot];
    Unit& unit = units_[u];
    f.unit = u;
    f.tag = unit.v_ref + bytes / f.weight;
    unit.tags.insert({f.tag, f.id, slot});
    unit.weight += f.weight;
  }

  // Takes a flow out of its unit, which is out of its group; returns its bytes left.
  double leave(uint32_t slot) {
    Flow& f = flows_[slot];
    Unit& unit = units_[f.unit];
    const double bytes = std::max(0.0, (f.tag - unit.v_ref) * f.weight);
    unit.tags.erase({f.tag, f.id, slot});
    unit.weight -= f.weight;
    if (unit.tags.empty()) {
      unit.weight = 0;
      unit.v_ref = 0;
    }
    f.unit = kNone;
    return bytes;
  }

  void begin_node_change(uint32_t node, uint32_t group) {
    const uint32_t main = main_[node][group];
    if (main != kNone && units_[main].placed) unplace(main);
  }

  // Re-solves the node link of `node` in `group`, whose main unit is out of the group: its
  // level lambda_n (sum of min(w_f lambda_n, b_f) = capacity, bound-limited flows below it, as
  // progressive filling gives it), then which flows are bound-limited (units of their own),
  // then puts the main unit back at theta = lambda_n.
  void solve_node(uint32_t node, uint32_t group) {
    NodeLink& nl = node_links_[link_[node][group]];
    const double capacity = node_capacity(node, group);
    long double taken = 0;
    long double weight = nl.weight;
    size_t count = 0;
    double lambda_n = kInf;
    for (const auto& e : nl.by_beta) {
      const double level = static_cast<double>((capacity - taken) / weight);
      if (!(e.key < level)) {
        lambda_n = level;
        break;
      }
      taken += flows_[e.slot].bound;
      weight -= flows_[e.slot].weight;
      ++count;
    }
    // The bound-limited flows were a prefix of by_beta and are one again: walk the longer.
    const size_t old_count = nl.bounded;
    size_t i = 0;
    for (auto it = nl.by_beta.begin(); it != nl.by_beta.end() && (i < count || i <= old_count); ++it, ++i) {
      Flow& f = flows_[it->slot];
      if (i < count && !f.bounded) {
        const double bytes = leave(it->slot);
        const uint32_t u = allocate(units_, free_units_);
        units_[u] = Unit{};
        units_[u].serial = next_serial_++;
        units_[u].group = group;
        units_[u].theta = it->key;
        f.bounded = true;
        join(it->slot, u, bytes);
        units_[u].cap = f.bound;
        place(u);
      } else if (i >= count && f.bounded) {
        const uint32_t u = f.unit;
        unplace(u);
        const double bytes = leave(it->slot);
        free_units_.push_back(u);
        f.bounded = false;
        join(it->slot, main_[node][group], bytes);
      }
    }
    nl.bounded = count;
    const uint32_t u = main_[node][group];
    Unit& main = units_[u];
    if (main.tags.empty()) return;
    main.theta = lambda_n;
    main.cap = static_cast<double>(main.weight) * lambda_n;
    place(u);
  }

  // Puts unit u, whose virtual time is v_ref at clock_, into its group's order, capped if it
  // falls in the capped prefix. rebalance() then moves the prefix boundary.
  void place(uint32_t u) {
    Unit& unit = units_[u];
    Group& g = groups_[unit.group];
    const Entry<double> e{unit.theta, unit.serial, u};
    const bool capped = g.boundary == g.order.end() || e < *g.boundary;
    g.order.insert(e);
    unit.placed = true;
    unit.t_ref = clock_;
    if (capped) {
      mark_capped(u);
    } else {
      mark_free(u);
    }
  }

  // Takes unit u out of its group's order, its virtual time folded to v_ref at clock_.
  void unplace(uint32_t u) {
    Unit& unit = units_[u];
    Group& g = groups_[unit.group];
    unmark(u);
    auto it = g.order.find({unit.theta, unit.serial, u});
    if (it == g.boundary) ++g.boundary;
    g.order.erase(it);
    unit.placed = false;
  }

  void mark_capped(uint32_t u) {
    Unit& unit = units_[u];
    Group& g = groups_[unit.group];
    unit.capped = true;
    unit.done_key = unit_done_at(unit, unit.tags.begin()->key);
    capped_done_.insert({unit.done_key, unit.serial, u});
    g.capped_sum += unit.cap;
    ++g.capped;
  }

  void mark_free(uint32_t u) {
    Unit& unit = units_[u];
    Group& g = groups_[unit.group];
    unit.capped = false;
    unit.offset = unit.v_ref - group_v(g, clock_);
    unit.free_key = unit.tags.begin()->key - unit.offset;
    g.tags.insert({unit.free_key, unit.serial, u});
    g.free_weight += unit.weight;
    ++g.free;
  }

  // Undoes mark_capped/mark_free, folding the unit's virtual time to v_ref at clock_.
  void unmark(uint32_t u) {
    Unit& unit = units_[u];
    Group& g = groups_[unit.group];
    unit.v_ref = unit_v(unit, clock_);
    unit.t_ref = clock_;
    if (unit.capped) {
      capped_done_.erase({unit.done_key, unit.serial, u});
      g.capped_sum -= unit.cap;
      if (--g.capped == 0) g.capped_sum = 0;
    } else {
      g.tags.erase({unit.free_key, unit.serial, u});
      g.free_weight -= unit.weight;
      if (--g.free == 0) g.free_weight = 0;
    }
  }

  double level_of(const Group& g) const {
    if (g.free == 0) return g.capped_sum <= g.capacity ? kInf : -kInf;
    return static_cast<double>((g.capacity - g.capped_sum) / g.free_weight);
  }

  // Moves the prefix boundary until the capped units are those whose theta is below the
  // group's level, then fixes the level from clock_ on.
  void rebalance(Group& g) {
    uint64_t last_in = 0;
    uint64_t last_out = 0;
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
      break;  // the prefix is right (or rounding would flip one unit back and forth)
    }
    // Free units' keys stay valid across a change of level: fold V up to now first.
    g.v_ref = g.free == 0 ? 0 : group_v(g, clock_);
    g.t_ref = clock_;
    g.lambda = level_of(g);
    g.v_rate = g.free == 0 ? 0 : g.lambda;
  }

  ServerLinks server_;
  TcpParams tcp_;
  std::vector<std::optional<LinkSpec>> nodes_;
  std::vector<std::array<uint32_t, 2>> main_;  // by node, group: its main unit, or kNone
  std::vector<std::array<uint32_t, 2>> link_;  // by node, group: its NodeLink while active, or kNone
  std::vector<NodeLink> node_links_;           // by slot
  std::vector<uint32_t> free_node_links_;
  std::vector<Flow> flows_;                      // by slot
  std::vector<uint32_t> free_flows_;
  std::vector<Unit> units_;  // by slot
  std::vector<uint32_t> free_units_;
  uint64_t next_serial_ = 1;
  std::unordered_map<FlowId, uint32_t> index_;  // flow id -> slot
  std::array<Group, 2> groups_;
  TimeSet activations_;  // latent flows
  TimeSet capped_done_;  // capped units by the completion time of their first flow
  Instant clock_ = 0;                    // the model's own clock
  SimTime reported_ = SimTime::zero();  // the last time given by the caller
  FlowId next_id_ = 1;
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
