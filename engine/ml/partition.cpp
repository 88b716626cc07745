#include "engine/ml/partition.hpp"

#include <algorithm>
#include <cassert>
#include <random>
#include <string>

#include "engine/error.hpp"

namespace swarm::ml {

std::vector<DatasetView> partition_iid(const DatasetView& data, int num_parts, uint64_t seed) {
  assert(num_parts >= 1);
  if (num_parts > data.size()) {
    throw UsageError("cannot split " + std::to_string(data.size()) + " samples into " +
                     std::to_string(num_parts) + " non-empty parts");
  }
  std::vector<uint32_t> shuffled = data.indices();
  std::mt19937_64 rng(seed);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);

  // The first (size % num_parts) parts take one sample more than the others.
  const int64_t base = data.size() / num_parts;
  const int64_t extra = data.size() % num_parts;
  std::vector<DatasetView> parts;
  parts.reserve(num_parts);
  auto begin = shuffled.begin();
  for (int p = 0; p < num_parts; ++p) {
    const int64_t n = base + (p < extra ? 1 : 0);
    parts.emplace_back(data.storage_ptr(), std::vector<uint32_t>(begin, begin + n));
    begin += n;
  }
  return parts;
}

}  // namespace swarm::ml
