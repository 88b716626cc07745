#include "swarm/blob.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "swarm/error.hpp"

namespace swarm {
namespace {

constexpr char kTensorMagic[4] = {'S', 'W', 'T', '1'};
constexpr uint32_t kMaxRank = 16;

// memcpy that accepts an empty range: an empty span or vector may hold a null pointer, and
// memcpy(nullptr, ..., 0) is undefined behaviour.
void copy_bytes(void* to, const void* from, size_t size) {
  if (size > 0) std::memcpy(to, from, size);
}

size_t data_offset(size_t rank) {
  size_t header = sizeof(kTensorMagic) + sizeof(uint32_t) + rank * sizeof(uint64_t);
  return (header + 15) / 16 * 16;
}

struct TensorHeader {
  std::vector<uint64_t> shape;
  size_t offset = 0;
  size_t count = 0;
};

TensorHeader parse_header(std::span<const std::byte> b) {
  auto fail = [](const std::string& what) -> FormatError {
    return FormatError("tensor blob: " + what);
  };
  if (b.size() < 8 || std::memcmp(b.data(), kTensorMagic, 4) != 0) {
    throw fail("missing magic 'SWT1' (not a tensor)");
  }
  uint32_t rank;
  std::memcpy(&rank, b.data() + 4, 4);
  if (rank > kMaxRank) throw fail("rank " + std::to_string(rank) + " exceeds 16");
  TensorHeader h;
  h.offset = data_offset(rank);
  if (b.size() < h.offset) throw fail("truncated header");
  h.shape.resize(rank);
  copy_bytes(h.shape.data(), b.data() + 8, rank * sizeof(uint64_t));
  const size_t payload = b.size() - h.offset;
  uint64_t count = 1;
  for (uint64_t d : h.shape) {
    if (__builtin_mul_overflow(count, d, &count) || count > payload) {
      throw fail("shape needs more bytes of values than the blob's " + std::to_string(payload));
    }
  }
  if (count * sizeof(float) != payload) {
    throw fail("shape needs " + std::to_string(count * sizeof(float)) +
               " bytes of values, blob has " + std::to_string(payload));
  }
  h.count = static_cast<size_t>(count);
  return h;
}

}  // namespace

Blob::Blob(std::vector<std::byte> bytes)
    : bytes_(std::make_shared<const std::vector<std::byte>>(std::move(bytes))) {}

std::span<const std::byte> Blob::bytes() const {
  if (!bytes_) return {};
  return {bytes_->data(), bytes_->size()};
}

bool operator==(const Blob& a, const Blob& b) {
  auto x = a.bytes(), y = b.bytes();
  return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

Blob tensor_blob(std::span<const uint64_t> shape, std::span<const float> values) {
  size_t offset = data_offset(shape.size());
  std::vector<std::byte> bytes(offset + values.size_bytes());
  std::memcpy(bytes.data(), kTensorMagic, 4);
  uint32_t rank = static_cast<uint32_t>(shape.size());
  std::memcpy(bytes.data() + 4, &rank, 4);
  copy_bytes(bytes.data() + 8, shape.data(), shape.size_bytes());
  copy_bytes(bytes.data() + offset, values.data(), values.size_bytes());
  return Blob(std::move(bytes));
}

Blob tensor_blob(std::span<const float> values) {
  const uint64_t shape[1] = {values.size()};
  return tensor_blob(shape, values);
}

Tensor to_tensor(const Blob& blob) {
  TensorHeader h = parse_header(blob.bytes());
  Tensor t;
  t.shape = std::move(h.shape);
  t.values.resize(h.count);
  copy_bytes(t.values.data(), blob.bytes().data() + h.offset, h.count * sizeof(float));
  return t;
}

std::span<const float> tensor_values(const Blob& blob) {
  TensorHeader h = parse_header(blob.bytes());
  // The byte vector is allocated by operator new (16-byte aligned) and the data offset is a
  // multiple of 16, so the floats are aligned.
  return {reinterpret_cast<const float*>(blob.bytes().data() + h.offset), h.count};
}

Blob dict_blob(const Dict& dict) {
  std::vector<uint8_t> packed = Dict::to_msgpack(dict);
  std::vector<std::byte> bytes(packed.size());
  copy_bytes(bytes.data(), packed.data(), packed.size());
  return Blob(std::move(bytes));
}

Dict to_dict(const Blob& blob) {
  auto b = blob.bytes();
  try {
    return Dict::from_msgpack(reinterpret_cast<const uint8_t*>(b.data()),
                              reinterpret_cast<const uint8_t*>(b.data()) + b.size());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("dict blob: not MessagePack: ") + e.what());
  }
}

Dict object_entry(const Dict& dict, const std::string& key) {
  if (!dict.is_object()) throw FormatError("expected a dict (an object) holding '" + key + "', got " + dict.dump());
  auto it = dict.find(key);
  if (it == dict.end() || it->is_null()) return Dict::object();
  if (!it->is_object()) throw FormatError("entry '" + key + "' must be a dict (an object), got " + it->dump());
  return *it;
}

}  // namespace swarm
