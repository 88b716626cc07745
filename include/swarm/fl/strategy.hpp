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
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "swarm/blob.hpp"
#include "swarm/registry.hpp"
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

// Reads a strategy's parameters from its configuration Dict (the scenario's `strategy`
// section: {"strategy": name, parameters...}). Every read names a key and its default;
// make_strategy then calls finish(), which rejects any key that was not read, so that a
// misspelt parameter is an error rather than a silently ignored default. Errors are
// UsageErrors naming the strategy and the key, e.g. "strategy 'fedadam': parameter 'beta2'
// must be in [0, 1), got 1.5". A user strategy's factory reads its parameters through it and
// gets the same checks and messages as the built-ins.
class StrategyParams {
 public:
  // REQUIRES: config is an object whose "strategy" entry, if present, names `strategy`.
  // `config` must outlive this object.
  StrategyParams(const Dict& config, std::string strategy);

  const std::string& strategy() const { return strategy_; }

  static constexpr double kInfinity = std::numeric_limits<double>::infinity();
  // A finite number in [lo, hi], with lo excluded when lo_open and hi when hi_open.
  struct Range {
    double lo, hi;
    bool lo_open = false, hi_open = false;
  };
  double number(const std::string& key, double fallback, Range range);
  // An integer >= lo, or `fallback` (which may be outside the range, e.g. -1 for "derived")
  // when the key is absent.
  int integer(const std::string& key, int fallback, int lo);
  // The common "server_lr" (> 0): params += server_lr * aggregate.
  double server_lr(double fallback) {
    return number("server_lr", fallback, {0, kInfinity, /*lo_open=*/true});
  }
  // Throws UsageError on a key that was not read, with a did-you-mean and the known keys.
  void finish() const;

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

  const Dict& config_;
  std::string strategy_;
  std::vector<std::string> known_;  // keys read so far, "strategy" included
};

// Builds a strategy from its parameters. It reads every parameter it takes from `params`
// (make_strategy finishes them) and throws UsageError for a combination it refuses.
using StrategyFactory = std::function<std::unique_ptr<Strategy>(StrategyParams&)>;

// Strategies by name ("fedavg"); a scenario's strategy.name and global "aggregation" name one.
class StrategyRegistry : public Registry<StrategyFactory> {
 public:
  StrategyRegistry() : Registry("aggregation strategy") {}
};

// Adds the project's strategies (fedavg, fedavgm, fedadam, fedyogi, fedadagrad, fedmedian,
// trimmed_mean, krum, multi_krum, bulyan, fedbuff, dp_fedavg, in this order).
void register_builtin(StrategyRegistry& registry);

// Builds a strategy of `registry` from its configuration, e.g. {"strategy": "fedadam",
// "server_lr": 0.01, "beta1": 0.9, "beta2": 0.99, "tau": 1e-3}; a missing or null "strategy"
// is fedavg. Throws UsageError on an unknown strategy (with a "did you mean" suggestion), an
// unknown or out-of-range parameter, naming it.
std::unique_ptr<Strategy> make_strategy(const Dict& config, const StrategyRegistry& registry);

// The project's strategies only, for tests and tools that take no user strategy.
const StrategyRegistry& builtin_strategies();
std::unique_ptr<Strategy> make_strategy(const Dict& config);
std::vector<std::string> strategy_names();

}  // namespace swarm::strategies
