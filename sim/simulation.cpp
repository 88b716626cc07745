#include "sim/simulation.hpp"

#include <stdexcept>
#include <utility>

namespace swarm::sim {

EventId Simulation::schedule_at(SimTime at, std::function<void()> fn) {
  if (at < now_) {
    throw std::logic_error("Simulation::schedule_at: time " + at.to_string() +
                           " is before now (" + now_.to_string() + ")");
  }
  if (!fn) throw std::logic_error("Simulation::schedule_at: empty callback");
  return queue_.schedule(at, std::move(fn));
}

EventId Simulation::schedule_in(SimTime delay, std::function<void()> fn) {
  if (delay < SimTime::zero()) {
    throw std::logic_error("Simulation::schedule_in: negative delay " + delay.to_string());
  }
  if (delay > SimTime::max() - now_) {
    throw std::logic_error("Simulation::schedule_in: now + " + delay.to_string() +
                           " overflows the clock");
  }
  return schedule_at(now_ + delay, std::move(fn));
}

bool Simulation::cancel(EventId id) { return queue_.cancel(id); }

bool Simulation::step() {
  if (queue_.empty()) return false;
  auto entry = queue_.pop();
  now_ = entry.time;
  ++events_run_;
  entry.payload();
  return true;
}

void Simulation::run_until(SimTime t) {
  while (!queue_.empty() && queue_.next_time() <= t) step();
  if (t > now_) now_ = t;
}

void Simulation::run() {
  while (step()) {
  }
}

std::optional<SimTime> Simulation::next_event_time() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.next_time();
}

}  // namespace swarm::sim
