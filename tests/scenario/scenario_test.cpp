#include "scenario/scenario.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace swarm;
using namespace swarm::scenario;

namespace {

std::vector<Scenario> load(const std::string& text, const std::vector<Override>& overrides = {}) {
  return load_runs(text, "test.yaml", overrides);
}

const char* kFull = R"(name: full
description: every section
seed: 7
replicates: 2
backend: sim
swarm:
  graph: fl
  rounds: 12
  target_accuracy: 0.8
  clients_per_round: 5
  deadline_s: 30
model:
  hidden: [32, 16]
training:
  epochs: 2
  batch_size: 16
  lr: 0.1
  momentum: 0.5
  prox_mu: 0.01
data:
  dataset: synthetic
  samples: 3000
  features: 8
  classes: 4
  partition: dirichlet
  alpha: 0.3
population:
  nodes: 20
  profiles:
    - {profile: phone, share: 0.5}
    - {name: box, share: 0.5, flops: 1.0e10, up_mbps: 50, down_mbps: 100, latency_ms: 5,
       availability: {kind: markov, mean_on_s: 600, mean_off_s: 60}}
network:
  model: constant
faults:
  crash_probability: 0.1
attack:
  kind: sign_flip
  share: 0.2
  scale: 2
strategy:
  name: trimmed_mean
  trim_ratio: 0.2
output:
  trace: true
)";

}  // namespace

TEST_CASE("a complete scenario is read into typed settings", "[scenario]") {
  std::vector<Scenario> runs = load(kFull);
  REQUIRE(runs.size() == 2);  // 2 replicates, no sweep
  const Scenario& s = runs[0];
  CHECK(s.name == "full");
  CHECK(s.seed == 7);
  CHECK(runs[1].seed == 8);  // replicate r runs with seed + r
  CHECK(runs[1].replicate == 1);
  CHECK(s.fl.max_rounds == 12);
  CHECK(s.fl.target_accuracy == 0.8);
  CHECK(s.fl.clients_per_round == 5);
  CHECK(s.deadline_s == 30);
  CHECK(s.fl.layers == std::vector<int>{32, 16});
  CHECK(s.fl.epochs == 2);
  CHECK(s.fl.prox_mu == 0.01);
  CHECK(s.data.dataset == "synthetic");
  CHECK(s.data.partition == "dirichlet");
  CHECK(s.data.alpha == 0.3);
  REQUIRE(s.population.profiles.size() == 2);
  CHECK(s.population.profiles[0].profile.name == "phone");
  CHECK(s.population.profiles[1].profile.flops == 1e10);
  CHECK(s.population.profiles[1].profile.up_bytes_per_s == 50e6 / 8);
  CHECK(s.population.profiles[1].profile.latency_s == Approx(0.005));
  CHECK(s.population.profiles[1].profile.availability.kind == sim::Availability::Kind::Markov);
  CHECK(s.sim.network == sim::NetworkKind::Constant);
  CHECK(s.sim.crash_probability == 0.1);
  CHECK(s.sim.record_trace);
  CHECK(s.attack.kind == "sign_flip");
  CHECK(s.attack.scale == 2);
  CHECK(s.strategy["strategy"] == "trimmed_mean");
  CHECK(s.strategy["trim_ratio"] == 0.2);
  CHECK(s.run_name() == "full,rep0");
}

TEST_CASE("an empty scenario takes every default", "[scenario]") {
  std::vector<Scenario> runs = load("name: d\ndata: {dataset: synthetic}\n");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].fl.max_rounds == 20);
  CHECK(runs[0].population.num_nodes == 10);
  CHECK(runs[0].population.profiles.size() == 3);  // phones, laptops, servers
  CHECK(runs[0].strategy["strategy"] == "fedavg");
  CHECK(runs[0].backend == "sim");
}

