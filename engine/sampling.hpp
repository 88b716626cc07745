#pragma once
// Seeded sampling without replacement shared by placement and schedulers.

#include <cstddef>
#include <random>
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

}  // namespace swarm
