#include "fl/strategies/sorting_network.hpp"

#include <algorithm>

#include "swarm/ml/eigen.hpp"

namespace swarm::strategies {

std::vector<Comparator> sorting_network(size_t n) {
  std::vector<Comparator> network;
  size_t size = 1;
  while (size < n) size *= 2;
  // Merges of sorted runs of length p into runs of 2p, each by comparators at distances
  // k = p, p/2, ..., 1; a comparator (i, i + k) only within one run of 2p.
  for (size_t p = 1; p < size; p *= 2) {
    for (size_t k = p; k >= 1; k /= 2) {
      for (size_t j = k % p; j + k < size; j += 2 * k) {
        for (size_t i = 0; i < k && i + j + k < size; ++i) {
          const size_t a = i + j, b = i + j + k;
          if (a / (2 * p) != b / (2 * p) || b >= n) continue;
          network.push_back({static_cast<uint32_t>(a), static_cast<uint32_t>(b)});
        }
      }
    }
  }
  return network;
}

std::vector<Comparator> prune(std::span<const Comparator> network, std::vector<bool> needed) {
  std::vector<Comparator> kept;
  for (auto it = network.rbegin(); it != network.rend(); ++it) {
    if (!needed[it->a] && !needed[it->b]) continue;
    // Either output of the comparator depends on both its inputs.
    needed[it->a] = needed[it->b] = true;
    kept.push_back(*it);
  }
  std::reverse(kept.begin(), kept.end());
  return kept;
}

void apply_network(std::span<const Comparator> network, float* rows) {
  // Fixed-size Eigen arrays: vector min and max, then unconditional stores. (Written as a
  // plain loop, GCC turns the store of the larger value into a masked store of the changed
  // lanes, several times slower on some CPUs.)
  using Row = Eigen::Array<float, kLanes, 1>;
  for (const Comparator& c : network) {
    Eigen::Map<Row> lo(rows + size_t{c.a} * kLanes), hi(rows + size_t{c.b} * kLanes);
    const Row x = lo, y = hi;
    lo = x.min(y);
    hi = x.max(y);
  }
}

}  // namespace swarm::strategies
