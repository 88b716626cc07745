#include "sim/simulated_backend.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "swarm/controller.hpp"
#include "swarm/fl/fl_swarm.hpp"
#include "swarm/fl/modules.hpp"
#include "swarm/ml/synthetic.hpp"
#include "tests/synthetic_split.hpp"

using namespace swarm;
using namespace swarm::sim;

namespace {

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("sim", std::make_shared<spdlog::sinks::null_sink_mt>());
}

DataProvider no_data() {
  return [](NodeId) { return LocalData{}; };
}

// A profile with round numbers: 1 GFLOP/s, 1 MB/s both ways, 10 ms latency, always on.
NodeProfile plain(const std::string& name = "plain") {
  NodeProfile p;
  p.name = name;
  p.flops = 1e9;
  p.up_bytes_per_s = 1e6;
  p.down_bytes_per_s = 1e6;
  p.latency_s = 0.01;
  return p;
}

PopulationSpec uniform(int64_t n, NodeProfile p = plain()) {
  PopulationSpec spec;
  spec.num_nodes = n;
  spec.profiles.push_back({p, 1.0});
  return spec;
}

// "work" reads global "model" (250 floats), reports `flops`, adds a 250-float result.
ModuleRegistry work_registry(uint64_t flops) {
  ModuleRegistry r;
  r.add("work", [flops](TaskContext& ctx) {
    Blob m = ctx.globals().get("model");
    ctx.add_flops(flops);
    ctx.results().add("r", m);
  });
  r.add("stop", [](TaskContext& ctx) { ctx.stop_swarm(); });
  return r;
}

class ModelSwarm : public Swarm {
 public:
  ModelSwarm() {
    std::vector<float> v(250, 1.0f);
    set_global("model", tensor_blob(v));
    w_ = task(Module{"work"}, {.alias = "worker"});
    s_ = task(Module{"stop"}, {.maximum = 1});
  }
  TaskRef execute() override { return s_(w_()); }
  TaskRef w_, s_;
};

}  // namespace

