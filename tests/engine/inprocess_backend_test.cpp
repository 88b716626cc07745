// InProcessBackend on its own (engine/inprocess_backend.cpp): its node list, what it runs on
// which data, failures, cancel, and that the thread count does not change a run.

#include "swarm/inprocess_backend.hpp"

#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

#include "swarm/controller.hpp"
#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::completion;
using swarm::testing::LambdaSwarm;
using swarm::testing::quiet_logger;

namespace {

// Node i holds a dataset "n" = 10 * i and runs at (i + 1) GFLOP/s.
std::vector<LocalNode> nodes(std::vector<NodeId> ids) {
  std::vector<LocalNode> out;
  for (NodeId id : ids) out.push_back({id, (id + 1) * 1e9, LocalData{{"n", static_cast<int>(10 * id)}}});
  return out;
}

ModuleRegistry registry() {
  ModuleRegistry r = swarm::testing::noop_registry();
  // Adds its node's dataset "n" as result "v".
  r.add("read", [](TaskContext& ctx) { ctx.results().add("v", Dict{{"n", ctx.dataset<int>("n")}}); });
  r.add("throw", [](TaskContext&) { throw std::runtime_error("out of cheese"); });
  return r;
}

InstanceSpec spec(uint64_t id, const std::string& module, NodeId node) {
  InstanceSpec s;
  s.id = id;
  s.task = 0;
  s.alias = module;
  s.module = module;
  s.node = node;
  return s;
}

// A one-task graph and its state, for start() calls outside a controller.
struct Bench {
  ModuleRegistry reg = registry();
  LambdaSwarm swarm{[](LambdaSwarm& s) { return s.add("read")(); }};
  SwarmGraph graph = swarm.build(reg);
  SwarmState state{graph, {0, 1, 2}};
};

}  // namespace

TEST_CASE("InProcessBackend lists its nodes sorted by id, all available, on a wall clock", "[inprocess]") {
  ModuleRegistry reg = registry();
  InProcessBackend b(reg, nodes({2, 0, 1}), 1, quiet_logger());
  CHECK(b.node_ids() == std::vector<NodeId>{0, 1, 2});
  CHECK_FALSE(b.node_ids_may_change());
  CHECK(b.clock() == ClockKind::Wall);
  std::vector<NodeDescriptor> on = b.available_nodes();
  REQUIRE(on.size() == 3);
  for (size_t i = 0; i < on.size(); ++i) {
    CHECK(on[i].id == i);
    CHECK(on[i].flops == (i + 1) * 1e9);
  }
  const NodeId some[] = {1, 2, 7};  // 7 is unknown: left out
  std::vector<NodeDescriptor> among = b.available_among(some);
  REQUIRE(among.size() == 2);
  CHECK(among[0].id == 1);
  CHECK(among[1].id == 2);
  const Nanos t0 = b.now_ns();
  CHECK(t0 >= 0);
  CHECK(b.now_ns() >= t0);
}

TEST_CASE("InProcessBackend refuses bad construction", "[inprocess]") {
  ModuleRegistry reg = registry();
  CHECK_THROWS_AS(InProcessBackend(reg, nodes({0}), 0, quiet_logger()), UsageError);
  CHECK_THROWS_AS(InProcessBackend(reg, {}, 1, quiet_logger()), UsageError);
  CHECK_THROWS_WITH(InProcessBackend(reg, nodes({1, 0, 1}), 1, quiet_logger()), "two nodes have the id 1");
  std::vector<LocalNode> server{{kServerNode, 1e9, {}}};
  CHECK_THROWS_AS(InProcessBackend(reg, server, 1, quiet_logger()), UsageError);
}

TEST_CASE("InProcessBackend runs a module on its node's data and delivers in start order", "[inprocess]") {
  Bench t;
  InProcessBackend b(t.reg, nodes({0, 1, 2}), 2, quiet_logger(), LocalData{{"n", -1}});
  b.start(spec(0, "read", 2), t.state.snapshot());
  b.start(spec(1, "read", 0), t.state.snapshot());
  b.start(spec(2, "read", kServerNode), t.state.snapshot());  // the server's data
  std::vector<int> seen;
  for (int i = 0; i < 3; ++i) {
    std::optional<Completion> c = completion(b.wait({}));
    REQUIRE(c);
    CHECK(c->spec.id == static_cast<uint64_t>(i));
    REQUIRE(c->status == InstanceStatus::Ok);
    CHECK(c->start_ns <= c->end_ns);
    REQUIRE(c->output.results.size() == 1);
    seen.push_back(to_dict(c->output.results[0].second)["n"].get<int>());
  }
  CHECK(seen == std::vector<int>{20, 0, -1});
  // Nothing in flight is a normal answer.
  CHECK(std::holds_alternative<Idle>(b.wait({})));
}

