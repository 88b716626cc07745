#pragma once
// The few names every layer shares, in a header that includes nothing of the project: the id of
// a node, the id of the server, and the kind of clock a backend runs on. A strategy, a network model or a results writer can name a
// node without pulling in the swarm model.

#include <cstdint>

namespace swarm {

using NodeId = uint32_t;

// Where tasks placed with Method::Server run: the swarm's server (the coordinator's side), not
// a node. It is never in a backend's node list.
inline constexpr NodeId kServerNode = UINT32_MAX;

// What a backend's clock counts: simulated time that the backend moves itself (a simulator),
// or the host's wall clock (in-process threads, real nodes). Output that only means something
// in one of them (virtual seconds, wall seconds) asks this, never a backend's name.
enum class ClockKind { Virtual, Wall };

class SwarmGraph;

}  // namespace swarm
