// The controller checks what a backend returns (docs/engine.md, "Writing a backend"): a
// backend that breaks the contract gets a BackendError that says how, never undefined
// behaviour. Each test breaks one rule with a ClockBackend whose answers are tampered with.

#include <catch2/catch.hpp>

#include "clock_backend.hpp"
#include "swarm/controller.hpp"
#include "test_swarms.hpp"

using namespace swarm;
using swarm::testing::ClockBackend;
using swarm::testing::LambdaSwarm;

namespace {

// ClockBackend (node i's worker takes i + 1 s) with hooks that break its answers.
class Misbehaving : public ClockBackend {
 public:
  Misbehaving(const ModuleRegistry& reg, int nodes)
      : ClockBackend(reg, nodes, [](const InstanceSpec& s) { return s.node + 1.0; }) {}

  std::function<void(Completion&)> tamper;         // applied to every completion delivered
  std::function<std::vector<NodeId>()> ids;        // replaces node_ids() if set
  std::function<std::vector<NodeDescriptor>()> offer;  // replaces available_nodes() if set
  bool deliver_twice = false;   // delivers the first completion two times
  bool ignore_cancel = false;   // cancel() forgets nothing: dropped instances still complete
  bool lose_everything = false;  // answers "nothing in flight" while instances run
  Nanos clock_skew = 0;         // subtracted from now_ns() once a completion was delivered
  int wake_early = 0;           // times wait(until) returns a Timeout at once, the clock unmoved
  bool wall = false;            // clock() answers Wall

  std::vector<NodeId> node_ids() override { return ids ? ids() : ClockBackend::node_ids(); }
  std::vector<NodeDescriptor> available_nodes() override {
    return offer ? offer() : ClockBackend::available_nodes();
  }
  BackendEvent wait(const WaitFor& w) override {
    if (lose_everything) return Idle{};
    if (w.until_ns && wake_early > 0) {
      --wake_early;
      return Timeout{};
    }
    if (repeat_) return *std::exchange(repeat_, std::nullopt);
    BackendEvent e = ClockBackend::wait(w);
    if (Completion* c = std::get_if<Completion>(&e)) {
      delivered_ = true;
      if (tamper) tamper(*c);
      if (deliver_twice) {
        repeat_ = *c;
        deliver_twice = false;
      }
    }
    return e;
  }
  void cancel(uint64_t id) override {
    if (!ignore_cancel) ClockBackend::cancel(id);
  }
  Nanos now_ns() const override { return ClockBackend::now_ns() - (delivered_ ? clock_skew : 0); }
  ClockKind clock() const override { return wall ? ClockKind::Wall : ClockKind::Virtual; }

 private:
  std::optional<Completion> repeat_;
  bool delivered_ = false;
};

// "work" on every node, then "done" on one.
struct Fixture {
  ModuleRegistry reg = swarm::testing::noop_registry();
  LambdaSwarm swarm{[](LambdaSwarm& s) {
    return s.add("b", {.maximum = 1, .alias = "done"})(s.add("a", {.alias = "work"})());
  }};
  SwarmGraph graph = swarm.build(reg);
};

// Runs to the end and returns the BackendError's message ("" if none was thrown).
std::string run_error(const SwarmGraph& graph, Backend& backend, ControllerOptions options = {}) {
  options.max_iterations = 2;
  try {
    Controller c(graph, backend, options);
    c.run();
  } catch (const BackendError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a well-behaved backend runs without a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  CHECK(run_error(f.graph, b).empty());
}

TEST_CASE("a completion for an instance never started is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.tamper = [](Completion& c) { c.spec.id += 1000; };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("instance 1000, which was never started"));
}

TEST_CASE("a completion delivered twice is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.deliver_twice = true;
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("instance 0, which is no longer running"));
}

TEST_CASE("a completion for a cancelled instance is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 4);
  b.ignore_cancel = true;
  // Over-commitment keeps 2 of 4 workers and cancels nodes 2 and 3 at 2 s; their completions
  // (at 3 and 4 s) must not come.
  const std::string error =
      run_error(f.graph, b, {.stragglers = {{"work", StragglerPolicy::over_commit(2.0)}}});
  CHECK_THAT(error, Catch::Contains("instance 2, which is no longer running"));
}

TEST_CASE("a completion with another node or task than started is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.tamper = [](Completion& c) { c.spec.node = 2; };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("another spec than it was started with"));
  Misbehaving b2(f.reg, 3);
  b2.tamper = [](Completion& c) { c.spec.task = 1 - c.spec.task; };
  CHECK_THAT(run_error(f.graph, b2), Catch::Contains("another spec than it was started with"));
}

TEST_CASE("a completion that ends before it starts is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.tamper = [](Completion& c) { c.end_ns = c.start_ns - 1; };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("before it starts"));
}

TEST_CASE("a lost completion with an unknown cause is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.tamper = [](Completion& c) {
    c.status = InstanceStatus::Lost;
    c.loss = static_cast<LossCause>(kLossCauseCount);
  };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("unknown cause"));
}

