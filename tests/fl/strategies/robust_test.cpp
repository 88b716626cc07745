// FedMedian, TrimmedMean, Krum, Multi-Krum, Bulyan (fl/strategies/robust.cpp).

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "swarm/error.hpp"
#include "tests/fl/strategies/strategy_test_util.hpp"

namespace swarm::strategies {
namespace {

using testing::aggregate;
using testing::Round;

// Four honest updates and one at +-1e6 in every coordinate.
std::vector<std::vector<float>> with_outlier() {
  return {{1, 10, -1}, {2, 20, -2}, {9, 90, -9}, {4, 40, -4}, {1e6f, -1e6f, 1e6f}};
}

// n updates of `size` coordinates, values uniform in [-1, 1), from a seed.
std::vector<std::vector<float>> random_deltas(size_t n, size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<std::vector<float>> d(n, std::vector<float>(size));
  for (auto& v : d) {
    for (float& x : v) x = uniform(rng);
  }
  return d;
}

TEST_CASE("fedmedian takes the coordinate-wise median and ignores an outlier", "[strategies]") {
  SECTION("odd count") {
    // Coordinate 0: {1, 2, 9, 4, 1e6} -> sorted {1, 2, 4, 9, 1e6}, median 4.
    // Coordinate 1: {10, 20, 90, 40, -1e6} -> {-1e6, 10, 20, 40, 90}, median 20.
    // Coordinate 2: {-1, -2, -9, -4, 1e6} -> {-9, -4, -2, -1, 1e6}, median -2.
    Round round(with_outlier());
    std::vector<float> params{0, 0, 0};
    const AggregateReport report = aggregate({{"strategy", "fedmedian"}}, params, round);
    CHECK(params == std::vector<float>{4, 20, -2});
    CHECK(report.used == 5);
  }
  SECTION("even count: the mean of the two middle values") {
    // {1, 2, 9, 4} -> (2 + 4) / 2 = 3; {10, 20, 90, 40} -> (20 + 40) / 2 = 30;
    // {-1, -2, -9, -4} -> (-4 + -2) / 2 = -3. Times server_lr 2, onto {1, 1, 1}.
    auto deltas = with_outlier();
    deltas.pop_back();
    Round round(deltas);
    std::vector<float> params{1, 1, 1};
    aggregate({{"strategy", "fedmedian"}, {"server_lr", 2}}, params, round);
    CHECK(params == std::vector<float>{7, 61, -5});
  }
}

TEST_CASE("trimmed_mean drops floor(ratio n) values at each end", "[strategies]") {
  Round round(with_outlier());
  SECTION("ratio 0.2, n = 5: b = 1") {
    // Coordinate 0: sorted {1, 2, 4, 9, 1e6} -> mean(2, 4, 9) = 5.
    // Coordinate 1: sorted {-1e6, 10, 20, 40, 90} -> mean(10, 20, 40) = 70 / 3.
    // Coordinate 2: sorted {-9, -4, -2, -1, 1e6} -> mean(-4, -2, -1) = -7 / 3.
    std::vector<float> params{0, 0, 0};
    aggregate({{"strategy", "trimmed_mean"}, {"trim_ratio", 0.2}}, params, round);
    CHECK(params[0] == Approx(5));
    CHECK(params[1] == Approx(70.0 / 3));
    CHECK(params[2] == Approx(-7.0 / 3));
  }
  SECTION("ratio 0.4, n = 5: b = 2, the median") {
    std::vector<float> params{0, 0, 0};
    aggregate({{"strategy", "trimmed_mean"}, {"trim_ratio", 0.4}}, params, round);
    CHECK(params == std::vector<float>{4, 20, -2});
  }
  SECTION("default ratio 0.1, n = 5: b = floor(0.5) = 0, the plain mean") {
    // Coordinate 0: (1 + 2 + 9 + 4 + 1e6) / 5 = 200003.2.
    std::vector<float> params{0, 0, 0};
    aggregate({{"strategy", "trimmed_mean"}}, params, round);
    CHECK(params[0] == Approx(200003.2));
  }
}

// Coordinate-wise rules over many coordinates (several blocks and a remainder) against a
// plain sort of each coordinate's values.
TEST_CASE("fedmedian and trimmed_mean match a per-coordinate sort", "[strategies]") {
  const size_t n = GENERATE(1, 2, 7, 8, 33, 100);
  const size_t size = 20011;
  const auto deltas = random_deltas(n, size, n);
  Round round(deltas);
  std::vector<float> median(size, 0.0f), trimmed(size, 0.0f);
  aggregate({{"strategy", "fedmedian"}}, median, round);
  aggregate({{"strategy", "trimmed_mean"}, {"trim_ratio", 0.25}}, trimmed, round);
  const size_t b = n / 4;  // floor(0.25 n)
  std::vector<float> column(n);
  for (size_t i = 0; i < size; ++i) {
    for (size_t k = 0; k < n; ++k) column[k] = deltas[k][i];
    std::sort(column.begin(), column.end());
    const double med = n % 2 ? column[n / 2] : 0.5 * (column[n / 2 - 1] + column[n / 2]);
    double sum = 0;
    for (size_t k = b; k < n - b; ++k) sum += column[k];
    INFO("n " << n << ", coordinate " << i);
    REQUIRE(median[i] == Approx(med).margin(1e-6));
    REQUIRE(trimmed[i] == Approx(sum / static_cast<double>(n - 2 * b)).margin(1e-6));
  }
}

// Five 2-D updates; pairwise squared distances:
//   u0 = (0, 0), u1 = (1, 1), u2 = (0, 2), u3 = (3, 0), u4 = (100, 100)
//   d01 = 2, d02 = 4, d03 = 9, d04 = 20000, d12 = 2, d13 = 5, d14 = 19602,
//   d23 = 13, d24 = 19604, d34 = 19409.
// With f = 1 each score sums the n - f - 2 = 2 nearest:
//   s0 = 2 + 4 = 6, s1 = 2 + 2 = 4, s2 = 4 + 2 = 6, s3 = 5 + 9 = 14,
//   s4 = 19409 + 19602 = 39011.
std::vector<std::vector<float>> krum_points() {
  return {{0, 0}, {1, 1}, {0, 2}, {3, 0}, {100, 100}};
}

TEST_CASE("krum picks the update of lowest score", "[strategies]") {
  Round round(krum_points());
  std::vector<float> params{0.5f, 0.5f};
  const AggregateReport report =
      aggregate({{"strategy", "krum"}, {"num_byzantine", 1}}, params, round);
  // u1 (node 11) has the lowest score, 4: params = {0.5, 0.5} + u1.
  CHECK(params == std::vector<float>{1.5f, 1.5f});
  CHECK(report.selected == std::vector<NodeId>{11});
  CHECK(report.used == 1);
}

TEST_CASE("multi_krum averages the m updates of lowest score", "[strategies]") {
  Round round(krum_points());
  SECTION("m = 3: u1 (4), then u0 and u2 (6, tied: in order)") {
    // mean of (1, 1), (0, 0), (0, 2) = (1/3, 1).
    std::vector<float> params{0, 0};
    const AggregateReport report = aggregate(
        {{"strategy", "multi_krum"}, {"num_byzantine", 1}, {"num_selected", 3}}, params, round);
    CHECK(report.selected == std::vector<NodeId>{11, 10, 12});
    CHECK(params[0] == Approx(1.0 / 3));
    CHECK(params[1] == Approx(1.0));
  }
  SECTION("default m = n - f = 4: everyone but the outlier") {
    // mean of (1, 1), (0, 0), (0, 2), (3, 0) = (1, 0.75).
    std::vector<float> params{0, 0};
    const AggregateReport report =
        aggregate({{"strategy", "multi_krum"}, {"num_byzantine", 1}}, params, round);
    CHECK(report.selected == std::vector<NodeId>{11, 10, 12, 13});
    CHECK(report.used == 4);
    CHECK(params == std::vector<float>{1, 0.75f});
  }
  SECTION("m larger than n") {
    std::vector<float> params{0, 0};
    REQUIRE_THROWS_AS(aggregate({{"strategy", "multi_krum"}, {"num_selected", 6}}, params, round),
                      UsageError);
  }
}

TEST_CASE("krum needs more than 2f + 2 updates", "[strategies]") {
  Round round(krum_points());  // n = 5
  std::vector<float> params{0, 0};
  const char* name = GENERATE("krum", "multi_krum");
  // f = 2: 2f + 2 = 6 >= 5.
  REQUIRE_THROWS_WITH(aggregate({{"strategy", name}, {"num_byzantine", 2}}, params, round),
                      Catch::Contains("more than 2f + 2 = 6") && Catch::Contains("f = 2") &&
                          Catch::Contains("got 5") && Catch::Contains(name));
  CHECK(params == std::vector<float>{0, 0});
}

// A plain O(n^2 P) Krum in double, for comparison.
size_t reference_krum(const std::vector<std::vector<float>>& d, size_t f) {
  const size_t n = d.size();
  std::vector<double> scores(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> row;
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      double s = 0;
      for (size_t c = 0; c < d[i].size(); ++c) {
        const double diff = double(d[i][c]) - d[j][c];
        s += diff * diff;
      }
      row.push_back(s);
    }
    std::sort(row.begin(), row.end());
    for (size_t k = 0; k < n - f - 2; ++k) scores[i] += row[k];
  }
  return static_cast<size_t>(std::min_element(scores.begin(), scores.end()) - scores.begin());
}

TEST_CASE("krum over many coordinates matches a direct computation", "[strategies]") {
  // Honest updates spread around 0 with different scales, so that scores differ clearly;
  // two attackers far off. Several blocks of coordinates and a remainder.
  auto deltas = random_deltas(11, 30001, 5);
  for (size_t k = 0; k < 9; ++k) {
    for (float& x : deltas[k]) x *= 0.5f + 0.1f * static_cast<float>(k);
  }
  for (float& x : deltas[9]) x = x * 0.1f + 3;
  for (float& x : deltas[10]) x = -1e5f;
  Round round(deltas);
  std::vector<float> params(30001, 0.0f);
  const AggregateReport report =
      aggregate({{"strategy", "krum"}, {"num_byzantine", 2}}, params, round);
  const size_t expected = reference_krum(deltas, 2);
  CHECK(expected == 0);  // the honest update of smallest spread
  REQUIRE(report.selected == std::vector<NodeId>{static_cast<NodeId>(10 + expected)});
  CHECK(params == deltas[expected]);
}

TEST_CASE("krum treats an update with NaN as infinitely far", "[strategies]") {
  auto points = krum_points();
  points[4] = {std::nanf(""), 0};
  Round round(points);
  std::vector<float> params{0, 0};
  const AggregateReport report =
      aggregate({{"strategy", "multi_krum"}, {"num_byzantine", 1}}, params, round);
  CHECK(report.selected == std::vector<NodeId>{11, 10, 12, 13});
  CHECK(params == std::vector<float>{1, 0.75f});
}

// Seven updates (x, z), f = 1: theta = n - 2f = 5 selected by iterated Krum, then per
// coordinate the mean of the beta = theta - 2f = 3 values closest to the median.
//   x = 100 * {0, 1, 3, 4, 6, 10, 1000}   (u6 an outlier)
//   z = {0, 1, 2, 10, 11, 5, 1e6}
// Selection, on x alone (x differences are multiples of 100, so squared distances of x are
// multiples of 10^4 and distinct scores differ by >= 10^4; z adds at most 4 * 11^2 = 484 to a
// score of honest updates, so it changes no order), in units of 10^4:
//   R = all 7, 4 nearest: s(0) = 1+9+16+36 = 62, s(1) = 1+4+9+25 = 39, s(3) = 1+4+9+9 = 23,
//     s(4) = 1+4+9+16 = 30, s(6) = 4+9+16+25 = 54, s(10) = 16+36+49+81 = 182  -> u2 (x=3)
//   R = {0,1,4,6,10,1000}, 3 nearest: s(0) = 1+16+36 = 53, s(1) = 1+9+25 = 35,
//     s(4) = 4+9+16 = 29, s(6) = 4+16+25 = 45, s(10) = 16+36+81 = 133         -> u3 (x=4)
//   R = {0,1,6,10,1000}, 2 nearest: s(0) = 1+36 = 37, s(1) = 1+25 = 26,
//     s(6) = 16+25 = 41, s(10) = 16+81 = 97                                   -> u1 (x=1)
//   R = {0,6,10,1000}, max(4 - 3, 1) = 1 nearest: s(0) = 36 + 11^2 / 10^4, and
//     s(6) = s(10) = 16 + (11 - 5)^2 / 10^4, a tie (mutual nearest neighbours always tie
//     with 1 neighbour): the earlier wins                                     -> u4 (x=6)
//   R = {0,10,1000}, 1 nearest: s(0) = s(10) = 100 + 5^2 / 10^4, a tie        -> u0 (x=0)
// Selected u2, u3, u1, u4, u0. Per coordinate:
//   x = 100 * {3, 4, 1, 6, 0}: median 300; distances {0, 100, 200, 300, 300}
//     -> {300, 400, 100}, mean 800 / 3
//   z = {2, 10, 1, 11, 0}: median 2; distances {0, 8, 1, 9, 2} -> {2, 1, 0}, mean 1
//     (a trimmed mean dropping f at each end would give (1 + 2 + 10) / 3 instead)
TEST_CASE("bulyan selects by iterated krum and averages around the median", "[strategies]") {
  const std::vector<float> x{0, 1, 3, 4, 6, 10, 1000}, z{0, 1, 2, 10, 11, 5, 1e6f};
  std::vector<std::vector<float>> deltas;
  for (size_t k = 0; k < x.size(); ++k) deltas.push_back({100 * x[k], z[k]});
  Round round(deltas);
  std::vector<float> params{0, 0};
  const AggregateReport report =
      aggregate({{"strategy", "bulyan"}, {"num_byzantine", 1}}, params, round);
  CHECK(report.selected == std::vector<NodeId>{12, 13, 11, 14, 10});
  CHECK(report.used == 5);
  CHECK(params[0] == Approx(800.0 / 3));
  CHECK(params[1] == Approx(1.0));
}

TEST_CASE("bulyan needs at least 4f + 3 updates", "[strategies]") {
  Round round(random_deltas(6, 4, 1));
  std::vector<float> params(4, 0.0f);
  REQUIRE_THROWS_WITH(aggregate({{"strategy", "bulyan"}, {"num_byzantine", 1}}, params, round),
                      Catch::Contains("at least 4f + 3 = 7") && Catch::Contains("got 6"));
}

TEST_CASE("robust rules ignore a far outlier among agreeing updates", "[strategies]") {
  // Seven updates of 3 coordinates near {1, 2, 3}; one at 1e6. Every robust rule (f = 1 where
  // needed) moves the model close to {1, 2, 3}, where the mean would move it by ~1.4e5.
  std::vector<std::vector<float>> deltas;
  for (int k = 0; k < 7; ++k) {
    const float e = 0.01f * static_cast<float>(k - 3);
    deltas.push_back({1 + e, 2 - e, 3 + 2 * e});
  }
  deltas.push_back({1e6f, 1e6f, 1e6f});
  Round round(deltas);
  const Dict configs[] = {{{"strategy", "fedmedian"}},
                          {{"strategy", "trimmed_mean"}, {"trim_ratio", 0.2}},
                          {{"strategy", "krum"}, {"num_byzantine", 1}},
                          {{"strategy", "multi_krum"}, {"num_byzantine", 1}},
                          {{"strategy", "bulyan"}, {"num_byzantine", 1}}};
  for (const Dict& config : configs) {
    std::vector<float> params{0, 0, 0};
    aggregate(config, params, round);
    INFO(config.dump());
    CHECK(params[0] == Approx(1).margin(0.05));
    CHECK(params[1] == Approx(2).margin(0.05));
    CHECK(params[2] == Approx(3).margin(0.1));
  }
}

}  // namespace
}  // namespace swarm::strategies
