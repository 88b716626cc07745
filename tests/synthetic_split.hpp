#pragma once
// Data for the FL tests of tests/fl and tests/sim: a seeded synthetic dataset of 16 features
// and 4 classes, one sample in `every` held out for testing (views of one storage).

#include <cstdint>
#include <vector>

#include "swarm/ml/synthetic.hpp"

namespace swarm::testing {

struct SyntheticSplit {
  ml::DatasetView train, test;
};

inline SyntheticSplit synthetic_split(int64_t samples, uint32_t every, uint64_t seed) {
  ml::SyntheticOptions so;
  so.num_samples = samples;
  so.num_features = 16;
  so.num_classes = 4;
  so.seed = seed;
  auto data = ml::make_synthetic(so);
  std::vector<uint32_t> train, test;
  for (uint32_t i = 0; i < data->size(); ++i) (i % every == 0 ? test : train).push_back(i);
  return {ml::DatasetView(data, std::move(train)), ml::DatasetView(data, std::move(test))};
}

}  // namespace swarm::testing
