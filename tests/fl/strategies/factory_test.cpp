// make_strategy, strategy_names and behaviour common to every strategy
// (fl/strategies/factory.cpp).

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "swarm/error.hpp"
#include "fl/strategies/common.hpp"
#include "engine/text.hpp"
#include "tests/fl/strategies/strategy_test_util.hpp"

namespace swarm::strategies {
namespace {

using testing::aggregate;
using testing::Round;

TEST_CASE("strategy_names lists every strategy, each built by make_strategy", "[strategies]") {
  const std::vector<std::string> expected{"fedavg",     "fedavgm",      "fedadam",   "fedyogi",
                                          "fedadagrad", "fedmedian",    "trimmed_mean",
                                          "krum",       "multi_krum",   "bulyan",    "fedbuff",
                                          "dp_fedavg"};
  REQUIRE(strategy_names() == expected);
  for (const std::string& name : strategy_names()) {
    CHECK(make_strategy({{"strategy", name}})->name() == name);
  }
  // No strategy named: FedAvg, as the aggregator did before strategies.
  CHECK(make_strategy(Dict::object())->name() == "fedavg");
  CHECK(make_strategy(Dict())->name() == "fedavg");
}

TEST_CASE("make_strategy suggests the closest name for an unknown strategy", "[strategies]") {
  REQUIRE_THROWS_WITH(make_strategy({{"strategy", "fedadm"}}),
                      Catch::Contains("unknown aggregation strategy 'fedadm'") &&
                          Catch::Contains("did you mean 'fedadam'?"));
  REQUIRE_THROWS_WITH(make_strategy({{"strategy", "multikrum"}}),
                      Catch::Contains("did you mean 'multi_krum'?"));
  // Nothing close: no suggestion, the list of names instead.
  REQUIRE_THROWS_WITH(make_strategy({{"strategy", "sgd"}}),
                      !Catch::Contains("did you mean") && Catch::Contains("known: fedavg"));
  REQUIRE_THROWS_AS(make_strategy({{"strategy", 3}}), UsageError);
  REQUIRE_THROWS_AS(make_strategy(Dict::array()), UsageError);
}

TEST_CASE("make_strategy rejects a parameter the strategy does not have", "[strategies]") {
  REQUIRE_THROWS_WITH(make_strategy({{"strategy", "fedadam"}, {"beta3", 0.5}}),
                      Catch::Contains("strategy 'fedadam' has no parameter 'beta3'") &&
                          Catch::Contains("did you mean 'beta1'?") &&
                          Catch::Contains("its parameters: server_lr, beta1, beta2, tau"));
  // FedAdagrad has no second-moment decay.
  REQUIRE_THROWS_WITH(make_strategy({{"strategy", "fedadagrad"}, {"beta2", 0.9}}),
                      Catch::Contains("has no parameter 'beta2'"));
  REQUIRE_THROWS_WITH(make_strategy({{"strategy", "krum"}, {"num_selected", 2}}),
                      Catch::Contains("'krum' has no parameter 'num_selected'"));
  REQUIRE_THROWS_WITH(make_strategy({{"strategy", "fedavg"}, {"severlr", 1}}),
                      Catch::Contains("did you mean 'server_lr'?"));
}

TEST_CASE("make_strategy rejects out-of-range parameters, naming them", "[strategies]") {
  struct Case {
    Dict config;
    const char* message;
  };
  const std::vector<Case> cases{
      {{{"strategy", "fedavg"}, {"server_lr", -0.1}}, "'server_lr' must be > 0, got -0.1"},
      {{{"strategy", "fedadam"}, {"server_lr", 0}}, "'server_lr' must be > 0, got 0"},
      {{{"strategy", "fedavgm"}, {"beta", 1.0}}, "'beta' must be in [0, 1), got 1.0"},
      {{{"strategy", "fedavgm"}, {"beta", -0.5}}, "'beta' must be in [0, 1)"},
      {{{"strategy", "fedyogi"}, {"beta1", 1}}, "'beta1' must be in [0, 1)"},
      {{{"strategy", "fedadam"}, {"beta2", 1.5}}, "'beta2' must be in [0, 1)"},
      {{{"strategy", "fedadam"}, {"tau", 0}}, "'tau' must be > 0"},
      {{{"strategy", "trimmed_mean"}, {"trim_ratio", 0.5}}, "'trim_ratio' must be in [0, 0.5)"},
      {{{"strategy", "trimmed_mean"}, {"trim_ratio", -0.1}}, "'trim_ratio' must be in [0, 0.5)"},
      {{{"strategy", "krum"}, {"num_byzantine", -1}}, "'num_byzantine' must be an integer >= 0"},
      {{{"strategy", "bulyan"}, {"num_byzantine", 1.5}},
       "'num_byzantine' must be an integer >= 0"},
      {{{"strategy", "multi_krum"}, {"num_selected", 0}}, "'num_selected' must be an integer >= 1"},
      {{{"strategy", "fedbuff"}, {"staleness_exponent", -1}}, "'staleness_exponent' must be >= 0"},
      {{{"strategy", "dp_fedavg"}, {"clip_norm", 0}}, "'clip_norm' must be > 0"},
      {{{"strategy", "dp_fedavg"}, {"noise_multiplier", -1}}, "'noise_multiplier' must be >= 0"},
      {{{"strategy", "fedavg"}, {"server_lr", "fast"}},
       "'server_lr' must be a number, got \"fast\""},
      {{{"strategy", "fedavgm"}, {"beta", true}}, "'beta' must be a number, got true"},
  };
  for (const Case& c : cases) {
    INFO(c.config.dump());
    REQUIRE_THROWS_AS(make_strategy(c.config), UsageError);
    REQUIRE_THROWS_WITH(make_strategy(c.config), Catch::Contains(c.message));
  }
  // The edges that are allowed.
  CHECK_NOTHROW(make_strategy({{"strategy", "fedavgm"}, {"beta", 0}}));
  CHECK_NOTHROW(make_strategy({{"strategy", "trimmed_mean"}, {"trim_ratio", 0}}));
  CHECK_NOTHROW(make_strategy({{"strategy", "krum"}, {"num_byzantine", 2.0}}));
  CHECK_NOTHROW(make_strategy({{"strategy", "dp_fedavg"}, {"noise_multiplier", 0}}));
}

TEST_CASE("every strategy leaves the model alone without updates", "[strategies]") {
  Round none(std::vector<std::vector<float>>{});
  for (const std::string& name : strategy_names()) {
    std::vector<float> params{1, 2, 3}, state;
    const AggregateReport report = aggregate({{"strategy", name}}, params, none, state);
    INFO(name);
    CHECK(params == std::vector<float>{1, 2, 3});
    CHECK(state.empty());
    CHECK(report.used == 0);
  }
}

TEST_CASE("averaging and robust rules move by the common update when all agree", "[strategies]") {
  // Seven identical updates {0.5, -1, 2}: every mean, median, trimmed mean and selection of
  // them is that update, whatever the weights; server_lr 2 doubles it.
  Round round(std::vector<std::vector<float>>(7, {0.5f, -1, 2}), {1, 2, 3, 4, 5, 6, 7},
              {0, 1, 0, 2, 0, 0, 3});
  for (const char* name : {"fedavg", "fedmedian", "trimmed_mean", "krum", "multi_krum", "bulyan"}) {
    std::vector<float> params{0, 0, 0};
    aggregate({{"strategy", name}, {"server_lr", 2}}, params, round);
    INFO(name);
    CHECK(params[0] == Approx(1));
    CHECK(params[1] == Approx(-2));
    CHECK(params[2] == Approx(4));
  }
  // FedBuff with no staleness exponent is the same.
  std::vector<float> params{0, 0, 0};
  aggregate({{"strategy", "fedbuff"}, {"staleness_exponent", 0}}, params, round);
  CHECK(params[0] == Approx(0.5));
}

TEST_CASE("every strategy refuses a delta of the wrong size", "[strategies]") {
  Round round({{1, 2}, {3, 4, 5}});
  for (const std::string& name : strategy_names()) {
    std::vector<float> params{0, 0};
    INFO(name);
    CHECK_THROWS_AS(aggregate({{"strategy", name}}, params, round), UsageError);
  }
}

TEST_CASE("edit distance counts insertions, deletions and substitutions", "[strategies]") {
  CHECK(edit_distance("kitten", "sitting") == 3);  // k->s, e->i, +g
  CHECK(edit_distance("fedadm", "fedadam") == 1);
  CHECK(edit_distance("", "krum") == 4);
  CHECK(edit_distance("krum", "krum") == 0);
  CHECK(did_you_mean("bulian", strategy_names()) == " (did you mean 'bulyan'?)");
  CHECK(did_you_mean("xyz", strategy_names()).empty());
}

}  // namespace
}  // namespace swarm::strategies
