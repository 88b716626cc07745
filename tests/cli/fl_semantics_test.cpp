// What a federated-learning run does, as a user reads it from the round table.

#include <catch2/catch.hpp>

#include "tests/cli/run_cli.hpp"

#include <sstream>
#include <string>
#include <vector>

using swarm::testing::swarm_cli;

namespace {

// The `used` and `short` columns of each round line of `swarm run`'s table.
std::vector<std::pair<int, int>> used_and_short(const std::string& out) {
  std::vector<std::pair<int, int>> rows;
  std::istringstream lines(out);
  bool in_table = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("round ", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table || line.empty() || line[0] == '#' || line[0] == '[') continue;
    std::istringstream f(line);
    int round, used, shortfall;
    double t, acc, loss;
    if (f >> round >> t >> acc >> loss >> used >> shortfall) rows.emplace_back(used, shortfall);
  }
  return rows;
}

}  // namespace

TEST_CASE("a fractional clients_per_round uses the same number of clients every round", "[cli][fl]") {
  auto r = swarm_cli("run -n 100 --profiles server=1.0 --clients-per-round 0.2 --synthetic -r 3 --hidden 8");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto rows = used_and_short(r.out);
  REQUIRE(rows.size() == 3);
  for (const auto& [used, shortfall] : rows) {
    CHECK(used == 20);
    CHECK(shortfall == 0);
  }
}

TEST_CASE("clients are drawn among phones that are on: every round gets its 20", "[cli][fl]") {
  auto r = swarm_cli("run -n 100 --profiles phone=1 --clients-per-round 20 --synthetic -r 3 --hidden 8");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto rows = used_and_short(r.out);
  REQUIRE(rows.size() == 3);
  for (const auto& [used, shortfall] : rows) CHECK(used + shortfall == 20);
  for (const auto& [used, shortfall] : rows) CHECK(used == 20);
}

TEST_CASE("a lone phone that is off makes the round wait in virtual time", "[cli][fl]") {
  // Seed 4 starts the phone off: the rounds used to run with no instance at 0.0 s forever.
  auto r = swarm_cli("run --synthetic -n 1 --profiles phone=1 -r 3 -s 4 --hidden 8");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto rows = used_and_short(r.out);
  REQUIRE(rows.size() == 3);
  for (const auto& [used, shortfall] : rows) CHECK(used == 1);
  CHECK(r.out.find(" 0.0 s virtual") == std::string::npos);
}

TEST_CASE("a run whose model diverges exits 1 naming the round and the task", "[cli][fl]") {
  auto r = swarm_cli("run --synthetic -r 3 -n 3 --hidden 8 --set training.lr=1e30");
  INFO(r.out);
  CHECK(r.code == 1);
  CHECK(r.out.find("diverged") != std::string::npos);
  CHECK(r.out.find("round 1") != std::string::npos);
  CHECK(r.out.find("task 'worker'") != std::string::npos);
}

TEST_CASE("a diverged run is written with its outcome, and a sweep goes on and exits 1", "[cli][fl]") {
  const auto dir = swarm::testing::fresh_dir("swarm_cli_diverged");
  const auto out = dir / "run.h5";
  auto r = swarm_cli("run --synthetic -r 3 -n 3 --hidden 8 --set training.lr=1e30 --out " + out.string());
  INFO(r.out);
  CHECK(r.code == 1);
  REQUIRE(std::filesystem::exists(out));
  auto report = swarm_cli("report " + out.string());
  INFO(report.out);
  CHECK(report.code == 0);
  CHECK(report.out.find("diverged") != std::string::npos);

  const auto file = swarm::testing::write_file(dir, "lr.yaml", R"(name: lr
data: {dataset: synthetic, samples: 600, features: 8, classes: 3}
population: {nodes: 3}
model: {hidden: [8]}
swarm: {rounds: 2}
sweep:
  training.lr: [0.05, 1.0e30]
)");
  auto sweep = swarm_cli("sweep " + file.string() + " --out " + (dir / "sweep.h5").string());
  INFO(sweep.out);
  CHECK(sweep.code == 1);
  CHECK(sweep.out.find("1 run(s) stopped early") != std::string::npos);
  auto sweep_report = swarm_cli("report " + (dir / "sweep.h5").string() + " --format csv");
  INFO(sweep_report.out);
  CHECK(sweep_report.code == 0);
  CHECK(sweep_report.out.find("1 complete") != std::string::npos);
  CHECK(sweep_report.out.find("1 diverged") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("an asynchronous run whose buffer holds every node is flagged as synchronous", "[cli][fl]") {
  // Regression: with 10 nodes and the default buffer of 10, --async ran update for update as
  // synchronous FL, and nothing said so.
  auto r = swarm_cli("run --synthetic --async -n 10 -r 1 --hidden 8");
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("warning: swarm.buffer_size (10) >= population.nodes (10)") != std::string::npos);
  auto fine = swarm_cli("run --synthetic --async -n 30 -r 1 --hidden 8");
  CHECK(fine.code == 0);
  CHECK(fine.out.find("warning") == std::string::npos);
}
