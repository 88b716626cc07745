// FedAvg, FedAvgM and FedBuff (fl/strategies/averaging.cpp).

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "swarm/error.hpp"
#include "fl/strategies/weighted_average.hpp"
#include "tests/fl/strategies/strategy_test_util.hpp"

namespace swarm::strategies {
namespace {

using testing::aggregate;
using testing::Round;

TEST_CASE("fedavg moves by server_lr times the sample-weighted mean", "[strategies]") {
  // a has 1 sample, b 3: mean = (1 a + 3 b) / 4 = ({1, 0, -1} + {9, 6, 3}) / 4
  //                               = {2.5, 1.5, 0.5};
  // params = {1, 2, 3} + 0.5 mean = {2.25, 2.75, 3.25}.
  Round round({{1, 0, -1}, {3, 2, 1}}, {1, 3});
  std::vector<float> params{1, 2, 3};
  const AggregateReport report =
      aggregate({{"strategy", "fedavg"}, {"server_lr", 0.5}}, params, round);
  CHECK(params == std::vector<float>{2.25f, 2.75f, 3.25f});
  CHECK(report.used == 2);
  CHECK(report.selected.empty());
}

TEST_CASE("fedavg refuses updates without samples", "[strategies]") {
  Round round({{1, 2}, {3, 4}}, {0, 0});
  std::vector<float> params{0, 0};
  REQUIRE_THROWS_WITH(aggregate({{"strategy", "fedavg"}}, params, round),
                      Catch::Contains("0 training samples"));
}

TEST_CASE("fedavgm carries the server momentum across rounds", "[strategies]") {
  const Dict config{{"strategy", "fedavgm"}, {"beta", 0.5}};
  std::vector<float> params{0, 0, 0}, state;
  // Round 1: mean of {2, 4, 0} and {0, 0, 6} (1 sample each) = {1, 2, 3};
  //   v = 0.5 * 0 + {1, 2, 3} = {1, 2, 3}; params = 0 + 1 * v = {1, 2, 3}.
  Round first({{2, 4, 0}, {0, 0, 6}});
  aggregate(config, params, first, state);
  CHECK(state == std::vector<float>{1, 2, 3});
  CHECK(params == std::vector<float>{1, 2, 3});
  // Round 2: mean = {1, 1, 1}; v = 0.5 {1, 2, 3} + {1, 1, 1} = {1.5, 2, 2.5};
  //   params = {1, 2, 3} + v = {2.5, 4, 5.5}.
  Round second({{1, 1, 1}}, {2});
  aggregate(config, params, second, state);
  CHECK(state == std::vector<float>{1.5f, 2, 2.5f});
  CHECK(params == std::vector<float>{2.5f, 4, 5.5f});
}

TEST_CASE("fedavgm rejects a state of the wrong size", "[strategies]") {
  Round round({{1, 1, 1}});
  std::vector<float> params{0, 0, 0}, state{1, 2};
  REQUIRE_THROWS_AS(aggregate({{"strategy", "fedavgm"}}, params, round, state), UsageError);
}

TEST_CASE("fedbuff weighs by (1 + staleness)^-a and divides by the buffer size", "[strategies]") {
  // a = {2, 0} with staleness 0 (s = 1), b = {0, 3} with staleness 3.
  Round round({{2, 0}, {0, 3}}, {5, 100}, {0, 3});
  SECTION("default exponent 0.5: s_b = 1 / sqrt(4) = 0.5") {
    // mean = (1 a + 0.5 b) / K = ({2, 0} + {0, 1.5}) / 2 = {1, 0.75}; samples play no part.
    std::vector<float> params{0, 0};
    aggregate({{"strategy", "fedbuff"}}, params, round);
    CHECK(params[0] == Approx(1.0f));
    CHECK(params[1] == Approx(0.75f));
  }
  SECTION("exponent 1: s_b = 1 / 4") {
    // mean = ({2, 0} + {0, 0.75}) / 2 = {1, 0.375}; params = {1, 1} + 2 mean = {3, 1.75}.
    std::vector<float> params{1, 1};
    aggregate({{"strategy", "fedbuff"}, {"staleness_exponent", 1}, {"server_lr", 2}}, params,
              round);
    CHECK(params[0] == Approx(3.0f));
    CHECK(params[1] == Approx(1.75f));
  }
}

TEST_CASE("fedbuff gives the bits of the aggregator's former inline formula", "[strategies]") {
  // fl/modules.cpp before the strategies: weights 1/sqrt(1+staleness), weighted_average,
  // scale = server_lr * (sum of weights / K), next = current + float(scale) * mean.
  const size_t size = 5000;
  std::vector<std::vector<float>> deltas(4, std::vector<float>(size));
  for (size_t k = 0; k < deltas.size(); ++k) {
    for (size_t i = 0; i < size; ++i) {
      deltas[k][i] = std::sin(0.37f * static_cast<float>(i) + static_cast<float>(k)) * 0.01f;
    }
  }
  const std::vector<int> staleness{0, 1, 3, 8};
  Round round(deltas, {10, 20, 30, 40}, staleness);
  std::vector<float> current(size);
  for (size_t i = 0; i < size; ++i) current[i] = 0.001f * static_cast<float>(i % 113);
  const double server_lr = 0.7;

  std::vector<std::span<const float>> views(deltas.begin(), deltas.end());
  std::vector<double> weights;
  for (int s : staleness) weights.push_back(1.0 / std::sqrt(1.0 + s));
  std::vector<float> mean(size);
  weighted_average(views, weights, mean);
  double scale = server_lr;
  double wsum = 0;
  for (double w : weights) wsum += w;
  scale *= wsum / static_cast<double>(weights.size());
  std::vector<float> expected(size);
  const auto s = static_cast<float>(scale);
  for (size_t i = 0; i < size; ++i) expected[i] = current[i] + s * mean[i];

  std::vector<float> params = current;
  aggregate({{"strategy", "fedbuff"}, {"server_lr", server_lr}}, params, round);
  REQUIRE(std::memcmp(params.data(), expected.data(), size * sizeof(float)) == 0);
}

TEST_CASE("fedavg with server_lr 1 gives the bits of the former inline formula", "[strategies]") {
  std::vector<std::vector<float>> deltas(3, std::vector<float>(3000));
  for (size_t k = 0; k < deltas.size(); ++k) {
    for (size_t i = 0; i < deltas[k].size(); ++i) {
      deltas[k][i] = std::cos(0.11f * static_cast<float>(i * (k + 1))) * 0.02f;
    }
  }
  const std::vector<double> samples{120, 80, 301};
  Round round(deltas, samples);
  std::vector<float> current(3000, 0.5f);
  std::vector<std::span<const float>> views(deltas.begin(), deltas.end());
  std::vector<float> mean(3000), expected(3000);
  weighted_average(views, samples, mean);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = current[i] + 1.0f * mean[i];
  std::vector<float> params = current;
  aggregate({{"strategy", "fedavg"}}, params, round);
  REQUIRE(params == expected);
}

}  // namespace
}  // namespace swarm::strategies
