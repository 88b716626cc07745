#pragma once
// The discrete-event kernel: a clock and the events scheduled on it.
//
// A Simulation is a plain object; it holds no global state, so several can run side by side
// in one process (and one test). Events are callbacks run in (time, schedule order); an
// event may schedule and cancel others, including at the current time (they run after it).
// The network model, the RNG streams and the simulated nodes are separate objects driven by
// events of a Simulation; the kernel knows nothing about them.
//
// Not thread-safe. The callbacks run on the thread that calls step()/run_until()/run().

#include <cstdint>
#include <functional>
#include <optional>

#include "sim/event_queue.hpp"
#include "sim/time.hpp"

namespace swarm::sim {

extern template class EventQueue<std::function<void()>>;

class Simulation {
 public:
  Simulation() = default;
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // The time of the event being run, or of the last one run; zero before the first.
  SimTime now() const { return now_; }

  // Schedules `fn` to run at `at`. Throws std::logic_error if at < now() or `fn` is empty.
  EventId schedule_at(SimTime at, std::function<void()> fn);
  // Schedules `fn` to run at now() + delay. Throws std::logic_error if delay < 0, if
  // now() + delay overflows, or if `fn` is empty.
  EventId schedule_in(SimTime delay, std::function<void()> fn);
  // Returns true if the event was pending; it will not run. False once it ran or was
  // cancelled.
  bool cancel(EventId id);

  // Runs the next event, first advancing now() to its time. Returns false if none is left.
  // An exception thrown by the event propagates; the event counts as run.
  bool step();
  // Runs every event whose time is <= t (including those scheduled meanwhile), then sets
  // now() to max(now(), t).
  void run_until(SimTime t);
  // Runs events until none is left.
  void run();

  std::optional<SimTime> next_event_time() const;
  size_t pending_events() const { return queue_.size(); }
  // Events run so far.
  uint64_t events_run() const { return events_run_; }

 private:
  EventQueue<std::function<void()>> queue_;
  SimTime now_ = SimTime::zero();
  uint64_t events_run_ = 0;
};

}  // namespace swarm::sim
