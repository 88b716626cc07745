#include "cli/run_command.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <signal.h>
#include <sys/resource.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/common.hpp"
#include "cli/deploy_flags.hpp"
#include "deploy/deployment.hpp"
#include "engine/text.hpp"
#include "results/results.hpp"
#include "scenario/runner.hpp"

namespace swarm::cli {
namespace {

// The flags of `swarm run`: a scenario file (or the built-in default) plus overrides. Every
// shortcut flag is a --set of one scenario key.
struct RunOptions {
  std::string file;
  std::vector<scenario::Override> overrides;
  int threads = default_threads();
  std::string trace_file, metrics_file, out_file;
  bool verbose = false;
  // Checkpoints: written after every round when `checkpoint_file` is set or `always_checkpoint`
  // (the coordinator); `resume` goes on from one.
  std::string checkpoint_file;
  bool resume = false, always_checkpoint = false;
};

// Prints a line per round as the scheduler publishes its metrics.
class RoundPrinter : public ControllerObserver {
 public:
  explicit RoundPrinter(bool simulated) : simulated_(simulated) {}
  void header() const {
    std::printf("%5s  %10s  %8s  %8s  %6s  %6s  %6s  %9s  %9s  %7s\n", "round",
                simulated_ ? "virtual_s" : "clock_s", "accuracy", "loss", "used", "short", "lost",
                "MB_up", "MB_down", "wall_s");
  }
  void on_iteration_end(const IterationReport& r, const SwarmState& state) override {
    std::optional<Blob> m = state.global("metrics");
    if (!m) return;
    Dict d = to_dict(*m);
    line(r.iteration + 1, r.end_s, d.value("accuracy", 0.0), d.value("loss", 0.0), d.value("participants", 0),
         r.unplaced, r.lost + r.failed, r.bytes_up, r.bytes_down, r.wall_s);
  }
  // The rounds a resumed run starts with, as they were printed when they ran.
  void resumed(const std::vector<results::RoundRow>& rows, const std::string& from) const {
    std::printf("# resumed from %s after round %zu\n", from.c_str(), rows.size());
    for (const results::RoundRow& r : rows) {
      line(r.round, r.t_end_s, r.accuracy, r.loss, r.participants, r.unplaced,
           r.failed + r.lost_crash + r.lost_transfer + r.lost_offline + r.lost_deadline + r.lost_overcommit, r.bytes_up,
           r.bytes_down, r.wall_s);
    }
  }

