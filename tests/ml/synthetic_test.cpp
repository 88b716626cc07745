#include "swarm/ml/synthetic.hpp"

#include <catch2/catch.hpp>

#include <cstring>

#include "swarm/error.hpp"

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

TEST_CASE("the held-out test split holds every class in proportion", "[synthetic]") {
  // Regression: the split took samples i % 6 == 0 while labels are i % classes, so with 10
  // classes only the even ones were tested, and with 2, 3, 6 or 12 classes only class 0.
  for (int classes : {2, 3, 6, 10, 12}) {
    swarm::ml::SyntheticOptions o;
    o.num_samples = 1200;
    o.num_classes = classes;
    auto all = swarm::ml::make_synthetic(o);
    swarm::ml::TrainTest tt = swarm::ml::hold_out(*all, 6);
    INFO("classes " << classes);
    CHECK(tt.train->size() + tt.test->size() == 1200);
    // Each class has 1200 / classes samples, of which one in six (rounded up) is held out.
    const int64_t per_class = 1200 / classes, held = (per_class + 5) / 6;
    std::vector<int64_t> count(static_cast<size_t>(classes), 0);
    for (uint8_t label : tt.test->labels) ++count[label];
    for (int c = 0; c < classes; ++c) CHECK(count[static_cast<size_t>(c)] == held);
  }
  CHECK_THROWS_AS(swarm::ml::hold_out(*swarm::ml::make_synthetic({}), 1), swarm::UsageError);
}

TEST_CASE("hold_out_shape gives the sizes hold_out makes, without the data", "[synthetic]") {
  // Sample counts that do not divide by the classes (class c gets one more when c < n % classes)
  // nor by 6 (ceil(count / 6) held out per class).
  for (int64_t samples : {12, 997, 1200, 2401}) {
    for (int classes : {2, 3, 7, 10}) {
      swarm::ml::SyntheticOptions o;
      o.num_samples = samples;
      o.num_classes = classes;
      o.num_features = 5;
      const swarm::ml::TrainTest tt = swarm::ml::hold_out(*swarm::ml::make_synthetic(o), 6);
      const swarm::ml::TrainTestShape shape = swarm::ml::hold_out_shape(o, 6);
      INFO(samples << " samples, " << classes << " classes");
      CHECK(shape.train.samples == tt.train->size());
      CHECK(shape.test.samples == tt.test->size());
      CHECK(shape.train.features == 5);
      CHECK(shape.test.classes == classes);
    }
  }
  // 2401 samples, 4 classes: 601, 600, 600, 600; held out 101 + 100 + 100 + 100.
  swarm::ml::SyntheticOptions o;
  o.num_samples = 2401;
  o.num_classes = 4;
  CHECK(swarm::ml::hold_out_shape(o, 6).test.samples == 401);
  CHECK_THROWS_AS(swarm::ml::hold_out_shape(o, 1), swarm::UsageError);
}
