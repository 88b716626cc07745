#pragma once
// What the simulated-round benchmarks (sim_round_bench, scale_bench) share: the reference
// dataset and a heap measurement.

#include <malloc.h>

#include <cstddef>
#include <filesystem>

#include "swarm/ml/idx.hpp"
#include "swarm/ml/synthetic.hpp"

namespace swarm::bench {

// Fashion-MNIST when installed, else synthetic data of its shape (70,000 samples of 784
// features, 10 classes), loaded once.
inline const ml::TrainTest& reference_data() {
  static const ml::TrainTest tt = [] {
    if (std::filesystem::exists(ml::kFashionMnistDir / "train-images-idx3-ubyte.gz")) return ml::load_fashion_mnist();
    ml::SyntheticOptions s;
    s.num_samples = 70000;
    s.num_features = 784;
    s.num_classes = 10;
    auto all = ml::make_synthetic(s);
    return ml::TrainTest{all, all};
  }();
  return tt;
}

// Heap bytes in use (glibc's allocator: small blocks plus mmapped ones). Unlike the resident
// set, it drops when memory is freed, so a measurement does not depend on what ran before.
inline size_t heap_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

}  // namespace swarm::bench