TEST_CASE("a sweep expands a grid times the replicates", "[scenario]") {
  std::vector<Scenario> runs = load(R"(name: s
replicates: 3
data: {dataset: synthetic}
sweep:
  strategy.name: [fedavg, fedmedian]
  data.partition: [iid, dirichlet]
)");
  REQUIRE(runs.size() == 2 * 2 * 3);
  std::set<std::string> names;
  std::set<std::pair<std::string, uint64_t>> point_seeds;
  for (const Scenario& r : runs) {
    names.insert(r.run_name());
    CHECK(r.point.size() == 2);
    CHECK(r.strategy["strategy"] == r.point.at("strategy.name"));
    CHECK(r.data.partition == r.point.at("data.partition"));
    point_seeds.insert({r.run_name(), r.seed});
  }
  CHECK(names.size() == 12);
  CHECK(names.count("strategy.name=fedmedian,data.partition=dirichlet,rep2") == 0);  // keys sorted
  CHECK(names.count("data.partition=dirichlet,strategy.name=fedmedian,rep2") == 1);
  // The text of a run is the scenario as run: the sweep is resolved, the sweep key gone.
  CHECK(runs[0].text.find("sweep") == std::string::npos);
}

TEST_CASE("overrides from the command line replace any key", "[scenario]") {
  std::vector<Scenario> runs = load("name: o\ndata: {dataset: synthetic}\n",
                                    {"swarm.rounds=3", "strategy.name=krum", "model.hidden=[8]"});
  CHECK(runs[0].fl.max_rounds == 3);
  CHECK(runs[0].strategy["strategy"] == "krum");
  CHECK(runs[0].fl.layers == std::vector<int>{8});
}

TEST_CASE("a deploy section holds real nodes' settings and leaves other backends alone", "[scenario][deploy]") {
  const std::string deploy = "name: d\ndata: {dataset: synthetic}\ndeploy: {launcher: none, heartbeat_ms: 50, curve: false}\n";
  SECTION("a simulated run checks it and ignores it") {
    const Scenario sim = load(deploy)[0];
    CHECK(sim.backend == "sim");
    CHECK(sim.backend_options.empty());
  }
  SECTION("backend nodes reads it as its backend_options") {
    const Scenario nodes = load(deploy + "backend: nodes\n")[0];
    CHECK(nodes.backend_options["launcher"] == "none");
    CHECK(nodes.backend_options["heartbeat_ms"] == 50);
    CHECK(nodes.backend_options["curve"] == false);
  }
  SECTION("backend_options, where the command line's flags go, wins on a key set in both") {
    const Scenario nodes = load(deploy + "backend: nodes\nbackend_options: {heartbeat_ms: 75}\n")[0];
    CHECK(nodes.backend_options["heartbeat_ms"] == 75);
    CHECK(nodes.backend_options["launcher"] == "none");
    const Scenario flag = load(deploy, {"backend=nodes", "backend_options.launcher=local"})[0];
    CHECK(flag.backend_options["launcher"] == "local");
  }
  SECTION("a misspelt key is refused on any backend, with a suggestion") {
    CHECK_THROWS_WITH(load("name: d\ndata: {dataset: synthetic}\ndeploy:\n  hearbeat_ms: 50\n"),
                      Catch::StartsWith("test.yaml:4:3: unknown key 'deploy.hearbeat_ms'") &&
                          Catch::Contains("did you mean 'heartbeat_ms'?"));
  }
  SECTION("a value that is not a scalar is refused") {
    CHECK_THROWS_WITH(load("name: d\ndata: {dataset: synthetic}\ndeploy:\n  bind: [a, b]\n"),
                      Catch::StartsWith("test.yaml:4:9: deploy.bind: expected a number, a string or true/false"));
  }
}