TEST_CASE("InProcessBackend reports a throwing task, an unknown module and a missing node as failed", "[inprocess]") {
  Bench t;
  InProcessBackend b(t.reg, nodes({0, 1}), 1, quiet_logger());
  b.start(spec(0, "throw", 0), t.state.snapshot());
  b.start(spec(1, "nope", 1), t.state.snapshot());
  b.start(spec(2, "read", 5), t.state.snapshot());
  std::optional<Completion> thrown = completion(b.wait({}));
  REQUIRE(thrown);
  CHECK(thrown->status == InstanceStatus::Failed);
  CHECK_THAT(thrown->error, Catch::Contains("out of cheese"));
  std::optional<Completion> unknown = completion(b.wait({}));
  REQUIRE(unknown);
  CHECK(unknown->status == InstanceStatus::Failed);
  CHECK_THAT(unknown->error, Catch::Contains("module 'nope' is not registered"));
  std::optional<Completion> missing = completion(b.wait({}));
  REQUIRE(missing);
  CHECK(missing->status == InstanceStatus::Failed);
  CHECK_THAT(missing->error, Catch::Contains("node 5 does not exist"));
  CHECK(std::holds_alternative<Idle>(b.wait({})));
}

TEST_CASE("InProcessBackend delivers nothing for a cancelled instance", "[inprocess]") {
  Bench t;
  InProcessBackend b(t.reg, nodes({0, 1, 2}), 1, quiet_logger());
  for (uint64_t i = 0; i < 3; ++i) b.start(spec(i, "read", static_cast<NodeId>(i)), t.state.snapshot());
  b.cancel(1);  // before it ran
  std::optional<Completion> first = completion(b.wait({}));
  REQUIRE(first);
  CHECK(first->spec.id == 0);
  b.cancel(2);  // after it ran, before it was delivered
  CHECK(std::holds_alternative<Idle>(b.wait({})));
  b.cancel(42);  // unknown: nothing to do
  CHECK(std::holds_alternative<Idle>(b.wait({})));
}

TEST_CASE("an InProcessBackend run is identical whatever the thread count", "[inprocess][determinism]") {
  ModuleRegistry reg = registry();
  // Each worker adds a draw of its own stream; the sum task concatenates them in node order.
  reg.add("draw", [](TaskContext& ctx) {
    ctx.results().add("v", Dict{{"x", static_cast<uint64_t>(ctx.rng()())}});
  });
  reg.add("sum", [](TaskContext& ctx) {
    Dict all = Dict::array();
    for (const auto& [node, blob] : ctx.results().select("v")) all.push_back(to_dict(blob)["x"]);
    ctx.globals().set("draws_" + std::to_string(ctx.iteration()), all);
  });
  LambdaSwarm s([](LambdaSwarm& sw) {
    return sw.add("sum", {.maximum = 1})(sw.add("draw", {.method = Method::Any, .maximum = 5})());
  });
  SwarmGraph g = s.build(reg);
  auto run = [&](int threads) {
    InProcessBackend b(reg, nodes({0, 1, 2, 3, 4, 5, 6, 7}), threads, quiet_logger());
    Controller c(g, b, {.seed = 7, .max_iterations = 3});
    RunReport r = c.run();
    std::vector<std::string> out;
    for (int i = 0; i < 3; ++i) out.push_back(to_dict(*c.state().global("draws_" + std::to_string(i))).dump());
    CHECK(r.iterations.size() == 3);
    return out;
  };
  const std::vector<std::string> one = run(1);
  CHECK(one == run(4));
  CHECK(one[0] != one[1]);  // iterations draw anew
}

TEST_CASE("InProcessBackend nodes declare their datasets, and placement honours Module::datasets", "[inprocess][datasets]") {
  ModuleRegistry reg = registry();
  std::vector<LocalNode> ns = nodes({0, 1, 2});
  ns[1].data["extra"] = 1;  // only node 1 holds "extra"
  ns[2].cores = 8;
  ns[2].memory_bytes = 1 << 30;
  InProcessBackend b(reg, ns, 1, quiet_logger());
  std::vector<NodeDescriptor> on = b.available_nodes();
  REQUIRE(on.size() == 3);
  REQUIRE(on[1].traits != nullptr);
  CHECK(on[1].traits->datasets == std::vector<std::string>{"extra", "n"});
  CHECK(on[0].traits->datasets == std::vector<std::string>{"n"});
  CHECK(on[2].cores == 8);
  CHECK(on[2].memory_bytes == (1u << 30));

  struct Nodes : ControllerObserver {
    std::vector<NodeId> seen;
    void on_instance_start(const InstanceSpec& s) override { seen.push_back(s.node); }
  };
  // A task reading "extra" runs on node 1 alone.
  class Reads : public Swarm {
   public:
    explicit Reads(std::string dataset) {
      t_ = task(Module{"read", "test:latest", {"n", dataset}}, {});
    }
    TaskRef execute() override { return t_(); }

   private:
    TaskRef t_;
  };
  Reads extra("extra");
  SwarmGraph g = extra.build(reg);
  Controller c(g, b, {.max_iterations = 1});
  Nodes obs;
  c.add_observer(&obs);
  c.run();
  CHECK(obs.seen == std::vector<NodeId>{1});

  // A dataset no node holds: a clear error, not a silent round without the task.
  Reads missing("labels");
  SwarmGraph g2 = missing.build(reg);
  Controller c2(g2, b, {.max_iterations = 1});
  CHECK_THROWS_WITH(c2.run(), Catch::Contains("task 'read' has no node to run on") &&
                                  Catch::Contains("reads the datasets 'n', 'labels': a node must hold them all"));
}
