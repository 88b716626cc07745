// TaskContext: what an instance reads and writes, what it is charged for reading, its datasets,
// its RNG stream, and how run_instance turns what a task throws into a completion.

#include "swarm/task_context.hpp"

#include <catch2/catch.hpp>

#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::LambdaSwarm;
using swarm::testing::quiet;

namespace {

// worker -> aggregator (tasks 0, 1), with global "model" holding 4 floats.
struct Fixture {
  Fixture() {
    LambdaSwarm s([](LambdaSwarm& sw) {
      TaskRef w = sw.add("a", {.alias = "worker"});
      TaskRef g = sw.add("b", {.alias = "aggregator"});
      return g(w());
    });
    s.global("hp", Dict{{"epochs", 2}});
    graph = s.build(swarm::testing::noop_registry());
    state = std::make_unique<SwarmState>(graph, std::vector<NodeId>{0, 1, 2});
    InstanceOutput init;
    init.global_writes.emplace_back("model", tensor_blob(std::vector<float>{1, 2, 3, 4}));
    init.results.emplace_back("update", tensor_blob(std::vector<float>{5}));
    state->begin_iteration(0);
    state->apply(0, 2, init);
  }
  static constexpr const char* kAliases[] = {"worker", "aggregator"};
  static constexpr const char* kModules[] = {"a", "b"};
  InstanceSpec spec(NodeId node, int task = 1) const {
    return {.id = 7, .task = task, .alias = kAliases[task], .module = kModules[task], .node = node, .seed = 42};
  }
  SwarmGraph graph;
  std::unique_ptr<SwarmState> state;
  LocalData none;
};

}  // namespace

TEST_CASE("an instance reads its own writes first, and each global or result is charged once") {
  Fixture f;
  InstanceSpec spec = f.spec(0);
  TaskContext ctx(spec, *f.state, f.none, quiet());
  const Blob model = ctx.globals().get("model");
  CHECK(tensor_values(model).size() == 4);
  ctx.globals().get("model");  // read again: not charged again
  const uint64_t model_bytes = model.size();
  CHECK(ctx.output().bytes_read == model_bytes);

  ctx.globals().set("model", tensor_blob(std::vector<float>{9}));
  CHECK(tensor_values(ctx.globals().get("model"))[0] == 9);  // its own write, not the store's
  CHECK(ctx.output().bytes_read == model_bytes);            // an own write costs no download
  CHECK(f.state->version("model") == 1);                     // the store is untouched

  CHECK(ctx.globals().get_dict("hp")["epochs"] == 2);
  CHECK(ctx.globals().contains("hp"));
  CHECK_FALSE(ctx.globals().contains("missing"));
  ctx.globals().set("fresh", Dict{{"k", 1}});
  CHECK(ctx.globals().contains("fresh"));

  std::map<NodeId, Blob> updates = ctx.results().select("update", Scope::Last);
  REQUIRE(updates.size() == 1);
  CHECK(updates.count(2) == 1);
  ctx.results().select("update");  // the same result again: charged once
  CHECK(ctx.output().bytes_read == model_bytes + dict_blob(Dict{{"epochs", 2}}).size() + updates.at(2).size());
}

TEST_CASE("reading a missing global or a tensor as a dict fails the task with the key's name") {
  Fixture f;
  InstanceSpec spec = f.spec(0);
  TaskContext ctx(spec, *f.state, f.none, quiet());
  CHECK_THROWS_WITH(ctx.globals().get("nope"), "global 'nope' is not set");
  CHECK_THROWS_AS(ctx.globals().get_dict("model"), TaskError);
  CHECK_THROWS_WITH(ctx.globals().get_dict("model"), Catch::StartsWith("global 'model': "));
}

