#include "sim/simulation.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "swarm/error.hpp"
#include "sim/time.hpp"

using namespace swarm::sim;

namespace {
SimTime sec(double s) { return SimTime::from_seconds(s); }
}  // namespace

TEST_CASE("SimTime converts seconds to whole nanoseconds", "[simulation][time]") {
  CHECK(SimTime::from_seconds(1.5).ns() == 1500000000);
  CHECK(SimTime::from_seconds(-0.25).ns() == -250000000);
  // 1e-9 * 0.4 rounds down, 1e-9 * 0.6 up: nearest nanosecond.
  CHECK(SimTime::from_seconds(0.4e-9).ns() == 0);
  CHECK(SimTime::from_seconds(0.6e-9).ns() == 1);
  CHECK(SimTime::from_seconds(2.5).seconds() == 2.5);
  CHECK(SimTime::zero().ns() == 0);
  CHECK(SimTime::max().ns() == std::numeric_limits<int64_t>::max());
  // 9.2e9 s is about 292 years: the last that fits.
  CHECK(SimTime::from_seconds(9.2e9).ns() == 9200000000000000000);
}

TEST_CASE("SimTime rejects seconds that are not finite or out of range", "[simulation][time]") {
  CHECK_THROWS_AS(SimTime::from_seconds(std::nan("")), swarm::UsageError);
  CHECK_THROWS_AS(SimTime::from_seconds(INFINITY), swarm::UsageError);
  CHECK_THROWS_AS(SimTime::from_seconds(-INFINITY), swarm::UsageError);
  CHECK_THROWS_WITH(SimTime::from_seconds(1e10), Catch::Contains("out of range"));
  CHECK_THROWS_AS(SimTime::from_seconds(-1e10), swarm::UsageError);
}

TEST_CASE("SimTime arithmetic, comparison and printing", "[simulation][time]") {
  const SimTime a = SimTime::from_ns(1500);
  const SimTime b = SimTime::from_ns(500);
  CHECK((a + b).ns() == 2000);
  CHECK((a - b).ns() == 1000);
  SimTime c = a;
  c += b;
  CHECK(c.ns() == 2000);
  CHECK(b < a);
  CHECK(a == SimTime::from_ns(1500));
  CHECK(add_saturated(SimTime::max() - b, a) == SimTime::max());
  CHECK(add_saturated(a, b) == SimTime::from_ns(2000));
  CHECK(sec(1.25).to_string() == "1.25s");
  CHECK(sec(3).to_string() == "3s");
  CHECK(SimTime::from_ns(-1).to_string() == "-0.000000001s");
  CHECK(SimTime::from_ns(std::numeric_limits<int64_t>::min()).to_string() ==
        "-9223372036.854775808s");
  std::ostringstream os;
  os << sec(0.5);
  CHECK(os.str() == "0.5s");
}

TEST_CASE("events run in time order and advance the clock", "[simulation]") {
  Simulation sim;
  std::vector<std::pair<int, SimTime>> ran;
  sim.schedule_at(sec(3), [&] { ran.emplace_back(3, sim.now()); });
  sim.schedule_at(sec(1), [&] { ran.emplace_back(1, sim.now()); });
  sim.schedule_in(sec(2), [&] { ran.emplace_back(2, sim.now()); });
  CHECK(sim.next_event_time() == sec(1));
  CHECK(sim.pending_events() == 3);
  sim.run();
  CHECK(ran == std::vector<std::pair<int, SimTime>>{{1, sec(1)}, {2, sec(2)}, {3, sec(3)}});
  CHECK(sim.now() == sec(3));
  CHECK(sim.events_run() == 3);
  CHECK_FALSE(sim.next_event_time());
  CHECK_FALSE(sim.step());
}

