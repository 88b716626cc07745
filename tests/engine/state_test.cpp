// SwarmState: globals with versions, results of the iteration, and what each scope selects.

#include "swarm/state.hpp"

#include <catch2/catch.hpp>

#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::LambdaSwarm;

namespace {

// a -> b -> c (task indices 0, 1, 2), with one initial global.
SwarmGraph chain_graph() {
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef a = sw.add("a");
    TaskRef b = sw.add("b");
    TaskRef c = sw.add("c");
    return c(b(a()));
  });
  s.global("config", Dict{{"lr", 0.5}});
  return s.build(swarm::testing::noop_registry());
}

InstanceOutput output_with(std::vector<std::pair<std::string, Blob>> writes,
                           std::vector<std::pair<std::string, Blob>> results = {}) {
  InstanceOutput out;
  out.global_writes = std::move(writes);
  out.results = std::move(results);
  return out;
}

Blob number(float x) { return tensor_blob(std::vector<float>{x}); }

float value_of(const Blob& blob) { return tensor_values(blob)[0]; }

}  // namespace

TEST_CASE("initial globals start at version 1, unset keys at 0, every write adds one") {
  SwarmGraph graph = chain_graph();
  SwarmState state(graph, {0, 1});
  CHECK(state.version("config") == 1);
  CHECK(to_dict(*state.global("config"))["lr"] == 0.5);
  CHECK(state.version("model") == 0);
  CHECK_FALSE(state.global("model").has_value());

  state.apply(0, 0, output_with({{"model", number(1)}, {"model", number(2)}}));
  CHECK(state.version("model") == 2);  // two writes in one output: two versions
  CHECK(value_of(*state.global("model")) == 2);  // the later write wins
  state.apply(1, 1, output_with({{"config", dict_blob(Dict{{"lr", 0.1}})}}));
  CHECK(state.version("config") == 2);
}

TEST_CASE("select keeps a node's last value of a tag, and Scope::Last only the reader's predecessors") {
  SwarmGraph graph = chain_graph();
  SwarmState state(graph, {0, 1, 2});
  state.begin_iteration(0);
  state.apply(0, 0, output_with({}, {{"update", number(1)}, {"update", number(2)}}));
  state.apply(0, 1, output_with({}, {{"update", number(3)}}));
  state.apply(1, 2, output_with({}, {{"update", number(7)}}));

  std::map<NodeId, Blob> all = state.select("update", Scope::All, 2);
  REQUIRE(all.size() == 3);
  CHECK(value_of(all.at(0)) == 2);  // node 0 added 1 then 2
  CHECK(value_of(all.at(1)) == 3);
  CHECK(value_of(all.at(2)) == 7);

  // c's only predecessor is b (task 1), which ran on node 2.
  std::map<NodeId, Blob> last = state.select("update", Scope::Last, 2);
  REQUIRE(last.size() == 1);
  CHECK(value_of(last.at(2)) == 7);
  // b's predecessor is a (task 0): nodes 0 and 1.
  CHECK(state.select("update", Scope::Last, 1).size() == 2);
  CHECK(state.select("nothing", Scope::All, 2).empty());
}

TEST_CASE("result_count counts distinct nodes of one task, and a new iteration drops results but keeps globals") {
  SwarmGraph graph = chain_graph();
  SwarmState state(graph, {0, 1});
  state.begin_iteration(0);
  state.apply(0, 0, output_with({{"model", number(4)}}, {{"update", number(1)}, {"update", number(1)}}));
  state.apply(0, 1, output_with({}, {{"update", number(1)}, {"stats", number(0)}}));
  state.apply(1, 0, output_with({}, {{"update", number(1)}}));
  CHECK(state.result_count(0, "update") == 2);  // node 0 twice counts once
  CHECK(state.result_count(1, "update") == 1);
  CHECK(state.result_count(0, "stats") == 1);
  CHECK(state.result_count(2, "update") == 0);

  state.begin_iteration(1);
  CHECK(state.result_count(0, "update") == 0);
  CHECK(state.select("update", Scope::All, 2).empty());
  CHECK(value_of(*state.global("model")) == 4);
}

TEST_CASE("the node list is kept sorted, also when replaced, and aliases are those of the graph") {
  SwarmGraph graph = chain_graph();
  SwarmState state(graph, {5, 1, 3});
  CHECK(std::vector<NodeId>(state.node_ids().begin(), state.node_ids().end()) == std::vector<NodeId>{1, 3, 5});
  state.set_node_ids({9, 0});
  CHECK(std::vector<NodeId>(state.node_ids().begin(), state.node_ids().end()) == std::vector<NodeId>{0, 9});
  CHECK(state.has_alias("b"));
  CHECK_FALSE(state.has_alias("d"));
}

TEST_CASE("an output's bytes written are its global writes and results") {
  InstanceOutput out = output_with({{"model", tensor_blob(std::vector<float>(10))}},
                                   {{"update", tensor_blob(std::vector<float>(3))}});
  // A rank-1 tensor: 4 magic + 4 rank + 8 dim = 16 bytes of header (already aligned), then floats.
  CHECK(out.bytes_written() == (16 + 40) + (16 + 12));
  CHECK(InstanceOutput{}.bytes_written() == 0);
}
