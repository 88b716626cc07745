// Custom graphs declared in a scenario file.
#include "scenario/declared_swarm.hpp"

#include <catch2/catch.hpp>

#include "swarm/fl/modules.hpp"
#include "swarm/registry.hpp"

using namespace swarm;
using namespace swarm::scenario;

TEST_CASE("issue 9.16: a cycle in a custom graph is reported as a cycle, naming its tasks", "[scenario][graph]") {
  // It was "execute() must return the last task of an iteration (got an empty handle)".
  std::vector<TaskDecl> tasks(3);
  tasks[0].alias = "sched";
  tasks[0].module = "fl.scheduler";
  tasks[1].alias = "worker";
  tasks[1].module = "fl.worker";
  tasks[2].alias = "agg";
  tasks[2].module = "fl.aggregator";
  for (TaskDecl& t : tasks) t.options.alias = t.alias;
  std::vector<EdgeDecl> edges(3);
  edges[0].from = "sched";
  edges[0].to = "worker";
  edges[1].from = "worker";
  edges[1].to = "agg";
  edges[2].from = "agg";
  edges[2].to = "sched";
  ModuleRegistry registry;
  fl::register_modules(registry);
  CHECK_THROWS_WITH(DeclaredSwarm(tasks, edges, {}).build(registry),
                    Catch::Contains("the edges form a cycle (sched -> worker -> agg -> sched)"));
}
