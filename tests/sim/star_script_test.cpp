#include "sim/star_script.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "swarm/error.hpp"

using namespace swarm::sim;

namespace {

StarScript two_nodes() {
  StarScript s;
  s.server = {.up_bytes_per_s = 1e9, .down_bytes_per_s = 1e9, .latency = SimTime::zero()};
  s.nodes.push_back({.up_bytes_per_s = 1e6, .down_bytes_per_s = 2e6, .latency = SimTime::from_ns(1500000)});
  s.nodes.push_back({.up_bytes_per_s = 1e6, .down_bytes_per_s = 1e6, .latency = SimTime::zero()});
  return s;
}

}  // namespace

TEST_CASE("a star script is written in the simgrid_star format", "[star_script]") {
  StarScript s = two_nodes();
  s.flows.push_back({.start = SimTime::from_ns(250000000), .node = 0, .dir = Direction::Download, .bytes = 2000000});
  s.flows.push_back({.start = SimTime::from_ns(1000000000), .node = 0, .dir = Direction::Upload, .bytes = 7,
                     .after = 0});
  CHECK(to_text(s) ==
        "server 1000000000 1000000000 0\n"
        "node 0 1000000 2000000 0.0015\n"
        "node 1 1000000 1000000 0\n"
        "flow 0.25 0 download 2000000\n"
        "flow 1 0 upload 7 after 0\n");
}

TEST_CASE("run_star_script starts a chained flow its delay after the previous one completes", "[star_script]") {
  // Node 0 (latency 1.5 ms, down 2 MB/s): a 2 MB download from 0.25 s waits 1.5 ms then takes
  // 1 s: done at 1.2515 s. The upload after it starts 1 s later (2.2515 s), waits 1.5 ms and
  // sends 1 MB at 1 MB/s: done at 3.253 s. Node 1 (no latency): 1 MB up from 0 at 1 MB/s: 1 s.
  StarScript s = two_nodes();
  s.flows.push_back({.start = SimTime::from_ns(250000000), .node = 0, .dir = Direction::Download, .bytes = 2000000});
  s.flows.push_back({.start = SimTime::from_ns(1000000000), .node = 0, .dir = Direction::Upload, .bytes = 1000000,
                     .after = 0});
  s.flows.push_back({.start = SimTime::zero(), .node = 1, .dir = Direction::Upload, .bytes = 1000000});
  auto net = make_maxmin_network(s.server);
  const std::vector<SimTime> done = run_star_script(s, *net);
  REQUIRE(done.size() == 3);
  CHECK(done[0] == SimTime::from_ns(1251500000));
  CHECK(done[1] == SimTime::from_ns(3253000000));
  CHECK(done[2] == SimTime::from_ns(1000000000));
}

TEST_CASE("a malformed star script is a usage error naming the flow", "[star_script]") {
  StarScript s = two_nodes();
  s.flows.push_back({.node = 0, .bytes = 1});
  s.flows.push_back({.node = 0, .bytes = 1, .after = 0});
  s.flows.push_back({.node = 1, .bytes = 1, .after = 0});
  auto net = make_maxmin_network(s.server);
  CHECK_THROWS_WITH(run_star_script(s, *net), Catch::Contains("flows 1 and 2 both start after flow 0"));
  s.flows.pop_back();
  s.flows.push_back({.node = 1, .bytes = 1, .after = 2});
  CHECK_THROWS_WITH(to_text(s), Catch::Contains("flow 2 starts after flow 2, which is not an earlier flow"));
  s.flows.pop_back();
  s.flows.push_back({.node = 2, .bytes = 1});
  CHECK_THROWS_AS(to_text(s), swarm::UsageError);
  CHECK_THROWS_WITH(to_text(s), Catch::Contains("flow 2 goes to node 2, which is not declared"));
}
