#include "swarm/controller.hpp"

#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

#include "swarm/inprocess_backend.hpp"
#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::LambdaSwarm;
using swarm::testing::quiet_logger;

namespace {

std::vector<LocalNode> make_nodes(int n) {
  std::vector<LocalNode> out;
  for (int i = 0; i < n; ++i) out.push_back({static_cast<NodeId>(i), 1e9, {}});
  return out;
}

// Records every start and end the controller reports.
struct Recorder : ControllerObserver {
  std::vector<std::string> events;
  std::vector<InstanceSpec> starts;
  void on_instance_start(const InstanceSpec& s) override {
    starts.push_back(s);
    events.push_back("start " + s.alias + "@" + std::to_string(s.node));
  }
  void on_instance_end(const Completion& c) override {
    events.push_back("end " + c.spec.alias + "@" + std::to_string(c.spec.node));
  }
  std::vector<NodeId> nodes_of(const std::string& alias, int iteration) const {
    std::vector<NodeId> out;
    for (const auto& s : starts) {
      if (s.alias == alias && s.iteration == iteration) out.push_back(s.node);
    }
    return out;
  }
};

struct Run {
  SwarmGraph graph;
  InProcessBackend backend;
  Controller controller;
  Recorder recorder;
  Run(Swarm& swarm, const ModuleRegistry& reg, int nodes, int max_iterations = 10, int threads = 1,
      uint64_t seed = 1)
      : graph(swarm.build(reg)),
        backend(reg, make_nodes(nodes), threads, quiet_logger()),
        controller(graph, backend, {.seed = seed, .max_iterations = max_iterations}) {
    controller.add_observer(&recorder);
  }
};

// worker: adds its node id as result "v". sum: sets global "sum" to the sum of the selected
// values and "count" to how many. stop: stops once global "sum" was set `stop_after` times.
ModuleRegistry counting_registry(int stop_after) {
  ModuleRegistry r = testing::noop_registry();
  r.add("worker", [](TaskContext& ctx) {
    ctx.results().add("v", Dict{{"node", ctx.node_id()}, {"it", ctx.iteration()}});
  });
  r.add("sum", [](TaskContext& ctx) {
    int64_t sum = 0;
    auto selected = ctx.results().select("v");
    for (const auto& [node, blob] : selected) sum += to_dict(blob)["node"].get<int64_t>();
    ctx.globals().set("sum", Dict{{"sum", sum}, {"count", selected.size()}});
  });
  r.add("stop", [stop_after](TaskContext& ctx) {
    if (ctx.iteration() + 1 >= stop_after) ctx.stop_swarm();
  });
  return r;
}

}  // namespace

TEST_CASE("iterations repeat until a task calls stop_swarm", "[controller]") {
  ModuleRegistry reg = counting_registry(3);
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef w = sw.add("worker"), g = sw.add("sum", {.maximum = 1}), st = sw.add("stop", {.maximum = 1});
    return st(g(w()));
  });
  Run run(s, reg, 4);
  RunReport report = run.controller.run();
  CHECK(report.stopped_by_task);
  REQUIRE(report.iterations.size() == 3);
  CHECK(report.iterations[0].instances == 4 + 1 + 1);
  // Global "sum" was written once per iteration, on top of the initial version... none here.
  CHECK(run.controller.state().version("sum") == 3);
  Dict sum = to_dict(*run.controller.state().global("sum"));
  CHECK(sum["sum"] == 0 + 1 + 2 + 3);
  CHECK(sum["count"] == 4);
  // Within an iteration the order follows the edges: all workers end before sum starts.
  const auto& ev = run.recorder.events;
  auto first_sum = std::find(ev.begin(), ev.end(), "start sum@0") - ev.begin();
  auto last_worker = std::find(ev.begin(), ev.end(), "end worker@3") - ev.begin();
  CHECK(last_worker < first_sum);
}

TEST_CASE("the iteration cap ends a swarm that never stops", "[controller]") {
  ModuleRegistry reg = counting_registry(1000);
  LambdaSwarm s([](LambdaSwarm& sw) { return sw.add("stop", {.maximum = 1})(sw.add("worker")()); });
  Run run(s, reg, 2, /*max_iterations=*/5);
  RunReport report = run.controller.run();
  CHECK_FALSE(report.stopped_by_task);
  CHECK(report.iterations.size() == 5);
}

