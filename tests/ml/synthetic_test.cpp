#include "engine/ml/synthetic.hpp"

#include <catch2/catch.hpp>

#include <cstring>

#include "engine/error.hpp"

namespace swarm::ml {
namespace {

bool same_bytes(const DatasetStorage& a, const DatasetStorage& b) {
  return a.features.size() == b.features.size() &&
         std::memcmp(a.features.data(), b.features.data(),
                     sizeof(float) * static_cast<size_t>(a.features.size())) == 0 &&
         a.labels == b.labels;
}

TEST_CASE("Synthetic data has the requested shape and balanced classes", "[ml][synthetic]") {
  SyntheticOptions options;
  options.num_samples = 103;
  options.num_features = 7;
  options.num_classes = 5;
  auto data = make_synthetic(options);
  REQUIRE(data->size() == 103);
  REQUIRE(data->num_features() == 7);
  REQUIRE(data->num_classes == 5);
  // 103 = 5 * 20 + 3: classes 0..2 have 21 samples, 3..4 have 20.
  std::vector<int> count(5, 0);
  for (uint8_t label : data->labels) ++count.at(label);
  REQUIRE(count == std::vector<int>{21, 21, 21, 20, 20});
}

TEST_CASE("Synthetic data: same seed same bytes, another seed other bytes", "[ml][synthetic]") {
  SyntheticOptions options;
  options.seed = 42;
  auto a = make_synthetic(options);
  auto b = make_synthetic(options);
  REQUIRE(same_bytes(*a, *b));
  options.seed = 43;
  auto c = make_synthetic(options);
  REQUIRE_FALSE(same_bytes(*a, *c));
}

TEST_CASE("Synthetic data rejects impossible options", "[ml][synthetic]") {
  SyntheticOptions options;
  options.num_classes = 0;
  REQUIRE_THROWS_AS(make_synthetic(options), UsageError);
  options = SyntheticOptions{};
  options.num_features = 0;
  REQUIRE_THROWS_AS(make_synthetic(options), UsageError);
}

}  // namespace
}  // namespace swarm::ml
