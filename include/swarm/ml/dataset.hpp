#pragma once
// Labelled datasets held once in memory and shared by views: a node's data is a view
// (a list of sample indices) into one shared copy, never a copy of its own.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "swarm/ml/eigen.hpp"

namespace swarm::ml {

// Column-major feature matrix: one sample per column, so a sample is contiguous.
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Vector = Eigen::VectorXf;

// The samples themselves. Immutable once built; shared read-only across threads.
struct DatasetStorage {
  Matrix features;              // num_features x num_samples, values in [0, 1] for images
  std::vector<uint8_t> labels;  // num_samples entries, each < num_classes
  int num_classes = 0;
  std::string name;             // for messages, e.g. "fashion-mnist/train"

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int num_features() const { return static_cast<int>(features.rows()); }
};

// The size of a node's dataset without its samples: what nodes hold in a timing-only run
// (training.mode: timing). The FL modules compute from it the FLOPs and message sizes a real
// run would have, and train and evaluate nothing.
struct DataShape {
  int64_t samples = 0;
  int features = 0;
  int classes = 0;
};

struct TrainTestShape {
  DataShape train, test;
};

// A subset of a DatasetStorage. Cheap to copy: it holds a shared pointer and indices.
class DatasetView {
 public:
  DatasetView() = default;
  // The whole dataset.
  explicit DatasetView(std::shared_ptr<const DatasetStorage> storage);
  // REQUIRES: every index < storage->size().
  DatasetView(std::shared_ptr<const DatasetStorage> storage, std::vector<uint32_t> indices);

  int64_t size() const { return static_cast<int64_t>(indices_.size()); }
  bool empty() const { return indices_.empty(); }
  int num_features() const { return storage_ ? storage_->num_features() : 0; }
  int num_classes() const { return storage_ ? storage_->num_classes : 0; }
  const DatasetStorage& storage() const { return *storage_; }
  // The shared storage itself, for building further views of it (null for an empty view).
  const std::shared_ptr<const DatasetStorage>& storage_ptr() const { return storage_; }
  const std::vector<uint32_t>& indices() const { return indices_; }

  // The i-th sample of the view (0 <= i < size()).
  auto features(int64_t i) const { return storage_->features.col(indices_[i]); }
  uint8_t label(int64_t i) const { return storage_->labels[indices_[i]]; }

  // Copies the samples order[begin..end) of this view into the columns of `x` (resized to
  // num_features x (end-begin)) and their labels into `y`. `order` holds positions in the view.
  void gather(std::span<const uint32_t> order, int64_t begin, int64_t end, Matrix& x,
              std::vector<uint8_t>& y) const;

 private:
  std::shared_ptr<const DatasetStorage> storage_;
  std::vector<uint32_t> indices_;
};

}  // namespace swarm::ml
