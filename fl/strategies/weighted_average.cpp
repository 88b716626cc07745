#include "fl/strategies/weighted_average.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace swarm::strategies {

void weighted_average(std::span<const std::span<const float>> updates,
                      std::span<const double> weights, std::span<float> out) {
  if (updates.empty() || updates.size() != weights.size()) {
    throw std::invalid_argument("weighted_average: need one weight per update, at least one");
  }
  double total = 0;
  for (size_t k = 0; k < updates.size(); ++k) {
    if (updates[k].size() != out.size()) throw std::invalid_argument("weighted_average: size mismatch");
    if (!(weights[k] >= 0)) throw std::invalid_argument("weighted_average: negative weight");
    total += weights[k];
  }
  if (!(total > 0)) throw std::invalid_argument("weighted_average: weights sum to zero");

  std::vector<float> coef(updates.size());
  for (size_t k = 0; k < updates.size(); ++k) coef[k] = static_cast<float>(weights[k] / total);

  // Blocked so that a block of `out` stays in L1 while every update streams through it once.
  constexpr size_t kBlock = 2048;
  const size_t n = out.size();
  for (size_t begin = 0; begin < n; begin += kBlock) {
    const size_t end = std::min(n, begin + kBlock);
    float* __restrict o = out.data();
    const float* __restrict u0 = updates[0].data();
    const float c0 = coef[0];
    for (size_t i = begin; i < end; ++i) o[i] = c0 * u0[i];
    for (size_t k = 1; k < updates.size(); ++k) {
      const float* __restrict u = updates[k].data();
      const float c = coef[k];
      for (size_t i = begin; i < end; ++i) o[i] += c * u[i];
    }
  }
}

}  // namespace swarm::strategies
