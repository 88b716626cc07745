// A user's program (user_swarm.cpp) that adds a module and a backend to the registries and
// runs swarm::cli::main: scenario files name them in a custom graph and in `backend:`, with
// the built-ins' checks and "did you mean" messages; the plain `swarm` does not know them.

#include <regex>

#include <catch2/catch.hpp>

#include "tests/cli/run_cli.hpp"

using swarm::testing::fresh_dir;
using swarm::testing::final_accuracy;
using swarm::testing::run_program;
using swarm::testing::write_file;

namespace {

// A custom graph: my.worker trains on 4 of the 6 nodes, fl.aggregator averages, my.counter
// counts the workers that ran, fl.scheduler evaluates and samples the next round's 4.
std::string scenario(const std::string& worker_module, const std::string& backend_lines) {
  return "name: user\nseed: 2\n" + backend_lines +
         "swarm:\n  graph: custom\n  rounds: 6\n  clients_per_round: 4\n  tasks:\n"
         "    - {alias: worker, module: " + worker_module + ", method: any, maximum: 4}\n"
         "    - {alias: aggregator, module: fl.aggregator, method: server}\n"
         "    - {alias: counter, module: my.counter, method: server}\n"
         "    - {alias: scheduler, module: fl.scheduler, method: server}\n"
         "  edges:\n"
         "    - {from: worker, to: aggregator}\n    - {from: aggregator, to: counter}\n"
         "    - {from: counter, to: scheduler}\n"
         "model: {hidden: [16]}\ntraining: {lr: 0.1}\ndata: {dataset: synthetic, samples: 1200}\n"
         "population: {nodes: 6}\n";
}


}  // namespace

TEST_CASE("a user's CLI runs a custom graph of its own modules and the built-ins, and it learns", "[cli][registry]") {
  const auto dir = fresh_dir("swarm_user_cli_run");
  const auto file = write_file(dir, "s.yaml", scenario("my.worker", "backend: inprocess\n"));
  auto r = run_program("user_swarm", "run " + file.string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  // The counter saw the 4 sampled workers in every round.
  for (int round = 1; round <= 6; ++round) {
    CHECK_THAT(r.out, Catch::Contains("my.counter: round " + std::to_string(round) + " saw 4 worker(s)"));
  }
  CHECK(final_accuracy(r.out) > 0.5);  // 4 synthetic classes: chance is 0.25
  std::filesystem::remove_all(dir);
}

TEST_CASE("a user's module name is checked like a built-in's", "[cli][registry]") {
  const auto dir = fresh_dir("swarm_user_cli_module");
  const auto misspelt = write_file(dir, "s.yaml", scenario("my.wroker", ""));
  auto r = run_program("user_swarm", "validate " + misspelt.string());
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("unknown module 'my.wroker' (did you mean 'my.worker'?)"));
  // The plain swarm knows neither of the user's modules.
  const auto good = write_file(dir, "good.yaml", scenario("my.worker", ""));
  auto plain = run_program("swarm", "validate " + good.string());
  INFO(plain.out);
  CHECK(plain.code == 2);
  CHECK_THAT(plain.out, Catch::Contains("unknown module 'my.worker'"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a user's backend is chosen by name and given its declared backend_options", "[cli][registry]") {
  const auto dir = fresh_dir("swarm_user_cli_backend");
  const auto file = write_file(dir, "s.yaml", scenario("my.worker", "backend: counting\nbackend_options: {note: hello}\n"));
  auto r = run_program("user_swarm", "run " + file.string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("counting backend: 6 node(s), note=hello"));
  CHECK_THAT(r.out, Catch::Contains("counting, in-process"));  // the run header's description

  const auto unknown = write_file(dir, "u.yaml", scenario("my.worker", "backend: counting\nbackend_options: {nte: x}\n"));
  auto bad = run_program("user_swarm", "validate " + unknown.string());
  INFO(bad.out);
  CHECK(bad.code == 2);
  CHECK_THAT(bad.out, Catch::Contains("nte") && Catch::Contains("did you mean 'note'"));

  const auto misspelt = write_file(dir, "m.yaml", scenario("my.worker", "backend: countnig\n"));
  auto wrong = run_program("user_swarm", "validate " + misspelt.string());
  INFO(wrong.out);
  CHECK(wrong.code == 2);
  CHECK_THAT(wrong.out, Catch::Contains("did you mean 'counting'"));
  std::filesystem::remove_all(dir);
}

// Issue 11: a task that throws on a node comes back failed with its message, and the run ends
// as the same run in-process does.
TEST_CASE("a task that throws on a real node fails the run with its message, as in-process", "[cli][deploy]") {
  const auto dir = fresh_dir("swarm_user_cli_flaky");
  const auto file = write_file(dir, "s.yaml", scenario("my.flaky", "backend: inprocess\n"));
  const std::string message = "task 'worker' failed on node 1 in iteration 1: my.flaky: node 1 gives up in round 2";
  auto inprocess = run_program("user_swarm", "run " + file.string());
  INFO(inprocess.out);
  CHECK(inprocess.code == 1);
  CHECK_THAT(inprocess.out, Catch::Contains(message));
  auto deployed = run_program("user_swarm", "deploy " + file.string() + " --launcher local --nodes 6");
  INFO(deployed.out);
  CHECK(deployed.code == 1);
  CHECK_THAT(deployed.out, Catch::Contains(message));
  std::filesystem::remove_all(dir);
}
