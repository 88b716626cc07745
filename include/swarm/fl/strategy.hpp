#pragma once
// Aggregation strategies: how a server turns the updates of a round into the next global
// model. One interface, many implementations (FedAvg, FedAvgM, FedAdam, FedYogi, FedAdagrad,
// FedMedian, TrimmedMean, Krum, Multi-Krum, Bulyan, FedBuff, DP-FedAvg); the aggregator module
// is configured with one by name (global "aggregation", see make_strategy).
//
// The aggregator task may run on a different node every round, so a strategy keeps no state
// of its own between rounds: whatever it needs to remember (server momentum, Adam moments) is
// the `state` vector it is given and updates, which the aggregator stores in a global.

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "swarm/blob.hpp"
#include "swarm/types.hpp"

namespace swarm::strategies {

// One client's contribution to a round.
struct ClientUpdate {
  NodeId node = 0;
  std::span<const float> delta;  // trained parameters - the global parameters it started from
  double samples = 0;            // local training samples
  int staleness = 0;             // iterations between the model it started from and this round
};

// What an aggregation did, for metrics and reports.
struct AggregateReport {
  int used = 0;                 // updates that contributed to the new model
  std::vector<NodeId> selected;  // for selection rules (Krum, Multi-Krum, Bulyan): who was kept
  double noise_stddev = 0;      // DP-FedAvg: standard deviation of the noise added per coordinate
  double clipped_share = 0;     // DP-FedAvg: share of updates that were clipped
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // Moves `params` (the global model) in place using this round's `updates`.
  // `state` is the strategy's server state from the previous round (empty on the first);
  // the strategy resizes and updates it. `rng` is for randomized strategies (DP noise).
  // REQUIRES: every delta has params.size() values. With no update, params do not change.
  // Throws UsageError when the updates cannot satisfy the strategy (e.g. Krum with too few
  // updates for the assumed number of Byzantine clients), naming the strategy and the numbers.
  virtual AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                                    std::vector<float>& state, std::mt19937_64& rng) = 0;
};

// Builds a strategy from its configuration, e.g. {"strategy": "fedadam", "server_lr": 0.01,
// "beta1": 0.9, "beta2": 0.99, "tau": 1e-3}. Throws UsageError on an unknown strategy (with a
// "did you mean" suggestion), an unknown or out-of-range parameter, naming it.
std::unique_ptr<Strategy> make_strategy(const Dict& config);

// Names accepted by make_strategy, for help texts and suggestions.
std::vector<std::string> strategy_names();

}  // namespace swarm::strategies