 private:
  static void line(int round, double t, double accuracy, double loss, long long used, int unplaced, int lost,
                   uint64_t up, uint64_t down, double wall) {
    std::printf("%5d  %10.2f  %8.4f  %8.4f  %6lld  %6d  %6d  %9.2f  %9.2f  %7.2f\n", round, t, accuracy, loss, used,
                unplaced, lost, up / 1e6, down / 1e6, wall);
    std::fflush(stdout);
  }
  bool simulated_;
};

// Both CSVs print numbers in their shortest exact form (swarm::shortest), so that times keep
// every nanosecond of the clock: "1234.000000017", not "1234".
void write_metrics_csv(const std::string& path, const results::RunResult& run) {
  write_atomically(path, [&run](std::ostream& out) {
    out << "round,t_start_s,t_end_s,wall_s,accuracy,loss,participants,instances,failed,"
           "lost_crash,lost_transfer,lost_offline,lost_deadline,lost_overcommit,bytes_up,"
           "bytes_down,flops,stale,max_staleness,mean_staleness,unplaced,wire_bytes_up,wire_bytes_down,coordinator_s\n";
    for (const results::RoundRow& r : run.rounds) {
      out << r.round << ',' << shortest(r.t_start_s) << ',' << shortest(r.t_end_s) << ',' << shortest(r.wall_s)
          << ',' << shortest(r.accuracy) << ',' << shortest(r.loss) << ',' << r.participants << ',' << r.instances
          << ',' << r.failed << ',' << r.lost_crash << ',' << r.lost_transfer << ',' << r.lost_offline << ',' << r.lost_deadline << ','
          << r.lost_overcommit << ',' << r.bytes_up << ',' << r.bytes_down << ',' << r.flops << ','
          << r.stale << ',' << r.max_staleness << ',' << shortest(r.mean_staleness) << ',' << r.unplaced << ','
          << r.wire_bytes_up << ',' << r.wire_bytes_down << ',' << shortest(r.coordinator_s) << '\n';
    }
  });
}

void write_trace_csv(const std::string& path, const results::RunResult& run) {
  write_atomically(path, [&run](std::ostream& out) {
    out << "time_s,node,event,task,instance,bytes\n";
    for (const results::TraceRow& e : run.trace) {
      out << shortest(e.time_s) << ',' << e.node << ',' << e.event << ',' << e.task << ',' << e.instance << ','
          << e.bytes << '\n';
    }
  });
}

int run_scenario(RunOptions o, const Registries& registries) {
  // Every output is checked before the run: a bad path must not cost the run its results.
  if (!o.out_file.empty()) check_output_path(o.out_file, "--out");
  if (!o.metrics_file.empty()) check_output_path(o.metrics_file, "--metrics");
  if (!o.trace_file.empty()) check_output_path(o.trace_file, "--trace");
  if (!o.trace_file.empty()) o.overrides.emplace_back("output.trace=true", "--trace");
  std::vector<scenario::Scenario> runs = load_scenario_runs(o.file, o.overrides, registries);
  if (runs.size() != 1) {
    throw scenario::ScenarioError(o.file + ": defines " + std::to_string(runs.size()) +
                                  " runs (a sweep or replicates): run them with `swarm sweep " + o.file +
                                  "`, or pick one with --set");
  }
  const scenario::Scenario& sc = runs.front();
  std::string checkpoint = o.checkpoint_file;
  if (checkpoint.empty() && (o.always_checkpoint || o.resume)) {
    checkpoint = (o.out_file.empty() ? sc.name : o.out_file) + ".checkpoint";
  }
  if (!checkpoint.empty()) {
    scenario::check_checkpointable(sc);
    check_output_path(checkpoint, "--checkpoint");
    if (!o.resume && std::filesystem::exists(checkpoint)) {
      throw UsageError("--checkpoint " + checkpoint + " exists: the checkpoint of an interrupted run; add --resume to go "
                       "on from it, or remove it to start afresh");
    }
    if (o.resume && !std::filesystem::exists(checkpoint)) {
      throw UsageError("--resume: no checkpoint " + checkpoint + " to resume from (name it with --checkpoint)");
    }
  }
  std::unique_ptr<results::ResultWriter> writer;
  if (!o.out_file.empty()) {
    // A run killed before it finished leaves OUT.partial, holding nothing of it: a resumed
    // run writes its results afresh.
    if (o.resume) std::filesystem::remove(o.out_file + ".partial");
    writer = std::make_unique<results::ResultWriter>(o.out_file, false);
  }

  auto logger = make_logger(o.verbose);
  RoundPrinter printer(sc.clock == ClockKind::Virtual);
  scenario::RunContext ctx{o.threads, logger, {&printer}, SWARM_VERSION};
  ctx.checkpoint = checkpoint;
  ctx.resume = o.resume;
  ctx.on_resume = [&printer, &checkpoint](const std::vector<results::RoundRow>& rows) { printer.resumed(rows, checkpoint); };
  scenario::DataCache cache;

  std::ostringstream layers;
  for (size_t i = 0; i < sc.fl.layers.size(); ++i) layers << (i ? "-" : "") << sc.fl.layers[i];
  std::printf("# swarm run %s: %s FL, %s, strategy %s, %lld nodes (%s), %s data (%s partition), hidden layers %s, "
              "%d thread(s), seed %llu\n",
              sc.name.c_str(), sc.fl.async ? "asynchronous" : "synchronous",
              sc.training_mode == scenario::TrainingMode::Timing ? "timing only (no training: accuracy not computed)"
                                                                 : "real training",
              sc.strategy.value("strategy", std::string("?")).c_str(),
              static_cast<long long>(sc.population.num_nodes),
              registries.backends.get(sc.backend).description.c_str(), sc.data.dataset.c_str(),
              sc.data.partition.c_str(), layers.str().c_str(), o.threads, static_cast<unsigned long long>(sc.seed));
  print_warnings(runs);
  // The kernel line and the table's header once the run has chosen its kernel.
  ctx.on_kernel = [&printer](const std::optional<ml::KernelChoice>& k) {
    if (k) {
      std::printf("# GEMM kernel %s (%s): %s\n", std::string(ml::kernel_name(k->kernel)).c_str(),
                  ml::kernel_identity(k->kernel).c_str(), k->reason.c_str());
    }
    printer.header();
  };
  results::RunResult result;
  try {
    result = scenario::run_scenario(sc, ctx, cache, registries);
    // The results file first: a CSV that fails to write later does not lose it.
    if (writer) {
      writer->write(result);
      writer->finish();
    }
  } catch (...) {
    if (writer) {  // one run: a partial file holds nothing worth resuming
      const std::filesystem::path partial = writer->path().string() + ".partial";
      writer.reset();
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
    }
    throw;
  }

  double wall = 0, own = 0;
  uint64_t bytes = 0, flops = 0;
  int lost = 0;
  for (const results::RoundRow& r : result.rounds) {
    wall += r.wall_s;
    own += r.coordinator_s;
    bytes += r.bytes_up + r.bytes_down;
    flops += r.flops;
    lost += r.failed + r.lost_crash + r.lost_transfer + r.lost_offline + r.lost_deadline;
  }
  std::printf("# %zu rounds in %.2f s wall (%.3f rounds/s", result.rounds.size(), wall,
              wall > 0 ? result.rounds.size() / wall : 0.0);
  // A timing-only run computes none of its FLOPs: a rate of them would mean nothing.
  if (sc.training_mode == scenario::TrainingMode::Real) std::printf(", %.1f GFLOP/s", wall > 0 ? flops / wall / 1e9 : 0.0);
  std::printf(")");
  if (!result.rounds.empty()) {
    const results::RoundRow& last = result.rounds.back();
    if (sc.clock == ClockKind::Virtual) std::printf(", %.1f s virtual", last.t_end_s);
    std::printf("; final accuracy %.4f, loss %.4f", last.accuracy, last.loss);
  }
  std::printf("; %.1f MB moved; %d instances lost", bytes / 1e6, lost);
  if (own > 0 && wall > 0) std::printf("; coordinator's own work %.1f%% of the rounds", 100 * own / wall);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);  // ru_maxrss is in KiB on Linux
  std::printf("; peak memory %.0f MB\n", static_cast<double>(usage.ru_maxrss) * 1024 / 1e6);
  std::fflush(stdout);
  if (!o.metrics_file.empty()) write_metrics_csv(o.metrics_file, result);
  if (!o.trace_file.empty()) write_trace_csv(o.trace_file, result);
  // Every output is written: the checkpoint is no longer needed.
  if (!checkpoint.empty() && result.outcome == "complete") std::filesystem::remove(checkpoint);
  if (result.outcome != "complete") {
    // The rounds before it are kept (and written, marked with the outcome); the run failed.
    std::fprintf(stderr, "swarm: error: the run stopped early (%s): %s\n", result.outcome.c_str(),
                 result.outcome_message.c_str());
    return 1;
  }
  return 0;
}

void add_checkpoint_flags(CLI::App* cmd, RunOptions& o) {
  cmd->add_option("--checkpoint", o.checkpoint_file,
                  o.always_checkpoint ? "Checkpoint after every round to this file (default: OUT.checkpoint with --out, "
                                        "else NAME.checkpoint, NAME the scenario's name); removed when the run completes"
                                      : "Checkpoint after every round to this file (removed when the run completes)");
  cmd->add_flag("--resume", o.resume,
                "Go on from the checkpoint of an interrupted run of the same scenario, with the same per-round numbers");
}

void add_run_outputs(CLI::App* cmd, RunOptions& o) {
  cmd->add_option("file", o.file, "Scenario file (YAML, see scenarios/README.md); default: built-in");
  cmd->add_option("-t,--threads", o.threads, "Threads for the coordinator's own tasks")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--out", o.out_file, "Write the run to this HDF5 results file (see docs/results.md)");
  cmd->add_option("--metrics", o.metrics_file, "Write the per-round table as CSV (with the bytes on the wire)");
  cmd->add_option("--trace", o.trace_file,
                  "Write every instance's start and end, in the order they happened (CSV: time_s,node,event,task,instance,bytes)");
  cmd->add_flag("-v,--verbose", o.verbose, "Log what the coordinator and tasks do (to stderr)");
  add_checkpoint_flags(cmd, o);
}

}  // namespace

