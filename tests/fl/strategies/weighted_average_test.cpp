#include "fl/strategies/weighted_average.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using namespace swarm::strategies;

TEST_CASE("FedAvg is the sample-weighted mean", "[fedavg]") {
  // Three clients with 10, 30 and 60 samples:
  //   w = 0.1 * a + 0.3 * b + 0.6 * c
  //   element 0: 0.1*1 + 0.3*2 + 0.6*4 = 0.1 + 0.6 + 2.4 = 3.1
  //   element 1: 0.1*(-1) + 0.3*0 + 0.6*1 = 0.5
  //   element 2: 0.1*10 + 0.3*10 + 0.6*10 = 10
  std::vector<float> a = {1, -1, 10}, b = {2, 0, 10}, c = {4, 1, 10};
  std::vector<std::span<const float>> updates = {a, b, c};
  std::vector<double> weights = {10, 30, 60};
  std::vector<float> out(3);
  weighted_average(updates, weights, out);
  CHECK(out[0] == Approx(3.1f));
  CHECK(out[1] == Approx(0.5f));
  CHECK(out[2] == Approx(10.0f));
}

TEST_CASE("FedAvg over many blocks matches a naive loop", "[fedavg]") {
  const size_t n = 10000;  // several 2048-float blocks and a remainder
  std::vector<std::vector<float>> u(4, std::vector<float>(n));
  for (size_t k = 0; k < 4; ++k) {
    for (size_t i = 0; i < n; ++i) u[k][i] = static_cast<float>((i * 7 + k * 13) % 101) - 50.0f;
  }
  std::vector<std::span<const float>> views(u.begin(), u.end());
  std::vector<double> w = {1, 2, 3, 4};
  std::vector<float> out(n);
  weighted_average(views, w, out);
  for (size_t i = 0; i < n; i += 997) {
    double expect = (1 * u[0][i] + 2 * u[1][i] + 3 * u[2][i] + 4 * u[3][i]) / 10.0;
    CHECK(out[i] == Approx(expect).margin(1e-4));
  }
}

TEST_CASE("FedAvg refuses inconsistent inputs", "[fedavg]") {
  std::vector<float> a = {1, 2}, b = {1};
  std::vector<float> out(2);
  std::vector<std::span<const float>> mismatch = {a, b};
  std::vector<double> w2 = {1, 1};
  CHECK_THROWS_AS(weighted_average(mismatch, w2, out), std::invalid_argument);
  std::vector<std::span<const float>> one = {a};
  std::vector<double> zero = {0};
  CHECK_THROWS_AS(weighted_average(one, zero, out), std::invalid_argument);
  std::vector<double> none;
  CHECK_THROWS_AS(weighted_average(one, none, out), std::invalid_argument);
}

// The grouped, blocked loop sums each element in update order, as the one-update-at-a-time
// loop it replaced did: the same bits for any count of updates (groups of 8 and a rest) and
// any length (blocks of 8192 and a rest).
TEST_CASE("FedAvg gives the bits of the one-update-at-a-time loop", "[fedavg]") {
  for (size_t count : {1, 2, 7, 8, 9, 16, 17, 100}) {
    for (size_t n : {1, 8191, 8192, 20000}) {
      std::vector<std::vector<float>> u(count, std::vector<float>(n));
      std::vector<double> w(count);
      for (size_t k = 0; k < count; ++k) {
        w[k] = 1.0 + static_cast<double>((k * 37) % 11);
        for (size_t i = 0; i < n; ++i) u[k][i] = static_cast<float>((i * 7919 + k * 104729) % 1009) * 0.37f - 180.0f;
      }
      double total = 0;
      for (double x : w) total += x;
      std::vector<float> expected(n);
      for (size_t k = 0; k < count; ++k) {
        const float c = static_cast<float>(w[k] / total);
        for (size_t i = 0; i < n; ++i) expected[i] = k == 0 ? c * u[k][i] : expected[i] + c * u[k][i];
      }
      std::vector<std::span<const float>> views(u.begin(), u.end());
      std::vector<float> out(n);
      weighted_average(views, w, out);
      INFO(count << " updates of " << n);
      CHECK(out == expected);
    }
  }
}