TEST_CASE("schedule_next_iter restricts the next iteration only", "[controller]") {
  ModuleRegistry reg = testing::noop_registry();
  reg.add("pick", [](TaskContext& ctx) {
    if (ctx.iteration() == 0) ctx.schedule_next_iter({1, 3}, "worker");
    if (ctx.iteration() == 2) ctx.stop_swarm();
  });
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef w = sw.add("noop", {.alias = "worker"}), p = sw.add("pick", {.maximum = 1});
    return p(w());
  });
  Run run(s, reg, 5);
  run.controller.run();
  CHECK(run.recorder.nodes_of("worker", 0) == std::vector<NodeId>{0, 1, 2, 3, 4});
  CHECK(run.recorder.nodes_of("worker", 1) == std::vector<NodeId>{1, 3});
  CHECK(run.recorder.nodes_of("worker", 2) == std::vector<NodeId>{0, 1, 2, 3, 4});
}

TEST_CASE("placement follows method, maximum, fixed and ids through the controller", "[controller]") {
  ModuleRegistry reg = counting_registry(4);
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef any = sw.add("noop", {.method = Method::Any, .maximum = 0.3, .alias = "any"});
    TaskRef fixed = sw.add("noop", {.method = Method::Any, .maximum = 2, .fixed = true, .alias = "fixed"});
    TaskRef ids = sw.add("noop", {.alias = "ids", .specified_ids = {2, 5, 7}, .excepted_ids = {5}});
    TaskRef st = sw.add("stop", {.maximum = 1});
    return st(any(), fixed(), ids());
  });
  Run run(s, reg, 10);
  run.controller.run();
  std::set<std::vector<NodeId>> any_sets;
  for (int it = 0; it < 4; ++it) {
    CHECK(run.recorder.nodes_of("any", it).size() == 3);  // 0.3 x 10 nodes
    any_sets.insert(run.recorder.nodes_of("any", it));
    CHECK(run.recorder.nodes_of("fixed", it) == run.recorder.nodes_of("fixed", 0));
    CHECK(run.recorder.nodes_of("ids", it) == std::vector<NodeId>{2, 7});
    CHECK(run.recorder.nodes_of("stop", it) == std::vector<NodeId>{0});
  }
  CHECK(run.recorder.nodes_of("fixed", 0).size() == 2);
  CHECK(any_sets.size() > 1);  // a fresh draw every iteration
}

TEST_CASE("a fixed task asks only about its own nodes after its first placement", "[controller]") {
  // Counts the controller's calls that list every node, which a fixed task's later iterations
  // must not make (they would cost O(population) a round), and the nodes it asks about.
  struct Counting : InProcessBackend {
    using InProcessBackend::InProcessBackend;
    std::vector<NodeDescriptor> available_nodes() override {
      if (!among_) ++scans;
      return InProcessBackend::available_nodes();
    }
    std::vector<NodeDescriptor> available_among(std::span<const NodeId> ids) override {
      asked += ids.size();
      among_ = true;  // the base class answers through available_nodes()
      std::vector<NodeDescriptor> out = InProcessBackend::available_among(ids);
      among_ = false;
      return out;
    }
    int scans = 0;
    size_t asked = 0;

   private:
    bool among_ = false;
  };
  ModuleRegistry reg = counting_registry(4);
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef fixed = sw.add("noop", {.method = Method::Any, .maximum = 2, .fixed = true, .alias = "fixed"});
    return sw.add("stop", {.method = Method::Server})(fixed());
  });
  SwarmGraph graph = s.build(reg);
  Counting backend(reg, make_nodes(1000), 1, quiet_logger());
  Controller controller(graph, backend, {.seed = 1, .max_iterations = 10});
  Recorder recorder;
  controller.add_observer(&recorder);
  controller.run();
  for (int it = 1; it < 4; ++it) CHECK(recorder.nodes_of("fixed", it) == recorder.nodes_of("fixed", 0));
  CHECK(recorder.nodes_of("fixed", 0).size() == 2);
  CHECK(backend.scans == 0);
  // The first placement draws 2 of the 1,000 nodes (all on: one batch of 2), each of the 3
  // later ones asks about those 2: 4 x 2.
  CHECK(backend.asked == 8);
}

