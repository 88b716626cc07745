#pragma once
// Helpers shared by the strategy tests: a round of updates that owns its deltas, and a call
// of Strategy::aggregate with a fixed generator.

#include <random>
#include <span>
#include <vector>

#include "swarm/fl/strategy.hpp"

namespace swarm::strategies::testing {

// Updates of nodes 10, 11, ... with the given deltas, sample counts (default 1 each) and
// staleness (default 0). Owns the deltas the updates point into.
class Round {
 public:
  explicit Round(std::vector<std::vector<float>> deltas, std::vector<double> samples = {},
                 std::vector<int> staleness = {})
      : deltas_(std::move(deltas)) {
    for (size_t k = 0; k < deltas_.size(); ++k) {
      ClientUpdate u;
      u.node = static_cast<NodeId>(10 + k);
      u.delta = deltas_[k];
      u.samples = samples.empty() ? 1.0 : samples[k];
      u.staleness = staleness.empty() ? 0 : staleness[k];
      updates_.push_back(u);
    }
  }
  Round(const Round&) = delete;
  Round& operator=(const Round&) = delete;

  std::span<const ClientUpdate> updates() const { return updates_; }
  const std::vector<float>& delta(size_t k) const { return deltas_[k]; }
  size_t size() const { return deltas_.size(); }

 private:
  std::vector<std::vector<float>> deltas_;
  std::vector<ClientUpdate> updates_;
};

// Builds the strategy from `config` and aggregates one round into `params`, carrying `state`.
inline AggregateReport aggregate(const Dict& config, std::vector<float>& params,
                                 const Round& round, std::vector<float>& state,
                                 uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  return make_strategy(config)->aggregate(params, round.updates(), state, rng);
}

inline AggregateReport aggregate(const Dict& config, std::vector<float>& params,
                                 const Round& round) {
  std::vector<float> state;
  return aggregate(config, params, round, state);
}

}  // namespace swarm::strategies::testing
