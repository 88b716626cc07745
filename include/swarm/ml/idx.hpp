#pragma once
// Reader and writer of the IDX format of MNIST and Fashion-MNIST (big-endian header:
// two zero bytes, a type byte 0x08 for unsigned bytes, the number of dimensions, then one
// 32-bit size per dimension, then the data). Files may be gzip-compressed or plain.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "swarm/ml/dataset.hpp"

namespace swarm::ml {

struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;  // product(dims) bytes
};

// Throws DataError naming the file on: a missing or unreadable file, a wrong magic, a type
// other than unsigned byte, a truncated payload, or trailing bytes.
IdxArray read_idx(const std::filesystem::path& path);
// The dimensions of an IDX file, from its header alone (same errors as read_idx's header).
std::vector<uint32_t> read_idx_dims(const std::filesystem::path& path);

// Writes `array` as IDX; gzip-compressed when the path ends in ".gz". Throws DataError.
void write_idx(const std::filesystem::path& path, const IdxArray& array);

// Loads an image file (3 dims: count x rows x cols) and a label file (1 dim: count) into one
// storage, scaling pixels to [0, 1]. Throws DataError when the counts differ or a label is
// >= num_classes.
std::shared_ptr<const DatasetStorage> load_idx_dataset(const std::filesystem::path& images,
                                                       const std::filesystem::path& labels,
                                                       int num_classes = 10);

// Fashion-MNIST as shipped by Debian's package dataset-fashion-mnist.
inline const std::filesystem::path kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct TrainTest {
  std::shared_ptr<const DatasetStorage> train;
  std::shared_ptr<const DatasetStorage> test;
};

// Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from `dir`.
TrainTest load_fashion_mnist(const std::filesystem::path& dir = kFashionMnistDir);
// The shapes of the same sets, from the files' headers alone (nothing else is read).
TrainTestShape fashion_mnist_shape(const std::filesystem::path& dir = kFashionMnistDir);

}  // namespace swarm::ml
