#include "sim/event_queue.hpp"

#include <functional>

namespace swarm::sim {

// The queue of Simulation, compiled once here (see the extern declaration in simulation.hpp).
// Instantiating every member also checks the whole template compiles.
template class EventQueue<std::function<void()>>;

}  // namespace swarm::sim
