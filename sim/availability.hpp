#pragma once
// On/off state of every node over virtual time, for the three kinds of Availability.
//
// Always: on at every time.
//
// Markov: a two-state on/off process with exponential periods. Period k of node i (k = 0, 1,
// ...) lasts -mean * ln(u_k) seconds (rounded to whole nanoseconds, at least 1 ns), where mean
// is mean_on_s or mean_off_s for the state of that period and u_k in (0, 1] comes from a
// counter-based hash of (derive_seed(seed, {kAvailabilitySeedDomain, i}), k + 1). The state of
// period 0 is drawn from the stationary distribution (on with probability mean_on / (mean_on +
// mean_off)) with the hash of counter 0; period 0 starts at time 0 and is a fresh exponential
// (the process is memoryless). States alternate from one period to the next. So a node's
// trajectory depends only on the run seed and its id, and per node the model keeps only the
// index and end of its current period.
//
// Trace: intervals read from the profile's trace file. Format (text):
//
//     # comment                 '#' starts a comment, to the end of the line
//     NODE START_S END_S        node NODE is on during [START_S, END_S), in seconds
//
// NODE is a non-negative integer node id; START_S and END_S are non-negative finite numbers,
// END_S > START_S. Fields are separated by blanks; blank lines are ignored. The intervals of a
// node must be sorted by time and must not overlap (lines of different nodes may interleave);
// touching intervals are merged. A node of a Trace profile absent from the file is never on.
// Lines naming a node id that is not in the population, or whose profile is not this Trace
// profile, are checked and then ignored (one file can serve several populations).
//
// Times before 0 are answered as at time 0.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/profile.hpp"
#include "sim/time.hpp"

namespace swarm::sim {

// First element of the seed path of the availability streams: derive_seed(seed,
// {kAvailabilitySeedDomain, node}). Distinct from the engine's SeedDomain values.
inline constexpr uint64_t kAvailabilitySeedDomain = 0x617661696cULL;  // "avail"

// Not thread-safe: queries update a per-node cache. Memory per node: bytes_per_node().
class AvailabilityModel {
 public:
  // REQUIRES: every profile passes check(); profile_of[i] < profiles.size() for every node i
  // (node ids are 0..profile_of.size()-1). Loads the trace files of Trace profiles; throws
  // swarm::DataError "FILE:LINE: what was expected" on a malformed one, "FILE: ..." on an
  // unreadable one.
  AvailabilityModel(const std::vector<NodeProfile>& profiles, std::vector<uint16_t> profile_of,
                    uint64_t seed);

  size_t size() const { return states_.size(); }

  // Whether `node` is on at time `t`. Queries for one node are cheapest with non-decreasing t;
  // an earlier t is answered correctly by recomputing the node's process from time 0.
  // REQUIRES: node < size().
  bool is_on(uint32_t node, SimTime t);

  // The first time > t at which the node's state flips; SimTime::max() if it never does.
  // REQUIRES: node < size().
  SimTime next_change(uint32_t node, SimTime t);

  // Memory held by the model divided by the number of nodes (per-node state, profile index,
  // and loaded trace intervals amortized over the nodes).
  size_t bytes_per_node() const;

 private:
  struct ProfileParams {
    Availability::Kind kind = Availability::Kind::Always;
    double mean_on_ns = 0, mean_off_ns = 0;
    double p_on = 1;  // stationary probability of being on
  };
  // A node's profile and, for Markov nodes, its cached period (kUnset = not computed yet).
  // One record a node, so that a query about a node is one cache miss, not two (the profile
  // index rides in what would be padding: 16 bytes either way).
  struct NodeState {
    int64_t period_end_ns = 0;  // end (exclusive) of period `period`
    uint32_t period = kUnset;   // index k of the cached period
    uint16_t profile = 0;       // index into params_
  };
  struct Interval {
    int64_t start_ns, end_ns;  // on during [start_ns, end_ns)
  };
  static constexpr uint32_t kUnset = UINT32_MAX;

  struct MarkovPeriod {
    bool on;
    int64_t end_ns;
  };
  struct TraceEntry {
    uint32_t node;
    int64_t start_ns, end_ns;
  };

  // Markov: moves the node's cached period to the one containing t (REQUIRES t >= 0) and
  // returns its state and end.
  MarkovPeriod advance(uint32_t node, int64_t t);
  bool initially_on(uint64_t node_seed, const ProfileParams& pp) const;
  int64_t period_ns(uint64_t node_seed, const ProfileParams& pp, bool on, uint32_t k) const;
  uint64_t node_seed(uint32_t node) const;

  // Parses the trace file of `profile` (index `profile_index`), appending the intervals of its
  // nodes to `entries` in file order.
  void load_trace(const NodeProfile& profile, uint16_t profile_index,
                  std::vector<TraceEntry>& entries) const;
  // Fills trace_begin_ and intervals_ from the parsed entries.
  void build_trace_index(std::vector<TraceEntry> entries);

  uint64_t seed_;
  std::vector<ProfileParams> params_;    // by profile index
  std::vector<NodeState> states_;        // by node
  // Trace nodes: intervals_[trace_begin_[i] .. trace_begin_[i+1]) are node i's, sorted.
  // Both empty if no profile is a Trace.
  std::vector<uint32_t> trace_begin_;
  std::vector<Interval> intervals_;
};

}  // namespace swarm::sim