TEST_CASE("schedule_next_iter takes known aliases only, and stop_swarm is recorded") {
  Fixture f;
  InstanceSpec spec = f.spec(kServerNode);
  TaskContext ctx(spec, *f.state, f.none, quiet());
  ctx.schedule_next_iter({2, 0}, "worker");
  ctx.schedule_next_iter({1}, "worker");
  REQUIRE(ctx.output().schedule.size() == 2);
  CHECK(ctx.output().schedule[0] == std::pair<std::string, std::vector<NodeId>>{"worker", {2, 0}});
  CHECK_THROWS_WITH(ctx.schedule_next_iter({0}, "wrker"), "schedule_next_iter: no task has the alias 'wrker'");
  CHECK_FALSE(ctx.output().stop);
  ctx.stop_swarm();
  CHECK(ctx.output().stop);
}

TEST_CASE("a node's datasets are read by type, and a missing or mistyped one names the node") {
  Fixture f;
  LocalData local{{"train", std::vector<int>{1, 2, 3}}};
  InstanceSpec on_node = f.spec(3, 0);
  TaskContext ctx(on_node, *f.state, local, quiet());
  CHECK(ctx.dataset<std::vector<int>>("train").size() == 3);
  CHECK_THROWS_WITH(ctx.dataset<std::vector<int>>("test"), "node 3 holds no dataset 'test'");
  CHECK_THROWS_WITH(ctx.dataset<std::string>("train"),
                    "node 3's dataset 'train' is not of the type task 'worker' reads");

  InstanceSpec on_server = f.spec(kServerNode);
  TaskContext server(on_server, *f.state, f.none, quiet());
  CHECK_THROWS_WITH(server.dataset<int>("train"), "the server holds no dataset 'train'");
}

TEST_CASE("an instance's RNG stream is its seed's, and its thread count is at least one") {
  Fixture f;
  InstanceSpec spec = f.spec(0);
  TaskContext a(spec, *f.state, f.none, quiet(), 0);
  TaskContext b(spec, *f.state, f.none, quiet(), 4);
  std::mt19937_64 reference(42);
  const uint64_t first = a.rng()();
  CHECK(first == reference());
  CHECK(b.rng()() == first);
  CHECK(a.threads() == 1);
  CHECK(b.threads() == 4);
  CHECK(a.node_id() == 0);
  CHECK(a.alias() == "aggregator");
  CHECK(std::vector<NodeId>(a.node_ids().begin(), a.node_ids().end()) == std::vector<NodeId>{0, 1, 2});
}

TEST_CASE("run_instance returns the output of a task that ends, and the message of one that throws") {
  Fixture f;
  InstanceSpec spec = f.spec(1);
  Completion ok = run_instance(
      [](TaskContext& ctx) {
        ctx.results().add("stats", Dict{{"loss", 0.5}});
        ctx.add_flops(1000);
        ctx.add_flops(24);
      },
      spec, *f.state, f.none, quiet());
  CHECK(ok.status == InstanceStatus::Ok);
  CHECK(ok.spec.id == 7);
  REQUIRE(ok.output.results.size() == 1);
  CHECK(to_dict(ok.output.results[0].second)["loss"] == 0.5);
  CHECK(ok.output.flops == 1024);

  Completion failed = run_instance([](TaskContext& ctx) { ctx.globals().get("nope"); }, spec, *f.state, f.none,
                                   quiet());
  CHECK(failed.status == InstanceStatus::Failed);
  CHECK(failed.error == "global 'nope' is not set");
  CHECK_FALSE(failed.diverged);
  CHECK(failed.output.results.empty());

  Completion diverged = run_instance([](TaskContext&) { throw Diverged("the loss is nan"); }, spec, *f.state,
                                     f.none, quiet());
  CHECK(diverged.status == InstanceStatus::Failed);
  CHECK(diverged.diverged);
  CHECK(diverged.error == "the loss is nan");

  Completion odd = run_instance([](TaskContext&) { throw 3; }, spec, *f.state, f.none, quiet());
  CHECK(odd.status == InstanceStatus::Failed);
  CHECK(odd.error == "unknown exception");
}
