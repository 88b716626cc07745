#include "swarm/ml/dataset.hpp"

#include <cassert>
#include <numeric>
#include <utility>

namespace swarm::ml {

DatasetView::DatasetView(std::shared_ptr<const DatasetStorage> storage)
    : storage_(std::move(storage)) {
  indices_.resize(static_cast<size_t>(storage_->size()));
  std::iota(indices_.begin(), indices_.end(), 0u);
}

DatasetView::DatasetView(std::shared_ptr<const DatasetStorage> storage,
                         std::vector<uint32_t> indices)
    : storage_(std::move(storage)), indices_(std::move(indices)) {
#ifndef NDEBUG
  for (uint32_t i : indices_) assert(i < storage_->size());
#endif
}

void DatasetView::gather(std::span<const uint32_t> order, int64_t begin, int64_t end, Matrix& x,
                         std::vector<uint8_t>& y) const {
  assert(0 <= begin && begin <= end && end <= static_cast<int64_t>(order.size()));
  const int64_t n = end - begin;
  // Eigen's resize keeps the buffer when the size does not change, so a caller reusing `x`
  // for batches of one size does not allocate.
  x.resize(storage_->features.rows(), n);
  y.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    const uint32_t sample = indices_[order[begin + j]];
    x.col(j) = storage_->features.col(sample);
    y[j] = storage_->labels[sample];
  }
}

}  // namespace swarm::ml
