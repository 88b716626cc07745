#pragma once
// A seeded synthetic classification dataset for fast tests: one Gaussian cluster per class
// around a random centre. Same seed, same bytes.

#include <cstdint>
#include <memory>

#include "swarm/ml/dataset.hpp"
#include "swarm/ml/idx.hpp"

namespace swarm::ml {

struct SyntheticOptions {
  int64_t num_samples = 2000;
  int num_features = 20;
  int num_classes = 4;
  float class_separation = 2.0f;  // distance scale of the class centres
  float noise = 1.0f;             // standard deviation around a centre
  uint64_t seed = 1;
};

std::shared_ptr<const DatasetStorage> make_synthetic(const SyntheticOptions& options);

// Splits `all` into a training and a test set, stratified: of each class's samples, in
// order, the 1st, (every+1)-th, (2 every+1)-th... go to the test set, so every class is in
// it in proportion (a class of n samples gives ceil(n / every) test samples). Each set is a
// storage of its own. Throws UsageError if every < 2.
TrainTest hold_out(const DatasetStorage& all, int every);

// The shapes hold_out(*make_synthetic(options), every) gives, without making the data (classes
// take turns in make_synthetic, so class c has num_samples / num_classes samples, one more when
// c < num_samples % num_classes). Throws UsageError as they would.
TrainTestShape hold_out_shape(const SyntheticOptions& options, int every);

}  // namespace swarm::ml
