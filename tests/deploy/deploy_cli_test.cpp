// `swarm deploy` end to end on loopback: 4 local node processes learn, with the very same
// per-round numbers as `swarm run --backend inprocess`; `swarm keys`; a node with a key the
// coordinator does not allow is refused.

#include <fstream>
#include <map>
#include <sstream>
#include <regex>

#include <catch2/catch.hpp>

#include "results/results.hpp"
#include "swarm/ml/kernel.hpp"
#include "tests/cli/run_cli.hpp"

using swarm::testing::fresh_dir;
using swarm::testing::swarm_cli;
using swarm::testing::write_file;

namespace {

const char* kScenario = "name: d\nseed: 3\nswarm: {rounds: 4, clients_per_round: 4}\nmodel: {hidden: [16]}\n"
                        "training: {lr: 0.1}\ndata: {dataset: synthetic, samples: 1200}\npopulation: {nodes: 4}\n";

// "round accuracy loss used" of every round line.
std::vector<std::string> rounds(const std::string& out) {
  std::vector<std::string> rows;
  const std::regex row(R"(^\s+(\d+)\s+[0-9.]+\s+([0-9.]+)\s+([0-9.]+)\s+(\d+))");
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) rows.push_back(m[1].str() + " " + m[2].str() + " " + m[3].str() + " " + m[4].str());
  }
  return rows;
}

}  // namespace

