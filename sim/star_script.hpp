#pragma once
// A star platform and a script of flows on it, in a text format that both our network models
// and SimGrid can run: tests/sim/simgrid_star.cpp runs it with SimGrid (s4u), run_star_script()
// with a NetworkModel, so that their completion times can be compared (tests/sim/simgrid_test,
// bench/simgrid_bench.cpp).
//
// Format, one record a line (times and latencies in seconds, bandwidths in bytes/s):
//   server UP DOWN LATENCY
//   node ID UP DOWN LATENCY
//   flow START NODE download|upload BYTES            starts at START
//   flow DELAY NODE download|upload BYTES after K    starts DELAY after flow K completes
// Flows are numbered from 0 in file order; K must be an earlier flow, and a flow has at most
// one flow `after` it (scripts are chains, such as a worker's download then upload).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/network.hpp"

namespace swarm::sim {

struct StarScript {
  struct Flow {
    SimTime start;  // or the delay after `after` completes
    uint32_t node = 0;
    Direction dir = Direction::Download;
    uint64_t bytes = 0;
    std::optional<size_t> after;
  };
  ServerLinks server;
  std::vector<LinkSpec> nodes;  // node n's links
  std::vector<Flow> flows;
};

// The script in the format above, numbers written to round-trip exactly.
std::string to_text(const StarScript& script);

// Runs the script on `net` (which must be fresh: ids from 1) and returns each flow's
// completion time, by flow index. Throws swarm::UsageError on a malformed script (an `after`
// that is not an earlier flow, two flows after one, an unknown node).
std::vector<SimTime> run_star_script(const StarScript& script, NetworkModel& net);

}  // namespace swarm::sim
