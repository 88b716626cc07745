#pragma once
// Seeded sampling without replacement shared by placement, schedulers and data partitions.

#include <cstddef>
#include <cstdint>
#include <random>
#include <unordered_set>
#include <utility>
#include <vector>

namespace swarm {

// Moves a uniform sample of min(k, v.size()) elements to the front of `v` (partial
// Fisher-Yates) and truncates `v` to it.
template <typename T>
void sample_in_place(std::vector<T>& v, size_t k, std::mt19937_64& rng) {
  k = std::min(k, v.size());
  for (size_t i = 0; i < k; ++i) {
    std::uniform_int_distribution<size_t> pick(i, v.size() - 1);
    std::swap(v[i], v[pick(rng)]);
  }
  v.resize(k);
}

// A uniform sample of min(k, n) distinct positions in [0, n), by Floyd's algorithm: O(k) time
// and memory whatever n (no list of the n candidates is built). In the order drawn.
inline std::vector<uint64_t> sample_positions(uint64_t n, uint64_t k, std::mt19937_64& rng) {
  k = std::min(k, n);
  std::vector<uint64_t> picked;
  picked.reserve(k);
  std::unordered_set<uint64_t> seen;
  for (uint64_t j = n - k; j < n; ++j) {
    uint64_t t = std::uniform_int_distribution<uint64_t>(0, j)(rng);
    if (!seen.insert(t).second) {
      t = j;
      seen.insert(t);
    }
    picked.push_back(t);
  }
  return picked;
}

}  // namespace swarm
