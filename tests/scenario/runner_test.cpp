#include "scenario/runner.hpp"

#include <cmath>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

#include "tests/results/run_equality.hpp"

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

namespace {

// The same run in training.mode real and timing: every round's simulated times, counts, bytes
// and FLOPs, every node row and every event of the trace must be equal; only accuracy and loss
// differ (NaN in timing mode: not computed).
void check_timing_equals_real(const std::string& text, const std::vector<Override>& overrides) {
  std::vector<Override> timing_overrides = overrides;
  timing_overrides.emplace_back("training.mode=timing");
  results::RunResult real = run(text, overrides);
  results::RunResult timing = run(text, timing_overrides);
  CHECK(real.training_mode == "real");
  CHECK(timing.training_mode == "timing");
  REQUIRE(!real.rounds.empty());
  // Every field but those of training itself: its mode and kernel, the scenario text (which
  // names the mode), host time, accuracy, loss and the model.
  swarm::testing::check_same_fields(real, timing, {"training_mode", "kernel", "scenario_text", "rounds.wall_s", "rounds.accuracy",
                                   "rounds.loss", "final_model"});
  for (const results::RoundRow& r : real.rounds) CHECK(std::isfinite(r.accuracy));
  for (const results::RoundRow& r : timing.rounds) {
    CHECK(std::isnan(r.accuracy));
    CHECK(std::isnan(r.loss));
  }
  // The comparison covers faults: some instances were lost (crash, transfer, offline).
  int lost = 0;
  for (const results::RoundRow& r : real.rounds) lost += r.lost_crash + r.lost_transfer + r.lost_offline;
  CHECK(lost > 0);
}

// Heterogeneous default population (phones and laptops go off and on), max-min network,
// crashes and transfer failures, a sample of 6 of 30 nodes over-committed by 1.5, and a
// trace to compare event by event.
const char* kTimed = R"(name: timed
seed: 5
swarm: {rounds: 5, clients_per_round: 6, overcommit: 1.5}
model: {hidden: [32]}
training: {batch_size: 20, epochs: 2, weight_decay: 0.001}
data: {dataset: synthetic, samples: 3000, features: 24, classes: 5, separation: 1.0}
population: {nodes: 30}
network: {model: maxmin, server_up_mbps: 50, server_down_mbps: 50}
faults: {crash_probability: 0.1, transfer_failure_probability: 0.1}
output: {trace: true}
)";

}  // namespace

TEST_CASE("a timing-only run has the times, bytes and FLOPs of the real run", "[runner][timing]") {
  SECTION("synchronous, IID split (a shard of each size)") { check_timing_equals_real(kTimed, {}); }
  SECTION("synchronous, sampled, aggregator and scheduler on the fastest node") {
    check_timing_equals_real(kTimed, {"data.partition=sampled", "data.samples_per_node=77",
                                      "swarm.aggregate_on=fastest_node"});
  }
  SECTION("FedBuff, FedProx, a deadline") {
    check_timing_equals_real(kTimed, {"swarm.graph=fl-async", "swarm.buffer_size=4", "swarm.concurrency=8",
                                      "training.prox_mu=0.01", "swarm.deadline_s=30"});
  }
  SECTION("Dirichlet partition (sizes from the labels)") {
    check_timing_equals_real(kTimed, {"data.partition=dirichlet", "data.alpha=0.3"});
  }
}

TEST_CASE("timing mode refuses what needs real updates or a real clock", "[runner][timing]") {
  auto message = [](const std::vector<Override>& overrides) {
    try {
      load_runs(kTimed, "t.yaml", overrides);
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(message({"training.mode=timing", "strategy.name=krum"}),
             Catch::Contains("strategy") && Catch::Contains("'krum' cannot run with training.mode: timing"));
  CHECK_THAT(message({"training.mode=timing", "attack.kind=sign_flip"}),
             Catch::Contains("attack") && Catch::Contains("training.mode: timing"));
  CHECK_THAT(message({"training.mode=timing", "backend=inprocess", "population.nodes=4", "faults.crash_probability=0",
                      "faults.transfer_failure_probability=0"}),
             Catch::Contains("mode") && Catch::Contains("simulated backends"));
  CHECK_THAT(message({"training.mode=fast"}), Catch::Contains("mode"));
  CHECK(message({"training.mode=timing"}) == "no error");
}

TEST_CASE("DataCache::shape gives the sizes of the sets get() makes, without making them", "[runner][timing]") {
  DataSpec spec;
  spec.dataset = "synthetic";
  spec.samples = 2401;  // 4 classes: 601, 600, 600, 600 samples; ceil(n / 6) of each held out
  spec.features = 16;
  spec.classes = 4;
  ml::TrainTestShape s = DataCache::shape(spec, 3);
  CHECK(s.test.samples == 101 + 100 + 100 + 100);
  CHECK(s.train.samples == 2401 - 401);
  CHECK(s.train.features == 16);
  CHECK(s.test.classes == 4);
  DataCache cache;
  ml::TrainTest tt = cache.get(spec, 3);
  CHECK(tt.train->size() == s.train.samples);
  CHECK(tt.test->size() == s.test.samples);
}
