#pragma once
// Blob: the unit of data that tasks exchange (globals, results, and later network
// messages). Immutable bytes behind a shared pointer, so copying a Blob is cheap and a
// model held by many readers exists once.
//
// Two typed encodings, both documented in docs/formats.md:
//  - a float tensor: magic "SWT1", u32 rank, rank x u64 dims, zero padding to a 16-byte
//    boundary, then the float32 values, little-endian;
//  - a dict: MessagePack (as Manta's dict_to_bytes), read and written with nlohmann-json.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swarm {

static_assert(std::endian::native == std::endian::little,
              "tensor blobs are little-endian and read in place");

using Dict = nlohmann::json;

class Blob {
 public:
  Blob() = default;
  explicit Blob(std::vector<std::byte> bytes);

  std::span<const std::byte> bytes() const;
  size_t size() const { return bytes_ ? bytes_->size() : 0; }
  bool empty() const { return size() == 0; }

 private:
  std::shared_ptr<const std::vector<std::byte>> bytes_;
};

bool operator==(const Blob& a, const Blob& b);

// A float tensor: shape and row-major values.
struct Tensor {
  std::vector<uint64_t> shape;
  std::vector<float> values;
};

// Encodes a tensor of the given shape. REQUIRES: product(shape) == values.size().
Blob tensor_blob(std::span<const uint64_t> shape, std::span<const float> values);
// A rank-1 tensor.
Blob tensor_blob(std::span<const float> values);

// Decodes; throws FormatError when the bytes are not a well-formed tensor.
Tensor to_tensor(const Blob& blob);
// The values of a tensor blob read in place, without copy (valid while the blob lives).
// Throws FormatError like to_tensor.
std::span<const float> tensor_values(const Blob& blob);

// Beware: `{}` inside a Dict initializer is null, not an empty object (nlohmann-json's rule):
// Dict{{"loss_params", {}}} holds "loss_params": null. The places that store or read a dict as
// an object take null as the empty object (Swarm::set_global, TaskContext's set, add and
// get_dict, object_entry); write Dict::object() for an explicit empty object elsewhere.
Blob dict_blob(const Dict& dict);
// Throws FormatError when the bytes are not MessagePack.
Dict to_dict(const Blob& blob);

// dict[key] as an object: the empty object when the key is absent or null. Throws FormatError
// naming the key when the entry is of another type (or `dict` is not an object).
Dict object_entry(const Dict& dict, const std::string& key);

}  // namespace swarm
