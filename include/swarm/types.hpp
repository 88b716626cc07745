#pragma once
// The few names every layer shares, in a header that includes nothing of the project: the id of
// a node, and the id of the server. A strategy, a network model or a results writer can name a
// node without pulling in the swarm model.

#include <cstdint>

namespace swarm {

using NodeId = uint32_t;

// Where tasks placed with Method::Server run: the swarm's server (the coordinator's side), not
// a node. It is never in a backend's node list.
inline constexpr NodeId kServerNode = UINT32_MAX;

class SwarmGraph;

}  // namespace swarm
