// Controller::checkpoint and restore: a run stopped after any iteration and restored into a
// new controller goes on exactly as the run that never stopped.

#include <catch2/catch.hpp>

#include "swarm/controller.hpp"
#include "swarm/inprocess_backend.hpp"
#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::LambdaSwarm;
using swarm::testing::quiet_logger;

namespace {

// draw: a random number from the instance's stream, as result "r". fold: folds the draws
// into global "acc" and picks the next iteration's drawers from it (schedule_next_iter).
// A fixed "anchor" task keeps the node of its first placement.
ModuleRegistry registry() {
  ModuleRegistry r;
  r.add("draw", [](TaskContext& ctx) { ctx.results().add("r", Dict{{"r", ctx.rng()() % 1000}}); });
  r.add("anchor", [](TaskContext& ctx) { ctx.results().add("a", Dict{{"node", ctx.node_id()}}); });
  r.add("fold", [](TaskContext& ctx) {
    uint64_t v = ctx.globals().contains("acc") ? ctx.globals().get_dict("acc")["v"].get<uint64_t>() : 7;
    for (const auto& [node, blob] : ctx.results().select("r")) v = v * 31 + node * 1000 + to_dict(blob)["r"].get<uint64_t>();
    ctx.globals().set("acc", Dict{{"v", v}});
    std::vector<NodeId> next = {static_cast<NodeId>(v % 6), static_cast<NodeId>((v / 6) % 6)};
    ctx.schedule_next_iter(next, "draw");
  });
  return r;
}

SwarmGraph graph_of(const ModuleRegistry& reg) {
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef d = sw.add("draw", {.method = Method::Any, .maximum = 3}),
            a = sw.add("anchor", {.method = Method::Any, .maximum = 1, .fixed = true});
    return sw.add("fold", {.method = Method::Any, .maximum = 1})(a(d()));
  });
  return s.build(reg);
}

std::vector<LocalNode> nodes() {
  std::vector<LocalNode> out;
  for (NodeId i = 0; i < 6; ++i) out.push_back({i, 1e9, {}});
  return out;
}

struct Starts : ControllerObserver {
  std::vector<std::string> seen;
  void on_instance_start(const InstanceSpec& s) override {
    seen.push_back(std::to_string(s.iteration) + " " + s.alias + "@" + std::to_string(s.node) + " #" +
                   std::to_string(s.id) + " seed " + std::to_string(s.seed));
  }
};

}  // namespace

TEST_CASE("a run restored from a checkpoint goes on as the run that never stopped", "[controller][checkpoint]") {
  const ModuleRegistry reg = registry();
  const SwarmGraph graph = graph_of(reg);
  const ControllerOptions options{.seed = 11, .max_iterations = 7};

  InProcessBackend full_backend(reg, nodes(), 1, quiet_logger());
  Controller full(graph, full_backend, options);
  Starts full_starts;
  full.add_observer(&full_starts);
  full.run();

  const int stop_after = GENERATE(1, 3, 6);
  InProcessBackend first_backend(reg, nodes(), 1, quiet_logger());
  Controller first(graph, first_backend, options);
  Starts starts;
  first.add_observer(&starts);
  for (int i = 0; i < stop_after; ++i) first.step();
  std::optional<ControllerCheckpoint> saved = first.checkpoint();
  REQUIRE(saved);
  CHECK(saved->next_iteration == stop_after);
  CHECK_FALSE(saved->fixed_nodes.empty());
  CHECK_FALSE(saved->scheduled.empty());

  InProcessBackend second_backend(reg, nodes(), 2, quiet_logger());  // another thread count
  Controller second(graph, second_backend, options);
  second.add_observer(&starts);
  second.restore(*saved);
  RunReport rest = second.run();
  CHECK(rest.iterations.size() == static_cast<size_t>(7 - stop_after));
  CHECK(rest.iterations.front().iteration == stop_after);
  CHECK(rest.iterations.front().start_s >= saved->end_s);  // the clock goes on from the checkpoint
  CHECK(starts.seen == full_starts.seen);
  CHECK(to_dict(*second.state().global("acc")) == to_dict(*full.state().global("acc")));
  CHECK(second.state().version("acc") == full.state().version("acc"));
}

TEST_CASE("restore refuses a started controller and a checkpoint of another graph", "[controller][checkpoint]") {
  const ModuleRegistry reg = registry();
  const SwarmGraph graph = graph_of(reg);
  InProcessBackend backend(reg, nodes(), 1, quiet_logger());
  Controller c(graph, backend, {.seed = 1, .max_iterations = 3});
  c.step();
  const ControllerCheckpoint saved = *c.checkpoint();
  CHECK_THROWS_AS(c.restore(saved), UsageError);

  Controller fresh(graph, backend, {.seed = 1, .max_iterations = 3});
  ControllerCheckpoint other = saved;
  other.scheduled[9] = {0};
  CHECK_THROWS_WITH(fresh.restore(other), Catch::Contains("task 9"));
  other = saved;
  other.fixed_nodes.begin()->second = {42};
  CHECK_THROWS_WITH(fresh.restore(other), Catch::Contains("node 42"));
}
