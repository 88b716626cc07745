#include "cli/scenario_commands.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "cli/common.hpp"
#include "results/report.hpp"
#include "results/results.hpp"
#include "scenario/runner.hpp"

namespace swarm::cli {
namespace {

std::string duration(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) % 3600 / 60);
  }
  return buf;
}

struct SweepOptions {
  std::string file, out;
  std::vector<scenario::Override> overrides;
  int jobs = 0;
  int threads = default_threads();
  bool resume = false;
  bool verbose = false;
};

int sweep(const SweepOptions& o) {
  std::vector<scenario::Scenario> runs = load_scenario_runs(o.file, o.overrides);
  std::set<std::string> names;
  for (const auto& r : runs) {
    if (!names.insert(r.run_name()).second) {
      throw scenario::ScenarioError(o.file + ": two runs are both named '" + r.run_name() + "'");
    }
  }
  const std::string out = o.out.empty() ? std::filesystem::path(o.file).stem().string() + ".h5" : o.out;
  check_output_path(out, "--out");
  results::ResultWriter writer(out, o.resume);
  std::set<std::string> done = writer.completed();
  std::vector<const scenario::Scenario*> todo;
  for (const auto& r : runs) {
    if (!done.count(r.run_name())) todo.push_back(&r);
  }
  const int jobs = std::max(1, std::min<int>(o.jobs > 0 ? o.jobs : o.threads, static_cast<int>(std::max<size_t>(1, todo.size()))));
  const int threads_per_run = std::max(1, o.threads / jobs);
  std::fprintf(stderr, "sweep %s: %zu runs, %zu already in %s; running %zu, %d at a time (%d thread(s) each)\n",
               o.file.c_str(), runs.size(), runs.size() - todo.size(), out.c_str(), todo.size(), jobs,
               threads_per_run);

  auto logger = make_logger(o.verbose);
  scenario::DataCache cache;
  std::mutex mutex;
  std::atomic<size_t> next{0};
  size_t finished = 0;
  std::exception_ptr error;
  const auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (;;) {
      const size_t i = next++;
      if (i >= todo.size()) return;
      {
        std::lock_guard lock(mutex);
        if (error) return;
      }
      try {
        scenario::RunContext ctx{threads_per_run, logger, {}, SWARM_VERSION};
        results::RunResult result = scenario::run_scenario(*todo[i], ctx, cache);
        std::lock_guard lock(mutex);
        writer.write(result);
        ++finished;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double eta = elapsed / static_cast<double>(finished) * static_cast<double>(todo.size() - finished);
        std::fprintf(stderr, "[%zu/%zu] %s: accuracy %.4f after %zu rounds; elapsed %s, ETA %s\n",
                     finished + runs.size() - todo.size(), runs.size(), result.name.c_str(),
                     result.rounds.empty() ? 0.0 : result.rounds.back().accuracy, result.rounds.size(),
                     duration(elapsed).c_str(), duration(eta).c_str());
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);  // the .partial file keeps the finished runs
  writer.finish();
  std::fprintf(stderr, "sweep %s: done; results in %s (swarm report %s)\n", o.file.c_str(), out.c_str(), out.c_str());
  return 0;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<scenario::Override>>();
  CLI::App* cmd = app.add_subcommand("validate", "Check a scenario file (and its sweep) without running it");
  cmd->add_option("file", *file, "Scenario file (YAML)")->required();
  add_shortcut_flags(cmd, *overrides);
  cmd->callback([file, overrides, &exit_code] {
    std::vector<scenario::Scenario> runs = load_scenario_runs(*file, *overrides);
    std::set<std::map<std::string, std::string>> points;
    for (const auto& r : runs) points.insert(r.point);
    std::printf("%s: ok: %zu run(s) = %zu sweep point(s) x %d replicate(s)\n", file->c_str(), runs.size(),
                points.size(), runs.front().replicates);
    exit_code = 0;
  });
}

void add_partition_command(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<scenario::Override>>();
  CLI::App* cmd = app.add_subcommand(
      "partition", "Write which training samples every node of a scenario holds, as a run gives them: "
                   "a CSV of (node, sample) rows, sample = index in the training set (Fashion-MNIST: "
                   "position in train-images-idx3-ubyte). For other tools to train on the very same "
                   "partition (bench/compare/torch_fedavg.py).");
  cmd->add_option("file", *file, "Scenario file (YAML; default: the built-in default scenario)");
  cmd->add_option("-o,--out", *out, "CSV file to write")->required();
  add_shortcut_flags(cmd, *overrides);
  cmd->callback([file, out, overrides, &exit_code] {
    check_output_path(*out, "--out");
    std::vector<scenario::Scenario> runs = load_scenario_runs(*file, *overrides);
    if (runs.size() != 1) {
      throw UsageError((file->empty() ? std::string("(default scenario)") : *file) + ": defines " +
                       std::to_string(runs.size()) + " runs (a sweep or replicates); partition takes one: "
                       "give it a scenario of one run (no sweep, replicates: 1)");
    }
    const scenario::Scenario& sc = runs.front();
    scenario::DataCache cache;
    scenario::NodeData data = scenario::node_data(sc, cache.get(sc.data, sc.seed));
    write_atomically(*out, [&](std::ostream& csv) {
      csv << "node,sample\n";
      for (int64_t node = 0; node < sc.population.num_nodes; ++node) {
        const LocalData local = data.provider(static_cast<NodeId>(node));
        for (uint32_t sample : local.at("train").indices()) csv << node << ',' << sample << '\n';
      }
    });
    std::fprintf(stderr, "%s: %lld nodes' samples\n", out->c_str(), static_cast<long long>(sc.population.num_nodes));
    exit_code = 0;
  });
}

void add_sweep_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Run every point of a scenario's sweep x its replicates, several at once, into one HDF5 "
               "file. Rerunning an interrupted sweep with --resume skips the runs already done.");
  cmd->add_option("file", o->file, "Scenario file (YAML)")->required();
  cmd->add_option("-o,--out", o->out, "Results file (default: FILE's name with .h5, here)");
  cmd->add_option("-j,--jobs", o->jobs, "Runs at once (default: one per core)")->check(CLI::Range(1, 1024));
  cmd->add_option("-t,--threads", o->threads, "Threads in all, shared by the runs at once")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_flag("--resume", o->resume, "Keep the runs already in the results file and run the others");
  cmd->add_flag("-v,--verbose", o->verbose, "Log what tasks do (to stderr)");
  add_shortcut_flags(cmd, o->overrides);
  cmd->callback([o, &exit_code] { exit_code = sweep(*o); });
}

void add_report_command(CLI::App& app, int& exit_code) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto target = std::make_shared<double>(0);
  CLI::App* cmd = app.add_subcommand(
      "report", "Compare the runs of results files: per sweep point, final accuracy mean +- std over "
                "replicates, rounds and virtual time to a target accuracy, bytes moved, failures");
  cmd->add_option("files", *files, "HDF5 results files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--target", *target, "Target accuracy for the time-to-accuracy columns")
      ->check(CLI::Range(0.0, 1.0));
  cmd->callback([files, target, &exit_code] {
    std::vector<results::RunResult> all;
    for (const std::string& f : *files) {
      std::vector<results::RunResult> runs = results::read_results(f);
      all.insert(all.end(), std::make_move_iterator(runs.begin()), std::make_move_iterator(runs.end()));
    }
    std::fputs(results::report_table(all, {.target_accuracy = *target}).c_str(), stdout);
    exit_code = 0;
  });
}

}  // namespace swarm::cli
