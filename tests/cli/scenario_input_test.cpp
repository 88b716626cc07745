// Scenario files, flags and sweeps: every bad input refused before anything runs (issue 9,
// items 8, 9, 12, 13, 14, 15, 16), with FILE:LINE:COLUMN (or the flag) and exit code 2.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "tests/cli/run_cli.hpp"

using swarm::testing::fresh_dir;
using swarm::testing::swarm_cli;
using swarm::testing::write_file;
namespace fs = std::filesystem;

namespace {

// A scenario small enough to run in a second: synthetic data, 3 nodes, one small layer.
const std::string kSmall =
    "name: small\nswarm: {rounds: 1}\nmodel: {hidden: [16]}\ndata: {dataset: synthetic, samples: 600}\n"
    "population: {nodes: 3}\n";

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `swarm validate` on a file holding `text`: the result a user sees.
swarm::testing::CliResult validate(const std::string& test, const std::string& text, const std::string& flags = "") {
  const fs::path dir = fresh_dir("swarm_scenario_input_" + test);
  return swarm_cli("validate " + write_file(dir, "s.yaml", text).string() + " " + flags);
}

}  // namespace

TEST_CASE("issue 9.8: broken YAML is refused by validate with FILE:LINE:COLUMN, exit 2", "[cli][scenario]") {
  SECTION("a duplicate key") {
    auto r = validate("dup", kSmall + "swarm: {rounds: 5}\n");
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("s.yaml:6:1: swarm: duplicate key 'swarm' (first at line 2, column 1)") != std::string::npos);
  }
  SECTION("a second document") {
    auto r = validate("docs", kSmall + "---\nname: other\n");
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("s.yaml:6:1: a second YAML document") != std::string::npos);
  }
  SECTION("an unterminated quoted string at the end of the file") {
    auto r = validate("quote", kSmall + "description: \"never closed\n");
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("s.yaml:7:1: malformed YAML") != std::string::npos);
    CHECK(r.out.find("quoted scalar that starts at 6:14") != std::string::npos);
  }
  SECTION("a zero-byte file") {
    auto r = validate("empty", "");
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("s.yaml:1:1: the scenario is empty; write {}") != std::string::npos);
  }
  SECTION("a directory") {
    const fs::path dir = fresh_dir("swarm_scenario_input_dir");
    auto r = swarm_cli("validate " + dir.string());
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find(dir.string() + ":1:1: is a directory, expected a scenario file") != std::string::npos);
  }
}

TEST_CASE("issue 9.9: values a run cannot take are refused by validate, naming the key", "[cli][scenario]") {
  auto refused = [](const std::string& test, const std::string& text, const std::string& where,
                    const std::string& what, const std::string& flags = "") {
    auto r = validate(test, text, flags);
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find(where) != std::string::npos);
    CHECK(r.out.find(what) != std::string::npos);
  };
  refused("deadline_big", kSmall, "--set swarm.deadline_s: swarm.deadline_s: expected 0 or a duration of 1 ns to 1e8 s", "got 1e+10",
          "--set swarm.deadline_s=1e10");
  refused("deadline_small", kSmall + "network: {server_latency_ms: 1}\n", "--set swarm.deadline_s: swarm.deadline_s:", "got 1e-12",
          "--set swarm.deadline_s=1e-12");
  refused("latency", kSmall + "network:\n  server_latency_ms: 1e12\n", "s.yaml:7:22: network.server_latency_ms",
          "expected 0 or a duration of 1 ns to 1e8 s (about 3 years; in ms: 1e-06 to 1e+11");
  refused("clients", kSmall, "--set swarm.clients_per_round: swarm.clients_per_round: expected a count >= 1 (at most 2147483647)",
          "got 3e+09", "--set swarm.clients_per_round=3000000000");
  refused("lr", kSmall + "training:\n  lr: 1e-320\n", "s.yaml:7:7: training.lr: expected",
          "32-bit float");
  refused("name", "name: \"\"\n" + kSmall.substr(kSmall.find('\n') + 1), "s.yaml:1:7: name:",
          "expected a non-empty name");
  const std::string custom =
      "swarm:\n  graph: custom\n  rounds: 1\n  tasks:\n"
      "    - {alias: scheduler, module: fl.scheduler, method: best_resources, maximum: 1}\n"
      "    - {alias: worker, module: fl.worker, method: any, maximum: 2, SELECT}\n"
      "    - {alias: aggregator, module: fl.aggregator, method: best_resources, maximum: 1}\n"
      "  edges:\n    - {from: scheduler, to: worker}\n    - {from: worker, to: aggregator, condition: result}\n"
      "model: {hidden: [16]}\ndata: {dataset: synthetic, samples: 600}\npopulation: {nodes: 3}\n";
  auto with = [&custom](const std::string& select) {
    return "name: c\n" + custom.substr(0, custom.find("SELECT")) + select + custom.substr(custom.find("SELECT") + 6);
  };
  refused("specified", with("specified_ids: [7, 9]"), "s.yaml:7:", "swarm.tasks[1].specified_ids: node 7 is not in "
          "the population (node ids are 0 to 2)");
  refused("excepted", with("excepted_ids: [0, 1, 2]"), "swarm.tasks[1].excepted_ids:",
          "task 'worker' would run on no node");
  // The cycle: the aggregator feeds the scheduler back.
  const std::string cycle = with("fixed: false");
  refused("cycle", cycle.substr(0, cycle.find("model:")) + "    - {from: aggregator, to: scheduler}\n" +
                       cycle.substr(cycle.find("model:")),
          "swarm.tasks:", "the edges form a cycle (scheduler -> worker -> aggregator -> scheduler)");
}

