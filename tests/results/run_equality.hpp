#pragma once
// Two runs compared field by field: every attribute, round column, node row, the final model and
// every trace event. One list of the fields (for_each_field) serves the tests that read a file
// back (every field must match), those that compare two runs of the same thing, such as merged
// shards against the one-machine sweep (docs/results.md: every field but the host's wall-clock
// column rounds.wall_s), and those that compare a run in another mode field by field, leaving
// some out (a timing-only run against the real one). A field added to the results is added here.

#include <catch2/catch.hpp>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

#include "results/results.hpp"

namespace swarm::testing {

// Calls same(field, row, x, y) for every field of the two runs, in order: `field` names it
// ("seed", "rounds.t_end_s", "nodes.kernel", "trace.time_s", "rounds.size"...), `row` is its
// row (-1 for a run attribute or a size). Rows are compared up to the shorter table; the sizes
// are fields of their own.
template <typename Same>
void for_each_field(const results::RunResult& a, const results::RunResult& b, Same&& same) {
  same("name", -1, a.name, b.name);
  same("scenario_text", -1, a.scenario_text, b.scenario_text);
  same("point", -1, a.point, b.point);
  same("replicate", -1, a.replicate, b.replicate);
  same("seed", -1, a.seed, b.seed);
  same("version", -1, a.version, b.version);
  same("noise_multiplier", -1, a.noise_multiplier, b.noise_multiplier);
  same("outcome", -1, a.outcome, b.outcome);
  same("outcome_message", -1, a.outcome_message, b.outcome_message);
  same("training_mode", -1, a.training_mode, b.training_mode);
  same("kernel", -1, a.kernel, b.kernel);
  same("rounds.size", -1, a.rounds.size(), b.rounds.size());
  for (size_t i = 0; i < std::min(a.rounds.size(), b.rounds.size()); ++i) {
    const results::RoundRow &x = a.rounds[i], &y = b.rounds[i];
    const auto r = static_cast<long>(i);
    same("rounds.round", r, x.round, y.round);
    same("rounds.t_start_s", r, x.t_start_s, y.t_start_s);
    same("rounds.t_end_s", r, x.t_end_s, y.t_end_s);
    same("rounds.wall_s", r, x.wall_s, y.wall_s);
    same("rounds.accuracy", r, x.accuracy, y.accuracy);
    same("rounds.loss", r, x.loss, y.loss);
    same("rounds.participants", r, x.participants, y.participants);
    same("rounds.instances", r, x.instances, y.instances);
    same("rounds.failed", r, x.failed, y.failed);
    same("rounds.lost_crash", r, x.lost_crash, y.lost_crash);
    same("rounds.lost_transfer", r, x.lost_transfer, y.lost_transfer);
    same("rounds.lost_offline", r, x.lost_offline, y.lost_offline);
    same("rounds.lost_deadline", r, x.lost_deadline, y.lost_deadline);
    same("rounds.lost_overcommit", r, x.lost_overcommit, y.lost_overcommit);
    same("rounds.bytes_up", r, x.bytes_up, y.bytes_up);
    same("rounds.bytes_down", r, x.bytes_down, y.bytes_down);
    same("rounds.flops", r, x.flops, y.flops);
    same("rounds.stale", r, x.stale, y.stale);
    same("rounds.max_staleness", r, x.max_staleness, y.max_staleness);
    same("rounds.mean_staleness", r, x.mean_staleness, y.mean_staleness);
    same("rounds.unplaced", r, x.unplaced, y.unplaced);
    same("rounds.wire_bytes_up", r, x.wire_bytes_up, y.wire_bytes_up);
    same("rounds.wire_bytes_down", r, x.wire_bytes_down, y.wire_bytes_down);
    same("rounds.coordinator_s", r, x.coordinator_s, y.coordinator_s);
  }
  same("nodes.size", -1, a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < std::min(a.nodes.size(), b.nodes.size()); ++i) {
    const results::NodeRow &x = a.nodes[i], &y = b.nodes[i];
    const auto r = static_cast<long>(i);
    same("nodes.id", r, x.id, y.id);
    same("nodes.profile", r, x.profile, y.profile);
    same("nodes.samples", r, x.samples, y.samples);
    same("nodes.classes", r, x.classes, y.classes);
    same("nodes.rounds_participated", r, x.rounds_participated, y.rounds_participated);
    same("nodes.failures", r, x.failures, y.failures);
    same("nodes.byzantine", r, x.byzantine, y.byzantine);
    same("nodes.flops_per_s", r, x.flops_per_s, y.flops_per_s);
    same("nodes.kernel", r, x.kernel, y.kernel);
    same("nodes.wire_bytes_up", r, x.wire_bytes_up, y.wire_bytes_up);
    same("nodes.wire_bytes_down", r, x.wire_bytes_down, y.wire_bytes_down);
  }
  same("final_model", -1, a.final_model, b.final_model);
  same("trace.size", -1, a.trace.size(), b.trace.size());
  for (size_t i = 0; i < std::min(a.trace.size(), b.trace.size()); ++i) {
    const results::TraceRow &x = a.trace[i], &y = b.trace[i];
    const auto r = static_cast<long>(i);
    same("trace.time_s", r, x.time_s, y.time_s);
    same("trace.node", r, x.node, y.node);
    same("trace.event", r, x.event, y.event);
    same("trace.task", r, x.task, y.task);
    same("trace.instance", r, x.instance, y.instance);
    same("trace.bytes", r, x.bytes, y.bytes);
  }
}

// One check per field (Catch2 names the field and row that differ), but for the fields named
// in `left_out`.
inline void check_same_fields(const results::RunResult& a, const results::RunResult& b,
                              std::initializer_list<std::string_view> left_out = {}) {
  INFO("run " << a.name);
  for_each_field(a, b, [&](std::string_view field, long row, const auto& x, const auto& y) {
    if (std::find(left_out.begin(), left_out.end(), field) != left_out.end()) return;
    INFO(field << (row >= 0 ? " of row " + std::to_string(row) : std::string()));
    CHECK(x == y);
  });
}

enum class WallClock { Compare, Ignore };

inline void check_same_run(const results::RunResult& a, const results::RunResult& b, WallClock wall) {
  if (wall == WallClock::Compare) {
    check_same_fields(a, b);
  } else {
    check_same_fields(a, b, {"rounds.wall_s"});
  }
}

// Whether every field is equal, without a check per field (for loops over thousands of files).
inline bool same_run(const results::RunResult& a, const results::RunResult& b) {
  bool equal = true;
  for_each_field(a, b, [&](std::string_view, long, const auto& x, const auto& y) { equal = equal && x == y; });
  return equal;
}

}  // namespace swarm::testing
