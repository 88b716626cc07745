// Comparator networks (fl/strategies/sorting_network.*).

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "fl/strategies/sorting_network.hpp"

namespace swarm::strategies {
namespace {

std::vector<float> run(const std::vector<Comparator>& network, std::vector<float> v) {
  for (const Comparator& c : network) {
    if (v[c.b] < v[c.a]) std::swap(v[c.a], v[c.b]);
  }
  return v;
}

TEST_CASE("Batcher networks sort every 0-1 input up to 16 wires", "[strategies]") {
  // The 0-1 principle (Knuth, TAOCP 5.3.4, Theorem Z): a comparator network that sorts all
  // 2^n inputs of zeros and ones sorts every input.
  for (size_t n = 1; n <= 16; ++n) {
    const auto network = sorting_network(n);
    for (uint32_t bits = 0; bits < (1u << n); ++bits) {
      std::vector<float> v(n);
      for (size_t w = 0; w < n; ++w) v[w] = static_cast<float>((bits >> w) & 1);
      const auto sorted = run(network, v);
      INFO("n " << n << ", input " << bits);
      REQUIRE(std::is_sorted(sorted.begin(), sorted.end()));
    }
  }
  // n log2(n)^2 / 4 order: 19 comparators for 8 wires (Knuth's figure 49), 63 for 16.
  CHECK(sorting_network(8).size() == 19);
  CHECK(sorting_network(16).size() == 63);
}

TEST_CASE("Batcher networks and their pruned selections on random inputs", "[strategies]") {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (size_t n : {17, 31, 100, 257}) {
    const auto network = sorting_network(n);
    std::vector<bool> middle(n, false);
    middle[n / 2] = true;
    const auto median = prune(network, middle);
    CHECK(median.size() < network.size());
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> v(n);
      for (float& x : v) x = uniform(rng);
      std::vector<float> expected = v;
      std::sort(expected.begin(), expected.end());
      INFO("n " << n);
      REQUIRE(run(network, v) == expected);
      REQUIRE(run(median, v)[n / 2] == expected[n / 2]);
    }
  }
}

TEST_CASE("apply_network sorts kLanes columns at once", "[strategies]") {
  const size_t n = 13;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> uniform(-5, 5);
  std::vector<float> rows(n * kLanes);
  for (float& x : rows) x = uniform(rng);
  const std::vector<float> before = rows;
  apply_network(sorting_network(n), rows.data());
  for (size_t j = 0; j < kLanes; ++j) {
    std::vector<float> column(n), sorted(n);
    for (size_t w = 0; w < n; ++w) {
      column[w] = before[w * kLanes + j];
      sorted[w] = rows[w * kLanes + j];
    }
    std::sort(column.begin(), column.end());
    REQUIRE(sorted == column);
  }
}

}  // namespace
}  // namespace swarm::strategies
