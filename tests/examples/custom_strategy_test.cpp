// examples/custom_strategy: a user's program that registers a strategy and runs swarm::cli::main
// knows it in every command, with the checks the built-ins get.

#include <regex>

#include <catch2/catch.hpp>

#include "tests/cli/run_cli.hpp"

using swarm::testing::final_accuracy;
using swarm::testing::run_program;

namespace {

const std::string kScenario = "examples/custom_strategy/clipped_mean.yaml";


}  // namespace

TEST_CASE("custom_swarm runs a scenario that names its own strategy, and it learns") {
  auto r = run_program("custom_swarm", "run " + kScenario);
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("strategy clipped_mean"));
  // Synthetic data with 10 classes: chance is 0.1.
  CHECK(final_accuracy(r.out) > 0.5);
}

TEST_CASE("custom_swarm checks its strategy's name and parameters like a built-in's") {
  auto misspelt = run_program("custom_swarm", "validate " + kScenario + " --set strategy.name=clipped_maen");
  INFO(misspelt.out);
  CHECK(misspelt.code == 2);
  CHECK_THAT(misspelt.out, Catch::Contains("did you mean 'clipped_mean'"));

  auto zero = run_program("custom_swarm", "validate " + kScenario + " --set strategy.clip=0");
  INFO(zero.out);
  CHECK(zero.code == 2);
  CHECK_THAT(zero.out, Catch::Contains("parameter 'clip' must be > 0"));

  auto unknown = run_program("custom_swarm", "validate " + kScenario + " --set strategy.clp=1");
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.out, Catch::Contains("did you mean 'clip'"));

  auto ok = run_program("custom_swarm", "validate " + kScenario);
  INFO(ok.out);
  CHECK(ok.code == 0);
}

TEST_CASE("the plain swarm does not know the example's strategy") {
  auto r = run_program("swarm", "validate " + kScenario);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("unknown aggregation strategy 'clipped_mean'"));
}
