#include "engine/ml/partition.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

#include "engine/error.hpp"
#include "engine/ml/synthetic.hpp"

namespace swarm::ml {
namespace {

DatasetView synthetic_view(int64_t n) {
  SyntheticOptions options;
  options.num_samples = n;
  options.num_features = 3;
  return DatasetView(make_synthetic(options));
}

TEST_CASE("IID parts differ in size by at most one, are disjoint and cover the data",
          "[ml][partition]") {
  DatasetView data = synthetic_view(103);
  auto parts = partition_iid(data, 7, 5);
  REQUIRE(parts.size() == 7);
  // 103 = 7 * 14 + 5: five parts of 15, two of 14.
  std::vector<uint32_t> all;
  for (size_t p = 0; p < parts.size(); ++p) {
    REQUIRE(parts[p].size() == (p < 5 ? 15 : 14));
    REQUIRE(&parts[p].storage() == &data.storage());  // no copy of the samples
    all.insert(all.end(), parts[p].indices().begin(), parts[p].indices().end());
  }
  std::sort(all.begin(), all.end());
  REQUIRE(all == data.indices());  // disjoint and covering: a permutation of the whole
}

TEST_CASE("IID partitioning is seeded", "[ml][partition]") {
  DatasetView data = synthetic_view(50);
  auto a = partition_iid(data, 3, 9);
  auto b = partition_iid(data, 3, 9);
  auto c = partition_iid(data, 3, 10);
  for (int p = 0; p < 3; ++p) REQUIRE(a[p].indices() == b[p].indices());
  REQUIRE(a[0].indices() != c[0].indices());
}

TEST_CASE("IID partitioning of a view stays inside the view", "[ml][partition]") {
  DatasetView all = synthetic_view(20);
  DatasetView odd(all.storage_ptr(), {1, 3, 5, 7, 9, 11});
  auto parts = partition_iid(odd, 4, 1);
  std::vector<uint32_t> seen;
  for (const auto& part : parts) {
    REQUIRE((part.size() == 1 || part.size() == 2));
    seen.insert(seen.end(), part.indices().begin(), part.indices().end());
  }
  std::sort(seen.begin(), seen.end());
  REQUIRE(seen == odd.indices());
}

TEST_CASE("IID partitioning into more parts than samples is a usage error", "[ml][partition]") {
  DatasetView data = synthetic_view(4);
  REQUIRE_THROWS_AS(partition_iid(data, 5, 1), UsageError);
  REQUIRE(partition_iid(data, 4, 1).size() == 4);
}

}  // namespace
}  // namespace swarm::ml
