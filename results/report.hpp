#pragma once
// Comparison of runs across sweep points (`swarm report`): runs are grouped by their sweep
// point, replicates aggregated. analysis/summary.py computes the same figures from Python.

#include <map>
#include <string>
#include <vector>

#include "results/results.hpp"

namespace swarm::results {

enum class ReportFormat { Markdown, Csv, Json };

struct ReportOptions {
  // Accuracy a run must reach for the "to target" columns; 0 leaves those columns out.
  double target_accuracy = 0;
  ReportFormat format = ReportFormat::Markdown;  // for report()
};

// The figures of one sweep point, over its replicates (runs with the same `point`).
struct PointSummary {
  std::map<std::string, std::string> point;
  int replicates = 0;
  double final_accuracy_mean = 0;
  double final_accuracy_std = 0;  // sample standard deviation (n - 1); 0 for one replicate
  double best_accuracy_mean = 0;  // mean over replicates of the highest round accuracy
  // Over the replicates that reached the target (accuracy >= target in some round); NaN if none.
  int reached = 0;
  double rounds_to_target_mean = 0;  // rounds run up to and including the first one that reached it
  double time_to_target_mean = 0;    // backend seconds from the start of the first round to the end
                                     // of that round (virtual seconds in simulation)
  double megabytes_mean = 0;         // bytes up + down over all rounds, / 1e6
  double failures_mean = 0;          // failed + lost instances (every cause) over all rounds
  double noise_multiplier_mean = 0;  // 0 unless differentially private
  std::map<std::string, int> outcomes;  // replicates by RunResult::outcome ("complete": 3)
};

// One summary per point, sorted by point: by key, then by value (numerically when both values
// are numbers, so "2" < "10"). A run without rounds counts as accuracy 0.
std::vector<PointSummary> summarize(const std::vector<RunResult>& runs, const ReportOptions& options);

// A Markdown table of summarize(): one column per point key, then replicates, final accuracy
// (mean ± std), best accuracy (mean), rounds and time to the target (mean, "n/m reached"; only
// when options.target_accuracy > 0), MB moved (mean), failures (mean), the noise multiplier
// when any run has one, and the outcomes ("2 complete, 1 diverged") when a run did not
// complete; then one line per such run with its message. Ends with a newline.
std::string report_table(const std::vector<RunResult>& runs, const ReportOptions& options);

// summarize() in options.format: the Markdown of report_table; CSV, one header line and one
// line per point with every figure of PointSummary (numbers in their shortest exact form, an
// empty cell for "none"); or JSON, {"target_accuracy", "points": [...], "incomplete_runs": [...]}
// (docs/results.md). Ends with a newline.
std::string report(const std::vector<RunResult>& runs, const ReportOptions& options);

}  // namespace swarm::results
