// scenario/calibration.*: speeds and links fitted to real nodes' instances, the population
// file the simulator reads back, and the comparison of a prediction with a measured run.

#include "scenario/calibration.hpp"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "scenario/scenario.hpp"
#include "sim/population.hpp"
#include "swarm/error.hpp"

using namespace swarm;
using namespace swarm::scenario;

namespace {

constexpr Nanos kSecond = 1'000'000'000;

InstanceRecord worker(int iteration, NodeId node, Nanos start, Nanos end, Nanos task, uint64_t flops, uint64_t bytes) {
  return {iteration, true, node, start, end, task, flops, bytes};
}

InstanceRecord server(int iteration, Nanos start, Nanos end, uint64_t flops) {
  return {iteration, false, kServerNode, start, end, 0, flops, 0};
}

// Two nodes over two rounds; round 1 (iteration 0) is a warm-up with other speeds.
std::vector<InstanceRecord> probe() {
  return {
      worker(0, 0, 0, 9 * kSecond, 8 * kSecond, 1'000'000'000, 1'000'000),  // slow warm-up, ignored
      worker(1, 0, 0, 3 * kSecond / 2, kSecond, 2'000'000'000, 1'000'000),
      worker(1, 1, 0, 3 * kSecond, 2 * kSecond, 2'000'000'000, 4'000'000),
      worker(2, 0, 0, 3 * kSecond / 2, kSecond, 2'000'000'000, 1'000'000),
      worker(2, 1, 0, 3 * kSecond, 2 * kSecond, 2'000'000'000, 4'000'000),
      server(1, 3 * kSecond, 7 * kSecond / 2, 1'000'000'000),
      server(2, 3 * kSecond, 7 * kSecond / 2, 1'000'000'000),
  };
}

}  // namespace

TEST_CASE("a node's speed is its FLOPs over its task time, its link its bytes over the rest", "[calibration]") {
  const CalibrationFit fit = fit_population(probe(), 2, 1);
  REQUIRE(fit.nodes.size() == 2);
  // Node 0: 4e9 FLOPs in 2 s of task = 2e9 FLOP/s; 2e6 bytes in 2 x (1.5 - 1) s = 2e6 B/s.
  CHECK(fit.nodes[0].flops_per_s == Approx(2e9));
  CHECK(fit.nodes[0].link_bytes_per_s == Approx(2e6));
  CHECK(fit.nodes[0].instances == 2);
  // Node 1: 4e9 in 4 s = 1e9; 8e6 bytes in 2 x 1 s = 4e6 B/s.
  CHECK(fit.nodes[1].flops_per_s == Approx(1e9));
  CHECK(fit.nodes[1].link_bytes_per_s == Approx(4e6));
  // The server: 2e9 FLOPs in 2 x 0.5 s.
  CHECK(fit.server_flops_per_s == Approx(2e9));
  // From the first round on, the warm-up counts: node 0 did 5e9 in 10 s.
  CHECK(fit_population(probe(), 2, 0).nodes[0].flops_per_s == Approx(5e8));
}

TEST_CASE("a fit needs every node measured, on real nodes", "[calibration]") {
  CHECK_THROWS_WITH(fit_population(probe(), 3, 1), Catch::Contains("node 2 completed no training"));
  std::vector<InstanceRecord> simulated = probe();
  simulated[1].task_ns = 0;
  CHECK_THROWS_WITH(fit_population(simulated, 2, 1), Catch::Contains("reported no task time"));
}

TEST_CASE("the population file gives the simulator each node's own speed and link, by node id", "[calibration]") {
  const CalibrationFit fit = fit_population(probe(), 2, 1);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "swarm_calibration_test";
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "pop.yaml";
  std::ofstream(file) << population_yaml(fit, "a test\nof two lines");
  const Scenario sc = load_runs("name: c\ndata: {dataset: synthetic}\npopulation: {from: " + file.string() + "}\n", "c.yaml")[0];
  const sim::Population population(sc.population);
  REQUIRE(population.size() == 2);
  CHECK(population.flops(0) == Approx(2e9).epsilon(1e-5));
  CHECK(population.flops(1) == Approx(1e9).epsilon(1e-5));
  CHECK(population.up_bytes_per_s(0) == Approx(2e6).epsilon(1e-5));
  CHECK(population.down_bytes_per_s(1) == Approx(4e6).epsilon(1e-5));
  CHECK(population.latency_s(1) == 0);
  CHECK(sc.sim.server_flops == Approx(2e9).epsilon(1e-5));
  // The scenario's own keys win over the file's.
  const Scenario mine = load_runs("name: c\ndata: {dataset: synthetic}\npopulation: {from: " + file.string() +
                                      "}\nnetwork: {server_flops: 5e9}\n", "c.yaml")[0];
  CHECK(mine.sim.server_flops == 5e9);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a bad population file is refused, naming it", "[calibration][scenario]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "swarm_calibration_bad";
  std::filesystem::create_directories(dir);
  auto load_with = [&](const std::string& content) {
    std::ofstream(dir / "p.yaml") << content;
    return load_runs("name: c\ndata: {dataset: synthetic}\npopulation: {from: " + (dir / "p.yaml").string() + "}\n", "c.yaml");
  };
  CHECK_THROWS_WITH(load_runs("name: c\npopulation: {from: /nonexistent/p.yaml}\n", "c.yaml"),
                    Catch::StartsWith("c.yaml:2:") && Catch::Contains("cannot read the population file"));
  CHECK_THROWS_WITH(load_with("population: {nodes: 2}\nnetwerk: {}\n"),
                    Catch::Contains("p.yaml:2:1: unknown key 'netwerk'") && Catch::Contains("did you mean 'network'"));
  CHECK_THROWS_WITH(load_with("population: {nodes: 2, profiles: [{count: 1, flops: -1}, {count: 1}]}\n"),
                    Catch::Contains("p.yaml:1:") && Catch::Contains("(population.from)") && Catch::Contains("flops"));
  CHECK_THROWS_WITH(load_with("population: [1, 2]\n"), Catch::Contains("p.yaml:1:13: population: expected a map"));
  CHECK_THROWS_WITH(load_with("population: {from: other.yaml}\n"), Catch::Contains("cannot name another one"));
  CHECK_THROWS_WITH(load_with("population: {nodes: [\n"), Catch::Contains("p.yaml") && Catch::Contains("malformed YAML"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a prediction is compared round by round with the measured run", "[calibration]") {
  const CalibrationFit fit = fit_population(probe(), 2, 1);
  results::RunResult predicted, measured;
  predicted.rounds.resize(3);
  measured.rounds.resize(3);
  for (int i = 0; i < 3; ++i) {
    predicted.rounds[i].round = measured.rounds[i].round = i + 1;
    predicted.rounds[i].t_start_s = measured.rounds[i].t_start_s = 10.0 * i;
    predicted.rounds[i].t_end_s = 10.0 * i + 4;
    measured.rounds[i].t_end_s = 10.0 * i + 4 + (i == 2 ? 1 : 0);  // round 3: 5 s measured for 4 predicted
    measured.rounds[i].coordinator_s = 0.1;
  }
  std::vector<InstanceRecord> measured_records = {worker(0, 1, 0, 4 * kSecond, 2 * kSecond, 2'000'000'000, 4'000'000)};
  const CalibrationReport r = compare_runs(predicted, {}, measured, measured_records, fit);
  REQUIRE(r.rounds.size() == 3);
  CHECK(r.rounds[2].error() == Approx(-0.2));  // (4 - 5) / 5
  CHECK(r.median_abs_error == 0);              // errors 0, 0, 0.2
  CHECK(r.rounds[0].measured_workers_s == 4);
  CHECK(r.coordinator_s == Approx(0.3));
  CHECK(r.measured_total_s == Approx(13));
  // Node 1 at 1e9 FLOP/s and 4e6 B/s: 2 s of training and 1 s of transfer predicted, for 2 s
  // and 2 s measured.
  CHECK(r.predicted_compute_s == Approx(2));
  CHECK(r.measured_compute_s == Approx(2));
  CHECK(r.predicted_transfer_s == Approx(1));
  CHECK(r.measured_transfer_s == Approx(2));
}