TEST_CASE("the same seed gives the same placements; another seed another", "[controller]") {
  ModuleRegistry reg = counting_registry(3);
  auto draws = [&](uint64_t seed) {
    LambdaSwarm s([](LambdaSwarm& sw) {
      return sw.add("stop", {.maximum = 1})(sw.add("noop", {.method = Method::Any, .maximum = 3})());
    });
    Run run(s, reg, 30, 10, 1, seed);
    run.controller.run();
    std::vector<NodeId> all;
    for (int it = 0; it < 3; ++it) {
      auto n = run.recorder.nodes_of("noop", it);
      all.insert(all.end(), n.begin(), n.end());
    }
    return all;
  };
  CHECK(draws(5) == draws(5));
  CHECK(draws(5) != draws(6));
}

TEST_CASE("a result edge starts its task once enough results exist", "[controller]") {
  ModuleRegistry reg = counting_registry(1);
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef w = sw.add("worker"), g = sw.add("sum", {.maximum = 1});
    return g(on_result(w(), "v", 2));
  });
  Run run(s, reg, 5, 1);
  run.controller.run();
  const auto& ev = run.recorder.events;
  // The aggregator starts right after the second worker's completion, before the others'.
  auto start_sum = std::find(ev.begin(), ev.end(), "start sum@0");
  REQUIRE(start_sum != ev.end());
  CHECK(*(start_sum - 1) == "end worker@1");
  CHECK(std::count_if(ev.begin(), start_sum, [](const std::string& e) { return e.rfind("end worker", 0) == 0; }) == 2);
}

TEST_CASE("select with Scope::Last sees predecessors only, Scope::All the whole iteration", "[controller]") {
  ModuleRegistry reg;
  reg.add("emit", [](TaskContext& ctx) { ctx.results().add("x", Dict{{"from", ctx.alias()}}); });
  reg.add("read", [](TaskContext& ctx) {
    Dict seen;
    for (auto scope : {Scope::All, Scope::Last}) {
      Dict d;
      for (const auto& [node, blob] : ctx.results().select("x", scope)) d[std::to_string(node)] = to_dict(blob)["from"];
      seen[scope == Scope::All ? "all" : "last"] = d;
    }
    ctx.globals().set("seen", seen);
    ctx.stop_swarm();
  });
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef a = sw.add("emit", {.alias = "a", .specified_ids = {0}});
    TaskRef b = sw.add("emit", {.alias = "b", .specified_ids = {1}});
    TaskRef r = sw.add("read", {.maximum = 1});
    return r(b(a()));
  });
  Run run(s, reg, 2);
  run.controller.run();
  Dict seen = to_dict(*run.controller.state().global("seen"));
  CHECK(seen["all"] == Dict{{"0", "a"}, {"1", "b"}});
  CHECK(seen["last"] == Dict{{"1", "b"}});
}

TEST_CASE("globals written by a task are visible to its successors", "[controller]") {
  ModuleRegistry reg;
  reg.add("inc", [](TaskContext& ctx) {
    int v = ctx.globals().get_dict("counter")["v"];
    ctx.globals().set("counter", Dict{{"v", v + 1}});
    CHECK(ctx.globals().get_dict("counter")["v"] == v + 1);  // an instance reads its own write
  });
  reg.add("check", [](TaskContext& ctx) {
    if (ctx.globals().get_dict("counter")["v"] == 4) ctx.stop_swarm();
  });
  LambdaSwarm s([](LambdaSwarm& sw) {
    sw.global("counter", Dict{{"v", 0}});
    TaskRef a = sw.add("inc", {.maximum = 1, .alias = "first"});
    TaskRef b = sw.add("inc", {.maximum = 1, .alias = "second"});
    return sw.add("check", {.maximum = 1})(b(a()));
  });
  Run run(s, reg, 3);
  RunReport r = run.controller.run();
  CHECK(r.iterations.size() == 2);  // +2 per iteration
  CHECK(run.controller.state().version("counter") == 1 + 4);
}