TEST_CASE("issue 9.9: an infeasible Krum point of a sweep is refused before any run, naming the point",
          "[cli][scenario]") {
  auto r = validate("krum", kSmall + "strategy: {num_byzantine: 1}\nsweep:\n  strategy.name: [fedavg, krum]\n");
  INFO(r.out);
  CHECK(r.code == 2);
  // 3 nodes per round; Krum with f = 1 needs more than 2f + 2 = 4.
  CHECK(r.out.find("strategy.name: krum: needs more than 2f + 2 = 4 updates for num_byzantine f = 1, got 3 per "
                   "round, and a round gives at most 3") != std::string::npos);
  CHECK(r.out.find("(in the sweep point strategy.name=krum)") != std::string::npos);
}

namespace {

// MemAvailable of /proc/meminfo, in bytes.
double available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  for (std::string unit; in >> key >> kib; std::getline(in, unit)) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

}  // namespace

TEST_CASE("issue 9.12: a run too large for this machine's memory is refused with the estimate", "[cli][scenario]") {
  // Larger than any machine: 10^10 parameters (40 GB) x at least 18 copies; 8 TB of data.
  std::vector<std::string> cases = {"--hidden 100000,100000", "--set data.samples=1e8 --set data.features=10000"};
  // 10^8 nodes x 300 bytes = 30 GB: refused where that is more than the machine has.
  if (available_bytes() < 29e9) cases.push_back("-n 1e8 --set swarm.clients_per_round=10");
  for (const std::string& flags : cases) {
    auto r = validate("memory", kSmall, flags);
    INFO(flags << "\n" << r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("the run needs about ") != std::string::npos);
    CHECK(r.out.find("this machine has available (MemAvailable, /proc/meminfo)") != std::string::npos);
  }
}

TEST_CASE("issue 9.13: a sweep of more runs than the cap is refused with the count", "[cli][scenario]") {
  // 1000 points x 10000 replicates died of bad_alloc.
  std::string seeds = "[";
  for (int i = 0; i < 1000; ++i) {
    if (i) seeds += ",";  // appended apart: GCC 12 warns falsely (-Wrestrict) on "" + to_string
    seeds += std::to_string(i);
  }
  auto r = validate("cap", kSmall + "replicates: 10000\nsweep:\n  seed: " + seeds + "]\n");
  INFO(r.out.substr(0, 2000));
  CHECK(r.code == 2);
  CHECK(r.out.find("the sweep asks for 10000000 runs (1000 seed x 10000 replicates), more than the 100000 runs") !=
        std::string::npos);
}

TEST_CASE("issue 9.14: a bad output path is refused before the run, leaving no partial file", "[cli][output]") {
  const fs::path dir = fresh_dir("swarm_scenario_input_outputs");
  const fs::path scenario = write_file(dir, "s.yaml", kSmall);
  const fs::path out = dir / "r.h5";
  auto r = swarm_cli("run " + scenario.string() + " --out " + out.string() + " --metrics /proc/nope/m.csv");
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK(r.out.find("--metrics /proc/nope/m.csv: cannot write it: the folder /proc/nope does not exist") != std::string::npos);
  CHECK(r.out.find("round") == std::string::npos);  // refused before the run
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(out.string() + ".partial"));

  auto in_proc = swarm_cli("run " + scenario.string() + " --out " + out.string() + " --trace /proc/nope.csv");
  INFO(in_proc.out);
  CHECK(in_proc.code == 2);
  CHECK(in_proc.out.find("--trace /proc/nope.csv: cannot write in the folder /proc") != std::string::npos);
  CHECK_FALSE(fs::exists(out.string() + ".partial"));

  auto folder = swarm_cli("run " + scenario.string() + " --out " + dir.string());
  INFO(folder.out);
  CHECK(folder.code == 2);
  CHECK(folder.out.find("--out " + dir.string() + ": is a directory, expected a file path") != std::string::npos);

  auto partition = swarm_cli("partition " + scenario.string() + " -o " + dir.string());
  INFO(partition.out);
  CHECK(partition.code == 2);
  CHECK(partition.out.find("--out " + dir.string() + ": is a directory, expected a file path") != std::string::npos);

  auto sweep = swarm_cli("sweep " + scenario.string() + " --out /proc/nope/r.h5");
  INFO(sweep.out);
  CHECK(sweep.code == 2);
  CHECK(sweep.out.find("--out /proc/nope/r.h5: cannot write it: the folder /proc/nope does not exist") != std::string::npos);
}

