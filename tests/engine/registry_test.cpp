// Registry<Entry>, the one mechanism behind the module, strategy and backend registries
// (docs/extending.md): names, order, errors and "did you mean".

#include <catch2/catch.hpp>

#include "swarm/backend_registry.hpp"
#include "swarm/error.hpp"
#include "swarm/registry.hpp"

using namespace swarm;

TEST_CASE("a Registry finds what was added, lists it in registration order, and refuses bad names", "[registry]") {
  Registry<int> r("widget");
  CHECK(r.kind() == "widget");
  CHECK(r.size() == 0);
  CHECK(r.find("gear") == nullptr);
  r.add("gear", 1);
  r.add("axle", 2);
  r.add("bolt", 3);
  CHECK(r.size() == 3);
  CHECK(r.names() == std::vector<std::string>{"gear", "axle", "bolt"});
  REQUIRE(r.find("axle") != nullptr);
  CHECK(*r.find("axle") == 2);
  CHECK(r.get("bolt") == 3);
  CHECK(r.contains("gear"));
  CHECK_FALSE(r.contains("Gear"));  // names are case-sensitive
  CHECK_THROWS_WITH(r.add("gear", 9), "widget 'gear' is registered twice");
  CHECK(r.get("gear") == 1);  // the refused add changed nothing
  CHECK_THROWS_WITH(r.add("", 9), "a widget needs a non-empty name");
  CHECK(r.size() == 3);
}

TEST_CASE("a Registry's unknown name gets the project's message with a suggestion", "[registry]") {
  Registry<int> r("widget");
  r.add("sprocket", 1);
  r.add("gear", 2);
  CHECK_THROWS_AS(r.get("sprockt"), UsageError);
  CHECK_THROWS_WITH(r.get("sprockt"), Catch::Contains("unknown widget 'sprockt'") &&
                                          Catch::Contains("did you mean 'sprocket'?") &&
                                          Catch::Contains("sprocket, gear"));
  // Nothing close: no suggestion, the known names still listed.
  CHECK_THROWS_WITH(r.get("zzzzzzzz"), !Catch::Contains("did you mean") && Catch::Contains("sprocket, gear"));
  CHECK(r.unknown_message("gaer") == unknown_name_message("widget", "gaer", r.names()));
}

TEST_CASE("a Registry's entries stay at their address as more are added", "[registry]") {
  Registry<std::string> r("word");
  r.add("first", "one");
  const std::string* first = r.find("first");
  for (int i = 0; i < 1000; ++i) {
    std::string name = "w";  // appended apart: GCC 12 warns falsely (-Wrestrict) on "w" + to_string
    name += std::to_string(i);
    r.add(name, std::to_string(i));
  }
  CHECK(r.find("first") == first);
  CHECK(*first == "one");
  CHECK(r.get("w999") == "999");
}

TEST_CASE("a BackendRegistry keeps each entry's clock, description and option keys", "[registry]") {
  BackendRegistry r;
  CHECK(r.kind() == "backend");
  r.add("mine", {nullptr, ClockKind::Virtual, "my nodes", {"speed", "label"}});
  const BackendEntry& e = r.get("mine");
  CHECK(e.clock == ClockKind::Virtual);
  CHECK(e.description == "my nodes");
  CHECK(e.options == std::vector<std::string>{"speed", "label"});
  CHECK_THROWS_WITH(r.get("mien"), Catch::Contains("unknown backend 'mien' (did you mean 'mine'?)"));
}