TEST_CASE("a round's virtual duration matches a hand computation", "[simulated_backend]") {
  // One worker on each of 2 nodes, then "stop" on node 0. With the constant network:
  //   model blob = 16 header bytes + 250 x 4 = 1016 bytes.
  //   worker: download 0.01 + 1016 / 1e6 = 0.011016 s; compute 2e9 / 1e9 = 2 s;
  //           upload 0.011016 s  -> completes at 2.022032 s (both nodes, in parallel).
  //   stop:   reads and writes nothing: 0.01 s latency down + 0 compute + 0.01 s up
  //           -> the round ends at 2.042032 s.
  ModuleRegistry reg = work_registry(2'000'000'000);
  ModelSwarm s;
  SwarmGraph g = s.build(reg);
  Population pop(uniform(2));
  SimOptions o;
  o.network = NetworkKind::Constant;
  SimulatedBackend backend(reg, pop, no_data(), o, quiet());
  Controller c(g, backend, {});
  RunReport r = c.run();
  REQUIRE(r.iterations.size() == 1);
  CHECK(r.iterations[0].end_s == Approx(2.042032).epsilon(1e-12));
  CHECK(r.iterations[0].bytes_down == 2 * 1016);
  CHECK(r.iterations[0].bytes_up == 2 * 1016);
  CHECK(r.iterations[0].flops == 4'000'000'000ULL);
}

TEST_CASE("with max-min sharing, uploads through a thin server link take longer", "[simulated_backend]") {
  // Same swarm on 4 nodes with the server's downlink at 1 MB/s: the four 1016-byte uploads
  // share it (250 KB/s each) instead of each using its own 1 MB/s uplink:
  //   upload = 0.01 + 1016 / 250e3 = 0.014064 s instead of 0.011016 s: the round takes
  //   0.011016 + 2 + 0.014064 + 0.02 = 2.04508 s.
  ModuleRegistry reg = work_registry(2'000'000'000);
  ModelSwarm s;
  SwarmGraph g = s.build(reg);
  Population pop(uniform(4));
  SimOptions o;
  o.network = NetworkKind::MaxMin;
  o.server.down_bytes_per_s = 1e6;
  o.server.up_bytes_per_s = 1e9;
  SimulatedBackend backend(reg, pop, no_data(), o, quiet());
  Controller c(g, backend, {});
  RunReport r = c.run();
  CHECK(r.iterations[0].end_s == Approx(2.04508).epsilon(1e-9));
}

TEST_CASE("crash injection loses about the configured share of instances", "[simulated_backend]") {
  // 400 workers, p = 0.25: the count of crashes is Binomial(400, 0.25): mean 100, sd ~8.7;
  // a band of +-4 sd (65..135) fails by chance with probability < 1e-4, and the draw is seeded.
  ModuleRegistry reg = work_registry(1'000'000);
  ModelSwarm s;
  SwarmGraph g = s.build(reg);
  Population pop(uniform(401));
  SimOptions o;
  o.crash_probability = 0.25;
  SimulatedBackend backend(reg, pop, no_data(), o, quiet());
  Controller c(g, backend, {.stragglers = {}});
  RunReport r = c.run();
  const int crashed = r.iterations[0].lost_by_cause[LossCause::Crash];
  // The stop task may crash too, on 1 instance; workers dominate.
  CHECK(crashed >= 65);
  CHECK(crashed <= 135);
  CHECK(r.iterations[0].lost == crashed);
}

TEST_CASE("a deadline drops slow nodes in virtual time", "[simulated_backend]") {
  // Two profiles: fast (1 GFLOP/s) and slow (0.1 GFLOP/s); 1e9 FLOPs take 1 s and 10 s.
  // A 5 s deadline keeps the fast workers only.
  ModuleRegistry reg = work_registry(1'000'000'000);
  ModelSwarm s;
  SwarmGraph g = s.build(reg);
  NodeProfile slow = plain("slow");
  slow.flops = 1e8;
  PopulationSpec spec;
  spec.num_nodes = 6;
  spec.profiles = {{plain("fast"), 0.5}, {slow, 0.5}};
  Population pop(spec);
  SimulatedBackend backend(reg, pop, no_data(), {}, quiet());
  Controller c(g, backend, {.stragglers = {{"worker", StragglerPolicy::deadline(5)}}});
  RunReport r = c.run();
  CHECK(r.iterations[0].lost_by_cause[LossCause::Deadline] == 3);
  CHECK(r.iterations[0].end_s < 6);
}

TEST_CASE("nodes going offline lose their instance", "[simulated_backend]") {
  // Markov availability with 1 s mean on periods and 10 s of compute per task: nearly every
  // worker that starts goes offline before finishing.
  ModuleRegistry reg = work_registry(10'000'000'000);
  ModelSwarm s;
  SwarmGraph g = s.build(reg);
  NodeProfile flaky = plain("flaky");
  flaky.availability.kind = Availability::Kind::Markov;
  flaky.availability.mean_on_s = 1;
  flaky.availability.mean_off_s = 1;
  Population pop(uniform(50, flaky));
  SimOptions o;
  o.record_trace = true;
  SimulatedBackend backend(reg, pop, no_data(), o, quiet());
  Controller c(g, backend, {.max_iterations = 1});
  RunReport r = c.run();
  const auto& it = r.iterations[0];
  CHECK(it.instances < 50);  // nodes off at time 0 were not offered
  CHECK(it.lost_by_cause[LossCause::Offline] >= it.instances - 3);
  bool traced = false;
  for (const TraceEvent& e : backend.trace()) traced |= std::string(e.event) == to_string(LossCause::Offline);
  CHECK(traced);
}

namespace {

struct FlMetrics : ControllerObserver {
  std::vector<Dict> rounds;
  std::vector<IterationReport> reports;
  void on_iteration_end(const IterationReport& r, const SwarmState& state) override {
    rounds.push_back(to_dict(*state.global("metrics")));
    reports.push_back(r);
  }
};

FlMetrics run_sim_fl(const fl::FlConfig& cfg, int threads, const ControllerOptions& copt = {}) {
  const auto [train, test] = testing::synthetic_split(2400, 6, 5);
  ModuleRegistry reg;
  fl::register_modules(reg);
  fl::FLSwarm s(cfg);
  SwarmGraph g = s.build(reg);
  Population pop(default_population(20, 7));
  SimOptions o;
  o.threads = threads;
  o.crash_probability = 0.05;
  o.fault_tasks = {"worker"};
  SimulatedBackend backend(reg, pop, fl::iid_data(train, test, 20, 7), o, quiet());
  ControllerOptions opt = copt;
  opt.seed = 7;
  Controller c(g, backend, opt);
  FlMetrics m;
  c.add_observer(&m);
  c.run();
  return m;
}

fl::FlConfig small_fl() {
  fl::FlConfig cfg;
  cfg.layers = {16, 16, 4};
  cfg.max_rounds = 4;
  cfg.batch_size = 16;
  return cfg;
}

}  // namespace

TEST_CASE("simulated FL is identical with 1 and 2 threads", "[simulated_backend][fl]") {
  FlMetrics a = run_sim_fl(small_fl(), 1), b = run_sim_fl(small_fl(), 2);
  REQUIRE(a.rounds.size() == b.rounds.size());
  for (size_t i = 0; i < a.rounds.size(); ++i) {
    CHECK(a.rounds[i] == b.rounds[i]);
    CHECK(a.reports[i].end_s == b.reports[i].end_s);
    CHECK(a.reports[i].lost_by_cause == b.reports[i].lost_by_cause);
    CHECK(a.reports[i].bytes_up == b.reports[i].bytes_up);
  }
  CHECK(a.rounds.back()["accuracy"].get<double>() > 0.6);
}

TEST_CASE("asynchronous FL aggregates buffered updates and records staleness", "[simulated_backend][fl]") {
  fl::FlConfig cfg = small_fl();
  cfg.async = true;
  cfg.buffer_size = 3;
  cfg.concurrency = 8;
  cfg.max_rounds = 8;
  FlMetrics m = run_sim_fl(cfg, 2);
  REQUIRE(m.rounds.size() == 8);
  int stale = 0;
  for (size_t i = 0; i < m.rounds.size(); ++i) {
    CHECK(m.rounds[i]["participants"].get<int>() >= 3);
    stale += m.reports[i].stale;
  }
  CHECK(stale > 0);
  double mean_staleness = 0;
  for (const auto& r : m.rounds) mean_staleness += r["mean_staleness"].get<double>();
  CHECK(mean_staleness > 0);
  CHECK(m.rounds.back()["accuracy"].get<double>() > 0.5);
}

TEST_CASE("the fastest available nodes and the nodes asked about agree with the full list", "[simulated_backend]") {
  // 300 nodes of the default mix (per-node speed spread, phones on and off), at time 0.
  Population pop(default_population(300, 3));
  ModuleRegistry reg;
  SimulatedBackend backend(reg, pop, no_data(), {}, quiet());
  const std::vector<NodeDescriptor> all = backend.available_nodes();
  REQUIRE(all.size() > 100);
  REQUIRE(all.size() < 300);  // some phones are off

  for (size_t k : {size_t{1}, size_t{7}, size_t{1000}}) {
    std::vector<NodeDescriptor> expected = all;
    std::sort(expected.begin(), expected.end(), Backend::faster);
    expected.resize(std::min(k, expected.size()));
    std::sort(expected.begin(), expected.end(), [](auto& a, auto& b) { return a.id < b.id; });
    const std::vector<NodeDescriptor> got = backend.fastest_available(k);
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].id == expected[i].id);
      CHECK(got[i].flops == expected[i].flops);
    }
  }

  // available_among: the available ones of the ids asked about, unknown ids left out.
  std::vector<NodeId> ids;
  for (NodeId i = 0; i < 300; i += 3) ids.push_back(i);
  ids.push_back(5000);
  std::vector<NodeId> expected, got;
  for (const NodeDescriptor& n : all) {
    if (n.id % 3 == 0) expected.push_back(n.id);
  }
  for (const NodeDescriptor& n : backend.available_among(ids)) got.push_back(n.id);
  CHECK(got == expected);
}

TEST_CASE("clients are sampled among the nodes on at the round's start", "[simulated_backend][fl]") {
  // Regression: the scheduler used to sample among every node, offline ones included, and
  // placement then dropped the offline ones silently (15-17 of 20 per round, 0 lost). Half of
  // the 40 nodes are off at any time here; each round must still get its 6 clients, all of
  // them nodes that were on when the round started.
  const auto [train, test] = testing::synthetic_split(2400, 6, 5);
  ModuleRegistry reg;
  fl::register_modules(reg);
  fl::FlConfig cfg = small_fl();
  cfg.clients_per_round = 6;
  cfg.max_rounds = 5;
  fl::FLSwarm s(cfg);
  SwarmGraph g = s.build(reg);
  NodeProfile flaky = plain("flaky");
  flaky.availability.kind = Availability::Kind::Markov;
  flaky.availability.mean_on_s = 200;
  flaky.availability.mean_off_s = 200;
  PopulationSpec spec = uniform(40, flaky);
  Population pop(spec);
  SimulatedBackend backend(reg, pop, fl::iid_data(train, test, 40, 7), {}, quiet());
  AvailabilityModel truth(pop.profiles(), pop.profile_assignment(), SimOptions{}.seed);
  struct Starts : ControllerObserver {
    std::vector<std::pair<Nanos, NodeId>> workers;
    Backend* backend = nullptr;
    void on_instance_start(const InstanceSpec& spec) override {
      if (spec.alias == "worker") workers.emplace_back(backend->now_ns(), spec.node);
    }
  } starts;
  starts.backend = &backend;
  Controller c(g, backend, {.seed = 7});
  FlMetrics m;
  c.add_observer(&m);
  c.add_observer(&starts);
  c.run();
  REQUIRE(m.reports.size() == 5);
  for (const IterationReport& r : m.reports) CHECK(r.unplaced == 0);
  REQUIRE(starts.workers.size() == 5 * 6);
  for (const auto& [t, node] : starts.workers) CHECK(truth.is_on(node, SimTime::from_ns(t)));
}

namespace {

// A plain profile whose availability is the trace file `path`.
NodeProfile traced(const std::filesystem::path& path) {
  NodeProfile p = plain("traced");
  p.availability.kind = Availability::Kind::Trace;
  p.availability.trace_file = path.string();
  return p;
}

}  // namespace

TEST_CASE("a round with no node on waits in virtual time for the next one", "[simulated_backend]") {
  // Regression: with every node off, rounds ran with no instance at virtual time 0 forever.
  // One node, on during [50, 60) and [100, 200): the first round starts at 50 s.
  const auto dir = std::filesystem::temp_directory_path() / "swarm_wait_for_node";
  std::filesystem::create_directories(dir);
  const auto trace = dir / "on.txt";
  std::ofstream(trace) << "0 50 60\n0 100 200\n";
  ModuleRegistry reg = work_registry(1'000'000);
  ModelSwarm s;
  SwarmGraph g = s.build(reg);
  NodeProfile p = traced(trace);
  Population pop(uniform(1, p));
  SimulatedBackend backend(reg, pop, no_data(), {}, quiet());
  Controller c(g, backend, {.max_iterations = 1});
  RunReport r = c.run();
  REQUIRE(r.iterations.size() == 1);
  CHECK(r.iterations[0].instances == 2);
  CHECK(r.iterations[0].start_s == 0);
  CHECK(r.iterations[0].end_s >= 50);
  CHECK(r.iterations[0].end_s < 60);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a run stops with NoNodeAvailable when no node will ever come on", "[simulated_backend]") {
  const auto dir = std::filesystem::temp_directory_path() / "swarm_no_node_ever";
  std::filesystem::create_directories(dir);
  const auto trace = dir / "on.txt";
  std::ofstream(trace) << "0 0 1\n";  // on for the first second only
  ModuleRegistry reg = work_registry(1'000'000);
  struct WorkOnly : Swarm {  // never stops by itself
    WorkOnly() {
      set_global("model", tensor_blob(std::vector<float>(250, 1.0f)));
      w_ = task(Module{"work"}, {.alias = "worker"});
    }
    TaskRef execute() override { return w_(); }
    TaskRef w_;
  } s;
  SwarmGraph g = s.build(reg);
  NodeProfile p = traced(trace);
  Population pop(uniform(1, p));
  SimulatedBackend backend(reg, pop, no_data(), {}, quiet());
  Controller c(g, backend, {.max_iterations = 1000});
  CHECK_THROWS_AS(c.run(), NoNodeAvailable);
  CHECK(backend.now_ns() >= nanos_from_seconds(1));
  std::filesystem::remove_all(dir);
}

TEST_CASE("SimulatedBackend::wait reports a node coming on, a timeout before it, and Idle after the last", "[simulated_backend]") {
  // Node 0 is on during [50, 60) and [100, 200); node 1 during [0, 5) only.
  const auto dir = std::filesystem::temp_directory_path() / "swarm_wait_node_on";
  std::filesystem::create_directories(dir);
  const auto trace = dir / "on.txt";
  std::ofstream(trace) << "0 50 60\n0 100 200\n1 0 5\n";
  ModuleRegistry reg = work_registry(1'000'000);
  Population pop(uniform(2, traced(trace)));
  SimulatedBackend backend(reg, pop, no_data(), {}, quiet());
  const std::span<const NodeId> any;
  // A time limit before the first node comes on: a timeout there.
  BackendEvent e = backend.wait({.until_ns = nanos_from_seconds(10), .node_on = any});
  CHECK(std::holds_alternative<Timeout>(e));
  CHECK(backend.now_ns() == nanos_from_seconds(10));
  // Node 0 comes on at 50 s.
  e = backend.wait({.node_on = any});
  REQUIRE(std::holds_alternative<NodeEvent>(e));
  CHECK(std::get<NodeEvent>(e).node == 0);
  CHECK(std::get<NodeEvent>(e).kind == NodeEvent::Kind::Changed);
  CHECK(backend.now_ns() == nanos_from_seconds(50));
  // Node 1's trace has ended: it never comes on again, whatever the time limit.
  const NodeId one[] = {1};
  CHECK(std::holds_alternative<Idle>(backend.wait({.until_ns = nanos_from_seconds(500), .node_on = one})));
  // Nothing in flight and nothing to wait for.
  CHECK(std::holds_alternative<Idle>(backend.wait({})));
  CHECK(backend.now_ns() == nanos_from_seconds(50));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a deadline shorter than the clock's nanosecond is reached, not an internal error", "[simulated_backend]") {
  // Regression: deadline_s = 1e-12 made the controller wait for a time the nanosecond clock
  // cannot show, and it reported "backend reported no instance in flight".
  ModuleRegistry reg = work_registry(1'000'000);
  ModelSwarm s;
  SwarmGraph g = s.build(reg);
  Population pop(uniform(3));
  SimulatedBackend backend(reg, pop, no_data(), {}, quiet());
  Controller c(g, backend, {.max_iterations = 1, .stragglers = {{"worker", StragglerPolicy::deadline(1e-12)}}});
  RunReport r = c.run();
  REQUIRE(r.iterations.size() == 1);
  CHECK(r.iterations[0].lost_by_cause[LossCause::Deadline] == 3);
}

TEST_CASE("FL aggregates and evaluates on the server unless told to use the fastest node", "[simulated_backend][fl]") {
  // Regression: with an all-phone population the aggregator ran on a phone and downloaded
  // every update through its 20 Mbit/s link. On the server it reads them in place: no
  // transfer is counted for it, and it computes at server_flops.
  const auto [train, test] = testing::synthetic_split(2400, 6, 5);
  ModuleRegistry reg;
  fl::register_modules(reg);
  Population pop(uniform(8));
  struct Where : ControllerObserver {
    std::map<std::string, std::set<NodeId>> nodes;
    uint64_t bytes_down = 0;
    void on_instance_start(const InstanceSpec& s) override { nodes[s.alias].insert(s.node); }
    void on_iteration_end(const IterationReport& r, const SwarmState&) override { bytes_down += r.bytes_down; }
  };
  auto run = [&](fl::FlConfig::ServerTasks where) {
    fl::FlConfig cfg = small_fl();
    cfg.max_rounds = 2;
    cfg.server_tasks = where;
    fl::FLSwarm s(cfg);
    SwarmGraph g = s.build(reg);
    SimulatedBackend backend(reg, pop, fl::iid_data(train, test, 8, 7), {}, quiet());
    Controller c(g, backend, {.seed = 7});
    Where w;
    c.add_observer(&w);
    c.run();
    return w;
  };
  Where server = run(fl::FlConfig::ServerTasks::OnServer);
  CHECK(server.nodes["aggregator"] == std::set<NodeId>{kServerNode});
  CHECK(server.nodes["scheduler"] == std::set<NodeId>{kServerNode});
  CHECK(server.nodes["worker"].size() == 8);
  Where node = run(fl::FlConfig::ServerTasks::OnFastestNode);
  CHECK(node.nodes["aggregator"].count(kServerNode) == 0);
  CHECK(node.nodes["aggregator"].size() == 1);
  // On a node, the aggregator downloads the 8 updates of each round as well.
  CHECK(node.bytes_down > server.bytes_down);
}

TEST_CASE("a server task takes its FLOPs over server_flops and moves no bytes", "[simulated_backend]") {
  // "work" reports 1e9 FLOPs; at server_flops 1e10 it takes 0.1 s on the server, with no
  // latency or transfer around it.
  ModuleRegistry reg = work_registry(1'000'000'000);
  struct OnServer : Swarm {
    OnServer() {
      set_global("model", tensor_blob(std::vector<float>(250, 1.0f)));
      w_ = task(Module{"work"}, {.method = Method::Server, .alias = "worker"});
    }
    TaskRef execute() override { return w_(); }
    TaskRef w_;
  } s;
  SwarmGraph g = s.build(reg);
  Population pop(uniform(2));
  SimOptions o;
  o.server_flops = 1e10;
  SimulatedBackend backend(reg, pop, no_data(), o, quiet());
  Controller c(g, backend, {.max_iterations = 1});
  RunReport r = c.run();
  REQUIRE(r.iterations.size() == 1);
  CHECK(r.iterations[0].instances == 1);
  CHECK(r.iterations[0].end_s == Approx(0.1).margin(1e-9));
  CHECK(r.iterations[0].bytes_down == 0);
  CHECK(r.iterations[0].bytes_up == 0);
}

TEST_CASE("a task waits for one of its own nodes, not for any node", "[simulated_backend]") {
  // Node 0 is on at all times, node 1 during [50, 60): a task on node 1 only (specified_ids)
  // starts at 50 s. Waiting for "any node" would never advance the clock (node 0 is on), and
  // the run would end as if no node ever came.
  const auto dir = std::filesystem::temp_directory_path() / "swarm_wait_for_own_node";
  std::filesystem::create_directories(dir);
  const auto trace = dir / "on.txt";
  std::ofstream(trace) << "0 0 1000\n1 50 60\n";
  ModuleRegistry reg = work_registry(1'000'000);
  struct OnNode : Swarm {
    explicit OnNode(NodeId id) {
      set_global("model", tensor_blob(std::vector<float>(250, 1.0f)));
      TaskOptions on_one{.alias = "worker"};
      on_one.specified_ids = {id};
      w_ = task(Module{"work"}, on_one);
      s_ = task(Module{"stop"}, {.maximum = 1});
    }
    TaskRef execute() override { return s_(w_()); }
    TaskRef w_, s_;
  } s(1);
  SwarmGraph g = s.build(reg);
  NodeProfile p = traced(trace);
  Population pop(uniform(2, p));
  SimulatedBackend backend(reg, pop, no_data(), {}, quiet());
  Controller c(g, backend, {.max_iterations = 1});
  RunReport r = c.run();
  REQUIRE(r.iterations.size() == 1);
  CHECK(r.iterations[0].instances == 2);
  CHECK(r.iterations[0].end_s >= 50);
  CHECK(r.iterations[0].end_s < 60);

  // The task's node is never on (absent from its trace) while the other flips on and off
  // forever (Markov): the run says its node will never come instead of waiting forever.
  NodeProfile flaky = plain("flaky");
  flaky.availability.kind = Availability::Kind::Markov;
  flaky.availability.mean_on_s = 10;
  flaky.availability.mean_off_s = 10;
  PopulationSpec mixed;
  mixed.num_nodes = 2;
  mixed.profiles = {{flaky, 0, 1}, {p, 0, 1}};
  Population pop2(mixed);
  const NodeId never_on = pop2.profile(0).name == "traced" ? 0 : 1;
  std::ofstream(trace) << 1 - never_on << " 0 1\n";  // a line for the other node only: ignored
  OnNode s2(never_on);
  SwarmGraph g2 = s2.build(reg);
  SimulatedBackend backend2(reg, pop2, no_data(), {}, quiet());
  Controller c2(g2, backend2, {.max_iterations = 100});
  CHECK_THROWS_AS(c2.run(), NoNodeAvailable);
  std::filesystem::remove_all(dir);
}
