#pragma once
// Two runs compared field by field, one check per field (Catch2 names the one that differs):
// every attribute, round column, node row, the final model and every trace event. One list for
// the tests that read a file back (every field must match) and those that compare two runs of the
// same thing, such as merged shards against the one-machine sweep (docs/results.md: every field
// but the host's wall-clock column rounds.wall_s). A field added to the results is added here.

#include <catch2/catch.hpp>

#include "results/results.hpp"

namespace swarm::testing {

enum class WallClock { Compare, Ignore };

inline void check_same_run(const results::RunResult& a, const results::RunResult& b, WallClock wall) {
  INFO("run " << a.name);
  CHECK(a.name == b.name);
  CHECK(a.scenario_text == b.scenario_text);
  CHECK(a.point == b.point);
  CHECK(a.replicate == b.replicate);
  CHECK(a.seed == b.seed);
  CHECK(a.version == b.version);
  CHECK(a.noise_multiplier == b.noise_multiplier);
  CHECK(a.outcome == b.outcome);
  CHECK(a.outcome_message == b.outcome_message);
  CHECK(a.training_mode == b.training_mode);
  CHECK(a.kernel == b.kernel);
  REQUIRE(a.rounds.size() == b.rounds.size());
  for (size_t i = 0; i < a.rounds.size(); ++i) {
    const results::RoundRow &x = a.rounds[i], &y = b.rounds[i];
    INFO("round row " << i);
    CHECK(x.round == y.round);
    CHECK(x.t_start_s == y.t_start_s);
    CHECK(x.t_end_s == y.t_end_s);
    if (wall == WallClock::Compare) CHECK(x.wall_s == y.wall_s);
    CHECK(x.accuracy == y.accuracy);
    CHECK(x.loss == y.loss);
    CHECK(x.participants == y.participants);
    CHECK(x.instances == y.instances);
    CHECK(x.failed == y.failed);
    CHECK(x.lost_crash == y.lost_crash);
    CHECK(x.lost_transfer == y.lost_transfer);
    CHECK(x.lost_offline == y.lost_offline);
    CHECK(x.lost_deadline == y.lost_deadline);
    CHECK(x.lost_overcommit == y.lost_overcommit);
    CHECK(x.bytes_up == y.bytes_up);
    CHECK(x.bytes_down == y.bytes_down);
    CHECK(x.flops == y.flops);
    CHECK(x.stale == y.stale);
    CHECK(x.max_staleness == y.max_staleness);
    CHECK(x.mean_staleness == y.mean_staleness);
    CHECK(x.unplaced == y.unplaced);
    CHECK(x.wire_bytes_up == y.wire_bytes_up);
    CHECK(x.wire_bytes_down == y.wire_bytes_down);
    CHECK(x.coordinator_s == y.coordinator_s);
  }
  REQUIRE(a.nodes.size() == b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const results::NodeRow &x = a.nodes[i], &y = b.nodes[i];
    INFO("node row " << i);
    CHECK(x.id == y.id);
    CHECK(x.profile == y.profile);
    CHECK(x.samples == y.samples);
    CHECK(x.classes == y.classes);
    CHECK(x.rounds_participated == y.rounds_participated);
    CHECK(x.failures == y.failures);
    CHECK(x.byzantine == y.byzantine);
    CHECK(x.flops_per_s == y.flops_per_s);
    CHECK(x.kernel == y.kernel);
    CHECK(x.wire_bytes_up == y.wire_bytes_up);
    CHECK(x.wire_bytes_down == y.wire_bytes_down);
  }
  CHECK(a.final_model == b.final_model);
  REQUIRE(a.trace.size() == b.trace.size());
  for (size_t i = 0; i < a.trace.size(); ++i) {
    const results::TraceRow &x = a.trace[i], &y = b.trace[i];
    INFO("trace event " << i);
    CHECK(x.time_s == y.time_s);
    CHECK(x.node == y.node);
    CHECK(x.event == y.event);
    CHECK(x.task == y.task);
    CHECK(x.instance == y.instance);
    CHECK(x.bytes == y.bytes);
  }
}

}  // namespace swarm::testing