TEST_CASE("equal times run in schedule order, including events scheduled meanwhile",
          "[simulation]") {
  Simulation sim;
  std::vector<std::string> ran;
  sim.schedule_at(sec(1), [&] {
    ran.push_back("a");
    // Same time: runs after b and c, which were scheduled before it.
    sim.schedule_in(SimTime::zero(), [&] { ran.push_back("d"); });
  });
  sim.schedule_at(sec(1), [&] { ran.push_back("b"); });
  sim.schedule_at(sec(1), [&] { ran.push_back("c"); });
  sim.run();
  CHECK(ran == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(sim.now() == sec(1));
}

TEST_CASE("scheduling in the past throws", "[simulation]") {
  Simulation sim;
  sim.schedule_at(sec(5), [] {});
  sim.run();
  REQUIRE(sim.now() == sec(5));
  CHECK_THROWS_AS(sim.schedule_at(sec(4), [] {}), std::logic_error);
  CHECK_THROWS_AS(sim.schedule_in(SimTime::from_ns(-1), [] {}), std::logic_error);
  CHECK_THROWS_AS(sim.schedule_in(SimTime::max(), [] {}), std::logic_error);  // overflows
  CHECK_THROWS_AS(sim.schedule_at(sec(6), std::function<void()>()), std::logic_error);
  CHECK_NOTHROW(sim.schedule_at(sec(5), [] {}));  // now itself is allowed
  CHECK(sim.pending_events() == 1);
}

TEST_CASE("a cancelled event does not run", "[simulation]") {
  Simulation sim;
  int runs = 0;
  const EventId a = sim.schedule_at(sec(1), [&] { ++runs; });
  const EventId b = sim.schedule_at(sec(2), [&] { ++runs; });
  // An event may cancel a later one.
  sim.schedule_at(sec(1.5), [&] { CHECK(sim.cancel(b)); });
  sim.run();
  CHECK(runs == 1);
  CHECK(sim.events_run() == 2);  // a and the canceller
  CHECK_FALSE(sim.cancel(a));    // already ran
  CHECK_FALSE(sim.cancel(b));    // already cancelled
  CHECK(sim.now() == sec(1.5));
}

TEST_CASE("run_until runs events up to and including t, then sets the clock to t",
          "[simulation]") {
  Simulation sim;
  std::vector<double> ran;
  for (double t : {1.0, 2.0, 3.0}) {
    sim.schedule_at(sec(t), [&ran, &sim] { ran.push_back(sim.now().seconds()); });
  }
  // An event scheduled by one that runs, still within the horizon, runs too.
  sim.schedule_at(sec(0.5), [&] {
    sim.schedule_in(sec(1.5), [&] { ran.push_back(10 + sim.now().seconds()); });
  });
  sim.run_until(sec(2));
  // 1 at 1 s; 2 at 2 s; the nested event at 0.5 + 1.5 = 2 s was scheduled after "2"
  // (at 0.5 s, versus "2" before the run) so runs after it.
  CHECK(ran == std::vector<double>{1.0, 2.0, 12.0});
  CHECK(sim.now() == sec(2));
  CHECK(sim.next_event_time() == sec(3));

  sim.run_until(sec(2.5));  // no event: only the clock moves
  CHECK(sim.now() == sec(2.5));
  sim.run_until(sec(1));  // the past: nothing runs, the clock stays
  CHECK(sim.now() == sec(2.5));
  sim.run_until(sec(10));
  CHECK(ran.back() == 3.0);
  CHECK(sim.now() == sec(10));
  CHECK(sim.events_run() == 5);
}

TEST_CASE("two simulations side by side are independent", "[simulation]") {
  Simulation a;
  Simulation b;
  std::vector<std::string> log;
  a.schedule_at(sec(1), [&] { log.push_back("a1"); });
  a.schedule_at(sec(3), [&] { log.push_back("a3"); });
  b.schedule_at(sec(2), [&] { log.push_back("b2"); });
  // Ids may coincide; each names an event of its own simulation only.
  const EventId b_id = b.schedule_at(sec(4), [&] { log.push_back("b4"); });
  a.run_until(sec(2));
  CHECK(a.now() == sec(2));
  CHECK(b.now() == SimTime::zero());
  CHECK(b.step());
  CHECK(b.now() == sec(2));
  CHECK(a.now() == sec(2));
  CHECK(b.cancel(b_id));
  a.run();
  b.run();
  CHECK(log == std::vector<std::string>{"a1", "b2", "a3"});
  CHECK(a.events_run() == 2);
  CHECK(b.events_run() == 1);
  CHECK(a.now() == sec(3));
  CHECK(b.now() == sec(2));
}

TEST_CASE("an exception from an event propagates and the simulation goes on",
          "[simulation]") {
  Simulation sim;
  bool later = false;
  sim.schedule_at(sec(1), [] { throw std::runtime_error("boom"); });
  sim.schedule_at(sec(2), [&] { later = true; });
  CHECK_THROWS_WITH(sim.run(), "boom");
  CHECK(sim.now() == sec(1));
  CHECK(sim.events_run() == 1);
  sim.run();
  CHECK(later);
}
