#include "swarm/swarm.hpp"

#include <catch2/catch.hpp>

#include "swarm/error.hpp"
#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::LambdaSwarm;

TEST_CASE("a chain of calls records a linear graph", "[swarm]") {
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef w = sw.add("a", {.alias = "worker"});
    TaskRef g = sw.add("b", {.method = Method::Any, .maximum = 1, .alias = "aggregator"});
    TaskRef c = sw.add("c", {.maximum = 1, .alias = "scheduler"});
    auto m = w();
    m = g(m);
    return c(m);
  });
  SwarmGraph g = s.build(testing::noop_registry());
  REQUIRE(g.num_tasks() == 3);
  CHECK(g.task(g.terminal()).alias() == "scheduler");
  CHECK(g.topological_order() == std::vector<int>{0, 1, 2});
  CHECK(g.predecessors(1) == std::vector<int>{0});
  CHECK(g.in_edges(2).at(0).second.condition == Condition::Finished);
  CHECK(g.find("aggregator") == 1);
  CHECK_FALSE(g.find("nobody").has_value());
  CHECK(g.task(1).options.method == Method::Any);
}

TEST_CASE("one module may back two tasks with different aliases", "[swarm]") {
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef x = sw.add("a", {.alias = "left"});
    TaskRef y = sw.add("a", {.alias = "right"});
    TaskRef z = sw.add("b");
    return z(x(), y());
  });
  SwarmGraph g = s.build(testing::noop_registry());
  CHECK(g.num_tasks() == 3);
  CHECK(g.task(0).module.name == g.task(1).module.name);
  CHECK(g.predecessors(2) == std::vector<int>{0, 1});
  CHECK(g.task(2).alias() == "b");  // alias defaults to the module name
}

TEST_CASE("result edges keep their tag and count", "[swarm]") {
  LambdaSwarm s([](LambdaSwarm& sw) {
    TaskRef w = sw.add("a");
    TaskRef g = sw.add("b");
    return g(on_result(w(), "update", 3));
  });
  SwarmGraph g = s.build(testing::noop_registry());
  auto edges = g.in_edges(1);
  REQUIRE(edges.size() == 1);
  CHECK(edges[0].second.condition == Condition::Result);
  CHECK(edges[0].second.tag == "update");
  CHECK(edges[0].second.min_results == 3);
}

TEST_CASE("invalid graphs are refused with a message naming the fault", "[swarm]") {
  ModuleRegistry reg = testing::noop_registry();

  SECTION("a cycle inside an iteration, with its path") {
    LambdaSwarm s([](LambdaSwarm& sw) {
      TaskRef a = sw.add("a"), b = sw.add("b"), c = sw.add("c");
      auto m = b(a());
      a(m);  // b -> a closes the loop a -> b -> a
      return c(m);
    });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("cycle inside an iteration: a -> b -> a"));
  }
  SECTION("two tasks with one alias") {
    LambdaSwarm s([](LambdaSwarm& sw) {
      TaskRef a = sw.add("a", {.alias = "w"}), b = sw.add("b", {.alias = "w"});
      return b(a());
    });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("two tasks have the alias 'w'"));
  }
  SECTION("the same module twice without aliases collides") {
    LambdaSwarm s([](LambdaSwarm& sw) {
      TaskRef a = sw.add("a"), b = sw.add("a");
      return b(a());
    });
    CHECK_THROWS_AS(s.build(reg), GraphError);
  }
  SECTION("an unknown module, listing the known ones") {
    LambdaSwarm s([](LambdaSwarm& sw) { return sw.add("fl.wrker")(); });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("unknown module 'fl.wrker'") &&
                                        Catch::Contains("(known: noop, a, b, c)"));
  }
  SECTION("no terminal task: two sinks") {
    LambdaSwarm s([](LambdaSwarm& sw) {
      TaskRef a = sw.add("a"), b = sw.add("b"), c = sw.add("c");
      auto m = a();
      b(m);
      return c(m);
    });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("one terminal task") &&
                                        Catch::Contains("'b'") && Catch::Contains("'c'"));
  }
  SECTION("execute() returns a task that has successors") {
    LambdaSwarm s([](LambdaSwarm& sw) {
      TaskRef a = sw.add("a"), b = sw.add("b");
      auto m = a();
      b(m);
      return m;
    });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("which has successors"));
  }
  SECTION("a task declared but never called") {
    LambdaSwarm s([](LambdaSwarm& sw) {
      TaskRef a = sw.add("a"), b = sw.add("b");
      sw.add("c");
      return b(a());
    });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("'c' is declared but execute() never calls it"));
  }
  SECTION("no task at all") {
    LambdaSwarm s([](LambdaSwarm&) { return TaskRef(); });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("declares no task"));
  }
  SECTION("an empty handle returned") {
    LambdaSwarm s([](LambdaSwarm& sw) {
      sw.add("a")();
      return TaskRef();
    });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("empty handle"));
  }
  SECTION("maximum out of range") {
    LambdaSwarm zero([](LambdaSwarm& sw) { return sw.add("a", {.maximum = 0})(); });
    CHECK_THROWS_WITH(zero.build(reg), Catch::Contains("maximum must be a count >= 1"));
    LambdaSwarm frac([](LambdaSwarm& sw) { return sw.add("a", {.maximum = 1.5})(); });
    CHECK_THROWS_WITH(frac.build(reg), Catch::Contains("fraction must be in (0, 1]"));
  }
  SECTION("a result edge without a tag") {
    LambdaSwarm s([](LambdaSwarm& sw) {
      TaskRef a = sw.add("a"), b = sw.add("b");
      return b(on_result(a(), ""));
    });
    CHECK_THROWS_WITH(s.build(reg), Catch::Contains("needs a tag"));
  }
}