TEST_CASE("bad scenarios give FILE:LINE:COLUMN and what was expected", "[scenario]") {
  SECTION("malformed YAML") {
    CHECK_THROWS_WITH(load("name: x\nswarm: [unclosed\n"), Catch::StartsWith("test.yaml:") &&
                                                             Catch::Contains("malformed YAML"));
  }
  SECTION("an unknown key, with a suggestion") {
    CHECK_THROWS_WITH(load("name: x\nswarm:\n  rouns: 5\n"),
                      Catch::StartsWith("test.yaml:3:3: unknown key 'swarm.rouns'") &&
                          Catch::Contains("did you mean 'rounds'?"));
  }
  SECTION("a wrong type") {
    CHECK_THROWS_WITH(load("name: x\ntraining:\n  lr: fast\n"),
                      Catch::StartsWith("test.yaml:3:7: training.lr: expected a number, got 'fast'"));
  }
  SECTION("a value out of range") {
    CHECK_THROWS_WITH(load("name: x\nswarm:\n  rounds: 0\n"),
                      Catch::StartsWith("test.yaml:3:11: swarm.rounds: expected an integer in [1,"));
    CHECK_THROWS_WITH(load("name: x\nfaults:\n  crash_probability: 1.5\n"),
                      Catch::Contains("faults.crash_probability: expected a number in [0"));
  }
  SECTION("an unknown strategy, with a suggestion") {
    CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic}\nstrategy:\n  name: fedadm\n"),
                      Catch::StartsWith("test.yaml:") && Catch::Contains("fedadm") &&
                          Catch::Contains("did you mean 'fedadam'?"));
  }
  SECTION("an unknown partition") {
    CHECK_THROWS_WITH(load("name: x\ndata:\n  dataset: synthetic\n  partition: dirichelt\n"),
                      Catch::StartsWith("test.yaml:4:14: data.partition: unknown value 'dirichelt'") &&
                          Catch::Contains("did you mean 'dirichlet'?"));
  }
  SECTION("a sweep over a key that does not exist") {
    CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic}\nsweep:\n  strategy.nmae: [a, b]\n"),
                      Catch::StartsWith("test.yaml:4:18 (sweep): strategy.nmae:") &&
                          Catch::Contains("no parameter 'nmae'"));
    CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic}\nsweep:\n  swarm.rouns: [1, 2]\n"),
                      Catch::StartsWith("test.yaml:4:16 (sweep): unknown key 'swarm.rouns'") &&
                          Catch::Contains("did you mean 'rounds'?"));
  }
  SECTION("a missing data file") {
    CHECK_THROWS_WITH(load("name: x\ndata:\n  path: /nonexistent/fmnist\n"),
                      Catch::StartsWith("test.yaml:3:9: data.path: missing data file /nonexistent/fmnist/"));
  }
  SECTION("an unknown builtin profile") {
    CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic}\npopulation:\n  profiles:\n    - {profile: tablet, share: 1}\n"),
                      Catch::Contains("population.profiles[0].profile") && Catch::Contains("phone"));
  }
  SECTION("an override of an unknown key names --set") {
    CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic}\n", {"swarm.roudns=3"}),
                      Catch::StartsWith("--set swarm.roudns: unknown key 'swarm.roudns'"));
  }
  SECTION("a bad strategy parameter") {
    CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic}\nstrategy:\n  name: trimmed_mean\n  trim_ratio: 0.7\n"),
                      Catch::StartsWith("test.yaml:") && Catch::Contains("trim_ratio"));
  }
}

TEST_CASE("issue 9.13: a sweep expands to points x replicates, the first key varying fastest", "[scenario][sweep]") {
  // 3 x 4 points x 2 replicates = 24 runs.
  std::vector<Scenario> runs = load(R"(name: s
replicates: 2
data: {dataset: synthetic}
sweep:
  seed: [10, 20, 30]
  training.lr: [0.1, 0.2, 0.3, 0.4]
)");
  REQUIRE(runs.size() == 24);
  for (size_t i = 0; i < runs.size(); ++i) {
    const size_t point = i / 2, rep = i % 2;
    const uint64_t seed = 10 * (point % 3 + 1);
    CHECK(runs[i].replicate == static_cast<int>(rep));
    CHECK(runs[i].seed == seed + rep);  // replicate r runs with the point's seed + r
    CHECK(runs[i].fl.lr == Approx(0.1 * static_cast<double>(point / 3 + 1)));
    CHECK(runs[i].text.find("sweep") == std::string::npos);
  }
}

