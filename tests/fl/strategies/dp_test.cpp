// DP-FedAvg (fl/strategies/dp.cpp).

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "tests/fl/strategies/strategy_test_util.hpp"

namespace swarm::strategies {
namespace {

using testing::aggregate;
using testing::Round;

TEST_CASE("dp_fedavg clips each update to clip_norm and divides by n", "[strategies]") {
  // S = 1. a = {3, 4}: norm 5 > 1, scaled by 1/5 to {0.6, 0.8}; b = {0.3, 0.4}: norm 0.5;
  // c = {0, -1}: norm exactly 1, not clipped. Samples play no part.
  //   mean = ({0.6, 0.8} + {0.3, 0.4} + {0, -1}) / 3 = {0.9, 0.2} / 3 = {0.3, 0.2 / 3}
  //   params = {1, 1} + mean; one update of three clipped.
  Round round({{3, 4}, {0.3f, 0.4f}, {0, -1}}, {1, 50, 7});
  std::vector<float> params{1, 1}, state;
  std::mt19937_64 rng(3);
  const std::mt19937_64 before = rng;
  auto strategy = make_strategy({{"strategy", "dp_fedavg"}, {"noise_multiplier", 0}});
  const AggregateReport report = strategy->aggregate(params, round.updates(), state, rng);
  CHECK(params[0] == Approx(1.3));
  CHECK(params[1] == Approx(1 + 0.2 / 3));
  CHECK(report.used == 3);
  CHECK(report.clipped_share == Approx(1.0 / 3));
  CHECK(report.noise_stddev == 0);
  CHECK(rng == before);  // no noise, no draw
}

TEST_CASE("dp_fedavg adds Gaussian noise of stddev z S / n", "[strategies]") {
  // n = 4 updates of 200001 values uniform in [-1, 1) (norms ~258 > S: all clipped);
  // S = 0.5, z = 2: sigma = 2 * 0.5 / 4 = 0.25. The noisy and noiseless runs see the same
  // clipped mean, so their difference is the noise alone, up to float rounding of values
  // below 1 (~1e-7, negligible against sigma).
  const size_t n = 4, size = 200001;  // odd: the last coordinate takes half a pair of normals
  std::mt19937_64 gen(11);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<std::vector<float>> deltas(n, std::vector<float>(size));
  for (auto& d : deltas) {
    for (float& x : d) x = uniform(gen);
  }
  Round round(deltas);
  std::vector<float> quiet(size, 0.0f), noisy(size, 0.0f), state;
  aggregate({{"strategy", "dp_fedavg"}, {"clip_norm", 0.5}, {"noise_multiplier", 0}}, quiet,
            round, state);
  const AggregateReport report = aggregate(
      {{"strategy", "dp_fedavg"}, {"clip_norm", 0.5}, {"noise_multiplier", 2}}, noisy, round,
      state, 42);
  CHECK(report.noise_stddev == 0.25);
  CHECK(report.clipped_share == 1);

  double sum = 0, sum_sq = 0;
  size_t within = 0;
  for (size_t i = 0; i < size; ++i) {
    const double e = double(noisy[i]) - quiet[i];
    sum += e;
    sum_sq += e * e;
    within += std::abs(e) <= 0.25;
  }
  const double N = static_cast<double>(size);
  const double mean = sum / N;
  const double stddev = std::sqrt(sum_sq / N - mean * mean);
  // For N iid N(0, sigma^2) draws: the sample mean has standard error sigma / sqrt(N) =
  // 5.6e-4, the sample stddev a relative standard error 1 / sqrt(2N) = 0.16%, the share within
  // one sigma (0.6827) a standard error sqrt(0.68 * 0.32 / N) = 0.001. Tolerances of about
  // 5 standard errors: a correct generator fails about once in a million runs (the seed is
  // fixed, so in fact never), a wrong sigma (or variance used as stddev) always.
  CHECK(std::abs(mean) < 0.003);
  CHECK(stddev == Approx(0.25).epsilon(0.01));
  CHECK(static_cast<double>(within) / N == Approx(0.6827).margin(0.005));

  // The noise comes from the generator: the same seed gives the same model.
  std::vector<float> again(size, 0.0f);
  aggregate({{"strategy", "dp_fedavg"}, {"clip_norm", 0.5}, {"noise_multiplier", 2}}, again,
            round, state, 42);
  CHECK(again == noisy);
}

}  // namespace
}  // namespace swarm::strategies