TEST_CASE("Maximum resolves counts, fractions and no cap", "[swarm]") {
  CHECK(Maximum().resolve(7) == 7);
  CHECK(Maximum(-1).is_unlimited());
  CHECK(Maximum(3).resolve(7) == 3);
  CHECK(Maximum(10).resolve(7) == 7);
  CHECK(Maximum(0.5).resolve(10) == 5);
  CHECK(Maximum(0.25).resolve(10) == 3);   // 2.5 rounds to 3 (half away from zero)
  CHECK(Maximum(0.01).resolve(10) == 1);   // at least one instance
  CHECK(Maximum(1.0).resolve(10) == 10);
  CHECK(Maximum(0.5).resolve(0) == 0);
}

// ---- issue 10, API frictions ----

TEST_CASE("named task options may come in any order and equal the designated form", "[swarm]") {
  LambdaSwarm s([](LambdaSwarm& sw) {
    // The seed page's order (method, fixed, maximum, alias), which designated initializers refuse.
    TaskRef a = sw.named("a", opt::method = Method::Any, opt::fixed = true, opt::maximum = 2,
                         opt::alias = "aggregator");
    TaskRef b = sw.named("b", opt::alias = "frac", opt::maximum = 0.5,
                         opt::specified_ids = {1, 2, 3}, opt::excepted_ids = {2});
    TaskRef c = sw.add("c", {.method = Method::Any, .maximum = 2, .fixed = true, .alias = "designated"});
    return c(b(a()));
  });
  SwarmGraph g = s.build(testing::noop_registry());
  const TaskOptions& named = g.task(0).options;
  const TaskOptions& designated = g.task(2).options;
  CHECK(named.method == designated.method);
  CHECK(named.fixed == designated.fixed);
  CHECK(named.maximum.to_string() == designated.maximum.to_string());
  CHECK(named.alias == "aggregator");
  const TaskOptions& frac = g.task(1).options;
  CHECK(frac.alias == "frac");
  CHECK(frac.maximum.is_fraction());
  CHECK(frac.maximum.resolve(10) == 5);
  CHECK(frac.method == Method::All);  // not named: the default
  CHECK(frac.specified_ids == std::vector<NodeId>{1, 2, 3});
  CHECK(frac.excepted_ids == std::vector<NodeId>{2});
}

TEST_CASE("a Swarm can be neither copied nor moved", "[swarm]") {
  // A copy used to record its edges into the original (its handles point there).
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<LambdaSwarm>);
  STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<LambdaSwarm>);
  STATIC_REQUIRE_FALSE(std::is_move_constructible_v<LambdaSwarm>);
  STATIC_REQUIRE_FALSE(std::is_move_assignable_v<LambdaSwarm>);
}

TEST_CASE("a handle of another swarm is refused, naming both tasks", "[swarm]") {
  TaskRef foreign;  // a task of `holder`, kept out of it
  LambdaSwarm holder([&](LambdaSwarm& sw) {
    foreign = sw.add("a", {.alias = "foreign"});
    return foreign();
  });
  holder.build(testing::noop_registry());

  SECTION("as a task's input") {
    LambdaSwarm s([&](LambdaSwarm& sw) { return sw.add("b", {.alias = "mine"})(foreign); });
    REQUIRE_THROWS_AS(s.build(testing::noop_registry()), GraphError);
    REQUIRE_THROWS_WITH(s.build(testing::noop_registry()), Catch::Matchers::Contains("task 'mine' was given task 'foreign' of another swarm"));
  }
  SECTION("as what execute() returns") {
    LambdaSwarm s([&](LambdaSwarm& sw) {
      sw.add("b", {.alias = "mine"})();
      return foreign;
    });
    REQUIRE_THROWS_AS(s.build(testing::noop_registry()), GraphError);
    REQUIRE_THROWS_WITH(s.build(testing::noop_registry()), Catch::Matchers::Contains("execute() returned task 'foreign' of another swarm"));
  }
}

TEST_CASE("set_global stores a null dict as the empty object", "[swarm]") {
  // `{}` in a Dict initializer is null (nlohmann-json): Dict{} and Dict{{"k", {}}} hold null.
  LambdaSwarm s([](LambdaSwarm& sw) { return sw.add("a")(); });
  s.global("empty", Dict{});
  s.global("nested", Dict{{"loss_params", {}}});
  SwarmGraph g = s.build(testing::noop_registry());
  CHECK(to_dict(g.initial_globals().at("empty")) == Dict::object());
  const Dict nested = to_dict(g.initial_globals().at("nested"));
  CHECK(nested["loss_params"].is_null());  // kept as written; readers use object_entry
  CHECK(object_entry(nested, "loss_params") == Dict::object());
}
