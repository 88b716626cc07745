#include "scenario/runner.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

using namespace swarm;
using namespace swarm::scenario;

namespace {

results::RunResult run(const std::string& text, const std::vector<Override>& overrides = {}) {
  std::vector<Scenario> runs = load_runs(text, "test.yaml", overrides);
  REQUIRE(runs.size() == 1);
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  DataCache cache;
  return run_scenario(runs[0], {2, logger, {}, "test"}, cache);
}

const char* kSmall = R"(name: small
seed: 3
swarm: {rounds: 4}
model: {hidden: [16]}
training: {batch_size: 16}
data: {dataset: synthetic, samples: 2400, features: 16, classes: 4, separation: 1.0}
population: {nodes: 8}
)";

}  // namespace

TEST_CASE("a scenario runs and returns its rounds, nodes and model", "[runner]") {
  results::RunResult r = run(kSmall);
  REQUIRE(r.rounds.size() == 4);
  CHECK(r.rounds.back().accuracy > 0.5);  // 4 classes: chance is 0.25
  CHECK(r.rounds.back().t_end_s > r.rounds.front().t_end_s);
  REQUIRE(r.nodes.size() == 8);
  int64_t samples = 0;
  for (const auto& n : r.nodes) samples += n.samples;
  CHECK(samples == 2000);  // 5/6 of 2400 for training, split over the nodes
  // 16 inputs -> 16 hidden -> 4 classes: 16*16 + 16 + 16*4 + 4 = 340 parameters.
  CHECK(r.final_model.size() == 340);
  CHECK(r.seed == 3);
  CHECK(r.scenario_text.find("small") != std::string::npos);
}

TEST_CASE("the same scenario gives the same result whatever the threads", "[runner]") {
  std::vector<Scenario> runs = load_runs(kSmall, "test.yaml");
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  DataCache cache;
  results::RunResult a = run_scenario(runs[0], {1, logger, {}, "t"}, cache);
  results::RunResult b = run_scenario(runs[0], {2, logger, {}, "t"}, cache);
  CHECK(a.final_model == b.final_model);
  REQUIRE(a.rounds.size() == b.rounds.size());
  for (size_t i = 0; i < a.rounds.size(); ++i) CHECK(a.rounds[i].t_end_s == b.rounds[i].t_end_s);
}

TEST_CASE("attackers are chosen, marked, and hurt FedAvg more than the median", "[runner]") {
  const std::string attacked = std::string(kSmall) + "attack: {kind: sign_flip, share: 0.25, scale: 4}\n";
  results::RunResult avg = run(attacked, {"strategy.name=fedavg"});
  results::RunResult med = run(attacked, {"strategy.name=fedmedian"});
  int byzantine = 0;
  for (const auto& n : avg.nodes) byzantine += n.byzantine;
  CHECK(byzantine == 2);  // 25% of 8
  CHECK(med.rounds.back().accuracy > avg.rounds.back().accuracy);
}

TEST_CASE("non-IID partitions are summarized per node", "[runner]") {
  results::RunResult r = run(std::string(kSmall) + "", {"data.partition=shards", "data.shards_per_node=1"});
  for (const auto& n : r.nodes) CHECK(n.classes <= 2);
}

TEST_CASE("a graph declared in the file runs like the built-in one", "[runner]") {
  const std::string custom = std::string(kSmall) + R"(
)";
  results::RunResult r = run(std::string(R"(name: custom
seed: 3
swarm:
  graph: custom
  rounds: 3
  tasks:
    - {alias: worker, module: fl.worker, method: any, maximum: 4}
    - {alias: aggregator, module: fl.aggregator, method: best_resources, maximum: 1}
    - {alias: scheduler, module: fl.scheduler, method: best_resources, maximum: 1}
  edges:
    - {from: worker, to: aggregator, condition: result, tag: update, min_results: 2}
    - {from: aggregator, to: scheduler}
model: {hidden: [16]}
data: {dataset: synthetic, samples: 2400, features: 16, classes: 4, separation: 1.0}
population: {nodes: 8}
)"));
  REQUIRE(r.rounds.size() == 3);
  CHECK(r.rounds.back().participants >= 2);
}

TEST_CASE("a declared graph with an unknown module is refused", "[runner]") {
  CHECK_THROWS_WITH(run(R"(name: bad
swarm:
  graph: custom
  tasks:
    - {alias: w, module: fl.wroker}
data: {dataset: synthetic}
)"),
                    Catch::Contains("unknown module 'fl.wroker'"));
}