TEST_CASE("issue 9.13: a sweep of more runs than kMaxRunsPerSweep is refused before any is made", "[scenario][sweep]") {
  std::string values = "[";
  for (int i = 0; i < 400; ++i) {
    if (i) values += ",";  // appended apart: GCC 12 warns falsely (-Wrestrict) on "" + to_string
    values += std::to_string(i);
  }
  values += "]";
  // 400 x 400 points x 1 replicate = 160000 runs > 100000.
  CHECK_THROWS_WITH(load("name: s\ndata: {dataset: synthetic}\nsweep:\n  seed: " + values + "\n  swarm.rounds: " +
                         values.substr(0, values.find(",400")) + "\n"),
                    Catch::Contains("sweep: the sweep asks for ") && Catch::Contains("more than the 100000 runs"));
  CHECK_THROWS_WITH(load("name: s\nreplicates: 10000\ndata: {dataset: synthetic}\nsweep:\n  seed: " + values + "\n"),
                    Catch::StartsWith("test.yaml:5:3: sweep: the sweep asks for 4000000 runs (400 seed x 10000 "
                                      "replicates), more than the 100000 runs a sweep may hold"));
}

TEST_CASE("issue 9.9: a fault in one sweep point names the point", "[scenario][sweep]") {
  CHECK_THROWS_WITH(load("name: s\ndata: {dataset: synthetic}\npopulation: {nodes: 3}\nstrategy: {num_byzantine: 1}\n"
                         "sweep:\n  strategy.name: [fedavg, krum]\n"),
                    Catch::StartsWith("test.yaml:6:18 (sweep): strategy.name: krum: needs more than 2f + 2 = 4 updates") &&
                        Catch::EndsWith("(in the sweep point strategy.name=krum)"));
}

TEST_CASE("issue 9.9: times must fit the nanosecond clock, floats the model's float", "[scenario]") {
  const std::string base = "name: x\ndata: {dataset: synthetic}\n";
  CHECK_THROWS_WITH(load(base + "swarm: {deadline_s: 1e10}\n"),
                    Catch::StartsWith("test.yaml:3:21: swarm.deadline_s: expected 0 or a duration of 1 ns to 1e8 s"));
  CHECK_THROWS_WITH(load(base + "swarm: {deadline_s: 1e-12}\n"), Catch::StartsWith("test.yaml:3:21: swarm.deadline_s:"));
  CHECK_THROWS_WITH(load(base + "swarm: {max_virtual_time_s: 1e12}\n"),
                    Catch::StartsWith("test.yaml:3:29: swarm.max_virtual_time_s: expected a duration"));
  CHECK_THROWS_WITH(load(base + "network: {server_latency_ms: 1e12}\n"),
                    Catch::Contains("network.server_latency_ms: expected 0 or a duration"));
  CHECK_THROWS_WITH(load(base + "population:\n  profiles:\n    - {profile: phone, share: 1, latency_ms: 1e15}\n"),
                    Catch::Contains("population.profiles[0].latency_ms: expected 0 or a duration"));
  CHECK_THROWS_WITH(load(base + "training: {lr: 1e-320}\n"),
                    Catch::StartsWith("test.yaml:3:16: training.lr: expected 0 or a magnitude in [1.2e-38, 3.4e38]"));
  CHECK_THROWS_WITH(load(base + "training: {weight_decay: 1e39}\n"), Catch::Contains("training.weight_decay: expected 0 or"));
  CHECK_THROWS_WITH(load(base + "strategy: {name: fedadam, tau: 1e-50}\n"), Catch::Contains("strategy.tau: expected 0 or"));
  CHECK_THROWS_WITH(load(base + "swarm: {clients_per_round: 3000000000}\n"),
                    Catch::Contains("swarm.clients_per_round: expected a count >= 1 (at most 2147483647)"));
  CHECK_THROWS_WITH(load("name: \"\"\ndata: {dataset: synthetic}\n"),
                    Catch::StartsWith("test.yaml:1:7: name: expected a non-empty name"));
  // The largest and smallest allowed are taken.
  CHECK(load(base + "swarm: {deadline_s: 1e-9, max_virtual_time_s: 1e8}\n").front().deadline_s == 1e-9);
}

TEST_CASE("issue 9.12: integer keys take whole numbers in exponent notation", "[scenario]") {
  CHECK(load("name: x\ndata: {dataset: synthetic, samples: 1.2e4}\n").front().data.samples == 12000);
  CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic, samples: 1.5e0}\n"),
                    Catch::Contains("data.samples: expected an integer, got '1.5e0'"));
}

