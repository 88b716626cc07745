// FedAdagrad, FedAdam, FedYogi (fl/strategies/adaptive.cpp): Reddi et al. 2021,
// Algorithm 2, with m = 0 and v = tau^2 at the start. The numbers are chosen so that the
// square roots are whole: each round is one client (or equal clients), mean = its delta.

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "swarm/error.hpp"
#include "tests/fl/strategies/strategy_test_util.hpp"

namespace swarm::strategies {
namespace {

using testing::aggregate;
using testing::Round;

// state = [m..., v...].
std::vector<float> m_of(const std::vector<float>& state) {
  return {state.begin(), state.begin() + static_cast<std::ptrdiff_t>(state.size() / 2)};
}
std::vector<float> v_of(const std::vector<float>& state) {
  return {state.begin() + static_cast<std::ptrdiff_t>(state.size() / 2), state.end()};
}

TEST_CASE("fedadam follows Algorithm 2 over two rounds", "[strategies]") {
  const Dict config{{"strategy", "fedadam"}, {"server_lr", 1}, {"beta1", 0.5},
                    {"beta2", 0.5},          {"tau", 1}};
  std::vector<float> params{0, 0, 0}, state;
  // Round 1, mean g = {1, 7, -7}; m0 = 0, v0 = tau^2 = 1.
  //   m = 0.5 * 0 + 0.5 g = {0.5, 3.5, -3.5}
  //   v = 0.5 * 1 + 0.5 g^2 = {0.5 + 0.5, 0.5 + 24.5, 0.5 + 24.5} = {1, 25, 25}
  //   params += m / (sqrt(v) + 1) = {0.5 / 2, 3.5 / 6, -3.5 / 6}
  Round first({{1, 7, -7}});
  aggregate(config, params, first, state);
  CHECK(m_of(state) == std::vector<float>{0.5f, 3.5f, -3.5f});
  CHECK(v_of(state) == std::vector<float>{1, 25, 25});
  CHECK(params[0] == Approx(0.25));
  CHECK(params[1] == Approx(3.5 / 6));
  CHECK(params[2] == Approx(-3.5 / 6));
  // Round 2, g = {1, 1, 1}, from the m and v of round 1:
  //   m = 0.5 {0.5, 3.5, -3.5} + 0.5 {1, 1, 1} = {0.75, 2.25, -1.25}
  //   v = 0.5 {1, 25, 25} + 0.5 {1, 1, 1} = {1, 13, 13}
  //   params += {0.75 / 2, 2.25 / (sqrt 13 + 1), -1.25 / (sqrt 13 + 1)}
  Round second({{1, 1, 1}, {1, 1, 1}});
  aggregate(config, params, second, state);
  CHECK(m_of(state) == std::vector<float>{0.75f, 2.25f, -1.25f});
  CHECK(v_of(state) == std::vector<float>{1, 13, 13});
  CHECK(params[0] == Approx(0.25 + 0.375));
  CHECK(params[1] == Approx(3.5 / 6 + 2.25 / (std::sqrt(13.0) + 1)));
  CHECK(params[2] == Approx(-3.5 / 6 - 1.25 / (std::sqrt(13.0) + 1)));
}

TEST_CASE("fedyogi moves v towards g^2 by (1 - beta2) g^2, both ways", "[strategies]") {
  const Dict config{{"strategy", "fedyogi"}, {"server_lr", 1}, {"beta1", 0.5},
                    {"beta2", 0.5},          {"tau", 1}};
  std::vector<float> params{0, 0, 0}, state;
  // Round 1, g = {1, 4, -4}, g^2 = {1, 16, 16}; v0 = 1: sign(v0 - g^2) = {0, -1, -1}.
  //   v = v0 - 0.5 g^2 sign = {1 - 0, 1 + 8, 1 + 8} = {1, 9, 9}
  //   m = 0.5 g = {0.5, 2, -2}; params += m / (sqrt(v) + 1) = {0.5/2, 2/4, -2/4}
  Round first({{1, 4, -4}});
  aggregate(config, params, first, state);
  CHECK(v_of(state) == std::vector<float>{1, 9, 9});
  CHECK(m_of(state) == std::vector<float>{0.5f, 2, -2});
  CHECK(params == std::vector<float>{0.25f, 0.5f, -0.5f});
  // Round 2, g = {2, 1, 0}, g^2 = {4, 1, 0}: sign(v - g^2) = sign({-3, 8, 9}) = {-1, 1, 1}.
  //   v = {1 + 0.5*4, 9 - 0.5*1, 9 - 0} = {3, 8.5, 9}   (Yogi lowers v when v > g^2)
  //   m = 0.5 {0.5, 2, -2} + 0.5 {2, 1, 0} = {1.25, 1.5, -1}
  //   params += {1.25 / (sqrt 3 + 1), 1.5 / (sqrt 8.5 + 1), -1 / 4}
  Round second({{2, 1, 0}});
  aggregate(config, params, second, state);
  CHECK(v_of(state) == std::vector<float>{3, 8.5f, 9});
  CHECK(m_of(state) == std::vector<float>{1.25f, 1.5f, -1});
  CHECK(params[0] == Approx(0.25 + 1.25 / (std::sqrt(3.0) + 1)));
  CHECK(params[1] == Approx(0.5 + 1.5 / (std::sqrt(8.5) + 1)));
  CHECK(params[2] == Approx(-0.75));
}

TEST_CASE("fedadagrad accumulates g^2 in v", "[strategies]") {
  const Dict config{{"strategy", "fedadagrad"}, {"server_lr", 1}, {"beta1", 0.5}, {"tau", 3}};
  std::vector<float> params{0, 0, 0}, state;
  // Round 1: the mean of {2, -8, 0} and {6, 0, 0} is g = {4, -4, 0}; v0 = tau^2 = 9.
  //   v = 9 + g^2 = {25, 25, 9};  m = 0.5 g = {2, -2, 0}
  //   params += m / (sqrt(v) + 3) = {2/8, -2/8, 0}
  Round first({{2, -8, 0}, {6, 0, 0}});
  aggregate(config, params, first, state);
  CHECK(v_of(state) == std::vector<float>{25, 25, 9});
  CHECK(params == std::vector<float>{0.25f, -0.25f, 0});
  // Round 2: g = {0, 12, 4}: v = {25, 25 + 144, 9 + 16} = {25, 169, 25};
  //   m = 0.5 {2, -2, 0} + 0.5 {0, 12, 4} = {1, 5, 2}
  //   params += {1/8, 5/16, 2/8} -> {0.375, 0.0625, 0.25}
  Round second({{0, 12, 4}});
  aggregate(config, params, second, state);
  CHECK(v_of(state) == std::vector<float>{25, 169, 25});
  CHECK(m_of(state) == std::vector<float>{1, 5, 2});
  CHECK(params == std::vector<float>{0.375f, 0.0625f, 0.25f});
}

TEST_CASE("adaptive strategies keep m, v and params unchanged without updates", "[strategies]") {
  const char* name = GENERATE("fedadam", "fedyogi", "fedadagrad");
  Round none(std::vector<std::vector<float>>{});
  std::vector<float> params{1, 2}, state{0.5f, 0.5f, 2, 2};
  const AggregateReport report = aggregate({{"strategy", name}}, params, none, state);
  CHECK(report.used == 0);
  CHECK(params == std::vector<float>{1, 2});
  CHECK(state == std::vector<float>{0.5f, 0.5f, 2, 2});
  std::vector<float> wrong{1, 2, 3};
  Round one({{1, 1}});
  REQUIRE_THROWS_AS(aggregate({{"strategy", name}}, params, one, wrong), UsageError);
}

}  // namespace
}  // namespace swarm::strategies
