// StateSnapshot (engine/state.cpp): what start() hands a backend. It must stay as it was when
// made, whatever the controller applies afterwards, and share bytes instead of copying them.

#include <catch2/catch.hpp>

#include "swarm/backend.hpp"
#include "swarm/state.hpp"
#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::LambdaSwarm;

TEST_CASE("a snapshot keeps the state it was made from, sharing its blobs", "[state][snapshot]") {
  ModuleRegistry reg = swarm::testing::noop_registry();
  LambdaSwarm s([](LambdaSwarm& sw) { return sw.add("b", {.alias = "sum"})(sw.add("a", {.alias = "work"})()); });
  s.global("g", Dict{{"v", 1}});
  SwarmGraph graph = s.build(reg);
  const int work = *graph.find("work"), sum = *graph.find("sum");
  SwarmState state(graph, {2, 0, 1});
  InstanceOutput first;
  first.results.emplace_back("r", Blob(std::vector<std::byte>(8, std::byte{1})));
  state.apply(work, 0, first);

  std::shared_ptr<const StateSnapshot> snap = state.snapshot();
  // Later writes: a new value of g, a result from node 1, a new node list.
  InstanceOutput later;
  later.global_writes.emplace_back("g", dict_blob(Dict{{"v", 2}}));
  later.results.emplace_back("r", Blob(std::vector<std::byte>(4, std::byte{2})));
  state.apply(work, 1, later);
  state.set_node_ids({0, 1, 2, 3});

  CHECK(to_dict(*snap->global("g"))["v"] == 1);
  CHECK(to_dict(*state.global("g"))["v"] == 2);
  CHECK(snap->select("r", Scope::All, 1).size() == 1);
  CHECK(state.select("r", Scope::All, 1).size() == 2);
  CHECK(snap->select("r", Scope::Last, sum).count(0) == 1);  // "sum" reads its predecessor "work"
  CHECK(snap->select("r", Scope::Last, work).empty());
  CHECK(snap->node_ids().size() == 3);
  CHECK(snap->node_ids()[0] == 0);  // sorted
  CHECK(snap->has_alias("work"));
  CHECK_FALSE(snap->has_alias("nope"));
  // Shared, not copied: the snapshot's blob points at the state's bytes.
  CHECK(snap->select("r", Scope::All, 1).at(0).bytes().data() == state.select("r", Scope::All, 1).at(0).bytes().data());
  // It outlives the state that made it.
  {
    SwarmState gone(graph, {5});
    snap = gone.snapshot();
  }
  CHECK(snap->node_ids().size() == 1);
  CHECK(to_dict(*snap->global("g"))["v"] == 1);
}

TEST_CASE("loss causes keep the names results files and traces use", "[backend]") {
  CHECK(std::string(to_string(LossCause::Crash)) == "crash");
  CHECK(std::string(to_string(LossCause::Transfer)) == "transfer");
  CHECK(std::string(to_string(LossCause::Offline)) == "offline");
  CHECK(std::string(to_string(LossCause::Deadline)) == "deadline");
  CHECK(std::string(to_string(LossCause::Overcommit)) == "overcommit");
  CHECK(std::string(to_string(LossCause::Cancelled)) == "cancelled");
  LossCounts n;
  ++n[LossCause::Deadline];
  ++n[LossCause::Deadline];
  CHECK(n[LossCause::Deadline] == 2);
  CHECK(n[LossCause::Crash] == 0);
  CHECK_FALSE(n == LossCounts{});
}
