#include "swarm/ml/dataset.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

namespace swarm::ml {
namespace {

// 3 features x 5 samples; sample i has features (i, 10 i, 100 i) and label i % 2.
std::shared_ptr<const DatasetStorage> tiny_storage() {
  auto s = std::make_shared<DatasetStorage>();
  s->features.resize(3, 5);
  for (int i = 0; i < 5; ++i) {
    s->features.col(i) << float(i), 10.0f * i, 100.0f * i;
    s->labels.push_back(static_cast<uint8_t>(i % 2));
  }
  s->num_classes = 2;
  s->name = "tiny";
  return s;
}

TEST_CASE("A whole-dataset view indexes every sample in order", "[ml][dataset]") {
  auto storage = tiny_storage();
  DatasetView view(storage);
  REQUIRE(view.size() == 5);
  REQUIRE(view.num_features() == 3);
  REQUIRE(view.num_classes() == 2);
  REQUIRE(view.indices() == std::vector<uint32_t>{0, 1, 2, 3, 4});
  REQUIRE(view.features(3)(1) == 30.0f);
  REQUIRE(view.label(3) == 1);
  REQUIRE(&view.storage() == storage.get());
}

TEST_CASE("A subset view maps its positions through its indices", "[ml][dataset]") {
  auto storage = tiny_storage();
  DatasetView view(storage, {4, 1});
  REQUIRE(view.size() == 2);
  REQUIRE(view.features(0)(2) == 400.0f);
  REQUIRE(view.label(0) == 0);
  REQUIRE(view.label(1) == 1);
}

TEST_CASE("gather copies the samples of an order range into columns", "[ml][dataset]") {
  auto storage = tiny_storage();
  DatasetView view(storage, {0, 2, 3, 4});
  // Positions 3, 0, 1 of the view are samples 4, 0, 2; the range [1, 3) takes 0 and 2.
  std::vector<uint32_t> order{3, 0, 1};
  Matrix x;
  std::vector<uint8_t> y;
  view.gather(order, 1, 3, x, y);
  REQUIRE(x.rows() == 3);
  REQUIRE(x.cols() == 2);
  REQUIRE(x(1, 0) == 0.0f);
  REQUIRE(x(1, 1) == 20.0f);
  REQUIRE(y == std::vector<uint8_t>{0, 0});

  // A default view is empty.
  DatasetView empty;
  REQUIRE(empty.empty());
  REQUIRE(empty.num_features() == 0);
}

}  // namespace
}  // namespace swarm::ml
