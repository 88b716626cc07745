#include "swarm/ml/synthetic.hpp"

#include <cmath>
#include <numbers>
#include <random>
#include <string>

#include "swarm/error.hpp"

namespace swarm::ml {
namespace {

// Standard normal draws by Box-Muller from the raw 64-bit output of mt19937_64, which the
// standard fixes exactly; std::normal_distribution differs between standard libraries.
class NormalSource {
 public:
  explicit NormalSource(uint64_t seed) : rng_(seed) {}

  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(rng_() >> 11) + 0.5) * 0x1p-53;  // in (0, 1)
    const double u2 = static_cast<double>(rng_() >> 11) * 0x1p-53;          // in [0, 1)
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

 private:
  std::mt19937_64 rng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace

std::shared_ptr<const DatasetStorage> make_synthetic(const SyntheticOptions& options) {
  if (options.num_samples < 1 || options.num_samples > int64_t{1} << 32) {
    throw UsageError("synthetic dataset: num_samples must be in [1, 2^32], got " +
                     std::to_string(options.num_samples));
  }
  if (options.num_features < 1) {
    throw UsageError("synthetic dataset: num_features must be >= 1, got " +
                     std::to_string(options.num_features));
  }
  if (options.num_classes < 1 || options.num_classes > 256) {
    throw UsageError("synthetic dataset: num_classes must be in [1, 256], got " +
                     std::to_string(options.num_classes));
  }
  NormalSource normal(options.seed);
  const int nf = options.num_features;
  const int nc = options.num_classes;

  // Centre of class c: column c, each coordinate N(0, class_separation^2).
  Matrix centres(nf, nc);
  for (int c = 0; c < nc; ++c) {
    for (int f = 0; f < nf; ++f) {
      centres(f, c) = static_cast<float>(options.class_separation * normal.next());
    }
  }

  auto storage = std::make_shared<DatasetStorage>();
  storage->features.resize(nf, options.num_samples);
  storage->labels.resize(static_cast<size_t>(options.num_samples));
  storage->num_classes = nc;
  storage->name = "synthetic(seed=" + std::to_string(options.seed) + ")";
  // Classes take turns, so every class has num_samples / num_classes samples (+1).
  for (int64_t i = 0; i < options.num_samples; ++i) {
    const int c = static_cast<int>(i % nc);
    storage->labels[i] = static_cast<uint8_t>(c);
    for (int f = 0; f < nf; ++f) {
      storage->features(f, i) = centres(f, c) + static_cast<float>(options.noise * normal.next());
    }
  }
  return storage;
}

TrainTest hold_out(const DatasetStorage& all, int every) {
  if (every < 2) throw UsageError("hold_out: every must be >= 2, got " + std::to_string(every));
  std::vector<int64_t> seen(static_cast<size_t>(all.num_classes), 0);
  std::vector<uint32_t> train, test;
  for (uint32_t i = 0; i < all.labels.size(); ++i) {
    if (all.labels[i] >= all.num_classes) throw UsageError("hold_out: a label is out of range");
    (seen[all.labels[i]]++ % every == 0 ? test : train).push_back(i);
  }
  auto copy = [&all](const std::vector<uint32_t>& idx, const std::string& name) {
    auto st = std::make_shared<DatasetStorage>();
    st->features.resize(all.features.rows(), static_cast<Eigen::Index>(idx.size()));
    st->labels.resize(idx.size());
    for (size_t j = 0; j < idx.size(); ++j) {
      st->features.col(static_cast<Eigen::Index>(j)) = all.features.col(idx[j]);
      st->labels[j] = all.labels[idx[j]];
    }
    st->num_classes = all.num_classes;
    st->name = name;
    return std::shared_ptr<const DatasetStorage>(st);
  };
  const std::string base = all.name.substr(0, all.name.find('('));
  return {copy(train, base + "/train"), copy(test, base + "/test")};
}

TrainTestShape hold_out_shape(const SyntheticOptions& options, int every) {
  if (every < 2) throw UsageError("hold_out: every must be >= 2, got " + std::to_string(every));
  if (options.num_samples < 1 || options.num_classes < 1 || options.num_features < 1) {
    throw UsageError("synthetic dataset: num_samples, num_features and num_classes must be >= 1");
  }
  const int64_t n = options.num_samples, c = options.num_classes;
  int64_t test = 0;
  for (int64_t k = 0; k < c; ++k) {
    const int64_t count = n / c + (k < n % c ? 1 : 0);
    test += (count + every - 1) / every;
  }
  return {DataShape{n - test, options.num_features, options.num_classes},
          DataShape{test, options.num_features, options.num_classes}};
}

}  // namespace swarm::ml
