#pragma once
// Private to swarm::strategies: the builders register_builtin (factory.cpp) registers, and the kernels several strategies share.

#include <algorithm>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "swarm/blob.hpp"
#include "fl/strategies/sorting_network.hpp"
#include "swarm/fl/strategy.hpp"

namespace swarm::strategies {

// The parameter reader, under the name the built-in strategies use.
using Params = StrategyParams;

// Builders, one per strategy name (see factory.cpp). Each reads its parameters from `params`
// (which factory.cpp then finishes).
std::unique_ptr<Strategy> make_fedavg(Params& params);
std::unique_ptr<Strategy> make_fedavgm(Params& params);
std::unique_ptr<Strategy> make_fedbuff(Params& params);
std::unique_ptr<Strategy> make_fedadam(Params& params);
std::unique_ptr<Strategy> make_fedyogi(Params& params);
std::unique_ptr<Strategy> make_fedadagrad(Params& params);
std::unique_ptr<Strategy> make_fedmedian(Params& params);
std::unique_ptr<Strategy> make_trimmed_mean(Params& params);
std::unique_ptr<Strategy> make_krum(Params& params);
std::unique_ptr<Strategy> make_multi_krum(Params& params);
std::unique_ptr<Strategy> make_bulyan(Params& params);
std::unique_ptr<Strategy> make_dp_fedavg(Params& params);

// --- Shared kernels ---

// Checks the REQUIRES of Strategy::aggregate: every delta has params.size() values, sample
// counts and staleness are finite and non-negative. Throws UsageError naming the strategy and
// the node: updates come from nodes, and on real nodes from the network.
void check_updates(const std::string& strategy, std::span<const float> params,
                   std::span<const ClientUpdate> updates);

std::vector<std::span<const float>> deltas_of(std::span<const ClientUpdate> updates);
std::vector<NodeId> nodes_of(std::span<const ClientUpdate> updates);

// out = sum_k n_k delta_k / sum_k n_k with n_k = samples (weighted_average). Throws
// UsageError when the samples sum to zero.
void sample_weighted_mean(const std::string& strategy, std::span<const ClientUpdate> updates,
                          std::span<float> out);

// params += lr * step, elementwise.
void add_scaled(std::span<float> params, std::span<const float> step, float lr);

// Sizes `state` to `size` values set to `initial` when it is empty; otherwise checks that it
// has `size` values (UsageError otherwise: the model or the strategy changed mid-run).
void prepare_state(const std::string& strategy, std::vector<float>& state, size_t size,
                   float initial);

// Coordinate-wise rules over the updates, kLanes coordinates at a time: for each group of
// kLanes adjacent coordinates, copies the n values of each into rows[k * kLanes + j] (update
// k, coordinate begin + j; a NaN becomes +inf, an extreme value like any other), sorts every
// column by `network` (n wires; see sorting_network.hpp), then calls reduce(rows, out), which
// writes one value per column into out[0 .. kLanes), and adds lr * out[j] to the coordinate.
// The rows (n x kLanes floats) stay in L1 for n up to a few hundred; nothing is allocated per
// coordinate. Columns past the end of the model hold zeros and are dropped.
template <typename Reduce>
void sorted_columns(std::span<float> params, std::span<const std::span<const float>> deltas,
                    float lr, std::span<const Comparator> network, Reduce&& reduce) {
  const size_t n = deltas.size();
  const size_t size = params.size();
  std::vector<float> rows(n * kLanes);
  alignas(64) float out[kLanes];
  for (size_t begin = 0; begin < size; begin += kLanes) {
    const size_t count = std::min(kLanes, size - begin);
    for (size_t k = 0; k < n; ++k) {
      const float* __restrict src = deltas[k].data() + begin;
      float* __restrict dst = rows.data() + k * kLanes;
      if (count == kLanes) {
        for (size_t j = 0; j < kLanes; ++j) {
          dst[j] = src[j] == src[j] ? src[j] : std::numeric_limits<float>::infinity();
        }
      } else {
        for (size_t j = 0; j < kLanes; ++j) {
          dst[j] = j >= count        ? 0.0f
                   : src[j] == src[j] ? src[j]
                                      : std::numeric_limits<float>::infinity();
        }
      }
    }
    apply_network(network, rows.data());
    reduce(static_cast<const float*>(rows.data()), out);
    for (size_t j = 0; j < count; ++j) params[begin + j] += lr * out[j];
  }
}

}  // namespace swarm::strategies