void add_deploy_commands(CLI::App& app, int& exit_code, const Registries& registries) {
  {
    auto o = std::make_shared<RunOptions>();
    auto nf = std::make_shared<NodeFlags>();
    auto launcher = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "deploy", "Run a scenario on real node processes: a coordinator and N node agents started here "
                  "(keys in a private temporary folder, one shard folder per node, all stopped at the end, "
                  "also on Ctrl-C). Same per-round lines and results file as `swarm run`.");
    add_run_outputs(cmd, *o);
    cmd->add_option("--launcher", *launcher,
                    "Who starts the nodes: local (processes on this machine; the default, unless the scenario's "
                    "deploy.launcher says otherwise), docker (a container per node from deploy.image, default "
                    "swarmsim-node:latest; scripts/build-image), swarm-mode (Docker Swarm mode jobs on the swarm "
                    "this engine manages)")
        ->check(CLI::IsMember(deploy::launcher_names()));
    nf->add(cmd);
    add_shortcut_flags(cmd, o->overrides, registries);
    cmd->callback([o, nf, launcher, &exit_code, &registries] {
      RunOptions run = *o;
      nf->apply(run.overrides);
      if (!launcher->empty()) run.overrides.emplace_back("backend_options.launcher=" + *launcher, "--launcher");
      InterruptGuard guard;
      exit_code = run_scenario(run, registries);
    });
  }
  {
    auto o = std::make_shared<RunOptions>();
    o->always_checkpoint = true;
    auto nf = std::make_shared<NodeFlags>();
    auto bind = std::make_shared<std::string>();
    auto keys = std::make_shared<std::string>(), allow = std::make_shared<std::string>(),
         shards = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "coordinator", "Run a scenario on node agents started elsewhere (`swarm node`): waits for the "
                       "scenario's nodes to register, then runs with the same controller as `swarm run`.");
    add_run_outputs(cmd, *o);
    cmd->add_option("--bind", *bind,
                    std::string("Address the nodes connect to (default: the scenario's deploy.bind, else ") +
                        deploy::kDefaultBind + ")");
    cmd->add_option("--keys", *keys, "Folder holding the coordinator's server.key_secret (swarm keys server --dir DIR)");
    cmd->add_option("--allow", *allow, "Folder of the admitted nodes' public keys (*.key)");
    cmd->add_option("--shards", *shards, "Write each node's shard folder here first (DIR/node-ID), from the scenario's partition");
    nf->add(cmd);
    add_shortcut_flags(cmd, o->overrides, registries);
    cmd->callback([=, &exit_code, &registries] {
      RunOptions run = *o;
      nf->apply(run.overrides);
      run.overrides.emplace_back("backend_options.launcher=none", "");
      if (!bind->empty()) run.overrides.emplace_back("backend_options.bind=" + *bind, "--bind");
      if (!keys->empty()) run.overrides.emplace_back("backend_options.keys=" + *keys, "--keys");
      if (!allow->empty()) run.overrides.emplace_back("backend_options.allow=" + *allow, "--allow");
      if (!shards->empty()) run.overrides.emplace_back("backend_options.shards=" + *shards, "--shards");
      InterruptGuard guard;
      exit_code = run_scenario(run, registries);
    });
  }
}

