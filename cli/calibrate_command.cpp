#include "cli/calibrate_command.hpp"

#include <cstdio>
#include <memory>
#include <string>

#include "cli/common.hpp"
#include "cli/deploy_flags.hpp"
#include "engine/text.hpp"
#include "scenario/calibration.hpp"
#include "scenario/runner.hpp"

namespace swarm::cli {
namespace {

struct CalibrateOptions {
  std::string file;
  std::vector<scenario::Override> overrides;
  NodeFlags nodes;
  std::string launcher, population_file, report_file;
  int probe_rounds = 5;
  int threads = default_threads();
  bool verbose = false;
};

// The scenario with the command's overrides and `extra`; `simulated`: without those that say
// where it runs (backend, backend_options), which the simulator does not read.
scenario::Scenario load_one(const CalibrateOptions& o, std::vector<scenario::Override> extra, const Registries& registries,
                            bool simulated = false) {
  std::vector<scenario::Override> overrides;
  for (const scenario::Override& ov : o.overrides) {
    const std::string key = ov.assignment.substr(0, ov.assignment.find('='));
    if (simulated && (key == "backend" || key.rfind("backend_options.", 0) == 0)) continue;
    overrides.push_back(ov);
  }
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  std::vector<scenario::Scenario> runs = load_scenario_runs(o.file, overrides, registries);
  if (runs.size() != 1) {
    throw scenario::ScenarioError(o.file + ": defines " + std::to_string(runs.size()) +
                                  " runs (a sweep or replicates); calibrate takes one: pick it with --set");
  }
  return runs.front();
}

struct Measured {
  results::RunResult result;
  std::vector<scenario::InstanceRecord> records;
};

// `cache` holds the data the three runs (probe, real, simulated) share, loaded once.
Measured run_recorded(const scenario::Scenario& sc, const CalibrateOptions& o, const Registries& registries,
                      scenario::DataCache& cache) {
  scenario::InstanceRecorder recorder;
  scenario::RunContext ctx{o.threads, make_logger(o.verbose), {&recorder}, SWARM_VERSION};
  Measured m;
  m.result = scenario::run_scenario(sc, ctx, cache, registries);
  if (m.result.outcome != "complete") {
    throw Error("the " + std::string(sc.clock == ClockKind::Virtual ? "simulated" : "real") + " run stopped early (" +
                m.result.outcome + "): " + m.result.outcome_message);
  }
  m.records = std::move(recorder.records);
  return m;
}

double percent(double predicted, double measured) { return measured > 0 ? 100 * (predicted - measured) / measured : 0; }

void write_report_csv(const std::string& path, const scenario::CalibrationReport& report) {
  write_atomically(path, [&report](std::ostream& out) {
    out << "round,predicted_s,measured_s,error,predicted_workers_s,measured_workers_s,predicted_bytes,wire_bytes,"
           "coordinator_s\n";
    for (const scenario::RoundComparison& r : report.rounds) {
      out << r.round << ',' << shortest(r.predicted_s) << ',' << shortest(r.measured_s) << ',' << shortest(r.error())
          << ',' << shortest(r.predicted_workers_s) << ',' << shortest(r.measured_workers_s) << ',' << r.predicted_bytes
          << ',' << r.measured_bytes << ',' << shortest(r.coordinator_s) << '\n';
    }
  });
}

int calibrate(const CalibrateOptions& o, const Registries& registries) {
  if (!o.report_file.empty()) check_output_path(o.report_file, "--report");
  std::vector<scenario::Override> real;
  o.nodes.apply(real);
  if (!o.launcher.empty()) real.emplace_back("backend_options.launcher=" + o.launcher, "--launcher");
  const scenario::Scenario measured_sc = load_one(o, real, registries);
  if (measured_sc.backend_options.value("launcher", std::string("local")) == "none") {
    throw UsageError("calibrate starts the nodes it measures: give it a launcher (--launcher local), not none");
  }
  const std::string population = o.population_file.empty() ? measured_sc.name + ".population.yaml" : o.population_file;
  check_output_path(population, "--population");
  std::vector<scenario::Override> probe = real;
  probe.emplace_back("swarm.rounds=" + std::to_string(o.probe_rounds), "--probe-rounds");
  const scenario::Scenario probe_sc = load_one(o, probe, registries);
  const int64_t nodes = measured_sc.population.num_nodes;
  InterruptGuard guard;
  scenario::DataCache cache;

  std::printf("# swarm calibrate %s: %lld real nodes (launcher %s), probe of %d round(s)\n", measured_sc.name.c_str(),
              static_cast<long long>(nodes), measured_sc.backend_options.value("launcher", std::string("local")).c_str(),
              o.probe_rounds);
  std::fflush(stdout);
  const Measured probed = run_recorded(probe_sc, o, registries, cache);
  // Round 1 warms caches, allocators and connections: measured from round 2 when there is one.
  const int first = probed.result.rounds.size() > 1 ? 1 : 0;
  const scenario::CalibrationFit fit = scenario::fit_population(probed.records, nodes, first);
  std::printf("# measured on rounds %d-%zu of the probe:\n  node   GFLOP/s   link_MB/s  instances\n", first + 1,
              probed.result.rounds.size());
  for (const scenario::NodeFit& n : fit.nodes) {
    std::printf("  %4u  %8.2f  %10.1f  %9d\n", n.node, n.flops_per_s / 1e9, n.link_bytes_per_s / 1e6, n.instances);
  }
  std::printf("  server %.2f GFLOP/s\n", fit.server_flops_per_s / 1e9);
  write_atomically(population, [&](std::ostream& out) {
    out << scenario::population_yaml(
        fit, "Written by swarm calibrate " + (o.file.empty() ? std::string("(default scenario)") : o.file) + ": " +
                 std::to_string(nodes) + " real nodes, rounds " + std::to_string(first + 1) + "-" +
                 std::to_string(probed.result.rounds.size()) + " of a probe run.\n"
                 "Each node's speed on the model's own training (FLOPs / time in the task), its link\n"
                 "(bytes / the rest of the instance's time), the server's speed. Use it with\n"
                 "population: {from: " + population + "}");
  });
  std::printf("# wrote %s (population: {from: %s})\n", population.c_str(), population.c_str());
  std::fflush(stdout);

  const Measured measured = run_recorded(measured_sc, o, registries, cache);
  const scenario::Scenario predicted_sc = load_one(o, {{"backend=sim", ""}, {"population.from=" + population, ""}}, registries,
                                                       /*simulated=*/true);
  const Measured predicted = run_recorded(predicted_sc, o, registries, cache);
  const scenario::CalibrationReport report =
      scenario::compare_runs(predicted.result, predicted.records, measured.result, measured.records, fit);

  std::printf("round  predicted_s  measured_s    error  workers_pred  workers_meas  coordinator_s  MB_payload  MB_wire\n");
  for (const scenario::RoundComparison& r : report.rounds) {
    std::printf("%5d  %11.3f  %10.3f  %+6.1f%%  %12.3f  %12.3f  %13.4f  %10.2f  %7.2f\n", r.round, r.predicted_s,
                r.measured_s, 100 * r.error(), r.predicted_workers_s, r.measured_workers_s, r.coordinator_s,
                static_cast<double>(r.predicted_bytes) / 1e6, static_cast<double>(r.measured_bytes) / 1e6);
  }
  std::printf("# round time: median error %.1f%% over %zu rounds\n", 100 * report.median_abs_error, report.rounds.size());
  std::printf("# where: training %.3f s predicted vs %.3f s measured (%+.1f%%); transfers %.3f s vs %.3f s (%+.1f%%); "
              "coordinator's own work %.3f s, %.1f%% of the measured rounds (not simulated)\n",
              report.predicted_compute_s, report.measured_compute_s,
              percent(report.predicted_compute_s, report.measured_compute_s), report.predicted_transfer_s,
              report.measured_transfer_s, percent(report.predicted_transfer_s, report.measured_transfer_s),
              report.coordinator_s, report.measured_total_s > 0 ? 100 * report.coordinator_s / report.measured_total_s : 0);
  std::fflush(stdout);
  if (!o.report_file.empty()) write_report_csv(o.report_file, report);
  return 0;
}

}  // namespace

void add_calibrate_command(CLI::App& app, int& exit_code, const Registries& registries) {
  auto o = std::make_shared<CalibrateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate", "Check the simulator against real nodes: measure each node's speed and link in a probe run, write "
                   "a population file the simulator reads (population.from), run the scenario on the real nodes and "
                   "in simulation, and print predicted against measured round times, and where they differ");
  cmd->add_option("file", o->file, "Scenario file (YAML, see scenarios/README.md); default: built-in");
  cmd->add_option("--launcher", o->launcher, "Who starts the nodes (default local, or the scenario's deploy.launcher)")
      ->check(CLI::IsMember(deploy::launcher_names()));
  cmd->add_option("--probe-rounds", o->probe_rounds, "Rounds of the probe run (measured from round 2)")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--population", o->population_file, "Population file to write (default NAME.population.yaml)");
  cmd->add_option("--report", o->report_file, "Write the per-round comparison as CSV");
  cmd->add_option("-t,--threads", o->threads, "Threads for the coordinator's own tasks and the simulation")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_flag("-v,--verbose", o->verbose, "Log what the coordinator and tasks do (to stderr)");
  o->nodes.add(cmd);
  add_shortcut_flags(cmd, o->overrides, registries);
  cmd->callback([o, &exit_code, &registries] { exit_code = calibrate(*o, registries); });
}

}  // namespace swarm::cli