TEST_CASE("a schedule for an unknown alias is a BackendError, not undefined behaviour", "[controller][backend]") {
  // Task code cannot do this (schedule_next_iter checks the alias); a remote node could.
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.tamper = [](Completion& c) { c.output.schedule.emplace_back("nope", std::vector<NodeId>{0}); };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("unknown task 'nope'"));
}

TEST_CASE("a clock that goes backwards is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.clock_skew = nanos_from_seconds(10);
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("clock went backwards"));
}

TEST_CASE("an unsorted or duplicated node list is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.ids = [] { return std::vector<NodeId>{2, 1, 0}; };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("not sorted and unique: node 1 follows node 2"));
  b.ids = [] { return std::vector<NodeId>{0, 1, 1}; };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("not sorted and unique"));
  b.ids = [] { return std::vector<NodeId>{0, kServerNode}; };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("the server's id"));
}

TEST_CASE("a node offered that is not in the node list is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.offer = [] { return std::vector<NodeDescriptor>{{0, 1e9}, {7, 1e9}}; };
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("offered node 7 for task 'work'"));
}

TEST_CASE("no instance in flight while instances run is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 3);
  b.lose_everything = true;
  CHECK_THAT(run_error(f.graph, b), Catch::Contains("no instance in flight while 3 it was given still run"));
}

TEST_CASE("a wall-clock backend may wake before a deadline; a virtual one may not", "[controller][backend]") {
  Fixture f;
  // Workers take 1, 2, 3 s; a 2.5 s deadline drops node 2's.
  const ControllerOptions deadline{.stragglers = {{"work", StragglerPolicy::deadline(2.5)}}};
  Misbehaving wall(f.reg, 3);
  wall.wall = true;
  wall.wake_early = 2;
  CHECK(run_error(f.graph, wall, deadline).empty());
  CHECK(wall.wake_early == 0);
  Misbehaving virt(f.reg, 3);
  virt.wake_early = 1;
  CHECK_THAT(run_error(f.graph, virt, deadline), Catch::Contains("returned a timeout at 0 ns, before 2500000000 ns"));
}

TEST_CASE("a timeout without a time limit is a BackendError", "[controller][backend]") {
  Fixture f;
  // wake_early answers a Timeout only when given a limit; this backend answers one always.
  class AlwaysTimeout : public Misbehaving {
   public:
    using Misbehaving::Misbehaving;
    BackendEvent wait(const WaitFor&) override { return Timeout{}; }
  } t(f.reg, 3);
  CHECK_THAT(run_error(f.graph, t), Catch::Contains("a timeout, though it was given no time limit"));
}

TEST_CASE("node events are counted, and a node that joins is placed in the next iteration", "[controller][backend]") {
  Fixture f;
  Misbehaving b(f.reg, 2);
  // Node 2 joins at 0.5 s, during the first iteration (workers take 1 and 2 s); node 0
  // changes at 1.5 s.
  const std::vector<NodeId> first{0, 1};
  b.ids = [&b, &first] { return b.node_ids_calls++ == 0 ? first : std::vector<NodeId>{0, 1, 2}; };
  b.offer = [&b] {
    std::vector<NodeDescriptor> out{{0, 1e9}, {1, 1e9}};
    if (b.node_ids_calls > 1) out.push_back({2, 1e9});
    return out;
  };
  b.push_event(nanos_from_seconds(0.5), {NodeEvent::Kind::Joined, 2});
  b.push_event(nanos_from_seconds(1.5), {NodeEvent::Kind::Changed, 0});
  Controller c(f.graph, b, {.max_iterations = 2});
  const IterationReport r0 = c.step();
  CHECK(r0.instances == 3);  // two workers, one "done"
  CHECK(r0.nodes_joined == 1);
  CHECK(r0.nodes_changed == 1);
  CHECK(c.state().node_ids().size() == 3);
  const IterationReport r1 = c.step();
  CHECK(r1.instances == 4);  // three workers now
  CHECK(r1.nodes_joined == 0);
}

TEST_CASE("an event about an unknown node, or the server, is a BackendError", "[controller][backend]") {
  Fixture f;
  Misbehaving left(f.reg, 3);
  left.push_event(0, {NodeEvent::Kind::Left, 7});
  CHECK_THAT(run_error(f.graph, left), Catch::Contains("node 7 left, but that node is not in its node list"));
  Misbehaving joined(f.reg, 3);
  joined.push_event(0, {NodeEvent::Kind::Joined, 9});  // node_ids() never lists it
  CHECK_THAT(run_error(f.graph, joined), Catch::Contains("node 9 joined, but that node is not in its node list"));
  Misbehaving fixed(f.reg, 3);
  fixed.nodes_may_change = false;
  fixed.push_event(0, {NodeEvent::Kind::Joined, 9});
  CHECK_THAT(run_error(f.graph, fixed), Catch::Contains("says its node list never changes"));
  Misbehaving server(f.reg, 3);
  server.push_event(0, {NodeEvent::Kind::Died, kServerNode});
  CHECK_THAT(run_error(f.graph, server), Catch::Contains("the server's id"));
  Misbehaving odd(f.reg, 3);
  odd.push_event(0, {static_cast<NodeEvent::Kind>(17), 1});
  CHECK_THAT(run_error(f.graph, odd), Catch::Contains("unknown event kind 17"));
}
