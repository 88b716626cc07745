#include "swarm/ml/partition.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <numeric>

#include "swarm/error.hpp"
#include "swarm/ml/synthetic.hpp"

namespace swarm::ml {
namespace {

DatasetView synthetic_view(int64_t n, int num_classes = 4) {
  SyntheticOptions options;
  options.num_samples = n;
  options.num_features = 3;
  options.num_classes = num_classes;
  return DatasetView(make_synthetic(options));
}

// A storage with the given labels and one feature (the sample's position).
DatasetView labelled(std::vector<uint8_t> labels, int num_classes) {
  auto storage = std::make_shared<DatasetStorage>();
  storage->features.resize(1, static_cast<Eigen::Index>(labels.size()));
  for (size_t i = 0; i < labels.size(); ++i) storage->features(0, i) = static_cast<float>(i);
  storage->labels = std::move(labels);
  storage->num_classes = num_classes;
  storage->name = "hand-made";
  return DatasetView(std::move(storage));
}

// Every part views data's storage and together they hold each sample of data exactly once.
void require_exact_cover(const DatasetView& data, const std::vector<DatasetView>& parts) {
  std::vector<uint32_t> all;
  for (const auto& part : parts) {
    REQUIRE(&part.storage() == &data.storage());  // no copy of the samples
    all.insert(all.end(), part.indices().begin(), part.indices().end());
  }
  std::sort(all.begin(), all.end());
  std::vector<uint32_t> expected = data.indices();
  std::sort(expected.begin(), expected.end());
  REQUIRE(all == expected);  // disjoint and covering: a permutation of the whole
}

bool same_parts(const std::vector<DatasetView>& a, const std::vector<DatasetView>& b) {
  if (a.size() != b.size()) return false;
  for (size_t p = 0; p < a.size(); ++p) {
    if (a[p].indices() != b[p].indices()) return false;
  }
  return true;
}

double mean_classes(const std::vector<DatasetView>& parts, int num_classes) {
  PartitionSummary s = summarize(parts, num_classes);
  return std::accumulate(s.classes.begin(), s.classes.end(), 0.0) / static_cast<double>(parts.size());
}

double max_min_ratio(const std::vector<DatasetView>& parts) {
  auto [lo, hi] = std::minmax_element(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
    return a.size() < b.size();
  });
  return static_cast<double>(hi->size()) / static_cast<double>(lo->size());
}

using Partitioner = std::function<std::vector<DatasetView>(const DatasetView&, uint64_t)>;

// The properties every partitioner shares: exact cover, and the seed decides the parts.
void require_partitioner_basics(const Partitioner& partition, const DatasetView& data) {
  auto a = partition(data, 7);
  require_exact_cover(data, a);
  REQUIRE(same_parts(a, partition(data, 7)));
  REQUIRE_FALSE(same_parts(a, partition(data, 8)));
}

TEST_CASE("IID parts differ in size by at most one, are disjoint and cover the data",
          "[ml][partition]") {
  DatasetView data = synthetic_view(103);
  auto parts = partition_iid(data, 7, 5);
  REQUIRE(parts.size() == 7);
  // 103 = 7 * 14 + 5: five parts of 15, two of 14.
  for (size_t p = 0; p < parts.size(); ++p) REQUIRE(parts[p].size() == (p < 5 ? 15 : 14));
  require_exact_cover(data, parts);
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
  for (const auto& part : parts) REQUIRE((part.size() == 1 || part.size() == 2));
  require_exact_cover(odd, parts);
}

TEST_CASE("IID partitioning into more parts than samples is a usage error", "[ml][partition]") {
  DatasetView data = synthetic_view(4);
  REQUIRE_THROWS_AS(partition_iid(data, 5, 1), UsageError);
  REQUIRE_THROWS_AS(partition_iid(data, 0, 1), UsageError);
  REQUIRE(partition_iid(data, 4, 1).size() == 4);
}

TEST_CASE("Dirichlet parts cover the data exactly once and are seeded", "[ml][partition]") {
  DatasetView data = synthetic_view(1000, 10);
  for (double alpha : {0.1, 1.0, 100.0}) {
    CAPTURE(alpha);
    require_partitioner_basics(
        [alpha](const DatasetView& d, uint64_t seed) { return partition_dirichlet(d, 12, alpha, seed); },
        data);
  }
  // A view that is a subset of its storage: only its samples are handed out.
  DatasetView all = synthetic_view(400, 10);
  std::vector<uint32_t> even(200);
  for (uint32_t i = 0; i < 200; ++i) even[i] = 2 * i;
  DatasetView subset(all.storage_ptr(), even);
  require_exact_cover(subset, partition_dirichlet(subset, 5, 0.5, 3));
}

TEST_CASE("Dirichlet alpha sets the label skew", "[ml][partition]") {
  // 10 balanced classes of 1,000 samples over 20 nodes. With alpha = 100 each class's
  // proportions are all close to 1/20 (50 samples per node and class, std ~0.1 * 50), so every
  // node sees all 10 classes. With alpha = 0.1 the marginal share of a node in a class is
  // Beta(0.1, 1.9), below 1/2000 (i.e. no sample) with probability ~0.5, so a node sees about
  // 5 classes on average; well below 8 across seeds.
  DatasetView data = synthetic_view(10000, 10);
  const double skewed = mean_classes(partition_dirichlet(data, 20, 0.1, 1), 10);
  const double near_iid = mean_classes(partition_dirichlet(data, 20, 100.0, 1), 10);
  CHECK(near_iid == Approx(10.0));
  CHECK(skewed < 8.0);
  CHECK(skewed + 2.0 < near_iid);
}

TEST_CASE("Dirichlet min_samples is honoured or reported", "[ml][partition]") {
  DatasetView data = synthetic_view(1000, 10);
  auto parts = partition_dirichlet(data, 10, 0.1, 4, 20);
  require_exact_cover(data, parts);
  for (const auto& part : parts) REQUIRE(part.size() >= 20);
  // 10 parts of at least 101 samples need 1010 > 1000: impossible before any draw.
  REQUIRE_THROWS_AS(partition_dirichlet(data, 10, 0.1, 4, 101), UsageError);
  // Possible in principle (10 * 100 = 1000) but only with exactly equal parts, which
  // alpha = 0.01 does not draw within the attempt bound.
  REQUIRE_THROWS_AS(partition_dirichlet(data, 10, 0.01, 4, 100), UsageError);
}

TEST_CASE("Dirichlet rejects bad parameters", "[ml][partition]") {
  DatasetView data = synthetic_view(100, 10);
  REQUIRE_THROWS_AS(partition_dirichlet(data, 0, 1.0, 1), UsageError);
  REQUIRE_THROWS_AS(partition_dirichlet(data, 101, 1.0, 1, 0), UsageError);
  REQUIRE_THROWS_AS(partition_dirichlet(data, 5, 0.0, 1), UsageError);
  REQUIRE_THROWS_AS(partition_dirichlet(data, 5, -1.0, 1), UsageError);
  REQUIRE_THROWS_AS(partition_dirichlet(data, 5, 1.0, 1, -1), UsageError);
  REQUIRE_THROWS_WITH(partition_dirichlet(data, 5, 0.0, 1), Catch::Contains("alpha"));
  REQUIRE_THROWS_WITH(partition_dirichlet(data, 0, 1.0, 1), Catch::Contains("num_parts"));
  REQUIRE_THROWS_WITH(partition_dirichlet(data, 5, 1.0, 1, -1), Catch::Contains("min_samples"));
}

TEST_CASE("Shards cover the data exactly once and are seeded", "[ml][partition]") {
  require_partitioner_basics(
      [](const DatasetView& d, uint64_t seed) { return partition_shards(d, 10, 2, seed); },
      synthetic_view(1003, 10));
}

TEST_CASE("Shards of label-sorted data give each part at most shards_per_part classes",
          "[ml][partition]") {
  // 10 classes of 200 samples; 50 parts * 2 shards = 100 shards of 2000 / 100 = 20 samples.
  // 200 is a multiple of 20, so every shard lies inside one class: <= 2 classes per part.
  DatasetView data = synthetic_view(2000, 10);
  auto parts = partition_shards(data, 50, 2, 7);
  require_exact_cover(data, parts);
  PartitionSummary s = summarize(parts, 10);
  for (size_t p = 0; p < parts.size(); ++p) {
    CAPTURE(p);
    REQUIRE(s.samples[p] == 40);
    REQUIRE(s.classes[p] >= 1);
    REQUIRE(s.classes[p] <= 2);
  }
  // Some parts draw two shards of one class, most draw two classes: the mean lies between.
  const double mean = mean_classes(parts, 10);
  CHECK(mean > 1.0);
  CHECK(mean <= 2.0);
}

TEST_CASE("Shards straddling a label boundary give at most twice shards_per_part classes",
          "[ml][partition]") {
  // 1003 samples of 10 classes (100 or 101 each) into 20 * 3 = 60 shards of 16 or 17: a shard
  // is smaller than any class, so it straddles at most one boundary and holds <= 2 classes.
  DatasetView data = synthetic_view(1003, 10);
  auto parts = partition_shards(data, 20, 3, 2);
  require_exact_cover(data, parts);
  PartitionSummary s = summarize(parts, 10);
  for (int classes : s.classes) REQUIRE(classes <= 6);
  for (int64_t n : s.samples) REQUIRE((n >= 3 * 16 && n <= 3 * 17));
}

TEST_CASE("Shards reject bad parameters", "[ml][partition]") {
  DatasetView data = synthetic_view(100, 10);
  REQUIRE_THROWS_AS(partition_shards(data, 0, 2, 1), UsageError);
  REQUIRE_THROWS_AS(partition_shards(data, 101, 1, 1), UsageError);
  REQUIRE_THROWS_WITH(partition_shards(data, 5, 0, 1), Catch::Contains("shards_per_part"));
  // 51 * 2 = 102 shards need 102 samples.
  REQUIRE_THROWS_AS(partition_shards(data, 51, 2, 1), UsageError);
  REQUIRE(partition_shards(data, 50, 2, 1).size() == 50);
}

TEST_CASE("Quantity skew covers the data exactly once and is seeded", "[ml][partition]") {
  require_partitioner_basics(
      [](const DatasetView& d, uint64_t seed) { return partition_quantity_skew(d, 10, 1.0, seed); },
      synthetic_view(1000, 10));
}

TEST_CASE("Quantity skew with sigma 1 spreads the sizes far more than IID", "[ml][partition]") {
  // IID: 10000 / 20 = 500 per part, ratio exactly 1. With sigma = 1 the 20 weights exp(z) have
  // max/min = exp(max z - min z); the range of 20 standard normals is ~3.7 on average (rarely
  // below 2.5), so the ratio is ~40 and well above 5.
  DatasetView data = synthetic_view(10000, 10);
  auto iid = partition_iid(data, 20, 3);
  auto skewed = partition_quantity_skew(data, 20, 1.0, 3);
  REQUIRE(max_min_ratio(iid) == 1.0);
  CHECK(max_min_ratio(skewed) > 5.0);
  int64_t total = 0;
  for (const auto& part : skewed) {
    REQUIRE(part.size() >= 1);
    total += part.size();
  }
  REQUIRE(total == 10000);
  // The labels stay IID: a part of hundreds of samples sees every class.
  PartitionSummary s = summarize(skewed, 10);
  for (size_t p = 0; p < skewed.size(); ++p) {
    if (s.samples[p] >= 200) REQUIRE(s.classes[p] == 10);
  }
}

TEST_CASE("Quantity skew keeps one sample per part under extreme sigma", "[ml][partition]") {
  // sigma = 50: one weight dominates, the others round to zero and keep their one sample.
  DatasetView data = synthetic_view(100, 4);
  auto parts = partition_quantity_skew(data, 30, 50.0, 5);
  require_exact_cover(data, parts);
  for (const auto& part : parts) REQUIRE(part.size() >= 1);
  // sigma = 0: equal weights, sizes within one of 100 / 30.
  for (const auto& part : partition_quantity_skew(data, 30, 0.0, 5)) {
    REQUIRE((part.size() == 3 || part.size() == 4));
  }
}

TEST_CASE("Quantity skew rejects bad parameters", "[ml][partition]") {
  DatasetView data = synthetic_view(10, 2);
  REQUIRE_THROWS_AS(partition_quantity_skew(data, 0, 1.0, 1), UsageError);
  REQUIRE_THROWS_AS(partition_quantity_skew(data, 11, 1.0, 1), UsageError);
  REQUIRE_THROWS_WITH(partition_quantity_skew(data, 2, -0.5, 1), Catch::Contains("sigma"));
}

TEST_CASE("summarize counts samples and classes per part", "[ml][partition]") {
  // Labels by position:  0 1 2 3 4 5 6
  //                      0 0 1 2 2 2 1
  // Part 0 = {0, 1, 3}: labels 0, 0, 2 -> 3 samples, 2 classes, counts [2, 0, 1, 0].
  // Part 1 = {2, 4, 5, 6}: labels 1, 2, 2, 1 -> 4 samples, 2 classes, counts [0, 2, 2, 0].
  // Part 2 = {}: 0 samples, 0 classes. num_classes 4, so class 3 has a (zero) count too.
  DatasetView data = labelled({0, 0, 1, 2, 2, 2, 1}, 4);
  std::vector<DatasetView> parts = {DatasetView(data.storage_ptr(), {0, 1, 3}),
                                    DatasetView(data.storage_ptr(), {2, 4, 5, 6}),
                                    DatasetView(data.storage_ptr(), {})};
  PartitionSummary s = summarize(parts, 4);
  REQUIRE(s.samples == std::vector<int64_t>{3, 4, 0});
  REQUIRE(s.classes == std::vector<int>{2, 2, 0});
  REQUIRE(s.class_counts == std::vector<std::vector<int64_t>>{{2, 0, 1, 0}, {0, 2, 2, 0}, {0, 0, 0, 0}});
  REQUIRE_THROWS_AS(summarize(parts, 2), UsageError);  // label 2 >= 2
  REQUIRE_THROWS_AS(summarize(parts, 0), UsageError);
}

}  // namespace
}  // namespace swarm::ml