void add_run_command(CLI::App& app, int& exit_code, const Registries& registries) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run one scenario and print test accuracy after every round. Without a FILE, the "
             "default scenario: federated learning of an MLP on Fashion-MNIST over 10 simulated "
             "nodes (phones, laptops, servers) in virtual time. Flags override scenario keys.");
  cmd->add_option("file", o->file, "Scenario file (YAML, see scenarios/README.md); default: built-in");
  cmd->add_option("-t,--threads", o->threads, "Threads training in parallel (results do not depend on it)")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--out", o->out_file, "Write the run to this HDF5 results file (see docs/results.md)");
  cmd->add_option("--metrics", o->metrics_file,
                  "Write the per-round table as CSV (virtual start and end, accuracy, loss, "
                  "participants, failures by cause, bytes up and down, FLOPs, staleness)");
  cmd->add_option("--trace", o->trace_file, "Write the event trace (CSV: time_s,node,event,task,instance,bytes)");
  cmd->add_flag("-v,--verbose", o->verbose, "Log what tasks do (to stderr)");
  add_checkpoint_flags(cmd, *o);
  add_shortcut_flags(cmd, o->overrides, registries);
  cmd->callback([o, &exit_code, &registries] { exit_code = run_scenario(*o, registries); });
}

}  // namespace swarm::cli
