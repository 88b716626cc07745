#pragma once
// Splitting a dataset among nodes. Every partitioner is seeded and returns views into the
// same storage (no sample is copied).

#include <cstdint>
#include <vector>

#include "engine/ml/dataset.hpp"

namespace swarm::ml {

// IID: a seeded shuffle cut into `num_parts` parts whose sizes differ by at most one.
// REQUIRES: num_parts >= 1. Throws UsageError if num_parts > data.size().
std::vector<DatasetView> partition_iid(const DatasetView& data, int num_parts, uint64_t seed);

}  // namespace swarm::ml