TEST_CASE("swarm deploy runs 4 local nodes that learn, with the numbers of an in-process run", "[deploy][cli]") {
  const auto dir = fresh_dir("swarm_deploy_cli");
  const auto file = write_file(dir, "d.yaml", kScenario);
  auto deployed = swarm_cli("deploy " + file.string() + " --launcher local --out " + (dir / "d.h5").string());
  INFO(deployed.out);
  REQUIRE(deployed.code == 0);
  CHECK_THAT(deployed.out, Catch::Contains("4 nodes (real nodes, wall clock)"));
  auto local = swarm_cli("run " + file.string() + " --backend inprocess");
  INFO(local.out);
  REQUIRE(local.code == 0);
  const auto a = rounds(deployed.out), b = rounds(local.out);
  REQUIRE(a.size() == 4);
  CHECK(a == b);
  CHECK(swarm::testing::final_accuracy(deployed.out) > 0.4);  // 4 classes: chance is 0.25

  // The results: real bytes on the wire per round and per node, every node's measured speed
  // and kernel, and the trace of every instance's start and end as they happened.
  const std::vector<swarm::results::RunResult> runs = swarm::results::read_results(dir / "d.h5");
  REQUIRE(runs.size() == 1);
  const swarm::results::RunResult& run = runs[0];
  REQUIRE(run.rounds.size() == 4);
  uint64_t round_up = 0, round_down = 0, node_up = 0, node_down = 0;
  for (const auto& r : run.rounds) {
    // A round moves 4 updates up and 4 models down: more than the payload, ZeroMQ's framing
    // and the messages' headers included.
    CHECK(r.wire_bytes_up > r.bytes_up);
    CHECK(r.wire_bytes_down > r.bytes_down);
    round_up += r.wire_bytes_up, round_down += r.wire_bytes_down;
  }
  REQUIRE(run.nodes.size() == 4);
  for (const auto& n : run.nodes) {
    CHECK(n.flops_per_s > 1e8);
    CHECK(!n.kernel.empty());
    CHECK(n.wire_bytes_up > 0);
    CHECK(n.wire_bytes_down > 0);
    node_up += n.wire_bytes_up, node_down += n.wire_bytes_down;
  }
  // The coordinator's own work is measured apart from waiting for the nodes and running the
  // server's tasks: were waiting counted in, it would exceed the rounds' wall time.
  double own = 0, wall = 0;
  for (const auto& r : run.rounds) {
    CHECK(r.coordinator_s > 0);
    own += r.coordinator_s, wall += r.wall_s;
  }
  CHECK(own < wall);
  CHECK_THAT(deployed.out, Catch::Contains("coordinator's own work"));
  // The nodes' bytes are the rounds' and what came before round 1 (registration) or after the
  // last (heartbeats, bye): not less.
  CHECK(node_up >= round_up - round_up / 100);
  CHECK(node_down >= round_down - round_down / 100);
  // Every worker instance starts, then completes, and the trace is in time order.
  std::map<uint64_t, std::vector<std::string>> events;
  for (size_t i = 0; i < run.trace.size(); ++i) {
    const auto& t = run.trace[i];
    if (i > 0) CHECK(t.time_s >= run.trace[i - 1].time_s - 1e-3);  // server completions: start + wall
    if (t.task == "worker") events[t.instance].push_back(t.event);
  }
  CHECK(events.size() == 16);
  for (const auto& [instance, e] : events) CHECK(e == std::vector<std::string>{"start", "complete"});

  // In-process, there is no wire and no trace.
  auto inprocess = swarm_cli("run " + file.string() + " --backend inprocess --out " + (dir / "i.h5").string());
  REQUIRE(inprocess.code == 0);
  const auto local_runs = swarm::results::read_results(dir / "i.h5");
  REQUIRE(local_runs.size() == 1);
  for (const auto& r : local_runs[0].rounds) CHECK(r.wire_bytes_up + r.wire_bytes_down + r.coordinator_s == 0);
  CHECK(local_runs[0].trace.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a scenario's deploy section says how swarm deploy runs it; swarm run simulates it", "[deploy][cli]") {
  const auto dir = fresh_dir("swarm_deploy_section");
  // Plain TCP and a heartbeat of 50 ms, from the file alone (no flag).
  const auto file = write_file(dir, "d.yaml", std::string(kScenario) + "deploy: {curve: false, heartbeat_ms: 50}\n");
  auto deployed = swarm_cli("deploy " + file.string() + " --verbose");
  INFO(deployed.out);
  REQUIRE(deployed.code == 0);
  CHECK_THAT(deployed.out, Catch::Contains("4 nodes (real nodes, wall clock)"));
  CHECK_THAT(deployed.out, Catch::Contains("--insecure"));  // the nodes were started without CURVE keys
  auto simulated = swarm_cli("run " + file.string());
  INFO(simulated.out);
  REQUIRE(simulated.code == 0);
  CHECK_THAT(simulated.out, Catch::Contains("4 nodes (simulated)"));
  // A flag wins over the file: the launcher none of the file gives way to --launcher local.
  const auto none = write_file(dir, "n.yaml", std::string(kScenario) + "deploy: {launcher: none, bind: 'tcp://127.0.0.1:1', register_timeout_s: 30}\n");
  auto launched = swarm_cli("deploy " + none.string() + " --launcher local --set backend_options.bind=tcp://127.0.0.1:0");
  INFO(launched.out);
  CHECK(launched.code == 0);
  auto bad = swarm_cli("deploy " + write_file(dir, "b.yaml", std::string(kScenario) + "deploy: {launcher: ssh}\n").string());
  CHECK(bad.code == 2);
  CHECK_THAT(bad.out, Catch::Contains("unknown launcher 'ssh'"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a coordinator refuses a node whose key it does not allow", "[deploy][cli]") {
  const auto dir = fresh_dir("swarm_deploy_refuse");
  REQUIRE(swarm_cli("keys server --dir " + (dir / "keys").string()).code == 0);
  REQUIRE(swarm_cli("keys node-0 --dir " + (dir / "keys").string()).code == 0);
  REQUIRE(swarm_cli("keys stranger --dir " + (dir / "other").string()).code == 0);
  std::filesystem::create_directories(dir / "allow");
  std::filesystem::copy_file(dir / "keys" / "node-0.key", dir / "allow" / "node-0.key");
  const auto file = write_file(dir, "d.yaml", std::string(kScenario) + "backend_options: {register_timeout_s: 2}\n");
  std::filesystem::create_directories(dir / "stranger");
  write_file(dir / "stranger", "shard.json", R"({"format": "swarmsim-shard", "version": 1, "node": 0, "datasets": {}})");
  // The stranger's node runs in the background while the coordinator waits 2 s for node 0,
  // refusing the stranger's handshake, and gives up; the node is then stopped by its PID.
  const std::string bin = swarm::testing::bin_dir();
  const std::string node = bin + "/swarm node --connect tcp://127.0.0.1:45731 --server-key " +
                           (dir / "keys/server.key").string() + " --key " + (dir / "other/stranger.key_secret").string() +
                           " --data " + (dir / "stranger").string();
  const std::string script = node + " 2>/dev/null & npid=$!; " + bin + "/swarm coordinator " + file.string() +
                             " --nodes 1 --bind tcp://127.0.0.1:45731 --keys " + (dir / "keys").string() + " --allow " +
                             (dir / "allow").string() + " 2>&1; code=$?; kill $npid; wait $npid; exit $code";
  const swarm::testing::CliResult r = swarm::testing::run_shell(script);
  CHECK(r.code == 2);
  INFO(r.out);
  CHECK_THAT(r.out, Catch::Contains("refused a connection from 127.0.0.1 with a key not in the allowed folder"));
  CHECK_THAT(r.out, Catch::Contains("nodes 0 did not register within 2 s"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("swarm calibrate measures local nodes, writes a population the simulator reads, and compares", "[deploy][cli][calibration]") {
  const auto dir = fresh_dir("swarm_calibrate_cli");
  const auto file = write_file(dir, "c.yaml",
                               "name: c\nseed: 5\nswarm: {rounds: 3, clients_per_round: -1}\nmodel: {hidden: [16]}\n"
                               "data: {dataset: synthetic, samples: 1200}\npopulation: {nodes: 3}\n");
  const auto population = dir / "c.population.yaml";
  auto cal = swarm_cli("calibrate " + file.string() + " --probe-rounds 2 --population " + population.string() +
                       " --report " + (dir / "r.csv").string());
  INFO(cal.out);
  REQUIRE(cal.code == 0);
  CHECK_THAT(cal.out, Catch::Contains("median error"));
  CHECK_THAT(cal.out, Catch::Contains("coordinator's own work"));
  // One CSV line per round of the real run, with a measured and a predicted time.
  std::ifstream csv(dir / "r.csv");
  std::string line;
  std::getline(csv, line);
  CHECK(line.rfind("round,predicted_s,measured_s,", 0) == 0);
  std::vector<std::string> predicted;
  while (std::getline(csv, line)) {
    std::stringstream row(line);
    std::string round, p, m;
    std::getline(row, round, ',');
    std::getline(row, p, ',');
    std::getline(row, m, ',');
    CHECK(std::stod(p) > 0);
    CHECK(std::stod(m) > 0);
    predicted.push_back(p);
  }
  CHECK(predicted.size() == 3);
  // The population file is a scenario's: simulating with it predicts the very same rounds.
  auto sim = swarm_cli("run " + file.string() + " --set population.from=" + population.string() + " --metrics " +
                       (dir / "m.csv").string());
  INFO(sim.out);
  REQUIRE(sim.code == 0);
  std::ifstream metrics(dir / "m.csv");
  std::getline(metrics, line);
  for (const std::string& p : predicted) {
    REQUIRE(std::getline(metrics, line));
    std::stringstream row(line);
    std::string round, start, end;
    std::getline(row, round, ',');
    std::getline(row, start, ',');
    std::getline(row, end, ',');
    CHECK(std::stod(end) - std::stod(start) == Approx(std::stod(p)).epsilon(1e-9));
  }
  // Nodes it cannot start are refused before anything runs.
  auto none = swarm_cli("calibrate " + write_file(dir, "n.yaml", "name: n\ndeploy: {launcher: none}\n").string());
  CHECK(none.code == 2);
  CHECK_THAT(none.out, Catch::Contains("calibrate starts the nodes it measures"));
  std::filesystem::remove_all(dir);
}

// Issue 13: the run's GEMM kernel reaches the nodes (in the coordinator's welcome), and a
// deployment on a kernel gives the bits of an in-process run on that kernel.
TEST_CASE("swarm deploy computes on the run's kernel, as an in-process run on it", "[deploy][cli][kernel]") {
  const auto dir = fresh_dir("swarm_deploy_cli_kernel");
  const auto file = write_file(dir, "d.yaml", kScenario);
  std::vector<std::vector<float>> models;
  for (swarm::ml::Kernel k : swarm::ml::available_kernels()) {
    const std::string name(swarm::ml::kernel_name(k));
    const std::string label = name + ": " + swarm::ml::kernel_identity(k);
    const auto deployed = swarm_cli("deploy " + file.string() + " --launcher local --kernel " + name + " --out " +
                                    (dir / (name + "-nodes.h5")).string());
    INFO(deployed.out);
    REQUIRE(deployed.code == 0);
    const auto local = swarm_cli("run " + file.string() + " --backend inprocess --kernel " + name + " --out " +
                                 (dir / (name + "-local.h5")).string());
    INFO(local.out);
    REQUIRE(local.code == 0);
    const swarm::results::RunResult on_nodes = swarm::results::read_results(dir / (name + "-nodes.h5"))[0];
    const swarm::results::RunResult in_process = swarm::results::read_results(dir / (name + "-local.h5"))[0];
    CHECK(on_nodes.kernel == label);
    CHECK(in_process.kernel == label);
    for (const auto& n : on_nodes.nodes) CHECK(n.kernel == label);
    CHECK(on_nodes.final_model == in_process.final_model);
    models.push_back(on_nodes.final_model);
  }
  // The kernels sum in other orders: their models differ in the last bits, so the equalities
  // above tell which kernel the nodes really used.
  if (models.size() == 2) CHECK(models[0] != models[1]);
}
