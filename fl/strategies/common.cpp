#include "fl/strategies/common.hpp"

#include <cmath>
#include <stdexcept>

#include "swarm/error.hpp"
#include "fl/strategies/weighted_average.hpp"

namespace swarm::strategies {

void check_updates(const std::string& strategy, std::span<const float> params,
                   std::span<const ClientUpdate> updates) {
  for (const ClientUpdate& u : updates) {
    const std::string who = strategy + ": update of node " + std::to_string(u.node);
    if (u.delta.size() != params.size()) {
      throw UsageError(who + " has " + std::to_string(u.delta.size()) +
                       " values, the model " + std::to_string(params.size()));
    }
    if (!(u.samples >= 0) || !std::isfinite(u.samples)) {
      throw UsageError(who + " has an invalid sample count");
    }
    if (u.staleness < 0) throw UsageError(who + " has a negative staleness");
  }
}

std::vector<std::span<const float>> deltas_of(std::span<const ClientUpdate> updates) {
  std::vector<std::span<const float>> deltas;
  deltas.reserve(updates.size());
  for (const ClientUpdate& u : updates) deltas.push_back(u.delta);
  return deltas;
}

std::vector<NodeId> nodes_of(std::span<const ClientUpdate> updates) {
  std::vector<NodeId> nodes;
  nodes.reserve(updates.size());
  for (const ClientUpdate& u : updates) nodes.push_back(u.node);
  return nodes;
}

void sample_weighted_mean(const std::string& strategy, std::span<const ClientUpdate> updates,
                          std::span<float> out) {
  std::vector<double> weights;
  weights.reserve(updates.size());
  double total = 0;
  for (const ClientUpdate& u : updates) {
    weights.push_back(u.samples);
    total += u.samples;
  }
  if (!(total > 0)) {
    throw UsageError(strategy + ": the " + std::to_string(updates.size()) +
                     " updates report 0 training samples in total, so they cannot be weighted "
                     "by sample count");
  }
  weighted_average(deltas_of(updates), weights, out);
}

void add_scaled(std::span<float> params, std::span<const float> step, float lr) {
  float* __restrict p = params.data();
  const float* __restrict s = step.data();
  for (size_t i = 0; i < params.size(); ++i) p[i] += lr * s[i];
}

void prepare_state(const std::string& strategy, std::vector<float>& state, size_t size,
                   float initial) {
  if (state.empty()) {
    state.assign(size, initial);
  } else if (state.size() != size) {
    throw UsageError(strategy + ": the server state has " + std::to_string(state.size()) +
                     " values, expected " + std::to_string(size) +
                     " (did the model or the strategy change during the run?)");
  }
}

}  // namespace swarm::strategies