TEST_CASE("issue 9.16: a value from a shortcut flag is named by the flag, down lists of maps", "[scenario]") {
  CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic}\n", {{"swarm.rounds=0", "--rounds"}}),
                    Catch::StartsWith("--rounds: swarm.rounds: expected an integer in [1,"));
  CHECK_THROWS_WITH(load("name: x\ndata: {dataset: synthetic}\n", {{"population.profiles=[{profile: phone, share: -1}]",
                                                                     "--profiles"}}),
                    Catch::StartsWith("--profiles: population.profiles[0].share: expected a number >= 0"));
  // Later overrides win, whoever gave them.
  CHECK(load("name: x\ndata: {dataset: synthetic}\n", {{"swarm.rounds=2", "--rounds"}, "swarm.rounds=3"})
            .front()
            .fl.max_rounds == 3);
}

TEST_CASE("issue 9.9: a run whose virtual time would leave the clock's range is refused", "[scenario]") {
  // flops: 1e-300 made the first training take ~1e305 s: "time ... out of range" mid-run, with
  // no key.
  const std::string base = "name: x\ndata: {dataset: synthetic, samples: 600}\nmodel: {hidden: [16]}\n";
  CHECK_THROWS_WITH(load(base + "population:\n  nodes: 3\n  profiles:\n    - {profile: laptop, share: 1, flops: 1e-300}\n"),
                    Catch::StartsWith("test.yaml:7:7: population.profiles[0]: the run would last about") &&
                        Catch::Contains("profile 'laptop' trains"));
  // At 10 FLOP/s, 6 x 1210 parameters x 166.7 samples (600 x 5/6 over 3 nodes) = 1.21e6 FLOP
  // take 1.21e5 s: 30000 rounds of that are 3.63e9 s, more than 1e9 s.
  const std::string slow = "population:\n  nodes: 3\n  profiles:\n    - {profile: laptop, share: 1, flops: 10}\n";
  CHECK_THROWS_WITH(load(base + slow + "swarm: {rounds: 30000}\n"),
                    Catch::StartsWith("test.yaml:7:7: population.profiles[0]: the run would last about 3.63e+09 s") &&
                        Catch::Contains("30000 rounds of about 1.21e+05 s"));
  // A time limit bounds it.
  CHECK(load(base + slow + "swarm: {rounds: 30000, max_virtual_time_s: 1e8}\n").size() == 1);
}

TEST_CASE("network.model cm02 and lv08 take SimGrid's defaults and their own keys", "[scenario]") {
  const std::string head = "name: d\ndata: {dataset: synthetic}\n";
  Scenario lv08 = load(head + "network: {model: lv08}\n")[0];
  CHECK(lv08.sim.network == sim::NetworkKind::MaxMin);
  CHECK(lv08.sim.tcp.rtt_sharing);
  CHECK(lv08.sim.tcp.latency_factor == 13.01);
  CHECK(lv08.sim.tcp.bandwidth_factor == 0.97);
  CHECK(lv08.sim.tcp.window_bytes == 4194304);
  CHECK(lv08.sim.tcp.weight_s_bytes == 20537);
  Scenario cm02 = load(head + "network: {model: cm02, tcp_window_bytes: 65536, latency_factor: 2}\n")[0];
  CHECK(cm02.sim.tcp.rtt_sharing);
  CHECK(cm02.sim.tcp.window_bytes == 65536);
  CHECK(cm02.sim.tcp.latency_factor == 2);
  CHECK(cm02.sim.tcp.bandwidth_factor == 1);
  CHECK(cm02.sim.tcp.weight_s_bytes == 0);
  CHECK_FALSE(load(head)[0].sim.tcp.rtt_sharing);  // maxmin: plain max-min
  CHECK_THROWS_WITH(load(head + "network: {model: maxmin, latency_factor: 2}\n"),
                    Catch::Contains("test.yaml:3") && Catch::Contains("network.latency_factor") &&
                        Catch::Contains("applies only to network.model cm02 or lv08"));
  CHECK_THROWS_WITH(load(head + "network: {model: lv08, bandwidth_factor: 0}\n"),
                    Catch::Contains("network.bandwidth_factor") && Catch::Contains("a number > 0"));
  CHECK_THROWS_WITH(load(head + "network: {model: lv8}\n"), Catch::Contains("lv08"));
}
