// run_batch: a batch of instances runs in parallel, each on its node's data, and comes back in
// the batch's order whatever the thread count; what goes wrong fails one instance, not the batch.

#include "swarm/batch_runner.hpp"

#include <stdexcept>

#include <catch2/catch.hpp>

#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::LambdaSwarm;
using swarm::testing::quiet;

namespace {

SwarmGraph one_task_graph() {
  LambdaSwarm s([](LambdaSwarm& sw) { return sw.add("a")(); });
  return s.build(swarm::testing::noop_registry());
}

// "train" holds the node's id times ten; node 13 has no data (the provider refuses it).
LocalData data_of(NodeId node) {
  if (node == 13) throw std::runtime_error("node 13 has no shard");
  return {{"train", static_cast<int>(node) * 10}};
}

// Adds the node's value, a draw of its RNG stream and the threads it was given.
void report(TaskContext& ctx) {
  ctx.results().add("out", Dict{{"value", ctx.dataset<int>("train")},
                                {"draw", ctx.rng()()},
                                {"threads", ctx.threads()}});
}

std::vector<PendingInstance> batch_on(const std::vector<NodeId>& nodes, const SwarmState& state,
                                      const std::string& module = "report") {
  std::vector<PendingInstance> batch;
  std::shared_ptr<const StateReader> snapshot = state.snapshot();
  for (NodeId n : nodes) {
    InstanceSpec spec;
    spec.id = n + 100;
    spec.task = 0;
    spec.alias = "a";
    spec.module = module;
    spec.node = n;
    spec.seed = 1000 + n;
    batch.push_back({spec, snapshot});
  }
  return batch;
}

Dict out_of(const Completion& c) { return to_dict(c.output.results.at(0).second); }

}  // namespace

TEST_CASE("a batch comes back in its order with the same outputs on one thread or two") {
  SwarmGraph graph = one_task_graph();
  SwarmState state(graph, {0, 1, 2, 3, 4, 5});
  ModuleRegistry registry;
  registry.add("report", report);
  const std::vector<NodeId> nodes{5, 0, 3, 1, 4, 2};
  std::vector<PendingInstance> batch = batch_on(nodes, state);

  std::vector<Completion> one = run_batch(registry, batch, data_of, 1, quiet());
  std::vector<Completion> two = run_batch(registry, batch, data_of, 2, quiet());
  REQUIRE(one.size() == nodes.size());
  REQUIRE(two.size() == nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    INFO("instance " << i);
    CHECK(one[i].status == InstanceStatus::Ok);
    CHECK(one[i].spec.node == nodes[i]);
    CHECK(two[i].spec.node == nodes[i]);
    CHECK(out_of(one[i])["value"] == nodes[i] * 10);
    CHECK(out_of(one[i])["draw"] == std::mt19937_64(1000 + nodes[i])());
    CHECK(out_of(two[i])["draw"] == out_of(one[i])["draw"]);
    // Beside other instances, each gets one thread.
    CHECK(out_of(two[i])["threads"] == 1);
    CHECK(one[i].wall_ns >= 0);
  }
}

TEST_CASE("a lone instance gets every thread for its own loops") {
  SwarmGraph graph = one_task_graph();
  SwarmState state(graph, {0});
  ModuleRegistry registry;
  registry.add("report", report);
  std::vector<Completion> out = run_batch(registry, batch_on({0}, state), data_of, 3, quiet());
  REQUIRE(out.size() == 1);
  CHECK(out_of(out[0])["threads"] == 3);
}

TEST_CASE("an unknown module, a refused node and a throwing task fail their own instance only") {
  SwarmGraph graph = one_task_graph();
  SwarmState state(graph, {1, 13});
  ModuleRegistry registry;
  registry.add("report", report);
  registry.add("throws", [](TaskContext&) { throw TaskError("bad input"); });

  std::vector<PendingInstance> batch = batch_on({1, 13}, state);
  std::vector<PendingInstance> unknown = batch_on({1}, state, "reprot");
  std::vector<PendingInstance> throwing = batch_on({1}, state, "throws");
  batch.push_back(unknown[0]);
  batch.push_back(throwing[0]);

  std::vector<Completion> out = run_batch(registry, batch, data_of, 2, quiet());
  REQUIRE(out.size() == 4);
  CHECK(out[0].status == InstanceStatus::Ok);
  CHECK(out[1].status == InstanceStatus::Failed);
  CHECK(out[1].error == "node 13 has no shard");
  CHECK(out[1].spec.node == 13);
  CHECK(out[2].status == InstanceStatus::Failed);
  CHECK(out[2].error == "module 'reprot' is not registered");
  CHECK(out[3].status == InstanceStatus::Failed);
  CHECK(out[3].error == "bad input");
}

TEST_CASE("an empty batch gives no completion") {
  ModuleRegistry registry;
  CHECK(run_batch(registry, {}, data_of, 2, quiet()).empty());
}