TEST_CASE("issue 9.15: an output through a symlink replaces the file it names, not the link", "[cli][output]") {
  const fs::path dir = fresh_dir("swarm_scenario_input_symlink");
  const fs::path scenario = write_file(dir, "s.yaml", kSmall);
  fs::create_directories(dir / "real");
  write_file(dir / "real", "m.csv", "old\n");
  fs::create_symlink(dir / "real" / "m.csv", dir / "link.csv");
  fs::create_symlink("real/dangling.csv", dir / "dangling.csv");  // relative, to a file not yet there
  auto r = swarm_cli("run " + scenario.string() + " --metrics " + (dir / "link.csv").string() + " --trace " +
                     (dir / "dangling.csv").string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(fs::is_symlink(dir / "link.csv"));
  CHECK(read(dir / "real" / "m.csv").rfind("round,t_start_s", 0) == 0);
  CHECK(fs::is_symlink(dir / "dangling.csv"));
  CHECK(read(dir / "real" / "dangling.csv").rfind("time_s,node,event", 0) == 0);
  CHECK_FALSE(fs::exists(dir / "link.csv.tmp"));
}

TEST_CASE("issue 9.15: an output to a pipe is written in place, not replaced", "[cli][output]") {
  const fs::path dir = fresh_dir("swarm_scenario_input_fifo");
  const fs::path scenario = write_file(dir, "s.yaml", kSmall);
  const fs::path fifo = dir / "m.fifo", copy = dir / "copy.csv";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A reader on the pipe while swarm runs (bounded, in case the pipe is never opened).
  auto r = swarm_cli("run " + scenario.string() + " --metrics " + fifo.string() + " & timeout 60 cat " +
                     fifo.string() + " > " + copy.string() + "; wait $!");
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(fs::is_fifo(fifo));
  CHECK(read(copy).rfind("round,t_start_s", 0) == 0);
  // Not tested on /dev/null: a regression would replace the machine's /dev/null (as root).
}

TEST_CASE("issue 9.16: of --set and shortcut flags, the last one given wins", "[cli][scenario]") {
  const fs::path dir = fresh_dir("swarm_scenario_input_order");
  const fs::path scenario = write_file(dir, "s.yaml", kSmall);
  auto set_last = swarm_cli("run " + scenario.string() + " --rounds 1 --set swarm.rounds=2");
  INFO(set_last.out);
  CHECK(set_last.code == 0);
  CHECK(set_last.out.find("# 2 rounds in") != std::string::npos);
  auto flag_last = swarm_cli("run " + scenario.string() + " --set swarm.rounds=2 --rounds 1");
  INFO(flag_last.out);
  CHECK(flag_last.code == 0);
  CHECK(flag_last.out.find("# 1 rounds in") != std::string::npos);
}

TEST_CASE("issue 9.16: --seed -1 is refused instead of wrapping to 2^64-1, and no seed is clamped", "[cli][scenario]") {
  auto negative = swarm_cli("validate scenarios/quickstart.yaml --seed -1");
  INFO(negative.out);
  CHECK(negative.code == 2);
  CHECK(negative.out.find("--seed: seed: expected an integer in [0, 9223372036854775807], got -1") != std::string::npos);
  for (const std::string seed : {"18446744073709551615", "9223372036854775808", "12x"}) {
    auto r = swarm_cli("validate scenarios/quickstart.yaml --seed " + seed);
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("--seed: seed: expected an integer, got '" + seed + "'") != std::string::npos);
  }
  auto largest = swarm_cli("validate scenarios/quickstart.yaml --seed 9223372036854775807");
  INFO(largest.out);
  CHECK(largest.code == 0);
}

