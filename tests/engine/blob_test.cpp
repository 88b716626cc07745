#include "swarm/blob.hpp"

#include <catch2/catch.hpp>
#include <cstring>

#include "swarm/error.hpp"

using namespace swarm;

TEST_CASE("tensor blob round trip keeps shape and values", "[blob]") {
  const std::vector<uint64_t> shape = {2, 3};
  const std::vector<float> values = {1, -2, 3.5f, 0, 1e-7f, 6};
  Blob b = tensor_blob(shape, values);
  // Header: 4 magic + 4 rank + 2 x 8 dims = 24, padded to 32; then 6 floats.
  CHECK(b.size() == 32 + 6 * 4);
  Tensor t = to_tensor(b);
  CHECK(t.shape == shape);
  CHECK(t.values == values);
  auto view = tensor_values(b);
  REQUIRE(view.size() == 6);
  CHECK(reinterpret_cast<uintptr_t>(view.data()) % 16 == 0);
  CHECK(std::vector<float>(view.begin(), view.end()) == values);
}

TEST_CASE("rank-1 and empty tensors", "[blob]") {
  std::vector<float> v = {4, 5};
  CHECK(to_tensor(tensor_blob(v)).shape == std::vector<uint64_t>{2});
  Tensor empty = to_tensor(tensor_blob(std::span<const float>{}));
  CHECK(empty.shape == std::vector<uint64_t>{0});
  CHECK(empty.values.empty());
}

// Issue 9 item 16: tensor_blob and to_tensor called memcpy(nullptr, ..., 0) for empty tensors
// (undefined behaviour, reported by UBSan). blob_ubsan_tests runs this file under
// -fsanitize=undefined without recovery, where that fails.
TEST_CASE("empty tensors build and round-trip without memcpy of a null pointer", "[blob]") {
  // Rank 0 (no dimension) with one value: the shape span is empty.
  const std::vector<float> one = {2.5f};
  Tensor scalar = to_tensor(tensor_blob(std::span<const uint64_t>{}, one));
  CHECK(scalar.shape.empty());
  CHECK(scalar.values == one);
  // A 0 x 3 tensor: no values, from a default (null) span.
  const std::vector<uint64_t> shape = {0, 3};
  Blob empty = tensor_blob(shape, std::span<const float>{});
  CHECK(empty.size() == 32);  // header only: 4 + 4 + 2 x 8 = 24, padded to 32
  Tensor t = to_tensor(empty);
  CHECK(t.shape == shape);
  CHECK(t.values.empty());
  CHECK(tensor_values(empty).empty());
  CHECK(to_dict(dict_blob(Dict::object())) == Dict::object());
}

TEST_CASE("corrupt tensor blobs are rejected with FormatError", "[blob]") {
  std::vector<float> v = {1, 2, 3};
  Blob good = tensor_blob(v);
  auto bytes = std::vector<std::byte>(good.bytes().begin(), good.bytes().end());

  SECTION("wrong magic") {
    bytes[0] = std::byte{'X'};
    CHECK_THROWS_WITH(to_tensor(Blob(bytes)), Catch::Contains("magic"));
  }
  SECTION("truncated values") {
    bytes.pop_back();
    CHECK_THROWS_AS(to_tensor(Blob(bytes)), FormatError);
    CHECK_THROWS_AS(tensor_values(Blob(bytes)), FormatError);
  }
  SECTION("trailing bytes") {
    bytes.push_back(std::byte{0});
    CHECK_THROWS_WITH(to_tensor(Blob(bytes)), Catch::Contains("bytes of values"));
  }
  SECTION("absurd rank") {
    uint32_t rank = 1000;
    std::memcpy(bytes.data() + 4, &rank, 4);
    CHECK_THROWS_WITH(to_tensor(Blob(bytes)), Catch::Contains("rank"));
  }
  SECTION("huge dims do not overflow into a small allocation") {
    uint64_t dim = ~0ULL / 2;
    std::memcpy(bytes.data() + 8, &dim, 8);
    CHECK_THROWS_AS(to_tensor(Blob(bytes)), FormatError);
  }
  SECTION("empty blob") { CHECK_THROWS_AS(to_tensor(Blob()), FormatError); }
}

TEST_CASE("dict blobs are MessagePack", "[blob]") {
  Dict d = {{"epochs", 1}, {"lr", 0.01}, {"name", "fl"}, {"layers", {784, 10}}};
  Blob b = dict_blob(d);
  CHECK(to_dict(b) == d);
  // A MessagePack map of 4 entries starts with the fixmap byte 0x84.
  CHECK(b.bytes()[0] == std::byte{0x84});
  std::vector<std::byte> junk = {std::byte{0xc1}};  // 0xc1 is never used in MessagePack
  CHECK_THROWS_AS(to_dict(Blob(junk)), FormatError);
}

TEST_CASE("blobs compare by content and share their bytes when copied", "[blob]") {
  std::vector<float> v = {1, 2};
  Blob a = tensor_blob(v), b = tensor_blob(v);
  CHECK(a == b);
  Blob c = a;
  CHECK(c.bytes().data() == a.bytes().data());
  std::vector<float> w = {1, 3};
  CHECK_FALSE(a == tensor_blob(w));
}

TEST_CASE("object_entry reads an absent or null entry as the empty object", "[blob]") {
  // Issue 10: {"loss_params", {}} in a Dict initializer is null, not {}.
  const Dict d = Dict{{"null", {}}, {"object", {{"lr", 0.1}}}, {"number", 3}};
  CHECK(d["null"].is_null());
  CHECK(object_entry(d, "null") == Dict::object());
  CHECK(object_entry(d, "absent") == Dict::object());
  CHECK(object_entry(d, "object") == Dict{{"lr", 0.1}});
  REQUIRE_THROWS_AS(object_entry(d, "number"), FormatError);
  REQUIRE_THROWS_WITH(object_entry(d, "number"), Catch::Matchers::Contains("entry 'number' must be a dict"));
  REQUIRE_THROWS_AS(object_entry(Dict::array(), "x"), FormatError);
}
