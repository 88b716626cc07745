// The container launchers' options (image, cpus, memory): per-node limits, and clear errors for
// bad values or for options given to a launcher that does not read them; the command runner.

#include <catch2/catch.hpp>

#include "deploy/launcher.hpp"
#include "swarm/error.hpp"
#include "tests/cli/run_cli.hpp"

using namespace swarm;
using namespace swarm::deploy;

TEST_CASE("cpus and memory give each node its limits, cycling through a list", "[deploy][launcher]") {
  const std::vector<NodeLimits> none = node_limits(Dict::object(), 2);
  REQUIRE(none.size() == 2);
  CHECK(none[0] == NodeLimits{});
  const std::vector<NodeLimits> all = node_limits(Dict{{"cpus", 1}, {"memory", "512m"}}, 3);
  for (const NodeLimits& l : all) CHECK(l == NodeLimits{"1", 512ull << 20});
  const std::vector<NodeLimits> mixed = node_limits(Dict{{"cpus", "2, 0.5"}, {"memory", "1g,256m,64m"}}, 4);
  CHECK(mixed[0] == NodeLimits{"2", 1ull << 30});
  CHECK(mixed[1] == NodeLimits{"0.5", 256ull << 20});
  CHECK(mixed[2] == NodeLimits{"2", 64ull << 20});
  CHECK(mixed[3] == NodeLimits{"0.5", 1ull << 30});
  CHECK(node_limits(Dict{{"cpus", 1.5}}, 1)[0].cpus == "1.5");
}

TEST_CASE("bad limits are refused naming the key and what was expected", "[deploy][launcher]") {
  CHECK_THROWS_WITH(node_limits(Dict{{"cpus", "1,x"}}, 2), Catch::Contains("backend_options.cpus: 'x' is not a number of CPUs"));
  CHECK_THROWS_WITH(node_limits(Dict{{"cpus", 0}}, 2), Catch::Contains("expected numbers from 0.01 to 1024"));
  CHECK_THROWS_WITH(node_limits(Dict{{"cpus", true}}, 2), Catch::Contains("backend_options.cpus: expected a number or a string"));
  CHECK_THROWS_WITH(node_limits(Dict{{"memory", "512 MB"}}, 2),
                    Catch::Contains("backend_options.memory: '512 MB' is not a memory size"));
  CHECK_THROWS_WITH(node_limits(Dict{{"memory", "1m"}}, 2), Catch::Contains("outside the range a container takes"));
  CHECK_THROWS_AS(node_limits(Dict{{"memory", "1g,"}}, 2), UsageError);
  CHECK(parse_memory("2G", "x") == 2ull << 30);
  CHECK(parse_memory("10000000", "x") == 10000000);
  CHECK(parse_memory("6.5m", "x") == 13ull << 19);
}

TEST_CASE("constraints place each node by a Swarm placement constraint, cycling through a list", "[deploy][launcher]") {
  CHECK(node_constraints(Dict::object(), 2) == std::vector<std::string>{"", ""});
  CHECK(node_constraints(Dict{{"constraints", "node.labels.profile==big,node.labels.profile!=big"}}, 3) ==
        std::vector<std::string>{"node.labels.profile==big", "node.labels.profile!=big", "node.labels.profile==big"});
  CHECK_THROWS_WITH(node_constraints(Dict{{"constraints", "node.labels.profile=big"}}, 1),
                    Catch::Contains("backend_options.constraints: 'node.labels.profile=big' is not a placement constraint"));
  CHECK_THROWS_AS(node_constraints(Dict{{"constraints", 3}}, 1), UsageError);
}

TEST_CASE("a command's output and exit code are captured", "[deploy][launcher]") {
  const CommandResult ok = run_command("sh", {"-c", "echo out; echo err >&2; exit 3"});
  CHECK(ok.status == 3);
  CHECK(ok.output == "out\nerr\n");
  const CommandResult missing = run_command("/nonexistent/program", {});
  CHECK(missing.status != 0);
  std::vector<std::vector<std::string>> many;
  for (int i = 0; i < 20; ++i) many.push_back({"-c", "echo " + std::to_string(i) + "; exit " + std::to_string(i % 3)});
  const std::vector<CommandResult> all = run_commands("sh", many, 4);  // in the order given, 4 at a time
  REQUIRE(all.size() == 20);
  for (int i = 0; i < 20; ++i) {
    CHECK(all[i].output == std::to_string(i) + "\n");
    CHECK(all[i].status == i % 3);
  }
  CHECK(last_lines("a\nb\nc\n", 2) == "b\nc");
  CHECK(last_lines("a\nb\nc", 5) == "a\nb\nc");
}

TEST_CASE("swarm deploy refuses container options it would not use, and bad ones, before starting", "[deploy][launcher][cli]") {
  const auto dir = swarm::testing::fresh_dir("swarm_launcher_cli");
  const auto file = swarm::testing::write_file(
      dir, "l.yaml", "name: l\nswarm: {rounds: 1}\ndata: {dataset: synthetic, samples: 400}\npopulation: {nodes: 2}\n");
  auto local = swarm::testing::swarm_cli("deploy " + file.string() + " --launcher local --set backend_options.image=x");
  CHECK(local.code != 0);
  CHECK_THAT(local.out, Catch::Contains("backend_options.image: only for the container launchers (docker, swarm-mode), not launcher local"));
  auto docker = swarm::testing::swarm_cli("deploy " + file.string() +
                                         " --launcher docker --set backend_options.constraints=node.role==manager");
  CHECK(docker.code != 0);
  CHECK_THAT(docker.out, Catch::Contains("backend_options.constraints: only for launcher swarm-mode"));
  auto bad = swarm::testing::swarm_cli("deploy " + file.string() + " --launcher docker --set backend_options.memory=lots");
  CHECK(bad.code != 0);
  CHECK_THAT(bad.out, Catch::Contains("backend_options.memory: 'lots' is not a memory size"));
  auto unknown = swarm::testing::swarm_cli("deploy " + file.string() + " --launcher kubernetes");
  CHECK(unknown.code != 0);
  CHECK_THAT(unknown.out, Catch::Contains("--launcher"));
  auto image = swarm::testing::swarm_cli("deploy " + file.string() + " --launcher docker --set backend_options.image=swarmsim-node:no-such-tag");
  CHECK(image.code != 0);  // no such image, or no Docker engine: either is said, nothing is started
  CHECK_THAT(image.out, Catch::Contains("no image swarmsim-node:no-such-tag") || Catch::Contains("the Docker engine does not answer"));
}
