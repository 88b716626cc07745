#include "sim/population.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "swarm/error.hpp"
#include "sim/availability.hpp"

using namespace swarm;
using namespace swarm::sim;

namespace {

NodeProfile named(const char* name, double flops = 1e9, double spread = 0) {
  return {.name = name, .flops = flops, .speed_spread = spread};
}

PopulationSpec spec_of(std::vector<ProfileShare> profiles, int64_t num_nodes, uint64_t seed = 1) {
  return {std::move(profiles), num_nodes, seed};
}

std::vector<int64_t> count_by_profile(const Population& pop) {
  std::vector<int64_t> out(pop.profiles().size(), 0);
  for (uint32_t i = 0; i < pop.size(); ++i) ++out[pop.profile_index(i)];
  return out;
}

std::string usage_error(const PopulationSpec& spec) {
  try {
    Population pop(spec);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no UsageError";
}

}  // namespace

TEST_CASE("shares resolve to exact counts by largest remainder", "[population]") {
  // 60/30/10 of 1001: quotas 600.6, 300.3, 100.1; floors sum to 1000; the one node left goes
  // to the largest fraction (0.6): 601, 300, 100.
  Population pop(spec_of({{named("a"), 0.6}, {named("b"), 0.3}, {named("c"), 0.1}}, 1001));
  CHECK(pop.size() == 1001);
  CHECK(pop.counts() == std::vector<int64_t>{601, 300, 100});
  CHECK(count_by_profile(pop) == pop.counts());

  // Equal shares of 100: quotas 33.33 each, one node left, ties go to the earlier entry.
  Population thirds(spec_of({{named("a"), 1}, {named("b"), 1}, {named("c"), 1}}, 100));
  CHECK(thirds.counts() == std::vector<int64_t>{34, 33, 33});

  // Shares need not sum to 1: 3 : 1 of 8 = 6, 2.
  Population ratio(spec_of({{named("a"), 3}, {named("b"), 1}}, 8));
  CHECK(ratio.counts() == std::vector<int64_t>{6, 2});
}

TEST_CASE("counts are taken as given and shares split the rest", "[population]") {
  // 7 servers by count; the other 100 nodes split 3 : 1 = 75, 25.
  Population pop(spec_of({{named("phone"), 3}, {named("server"), 0, 7}, {named("laptop"), 1}},
                         107));
  CHECK(pop.counts() == std::vector<int64_t>{75, 7, 25});
  CHECK(count_by_profile(pop) == pop.counts());

  // Only counts, num_nodes 0: the total is their sum.
  Population counted(spec_of({{named("a"), 0, 4}, {named("b"), 0, 6}}, 0));
  CHECK(counted.size() == 10);
  CHECK(counted.counts() == std::vector<int64_t>{4, 6});

  // Counts filling num_nodes leave nothing for the shares (whose sum may then be 0).
  Population full(spec_of({{named("a"), 0, 5}, {named("b"), 0}}, 5));
  CHECK(full.counts() == std::vector<int64_t>{5, 0});
}

TEST_CASE("bad population specs throw UsageError", "[population]") {
  CHECK_THAT(usage_error(spec_of({}, 10)), Catch::Contains("no node profiles"));
  NodeProfile bad = named("slowpoke", 0);
  CHECK_THAT(usage_error(spec_of({{bad, 1}}, 10)),
             Catch::Contains("profile 'slowpoke': flops"));
  CHECK_THAT(usage_error(spec_of({{named("a"), -1}, {named("b"), 2}}, 10)),
             Catch::Contains("share must be >= 0"));
  CHECK_THAT(usage_error(spec_of({{named("a"), 0}, {named("b"), 0}}, 10)),
             Catch::Contains("shares sum to 0"));
  CHECK_THAT(usage_error(spec_of({{named("a"), 0, 8}, {named("b"), 0, 5}, {named("c"), 1}}, 10)),
             Catch::Contains("more than num_nodes 10"));
  CHECK_THAT(usage_error(spec_of({{named("a"), 0, 8}}, 10)),
             Catch::Contains("the counts sum to 8 but num_nodes is 10"));
  CHECK_THAT(usage_error(spec_of({{named("a"), 0, 0}}, 0)), Catch::Contains("no nodes"));
  CHECK_THAT(usage_error(spec_of({{named("a"), 1}}, 0)), Catch::Contains("no nodes"));
  CHECK_THAT(usage_error(spec_of({{named("a"), 0.5, 3}}, 10)),
             Catch::Contains("a count or a share, not both"));
  CHECK_THAT(usage_error(spec_of({{named("a"), 0, -2}}, 10)), Catch::Contains("count must be"));
  CHECK_THAT(usage_error(spec_of({{named("a"), 1}}, -5)), Catch::Contains("num_nodes must be"));
}

TEST_CASE("profile assignment is a seeded shuffle", "[population]") {
  auto spec = [](uint64_t seed) {
    return spec_of({{named("a"), 1}, {named("b"), 1}}, 1000, seed);
  };
  Population a(spec(1)), b(spec(1)), c(spec(2));
  CHECK(a.profile_assignment() == b.profile_assignment());
  CHECK(a.profile_assignment() != c.profile_assignment());
  CHECK(c.counts() == std::vector<int64_t>{500, 500});
  // Not blocks: the number of profile-0 nodes among the first 500 is hypergeometric with mean
  // 250 and sd ~7.9 (blocks would give 500); 250 +- 50 is > 6 sd.
  int first_half = 0;
  for (uint32_t i = 0; i < 500; ++i) first_half += a.profile_index(i) == 0;
  CHECK(first_half == Approx(250).margin(50));
  // The per-node accessors follow the assignment.
  for (uint32_t i = 0; i < 10; ++i) CHECK(&a.profile(i) == &a.profiles()[a.profile_index(i)]);
}

TEST_CASE("speed_spread 0 gives identical nodes", "[population]") {
  NodeProfile p = named("same", 3e9);
  p.latency_s = 0.02;
  Population pop(spec_of({{p, 1}}, 1000));
  for (uint32_t i = 0; i < pop.size(); ++i) {
    REQUIRE(pop.flops(i) == 3e9);
    REQUIRE(pop.up_bytes_per_s(i) == p.up_bytes_per_s);
    REQUIRE(pop.down_bytes_per_s(i) == p.down_bytes_per_s);
    REQUIRE(pop.latency_s(i) == 0.02);
  }
}

TEST_CASE("speed_spread gives per-node log-normal factors", "[population]") {
  const double sigma = 0.5;
  const int n = 100000;
  NodeProfile p = named("spread", 1e9, sigma);
  Population pop(spec_of({{p, 1}}, n, 9));
  double log_sum = 0, log_sq = 0, sum = 0, sq = 0, net_log_sum = 0, net_log_sq = 0, cross = 0;
  for (uint32_t i = 0; i < pop.size(); ++i) {
    const double f = pop.flops(i) / p.flops;
    const double g = pop.up_bytes_per_s(i) / p.up_bytes_per_s;
    // One network factor for both links.
    REQUIRE(pop.down_bytes_per_s(i) / p.down_bytes_per_s == Approx(g).epsilon(1e-12));
    REQUIRE(pop.latency_s(i) == p.latency_s);
    log_sum += std::log(f);
    log_sq += std::log(f) * std::log(f);
    sum += f;
    sq += f * f;
    net_log_sum += std::log(g);
    net_log_sq += std::log(g) * std::log(g);
    cross += std::log(f) * std::log(g);
  }
  auto sd = [n](double s, double s2) { return std::sqrt((s2 - s * s / n) / (n - 1)); };
  // ln(factor) ~ N(0, 0.5): the sample mean has sd 0.5 / sqrt(1e5) = 0.0016 (tolerance 0.01
  // is > 6 sd); the sample sd has sd ~ 0.5 / sqrt(2e5) = 0.0011 (tolerance 0.01 > 8 sd).
  CHECK(log_sum / n == Approx(0).margin(0.01));
  CHECK(sd(log_sum, log_sq) == Approx(sigma).margin(0.01));
  CHECK(net_log_sum / n == Approx(0).margin(0.01));
  CHECK(sd(net_log_sum, net_log_sq) == Approx(sigma).margin(0.01));
  // factor ~ LogNormal(0, 0.5): mean exp(sigma^2 / 2) = exp(0.125) = 1.1331, sd
  // sqrt((exp(sigma^2) - 1) exp(sigma^2)) = sqrt(0.2840 * 1.2840) = 0.6039. The sample mean
  // has sd 0.6039 / sqrt(1e5) = 0.0019 (tolerance 0.01 > 5 sd); the sample sd has sd ~
  // 0.6039 * sqrt((kurtosis 8.90 - 1) / (4 n)) = 0.0027 (tolerance 0.015 > 5 sd).
  CHECK(sum / n == Approx(std::exp(sigma * sigma / 2)).margin(0.01));
  CHECK(sd(sum, sq) == Approx(std::sqrt(std::expm1(sigma * sigma) * std::exp(sigma * sigma)))
                           .margin(0.015));
  // Compute and network factors are independent: the correlation of their logs has sd
  // 1 / sqrt(1e5) = 0.0032; tolerance 0.02 > 6 sd.
  CHECK(cross / n / (sigma * sigma) == Approx(0).margin(0.02));
}

TEST_CASE("population memory per node is small", "[population]") {
  Population pop(default_population(1000, 1));
  // uint16 profile index + two float factors.
  CHECK(pop.bytes_per_node() == 10);
  CHECK(pop.bytes_per_node() < 64);
}

TEST_CASE("the default population builds at a million nodes", "[population]") {
  Population pop(default_population(1'000'000, 7));
  AvailabilityModel availability(pop.profiles(), pop.profile_assignment(), 7);
  CHECK(pop.size() == 1'000'000);
  // 60 / 30 / 10 % of 10^6 are whole numbers.
  CHECK(pop.counts() == std::vector<int64_t>{600'000, 300'000, 100'000});
  CHECK(pop.profiles()[0].name == "phone");
  CHECK(pop.profiles()[1].name == "laptop");
  CHECK(pop.profiles()[2].name == "server");
  CHECK(pop.bytes_per_node() < 64);
  CHECK(availability.size() == 1'000'000);
  CHECK(availability.bytes_per_node() < 64);
  // Every node can be queried: phones and laptops are Markov, servers always on.
  uint32_t on = 0;
  for (uint32_t i = 0; i < 1'000'000; i += 1000) on += availability.is_on(i, SimTime::zero());
  CHECK(on > 0);
  CHECK(on < 1000);
}
