// End-to-end tests of the `swarm` binary: exit codes and messages a user sees.

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>
#include <sys/wait.h>

#include "tests/cli/run_cli.hpp"

using Result = swarm::testing::CliResult;
using swarm::testing::swarm_cli;

TEST_CASE("swarm run --synthetic prints a line per round and a summary", "[cli]") {
  Result r = swarm_cli("run --synthetic --rounds 3 --nodes 4 --hidden 32 --threads 2");
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("round   virtual_s  accuracy") != std::string::npos);
  CHECK(r.out.find("\n    3  ") != std::string::npos);
  CHECK(r.out.find("# 3 rounds in") != std::string::npos);
}

TEST_CASE("swarm run is reproducible for a seed", "[cli]") {
  auto strip_times = [](const std::string& s) {
    // Keep round, accuracy, loss and participants; drop the wall-clock column and summary.
    std::string out;
    size_t pos = 0;
    while (pos < s.size()) {
      size_t end = s.find('\n', pos);
      std::string line = s.substr(pos, end - pos);
      if (!line.empty() && line[0] != '#') out += line.substr(0, line.rfind("  ")) + "\n";
      pos = end == std::string::npos ? s.size() : end + 1;
    }
    return out;
  };
  Result a = swarm_cli("run --synthetic --rounds 2 --nodes 3 --hidden 16 --seed 9 --threads 1");
  Result b = swarm_cli("run --synthetic --rounds 2 --nodes 3 --hidden 16 --seed 9 --threads 2");
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(strip_times(a.out) == strip_times(b.out));
}

TEST_CASE("bad command lines give one clear message and exit code 2", "[cli]") {
  Result unknown = swarm_cli("run --rounds 3 --bogus");
  CHECK(unknown.code == 2);
  CHECK(unknown.out.find("--bogus") != std::string::npos);

  Result range = swarm_cli("run --rounds 0");
  CHECK(range.code == 2);
  CHECK(range.out.find("--rounds") != std::string::npos);

  Result nan = swarm_cli("run --lr abc");
  CHECK(nan.code == 2);
  CHECK(nan.out.find("--lr") != std::string::npos);

  Result none = swarm_cli("");
  CHECK(none.code == 2);

  Result too_many = swarm_cli("run --synthetic --nodes 20000");
  CHECK(too_many.code == 2);
  CHECK(too_many.out.find("20000") != std::string::npos);

  Result clients = swarm_cli("run --synthetic --rounds 2 --clients-per-round 1.5");
  CHECK(clients.code != 0);
  CHECK(clients.out.find("clients_per_round") != std::string::npos);
}

