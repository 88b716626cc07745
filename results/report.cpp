#include "results/report.hpp"

#include "engine/text.hpp"
#include "results/point_value.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace swarm::results {
namespace {

using Point = std::map<std::string, std::string>;

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// <0, 0, >0 like strcmp; numbers compare as numbers.
int compare_values(const std::string& a, const std::string& b) {
  double x = 0, y = 0;
  if (parse_number(a, x) && parse_number(b, y) && x != y) return x < y ? -1 : 1;
  return a.compare(b);
}

bool point_less(const Point& a, const Point& b) {
  auto i = a.begin();
  auto j = b.begin();
  for (; i != a.end() && j != b.end(); ++i, ++j) {
    if (int c = i->first.compare(j->first)) return c < 0;
    if (int c = compare_values(i->second, j->second)) return c < 0;
  }
  return i == a.end() && j != b.end();
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double sum = 0;
  for (double x : v) sum += (x - m) * (x - m);
  return std::sqrt(sum / static_cast<double>(v.size() - 1));
}

PointSummary summarize_point(const Point& point, const std::vector<const RunResult*>& runs, double target) {
  PointSummary s;
  s.point = point;
  s.replicates = static_cast<int>(runs.size());
  std::vector<double> final_acc, best_acc, rounds_to, time_to, megabytes, failures, noise;
  for (const RunResult* run : runs) {
    double best = 0, bytes = 0, lost = 0;
    int reached_at = -1;
    for (size_t i = 0; i < run->rounds.size(); ++i) {
      const RoundRow& r = run->rounds[i];
      best = std::max(best, r.accuracy);
      bytes += static_cast<double>(r.bytes_up) + static_cast<double>(r.bytes_down);
      lost += r.failed + r.lost_crash + r.lost_transfer + r.lost_offline + r.lost_deadline + r.lost_overcommit;
      if (target > 0 && reached_at < 0 && r.accuracy >= target) reached_at = static_cast<int>(i);
    }
    // A timing-only run computes no accuracy: its figures are NaN, not the 0 of "never better".
    if (run->training_mode == "timing") best = std::numeric_limits<double>::quiet_NaN();
    final_acc.push_back(run->rounds.empty() ? 0 : run->rounds.back().accuracy);
    best_acc.push_back(best);
    megabytes.push_back(bytes / 1e6);
    failures.push_back(lost);
    noise.push_back(run->noise_multiplier);
    ++s.outcomes[run->outcome];
    if (reached_at >= 0) {
      rounds_to.push_back(reached_at + 1);
      time_to.push_back(run->rounds[reached_at].t_end_s - run->rounds.front().t_start_s);
    }
  }
  s.final_accuracy_mean = mean(final_acc);
  s.final_accuracy_std = sample_std(final_acc);
  s.best_accuracy_mean = mean(best_acc);
  s.reached = static_cast<int>(rounds_to.size());
  s.rounds_to_target_mean = mean(rounds_to);
  s.time_to_target_mean = mean(time_to);
  s.megabytes_mean = mean(megabytes);
  s.failures_mean = mean(failures);
  s.noise_multiplier_mean = mean(noise);
  return s;
}

std::string format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

// Markdown cell text: '|' would end the cell.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

// "2 complete, 1 diverged".
std::string outcome_text(const std::map<std::string, int>& outcomes) {
  std::string out;
  for (const auto& [outcome, n] : outcomes) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + outcome;
  return out;
}

bool all_complete(const std::vector<RunResult>& runs) {
  return std::all_of(runs.begin(), runs.end(), [](const RunResult& r) { return r.outcome == "complete"; });
}

// The shortest text that parses back to `value`; "" for NaN (a figure that does not exist).
std::string exact(double value) { return std::isnan(value) ? "" : shortest(value); }

// A CSV cell: quoted when it holds a comma, a quote or a line break.
std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

nlohmann::json number_or_null(double value) { return std::isnan(value) ? nlohmann::json() : nlohmann::json(value); }

std::set<std::string> point_keys(const std::vector<PointSummary>& points) {
  std::set<std::string> keys;
  for (const PointSummary& p : points) {
    for (const auto& [key, value] : p.point) keys.insert(key);
  }
  return keys;
}

std::string csv_report(const std::vector<RunResult>& runs, const ReportOptions& options) {
  const std::vector<PointSummary> points = summarize(runs, options);
  const std::set<std::string> keys = point_keys(points);
  const bool target = options.target_accuracy > 0;
  std::ostringstream out;
  std::vector<std::string> header(keys.begin(), keys.end());
  for (const char* h : {"replicates", "final_accuracy_mean", "final_accuracy_std", "best_accuracy_mean"}) {
    header.push_back(h);
  }
  if (target) {
    for (const char* h : {"target_accuracy", "reached", "rounds_to_target_mean", "time_to_target_mean_s"}) {
      header.push_back(h);
    }
  }
  for (const char* h : {"megabytes_mean", "failures_mean", "noise_multiplier_mean", "outcomes"}) header.push_back(h);
  for (size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << csv_cell(header[i]);
  out << '\n';
  for (const PointSummary& p : points) {
    std::vector<std::string> cells;
    for (const std::string& key : keys) {
      auto it = p.point.find(key);
      cells.push_back(it == p.point.end() ? "" : it->second);
    }
    cells.push_back(std::to_string(p.replicates));
    cells.push_back(exact(p.final_accuracy_mean));
    cells.push_back(exact(p.final_accuracy_std));
    cells.push_back(exact(p.best_accuracy_mean));
    if (target) {
      cells.push_back(exact(options.target_accuracy));
      cells.push_back(std::to_string(p.reached));
      cells.push_back(exact(p.rounds_to_target_mean));
      cells.push_back(exact(p.time_to_target_mean));
    }
    cells.push_back(exact(p.megabytes_mean));
    cells.push_back(exact(p.failures_mean));
    cells.push_back(exact(p.noise_multiplier_mean));
    cells.push_back(outcome_text(p.outcomes));
    for (size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << csv_cell(cells[i]);
    out << '\n';
  }
  return out.str();
}

std::string json_report(const std::vector<RunResult>& runs, const ReportOptions& options) {
  nlohmann::json out;
  out["target_accuracy"] = options.target_accuracy > 0 ? nlohmann::json(options.target_accuracy) : nlohmann::json();
  out["points"] = nlohmann::json::array();
  for (const PointSummary& p : summarize(runs, options)) {
    nlohmann::json point = nlohmann::json::object();
    for (const auto& [key, value] : p.point) point[key] = detail::typed_point_value(value);
    nlohmann::json row = {{"point", point},
                          {"replicates", p.replicates},
                          {"final_accuracy_mean", number_or_null(p.final_accuracy_mean)},
                          {"final_accuracy_std", number_or_null(p.final_accuracy_std)},
                          {"best_accuracy_mean", number_or_null(p.best_accuracy_mean)},
                          {"megabytes_mean", number_or_null(p.megabytes_mean)},
                          {"failures_mean", number_or_null(p.failures_mean)},
                          {"noise_multiplier_mean", number_or_null(p.noise_multiplier_mean)},
                          {"outcomes", p.outcomes}};
    if (options.target_accuracy > 0) {
      row["reached"] = p.reached;
      row["rounds_to_target_mean"] = number_or_null(p.rounds_to_target_mean);
      row["time_to_target_mean_s"] = number_or_null(p.time_to_target_mean);
    }
    out["points"].push_back(row);
  }
  out["incomplete_runs"] = nlohmann::json::array();
  for (const RunResult& run : runs) {
    if (run.outcome != "complete") {
      out["incomplete_runs"].push_back(
          {{"name", run.name}, {"outcome", run.outcome}, {"message", run.outcome_message}});
    }
  }
  return out.dump(2) + "\n";
}

}  // namespace

std::vector<PointSummary> summarize(const std::vector<RunResult>& runs, const ReportOptions& options) {
  std::map<Point, std::vector<const RunResult*>> groups;
  for (const RunResult& run : runs) groups[run.point].push_back(&run);
  std::vector<PointSummary> out;
  for (const auto& [point, members] : groups) out.push_back(summarize_point(point, members, options.target_accuracy));
  std::stable_sort(out.begin(), out.end(),
                   [](const PointSummary& a, const PointSummary& b) { return point_less(a.point, b.point); });
  return out;
}

std::string report_table(const std::vector<RunResult>& runs, const ReportOptions& options) {
  const std::vector<PointSummary> points = summarize(runs, options);
  std::set<std::string> keys;
  bool noisy = false;
  for (const PointSummary& p : points) {
    for (const auto& [key, value] : p.point) keys.insert(key);
    noisy = noisy || p.noise_multiplier_mean != 0;
  }
  const bool target = options.target_accuracy > 0;
  const std::string t = format("%.2f", options.target_accuracy);

  std::vector<std::string> header;
  if (keys.empty()) header.push_back("point");
  for (const std::string& key : keys) header.push_back(cell(key));
  for (const char* h : {"replicates", "final accuracy", "best accuracy"}) header.push_back(h);
  if (target) {
    header.push_back("rounds to " + t);
    header.push_back("time to " + t + " (s)");
  }
  header.push_back("MB moved");
  header.push_back("failures");
  if (noisy) header.push_back("noise multiplier");
  const bool outcomes = !all_complete(runs);
  if (outcomes) header.push_back("outcomes");

  std::ostringstream out;
  auto row = [&out](const std::vector<std::string>& cells) {
    out << '|';
    for (const std::string& c : cells) out << ' ' << c << " |";
    out << '\n';
  };
  row(header);
  out << '|';
  for (size_t i = 0; i < header.size(); ++i) out << (i < std::max<size_t>(keys.size(), 1) ? " --- |" : " ---: |");
  out << '\n';

  for (const PointSummary& p : points) {
    std::vector<std::string> cells;
    if (keys.empty()) cells.push_back("(none)");
    for (const std::string& key : keys) {
      auto it = p.point.find(key);
      cells.push_back(it == p.point.end() ? "-" : cell(it->second));
    }
    cells.push_back(std::to_string(p.replicates));
    cells.push_back(format("%.4f", p.final_accuracy_mean) + " ± " + format("%.4f", p.final_accuracy_std));
    cells.push_back(format("%.4f", p.best_accuracy_mean));
    if (target) {
      const std::string reached = " (" + std::to_string(p.reached) + "/" + std::to_string(p.replicates) + " reached)";
      cells.push_back((p.reached > 0 ? format("%.1f", p.rounds_to_target_mean) : "-") + reached);
      cells.push_back(p.reached > 0 ? format("%.1f", p.time_to_target_mean) : "-");
    }
    cells.push_back(format("%.1f", p.megabytes_mean));
    cells.push_back(format("%.1f", p.failures_mean));
    if (noisy) cells.push_back(format("%.3g", p.noise_multiplier_mean));
    if (outcomes) cells.push_back(outcome_text(p.outcomes));
    row(cells);
  }
  if (outcomes) {
    out << "\nRuns that did not complete:\n";
    for (const RunResult& run : runs) {
      if (run.outcome == "complete") continue;
      out << "- " << run.name << ": " << run.outcome << (run.outcome_message.empty() ? "" : ": ")
          << run.outcome_message << '\n';
    }
  }
  return out.str();
}

std::string report(const std::vector<RunResult>& runs, const ReportOptions& options) {
  switch (options.format) {
    case ReportFormat::Csv: return csv_report(runs, options);
    case ReportFormat::Json: return json_report(runs, options);
    case ReportFormat::Markdown: break;
  }
  return report_table(runs, options);
}

}  // namespace swarm::results
