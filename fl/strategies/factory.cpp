// make_strategy: the built-in strategies, the parameter reader and the lookup by name.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "swarm/error.hpp"
#include "engine/text.hpp"
#include "fl/strategies/common.hpp"

namespace swarm::strategies {
namespace {

struct Builtin {
  const char* name;
  std::unique_ptr<Strategy> (*make)(Params&);
};

// Every built-in strategy, in the order help texts list them.
constexpr Builtin kStrategies[] = {
    {"fedavg", make_fedavg},         {"fedavgm", make_fedavgm},
    {"fedadam", make_fedadam},       {"fedyogi", make_fedyogi},
    {"fedadagrad", make_fedadagrad}, {"fedmedian", make_fedmedian},
    {"trimmed_mean", make_trimmed_mean}, {"krum", make_krum},
    {"multi_krum", make_multi_krum}, {"bulyan", make_bulyan},
    {"fedbuff", make_fedbuff},       {"dp_fedavg", make_dp_fedavg},
};

std::string format_number(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", x);
  return buffer;
}

}  // namespace

StrategyParams::StrategyParams(const Dict& config, std::string strategy)
    : config_(config), strategy_(std::move(strategy)), known_{"strategy"} {}

void StrategyParams::fail(const std::string& key, const std::string& what) const {
  throw UsageError("strategy '" + strategy_ + "': parameter '" + key + "' " + what);
}

double StrategyParams::number(const std::string& key, double fallback, Range range) {
  known_.push_back(key);
  auto it = config_.find(key);
  if (it == config_.end()) return fallback;
  if (!it->is_number()) fail(key, "must be a number, got " + it->dump());
  const double x = it->get<double>();
  const bool above = range.lo_open ? x > range.lo : x >= range.lo;
  const bool below = range.hi_open ? x < range.hi : x <= range.hi;
  if (!std::isfinite(x) || !above || !below) {
    const std::string interval =
        std::isinf(range.hi) ? std::string(range.lo_open ? "> " : ">= ") + format_number(range.lo)
                             : std::string("in ") + (range.lo_open ? "(" : "[") +
                                   format_number(range.lo) + ", " + format_number(range.hi) +
                                   (range.hi_open ? ")" : "]");
    fail(key, "must be " + interval + ", got " + it->dump());
  }
  return x;
}

int StrategyParams::integer(const std::string& key, int fallback, int lo) {
  known_.push_back(key);
  auto it = config_.find(key);
  if (it == config_.end()) return fallback;
  const double x = it->is_number() ? it->get<double>() : std::nan("");
  if (!(x >= lo) || x != std::floor(x) || x > std::numeric_limits<int>::max()) {
    fail(key, "must be an integer >= " + std::to_string(lo) + ", got " + it->dump());
  }
  return static_cast<int>(x);
}

void StrategyParams::finish() const {
  for (const auto& [key, value] : config_.items()) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::vector<std::string> parameters(known_.begin() + 1, known_.end());
    throw UsageError("strategy '" + strategy_ + "' has no parameter '" + key + "'" + did_you_mean(key, known_) +
                     " (its parameters: " + join(parameters) + ")");
  }
}

void register_builtin(StrategyRegistry& registry) {
  for (const Builtin& b : kStrategies) registry.add(b.name, b.make);
}

const StrategyRegistry& builtin_strategies() {
  static const StrategyRegistry registry = [] {
    StrategyRegistry r;
    register_builtin(r);
    return r;
  }();
  return registry;
}

std::vector<std::string> strategy_names() { return builtin_strategies().names(); }

std::unique_ptr<Strategy> make_strategy(const Dict& config) { return make_strategy(config, builtin_strategies()); }

std::unique_ptr<Strategy> make_strategy(const Dict& config, const StrategyRegistry& registry) {
  static const Dict kEmpty = Dict::object();
  const Dict& cfg = config.is_null() ? kEmpty : config;
  if (!cfg.is_object()) {
    throw UsageError("an aggregation configuration must be an object such as "
                     "{\"strategy\": \"fedavg\"}, got " + cfg.dump());
  }
  std::string name = "fedavg";
  if (auto it = cfg.find("strategy"); it != cfg.end()) {
    if (!it->is_string()) {
      throw UsageError("aggregation 'strategy' must be a name, got " + it->dump());
    }
    name = it->get<std::string>();
  }
  const StrategyFactory& make = registry.get(name);
  Params params(cfg, name);
  std::unique_ptr<Strategy> strategy = make(params);
  if (!strategy) throw UsageError("strategy '" + name + "': its factory returned no strategy");
  params.finish();
  return strategy;
}

}  // namespace swarm::strategies