TEST_CASE("metrics and trace options write complete CSV files", "[cli]") {
  auto dir = std::filesystem::temp_directory_path() / "swarm_cli_outputs";
  std::filesystem::create_directories(dir);
  const auto metrics = dir / "m.csv", trace = dir / "t.csv";
  Result r = swarm_cli("run --synthetic --rounds 3 --nodes 6 --hidden 16 --crash-prob 0.2 --metrics " +
                       metrics.string() + " --trace " + trace.string());
  REQUIRE(r.code == 0);
  std::ifstream m(metrics);
  std::string header, line;
  std::getline(m, header);
  CHECK(header.rfind("round,t_start_s,t_end_s,wall_s,accuracy,loss,participants", 0) == 0);
  int rows = 0;
  while (std::getline(m, line)) ++rows;
  CHECK(rows == 3);
  std::ifstream t(trace);
  std::getline(t, header);
  CHECK(header == "time_s,node,event,task,instance,bytes");
  int events = 0, completes = 0;
  while (std::getline(t, line)) {
    ++events;
    completes += line.find(",complete,") != std::string::npos;
  }
  CHECK(completes > 0);
  CHECK(events > completes);
  CHECK_FALSE(std::filesystem::exists(dir / "m.csv.tmp"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("bad simulation flags are refused before the run", "[cli]") {
  Result profile = swarm_cli("run --synthetic --profiles phone=0.5,tablet=0.5");
  CHECK(profile.code == 2);
  CHECK(profile.out.find("tablet") != std::string::npos);
  CHECK(profile.out.find("phone") != std::string::npos);  // lists the known ones

  Result share = swarm_cli("run --synthetic --profiles phone=lots");
  CHECK(share.code == 2);
  CHECK(share.out.find("lots") != std::string::npos);

  Result prob = swarm_cli("run --synthetic --crash-prob 1.5");
  CHECK(prob.code == 2);
  CHECK(prob.out.find("--crash-prob") != std::string::npos);

  Result net = swarm_cli("run --synthetic --network wifi");
  CHECK(net.code == 2);
  CHECK(net.out.find("--network") != std::string::npos);

  Result buffer = swarm_cli("run --synthetic --async --buffer 30 --concurrency 10");
  CHECK(buffer.code == 2);
  CHECK(buffer.out.find("buffer_size") != std::string::npos);
}

TEST_CASE("a missing or corrupt data folder names the file", "[cli]") {
  Result missing = swarm_cli("run --data /nonexistent/fmnist");
  CHECK(missing.code == 2);
  CHECK(missing.out.find("/nonexistent/fmnist") != std::string::npos);

  auto dir = std::filesystem::temp_directory_path() / "swarm_cli_corrupt";
  std::filesystem::create_directories(dir);
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    std::ofstream(dir / f) << "not an idx file";
  }
  Result corrupt = swarm_cli("run --data " + dir.string());
  CHECK(corrupt.code == 2);
  CHECK(corrupt.out.find("train-images-idx3-ubyte") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("help explains the command", "[cli]") {
  Result r = swarm_cli("run --help");
  CHECK(r.code == 0);
  CHECK(r.out.find("--rounds") != std::string::npos);
  CHECK(r.out.find("Fashion-MNIST") != std::string::npos);
}

TEST_CASE("help names an unknown command's likely meaning and every command there is", "[cli]") {
  Result r = swarm_cli("help rnu");
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("unknown command 'rnu' (did you mean 'run'?)") &&
                        Catch::Contains("run, validate, sweep, merge, report, partition"));
  Result sweep = swarm_cli("help sweep");
  CHECK(sweep.code == 0);
  CHECK_THAT(sweep.out, Catch::Contains("--resume"));
}

namespace {

std::filesystem::path write_scenario(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "swarm_cli_scenarios";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name) << text;
  return dir / name;
}

const char* kTinySweep = R"(name: tiny
seed: 2
replicates: 2
swarm: {rounds: 2}
model: {hidden: [8]}
data: {dataset: synthetic, samples: 1200, features: 8, classes: 3, separation: 1.0}
population: {nodes: 4}
sweep:
  strategy.name: [fedavg, fedmedian]
)";

}  // namespace

TEST_CASE("validate checks a scenario without running it", "[cli][scenario]") {
  Result ok = swarm_cli("validate " + write_scenario("ok.yaml", kTinySweep).string());
  CHECK(ok.code == 0);
  CHECK(ok.out.find("4 run(s) = 2 sweep point(s) x 2 replicate(s)") != std::string::npos);

  Result bad = swarm_cli("validate " + write_scenario("bad.yaml", "name: x\nswarm:\n  rouns: 3\n").string());
  CHECK(bad.code == 2);
  CHECK(bad.out.find("bad.yaml:3:3: unknown key 'swarm.rouns' (did you mean 'rounds'?)") != std::string::npos);
}

TEST_CASE("sweep writes one results file, resumes, and report compares the points", "[cli][scenario]") {
  const auto file = write_scenario("tiny.yaml", kTinySweep);
  const auto out = file.parent_path() / "tiny.h5";
  std::filesystem::remove(out);
  Result r = swarm_cli("sweep " + file.string() + " --out " + out.string() + " --jobs 2");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(out.string() + ".partial"));
  CHECK(r.out.find("[4/4]") != std::string::npos);

  // Running it again needs --resume; with it, nothing is left to run.
  Result again = swarm_cli("sweep " + file.string() + " --out " + out.string());
  CHECK(again.code == 2);
  Result resumed = swarm_cli("sweep " + file.string() + " --out " + out.string() + " --resume");
  CHECK(resumed.code == 0);
  CHECK(resumed.out.find("4 already in") != std::string::npos);
  CHECK(resumed.out.find("running 0") != std::string::npos);

  Result report = swarm_cli("report " + out.string());
  CHECK(report.code == 0);
  CHECK(report.out.find("| fedavg | 2 |") != std::string::npos);
  CHECK(report.out.find("| fedmedian | 2 |") != std::string::npos);
}

