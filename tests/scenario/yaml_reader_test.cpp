// Issue 9, item 8: YAML that yaml-cpp accepts although it is broken is refused, with
// FILE:LINE:COLUMN.
#include "scenario/yaml_reader.hpp"

#include <catch2/catch.hpp>

using namespace swarm::scenario;

TEST_CASE("issue 9.8: a duplicate key is refused at every nesting level", "[scenario][yaml]") {
  // yaml-cpp keeps both and a lookup returns the first: the second was silently ignored.
  CHECK_THROWS_WITH(parse_yaml("name: a\nseed: 1\nname: b\n", "t.yaml"),
                    Catch::StartsWith("t.yaml:3:1: name: duplicate key 'name' (first at line 1, column 1)"));
  CHECK_THROWS_WITH(parse_yaml("swarm:\n  rounds: 2\n  rounds: 3\n", "t.yaml"),
                    Catch::StartsWith("t.yaml:3:3: swarm.rounds: duplicate key 'rounds'"));
  // In a list of maps (flow style: the second `share` starts at column 34).
  CHECK_THROWS_WITH(parse_yaml("population:\n  profiles:\n    - {profile: phone, share: 1, share: 2}\n", "t.yaml"),
                    Catch::StartsWith("t.yaml:3:34: population.profiles[0].share: duplicate key 'share'"));
}

TEST_CASE("issue 9.8: a duplicate key in a --set value names the --set", "[scenario][yaml]") {
  CHECK_THROWS_WITH(parse_override("strategy={name: krum, name: fedavg}"),
                    Catch::StartsWith("--set strategy: strategy.name: duplicate key 'name'"));
}

TEST_CASE("issue 9.8: a second YAML document is refused", "[scenario][yaml]") {
  CHECK_THROWS_WITH(parse_yaml("name: a\n---\nname: b\n", "t.yaml"),
                    Catch::StartsWith("t.yaml:2:1: a second YAML document"));
  CHECK_THROWS_WITH(parse_yaml("name: a\n---\n", "t.yaml"), Catch::StartsWith("t.yaml:2:1: a second YAML document"));
  // One document with its optional start marker is fine.
  CHECK(parse_yaml("---\nname: a\n", "t.yaml")["name"].Scalar() == "a");
}

TEST_CASE("issue 9.8: a quoted string cut off by the end of the file is refused", "[scenario][yaml]") {
  // yaml-cpp read this as name = "abc " (the string ended at the end of the file).
  CHECK_THROWS_WITH(parse_yaml("seed: 1\nname: \"abc\n", "t.yaml"),
                    Catch::StartsWith("t.yaml:3:1: malformed YAML:") &&
                        Catch::Contains("quoted scalar that starts at 2:7"));
  CHECK_THROWS_WITH(parse_yaml("name: 'abc\n", "t.yaml"), Catch::StartsWith("t.yaml:2:1: malformed YAML:"));
}

TEST_CASE("issue 9.8: an empty scenario is refused; {} is the scenario of defaults", "[scenario][yaml]") {
  CHECK_THROWS_WITH(parse_yaml("", "t.yaml"), Catch::StartsWith("t.yaml:1:1: the scenario is empty; write {}"));
  CHECK_THROWS_WITH(parse_yaml("# only a comment\n", "t.yaml"), Catch::StartsWith("t.yaml:1:1: the scenario is empty"));
  CHECK(parse_yaml("{}", "t.yaml").IsMap());
}
