// Our max-min models against SimGrid 3.32 itself: the same star and flows run through
// tests/sim/simgrid_star.cpp (s4u) and through run_star_script(), completion times compared.
// Built with SWARM_SIMGRID_STAR (the program's path) when CMake finds SimGrid (pkg-config
// simgrid, Debian's libsimgrid-dev, which scripts/bootstrap installs); otherwise the test says
// it is skipped.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sim/network.hpp"
#include "sim/star_script.hpp"

using namespace swarm::sim;

namespace {

// SimGrid's completion times of `script`, with its options `cfg` added to the ones every run
// takes: the Full update (SimGrid's default lazy mode mis-shares flows whose latency phases
// end at the same instant) and no cross-traffic (our models have no ACK traffic: SimGrid
// would put 5% of each flow on the reverse route).
[[maybe_unused]] std::vector<double> simgrid_times(const StarScript& script, const std::string& name,
                                                   const std::string& cfg) {
#ifdef SWARM_SIMGRID_STAR
  const std::string file = "/tmp/swarm_simgrid_test_" + name + "_" + std::to_string(::getpid()) + ".txt";
  std::ofstream(file) << to_text(script);
  const std::string cmd = std::string(SWARM_SIMGRID_STAR) + " " + file +
                          " --cfg=network/optim:Full --cfg=network/crosstraffic:0 " + cfg +
                          " --log=root.thres:critical 2>/dev/null";
  std::vector<double> times;
  FILE* out = popen(cmd.c_str(), "r");
  REQUIRE(out != nullptr);
  double t;
  while (std::fscanf(out, "%lf", &t) == 1) times.push_back(t);
  const int status = pclose(out);
  std::remove(file.c_str());
  INFO(cmd);
  REQUIRE(status == 0);
  REQUIRE(times.size() == script.flows.size());
  return times;
#else
  (void)script, (void)name, (void)cfg;
  return {};
#endif
}

// A star of 12 nodes with bandwidths over two decades, and 60 flows: 20 downloads started
// between 1 s and 3 s, each followed by an upload after 0-0.5 s, and 20 flows on their own
// (so that node links carry several flows at once). Every flow starts after 1 s, so every
// completion time is above 1 s and our rounding up to the nanosecond is within 1e-9 of it.
StarScript random_star(uint64_t seed, bool equal_latencies) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  auto ns = [&](double lo_s, double hi_s) { return SimTime::from_ns(static_cast<int64_t>(uniform(lo_s, hi_s) * 1e9)); };
  StarScript s;
  s.server = {.up_bytes_per_s = 4e6, .down_bytes_per_s = 3e6,
              .latency = equal_latencies ? SimTime::from_ns(5000000) : ns(0.001, 0.01)};
  for (int n = 0; n < 12; ++n) {
    s.nodes.push_back({.up_bytes_per_s = std::exp(uniform(std::log(1e5), std::log(1e7))),
                       .down_bytes_per_s = std::exp(uniform(std::log(2e5), std::log(2e7))),
                       .latency = equal_latencies ? SimTime::from_ns(5000000) : ns(0.001, 0.08)});
  }
  for (int k = 0; k < 20; ++k) {
    const auto node = static_cast<uint32_t>(rng() % 12);
    const auto bytes = static_cast<uint64_t>(uniform(2e5, 4e6));
    s.flows.push_back({.start = ns(1, 3), .node = node, .dir = Direction::Download, .bytes = bytes});
    s.flows.push_back({.start = ns(0, 0.5), .node = node, .dir = Direction::Upload, .bytes = bytes,
                       .after = s.flows.size() - 1});
  }
  for (int k = 0; k < 20; ++k) {
    s.flows.push_back({.start = ns(1, 4), .node = static_cast<uint32_t>(rng() % 12),
                       .dir = rng() % 2 ? Direction::Upload : Direction::Download,
                       .bytes = static_cast<uint64_t>(uniform(1e5, 3e6))});
  }
  return s;
}

void compare(const StarScript& script, const TcpParams& tcp, const std::vector<double>& simgrid) {
  for (MaxMinSolver solver : {MaxMinSolver::kFull, MaxMinSolver::kIncremental}) {
    auto net = make_maxmin_network(script.server, tcp, solver);
    const std::vector<SimTime> ours = run_star_script(script, *net);
    for (size_t i = 0; i < ours.size(); ++i) {
      INFO((solver == MaxMinSolver::kFull ? "full" : "incremental") << " solver, flow " << i << ": ours "
                                                                    << ours[i].to_string() << ", SimGrid " << simgrid[i]);
      REQUIRE(simgrid[i] > 1);
      CHECK(std::abs(ours[i].seconds() - simgrid[i]) <= 1e-9 * simgrid[i]);
    }
  }
}

}  // namespace

TEST_CASE("maxmin, cm02 and lv08 complete flows when SimGrid 3.32 does", "[network][simgrid]") {
#ifndef SWARM_SIMGRID_STAR
  WARN("SimGrid not found by CMake (pkg-config simgrid; scripts/bootstrap installs libsimgrid-dev): skipped");
  return;
#endif
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    INFO("seed " << seed);
    // maxmin is SimGrid's CM02 without a window bound when every route has the same latency
    // (CM02 weighs flows by 1 / route latency: equal latencies, equal shares).
    const StarScript equal = random_star(seed, true);
    compare(equal, TcpParams{},
            simgrid_times(equal, "maxmin", "--cfg=network/model:CM02 --cfg=network/TCP-gamma:0"));
    // cm02 and lv08 on unequal latencies, SimGrid's defaults for each.
    const StarScript unequal = random_star(seed, false);
    compare(unequal, TcpParams::cm02(), simgrid_times(unequal, "cm02", "--cfg=network/model:CM02"));
    compare(unequal, TcpParams::lv08(), simgrid_times(unequal, "lv08", "--cfg=network/model:LV08"));
  }
}