TEST_CASE("a task stores a null dict as the empty object and reads null as {}", "[controller]") {
  // Issue 10: `Dict{}` and `{}` are null in nlohmann-json; a reader of an object gets {}.
  ModuleRegistry reg;
  reg.add("write", [](TaskContext& ctx) {
    ctx.globals().set("options", Dict{});
    ctx.results().add("r", Dict{});
    ctx.globals().set("raw", dict_blob(Dict{}));  // a null written as bytes by hand
  });
  reg.add("read", [](TaskContext& ctx) {
    Dict seen = Dict::object();
    seen["options"] = ctx.globals().get_dict("options");
    seen["raw"] = ctx.globals().get_dict("raw");
    seen["result"] = to_dict(ctx.results().select("r").begin()->second);
    ctx.globals().set("seen", seen);
    ctx.stop_swarm();
  });
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef w = sw.add("write", {.maximum = 1});
    return sw.add("read", {.maximum = 1})(w());
  });
  Run run(s, reg, 1);
  run.controller.run();
  CHECK(to_dict(*run.controller.state().global("options")) == Dict::object());
  const Dict seen = to_dict(*run.controller.state().global("seen"));
  CHECK(seen["options"] == Dict::object());
  CHECK(seen["raw"] == Dict::object());
  CHECK(seen["result"] == Dict::object());
}

TEST_CASE("a task that throws ends the run with its alias, node and message", "[controller]") {
  ModuleRegistry reg;
  reg.add("bad", [](TaskContext& ctx) { ctx.globals().get("missing"); });
  LambdaSwarm s([](LambdaSwarm& sw) { return sw.add("bad", {.specified_ids = {3}})(); });
  Run run(s, reg, 5);
  CHECK_THROWS_WITH(run.controller.run(),
                    Catch::Contains("task 'bad' failed on node 3 in iteration 0") &&
                        Catch::Contains("global 'missing' is not set"));
}

TEST_CASE("schedule_next_iter with an unknown alias fails the task", "[controller]") {
  ModuleRegistry reg;
  reg.add("bad", [](TaskContext& ctx) { ctx.schedule_next_iter({0}, "wrker"); });
  LambdaSwarm s([](LambdaSwarm& sw) { return sw.add("bad", {.maximum = 1})(); });
  Run run(s, reg, 2);
  CHECK_THROWS_WITH(run.controller.run(), Catch::Contains("no task has the alias 'wrker'"));
}

TEST_CASE("a task with no eligible node finishes at once", "[controller]") {
  ModuleRegistry reg = counting_registry(1);
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef w = sw.add("worker", {.specified_ids = {99}});
    return sw.add("sum", {.maximum = 1})(w());
  });
  Run run(s, reg, 3, 1);
  RunReport r = run.controller.run();
  CHECK(r.iterations[0].instances == 1);
  CHECK(to_dict(*run.controller.state().global("sum"))["count"] == 0);
}

TEST_CASE("instances get distinct, reproducible RNG streams", "[controller]") {
  ModuleRegistry reg;
  reg.add("draw", [](TaskContext& ctx) { ctx.results().add("r", Dict{{"r", ctx.rng()()}}); });
  reg.add("collect", [](TaskContext& ctx) {
    Dict d;
    for (const auto& [node, blob] : ctx.results().select("r")) d[std::to_string(node)] = to_dict(blob)["r"];
    ctx.globals().set("draws", d);
    ctx.stop_swarm();
  });
  auto draws = [&](int threads) {
    LambdaSwarm s([](LambdaSwarm& sw) { return sw.add("collect", {.maximum = 1})(sw.add("draw")()); });
    Run run(s, reg, 6, 10, threads);
    run.controller.run();
    return to_dict(*run.controller.state().global("draws"));
  };
  Dict one = draws(1);
  CHECK(one == draws(2));
  std::set<uint64_t> distinct;
  for (auto& [k, v] : one.items()) distinct.insert(v.get<uint64_t>());
  CHECK(distinct.size() == 6);
}

TEST_CASE("a lone instance may use every thread; instances side by side get one each", "[controller]") {
  ModuleRegistry reg = testing::noop_registry();
  reg.add("probe", [](TaskContext& ctx) {
    ctx.results().add("threads", Dict{{"threads", ctx.threads()}});
  });
  reg.add("collect", [](TaskContext& ctx) {
    Dict seen = Dict::array();
    for (const auto& [node, blob] : ctx.results().select("threads")) seen.push_back(to_dict(blob)["threads"]);
    ctx.globals().set("seen", Dict{{"workers", seen}, {"self", ctx.threads()}});
    ctx.stop_swarm();
  });
  LambdaSwarm s([](LambdaSwarm& sw) {
    return sw.add("collect", {.maximum = 1})(sw.add("probe")());
  });
  Run run(s, reg, 4, 10, /*threads=*/3);
  run.controller.run();
  Dict seen = to_dict(*run.controller.state().global("seen"));
  CHECK(seen["workers"] == Dict::array({1, 1, 1, 1}));
  CHECK(seen["self"] == 3);
}