TEST_CASE("a bad scenario stops a sweep before it starts and writes nothing", "[cli][scenario]") {
  const auto file = write_scenario("badsweep.yaml", std::string(kTinySweep) + "  training.lr: [0.1, -1]\n");
  const auto out = file.parent_path() / "badsweep.h5";
  std::filesystem::remove(out);
  Result r = swarm_cli("sweep " + file.string() + " --out " + out.string());
  CHECK(r.code == 2);
  CHECK(r.out.find("training.lr: expected a number > 0") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(out.string() + ".partial"));
}

TEST_CASE("report refuses a file that is not a results file", "[cli][scenario]") {
  const auto file = write_scenario("not.h5", "hello");
  Result r = swarm_cli("report " + file.string());
  CHECK(r.code == 2);
  CHECK(r.out.find("not.h5") != std::string::npos);
}

TEST_CASE("partition writes every node's training samples, the same for a seed", "[cli][scenario]") {
  const auto sweep_file = write_scenario("tiny_partition_sweep.yaml", kTinySweep);
  const auto csv = sweep_file.parent_path() / "tiny_partition.csv";
  std::filesystem::remove(csv);

  // A sweep has several runs: refused, nothing written.
  Result sweep = swarm_cli("partition " + sweep_file.string() + " -o " + csv.string());
  CHECK(sweep.code == 2);
  CHECK(sweep.out.find("defines 4 runs") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(csv));

  const auto file = write_scenario("tiny_partition.yaml", R"(name: tiny
seed: 2
data: {dataset: synthetic, samples: 1200, features: 8, classes: 3, separation: 1.0}
population: {nodes: 4}
)");
  const std::string one = " --set data.partition=dirichlet";

  auto read = [&] {
    Result r = swarm_cli("partition " + file.string() + one + " -o " + csv.string());
    INFO(r.out);
    REQUIRE(r.code == 0);
    std::ifstream in(csv);
    std::string header;
    std::getline(in, header);
    CHECK(header == "node,sample");
    std::map<int, std::vector<int>> samples;
    int node = 0, sample = 0;
    char comma = 0;
    while (in >> node >> comma >> sample) samples[node].push_back(sample);
    return samples;
  };
  const auto samples = read();
  // 1,200 synthetic samples of 3 classes, one in six of each class held out for testing
  // (ceil(400 / 6) = 67 per class): 999 to train on, each held by exactly one of the 4 nodes;
  // a Dirichlet split gives the nodes unequal shares.
  std::set<int> all;
  size_t total = 0, smallest = SIZE_MAX, largest = 0;
  for (const auto& [node, list] : samples) {
    CHECK((node >= 0 && node < 4));
    all.insert(list.begin(), list.end());
    total += list.size();
    smallest = std::min(smallest, list.size());
    largest = std::max(largest, list.size());
  }
  CHECK(total == 999);
  CHECK(all.size() == 999);
  CHECK(*all.rbegin() == 998);
  CHECK(smallest < largest);
  CHECK(read() == samples);
}

TEST_CASE("partition into a folder that does not exist fails cleanly", "[cli][scenario]") {
  const auto dir = std::filesystem::temp_directory_path() / "swarm_cli_no_such_folder";
  std::filesystem::remove_all(dir);
  Result r = swarm_cli("partition --set population.nodes=4 --synthetic -o " + (dir / "p.csv").string());
  CHECK(r.code == 2);
  CHECK(r.out.find("cannot write") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir));
}