TEST_CASE("issue 9.16: run, sweep, validate and partition take the same shortcut flags", "[cli][scenario]") {
  const fs::path dir = fresh_dir("swarm_scenario_input_shortcuts");
  const fs::path scenario = write_file(dir, "s.yaml", kSmall);
  auto v = swarm_cli("validate " + scenario.string() + " --rounds 2 --synthetic -n 3");
  INFO(v.out);
  CHECK(v.code == 0);
  auto s = swarm_cli("sweep " + scenario.string() + " --rounds 1 -n 2 --out " + (dir / "r.h5").string());
  INFO(s.out);
  CHECK(s.code == 0);
  CHECK(fs::exists(dir / "r.h5"));
  auto p = swarm_cli("partition " + scenario.string() + " -n 2 -o " + (dir / "p.csv").string());
  INFO(p.out);
  CHECK(p.code == 0);
}

TEST_CASE("issue 9.16: swarm help prints the help of swarm or of a command", "[cli]") {
  auto help = swarm_cli("help"), flag = swarm_cli("--help");
  CHECK(help.code == 0);
  CHECK(help.out == flag.out);
  auto run = swarm_cli("help run"), run_flag = swarm_cli("run --help");
  CHECK(run.code == 0);
  CHECK(run.out == run_flag.out);
  auto bad = swarm_cli("help bogus");
  CHECK(bad.code == 2);
  CHECK(bad.out.find("help: unknown command 'bogus'") != std::string::npos);
}

TEST_CASE("issue 9.16: backend inprocess refuses keys only the simulator models, naming the flag or key", "[cli][scenario]") {
  auto r = validate("inprocess", kSmall, "--backend inprocess --crash-prob 0.1");
  INFO(r.out);
  CHECK(r.code == 2);
  // Named by the flag that set it.
  CHECK(r.out.find("--crash-prob: faults.crash_probability: only a virtual-clock backend models this (backend: sim); backend "
                   "'inprocess' runs on the wall clock and would ignore it") != std::string::npos);
  auto profiles = validate("inprocess_profiles", kSmall, "--backend inprocess --profiles phone=1");
  INFO(profiles.out);
  CHECK(profiles.code == 2);
  CHECK(profiles.out.find("--profiles: population.profiles: only a virtual-clock backend models this") != std::string::npos);
  auto net = validate("inprocess_net", kSmall + "network: {model: constant}\n", "--backend inprocess");
  INFO(net.out);
  CHECK(net.code == 2);
  CHECK(net.out.find("s.yaml:6:18: network.model: only a virtual-clock backend models this") != std::string::npos);
  // A trace: sim and real nodes record one, in-process nothing.
  auto trace = validate("inprocess_trace", kSmall + "output: {trace: true}\n", "--backend inprocess");
  INFO(trace.out);
  CHECK(trace.code == 2);
  CHECK(trace.out.find("output.trace: backend 'inprocess' records no event trace") != std::string::npos);
  auto nodes_trace = validate("nodes_trace", kSmall + "output: {trace: true}\n", "--backend nodes");
  INFO(nodes_trace.out);
  CHECK(nodes_trace.code == 0);
  auto ok = validate("inprocess_ok", kSmall, "--backend inprocess");
  INFO(ok.out);
  CHECK(ok.code == 0);
}

TEST_CASE("issue 9.16: shortcut values reach the scenario reader as given", "[cli][scenario]") {
  // The reader checks them, named by the flag; numbers arrive unrounded (a double flag printed
  // 6 digits: --lr 0.0123456789 became 0.0123457).
  auto range = validate("shortcut_range", kSmall, "--rounds 0");
  INFO(range.out);
  CHECK(range.code == 2);
  CHECK(range.out.find("--rounds: swarm.rounds: expected an integer in [1, 2147483647], got 0") != std::string::npos);
  auto choice = validate("shortcut_choice", kSmall, "--backend simm");
  INFO(choice.out);
  CHECK(choice.code == 2);
  CHECK(choice.out.find("--backend: backend: unknown backend 'simm' (did you mean 'sim'?)") != std::string::npos);
  const fs::path dir = fresh_dir("swarm_scenario_input_unrounded");
  const fs::path scenario = write_file(dir, "s.yaml", kSmall);
  auto run = swarm_cli("run " + scenario.string() + " --lr 0.0123456789 --out " + (dir / "r.h5").string());
  INFO(run.out);
  REQUIRE(run.code == 0);
  std::ifstream in(dir / "r.h5", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  CHECK(bytes.str().find("lr: 0.0123456789") != std::string::npos);  // the scenario text as run
}

TEST_CASE("every shipped scenario is valid", "[cli][scenario]") {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator("scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    auto r = swarm_cli("validate " + entry.path().string());
    INFO(entry.path().string() << ": " << r.out);
    CHECK(r.code == 0);
    ++checked;
  }
  CHECK(checked >= 8);
}
