#include "cli/scenario_commands.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <map>
#include <set>
#include <thread>

#include "cli/common.hpp"
#include "results/merge.hpp"
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
  std::string shard;          // "I/N" (--shard)
  bool shard_given = false;   // else the whole sweep
  bool resume = false;
  bool verbose = false;
};

// --shard I/N: shard I (from 1, as Slurm's SLURM_ARRAY_TASK_ID) of N, 1 <= I <= N. Throws
// UsageError saying what was expected.
std::pair<int, int> parse_shard(const std::string& text) {
  auto fail = [&](const std::string& why) -> std::pair<int, int> {
    throw UsageError("--shard: expected I/N, shard I (from 1) of N shards with 1 <= I <= N (e.g. 2/4), got '" + text +
                     "'" + (why.empty() ? "" : ": " + why));
  };
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return fail("no '/'");
  auto number = [&](const std::string& part) -> int {
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos) {
      fail("'" + part + "' is not a whole number");
    }
    return std::stoi(part);
  };
  const int shard = number(text.substr(0, slash));
  const int shards = number(text.substr(slash + 1));
  if (shards < 1) return fail("N must be at least 1");
  if (shard < 1 || shard > shards) return fail("I must be in [1, " + std::to_string(shards) + "]");
  return {shard, shards};
}

int sweep(const SweepOptions& o, const Registries& registries) {
  const auto [shard, shards] = o.shard_given ? parse_shard(o.shard) : std::pair{1, 1};
  std::vector<scenario::Scenario> runs = load_scenario_runs(o.file, o.overrides, registries);
  print_warnings(runs);
  std::set<std::string> names;
  for (const auto& r : runs) {
    if (!names.insert(r.run_name()).second) {
      throw scenario::ScenarioError(o.file + ": two runs are both named '" + r.run_name() + "'");
    }
  }
  // The sweep's record (every run's name, scenario text and seed), and this shard's runs.
  if (static_cast<size_t>(shards) > runs.size()) {
    throw UsageError("--shard " + o.shard + ": " + o.file + " defines " + std::to_string(runs.size()) +
                     " run(s), fewer than " + std::to_string(shards) + " shards: some shards would be empty; use at most " +
                     std::to_string(runs.size()) + " shards");
  }
  const results::SweepRecord record = [&] {
    std::vector<results::SweepRun> identity;  // a copy of every scenario text: freed at once
    for (const auto& r : runs) identity.push_back({r.run_name(), r.text, r.seed});
    return results::sweep_record(identity, shard, shards);
  }();
  const std::string shard_note = shards > 1 ? " of shard " + results::shard_label(shard, shards) : "";
  {
    std::vector<scenario::Scenario> mine;
    for (size_t k = 0; k < runs.size(); ++k) {
      if (results::in_shard(k, shard, shards)) mine.push_back(std::move(runs[k]));
    }
    runs = std::move(mine);
  }
  const std::string out = o.out.empty() ? std::filesystem::path(o.file).stem().string() + ".h5" : o.out;
  check_output_path(out, "--out");
  results::ResultWriter writer(out, o.resume);
  // Resuming keeps a run of the file only if it is the very run this sweep (shard) would run
  // now (same scenario text, same seed); anything else would mix results of different scenarios.
  std::map<std::string, const scenario::Scenario*> by_name;
  for (const auto& r : runs) by_name[r.run_name()] = &r;
  for (const auto& [name, kept] : writer.completed_runs()) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      throw UsageError(writer.path().string() + ": holds run '" + name + "', which " + o.file +
                       " (with these --set" + (shards > 1 ? ", in shard " + results::shard_label(shard, shards) : "") +
                       ") does not define; resume with the scenario and --shard that wrote it, "
                       "or use another --out");
    }
    if (kept.scenario_text != it->second->text || kept.seed != it->second->seed) {
      throw UsageError(writer.path().string() + ": run '" + name + "' was run with a different " +
                       (kept.seed != it->second->seed ? "seed" : "scenario") + " than " + o.file +
                       " gives it now; resume with the scenario that wrote it, or use another --out");
    }
  }
  writer.set_sweep(record);  // the file holds (part of) this sweep now, resumed or not
  std::vector<const scenario::Scenario*> todo;
  for (const auto& r : runs) {
    if (!writer.completed_runs().count(r.run_name())) todo.push_back(&r);
  }
  std::vector<std::string> stopped;  // runs that ended early (diverged, no node left), kept ones too
  for (const auto& [name, kept] : writer.completed_runs()) {
    if (kept.outcome != "complete") stopped.push_back(name + ": " + kept.outcome + ": " + kept.outcome_message);
  }
  const int jobs = std::max(1, std::min<int>(o.jobs > 0 ? o.jobs : o.threads, static_cast<int>(std::max<size_t>(1, todo.size()))));
  const int threads_per_run = std::max(1, o.threads / jobs);
  std::fprintf(stderr, "sweep %s: %zu runs%s, %zu already in %s; running %zu, %d at a time (%d thread(s) each)\n",
               o.file.c_str(), runs.size(), shard_note.c_str(), runs.size() - todo.size(), out.c_str(), todo.size(), jobs,
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
        results::RunResult result = scenario::run_scenario(*todo[i], ctx, cache, registries);
        std::lock_guard lock(mutex);
        writer.write(result);
        ++finished;
        if (result.outcome != "complete") {
          stopped.push_back(result.name + ": " + result.outcome + ": " + result.outcome_message);
          std::fprintf(stderr, "run %s stopped early (%s): %s\n", result.name.c_str(), result.outcome.c_str(),
                       result.outcome_message.c_str());
        }
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
  if (!stopped.empty()) {
    // Every run is in the file, the stopped ones marked with their outcome; the sweep failed.
    std::sort(stopped.begin(), stopped.end());  // completion order depends on --jobs
    std::fprintf(stderr, "swarm: error: %zu run(s) stopped early:\n", stopped.size());
    for (const std::string& s : stopped) std::fprintf(stderr, "  %s\n", s.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code, const Registries& registries) {
  auto file = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<scenario::Override>>();
  CLI::App* cmd = app.add_subcommand("validate", "Check a scenario file (and its sweep) without running it");
  cmd->add_option("file", *file, "Scenario file (YAML)")->required();
  add_shortcut_flags(cmd, *overrides, registries);
  cmd->callback([file, overrides, &exit_code, &registries] {
    std::vector<scenario::Scenario> runs = load_scenario_runs(*file, *overrides, registries);
    print_warnings(runs);
    std::set<std::map<std::string, std::string>> points;
    for (const auto& r : runs) points.insert(r.point);
    std::printf("%s: ok: %zu run(s) = %zu sweep point(s) x %d replicate(s)\n", file->c_str(), runs.size(),
                points.size(), runs.front().replicates);
    exit_code = 0;
  });
}

// `swarm partition` refuses to write more than this without --force.
constexpr double kPartitionLimitBytes = 1e9;

// Digits of `v` in decimal.
int decimal_digits(uint64_t v) {
  int n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Bytes of the partition CSV's lines for one node.
double partition_csv_bytes(int64_t node, const std::vector<uint32_t>& samples) {
  double bytes = 0;
  for (uint32_t sample : samples) bytes += decimal_digits(static_cast<uint64_t>(node)) + decimal_digits(sample) + 2;
  return bytes;
}

void add_partition_command(CLI::App& app, int& exit_code, const Registries& registries) {
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<scenario::Override>>();
  auto force = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "partition", "Write which training samples every node of a scenario holds, as a run gives them: "
                   "a CSV of (node, sample) rows, sample = index in the training set (Fashion-MNIST: "
                   "position in train-images-idx3-ubyte). For other tools to train on the very same "
                   "partition (bench/compare/torch_fedavg.py).");
  cmd->add_option("file", *file, "Scenario file (YAML; default: the built-in default scenario)");
  cmd->add_option("-o,--out", *out, "CSV file to write")->required();
  cmd->add_flag("--force", *force, "Write the CSV even when it is estimated at more than 1 GB");
  add_shortcut_flags(cmd, *overrides, registries);
  cmd->callback([file, out, overrides, force, &exit_code, &registries] {
    check_output_path(*out, "--out");
    std::vector<scenario::Scenario> runs = load_scenario_runs(*file, *overrides, registries);
    if (runs.size() != 1) {
      throw UsageError((file->empty() ? std::string("(default scenario)") : *file) + ": defines " +
                       std::to_string(runs.size()) + " runs (a sweep or replicates); partition takes one: "
                       "give it a scenario of one run (no sweep, replicates: 1)");
    }
    const scenario::Scenario& sc = runs.front();
    scenario::DataCache cache;
    scenario::NodeData data = scenario::node_data(sc, cache.get(sc.data, sc.seed));
    // The size first, from up to 1000 nodes spread over the population.
    const int64_t nodes = sc.population.num_nodes;
    const int64_t probes = std::min<int64_t>(nodes, 1000);
    double probed = 0;
    for (int64_t k = 0; k < probes; ++k) {
      const int64_t node = k * nodes / probes;
      probed += partition_csv_bytes(node, std::any_cast<const ml::DatasetView&>(data.provider(static_cast<NodeId>(node)).at("train")).indices());
    }
    const double estimate = probes > 0 ? probed * static_cast<double>(nodes) / static_cast<double>(probes) : 0;
    if (estimate > kPartitionLimitBytes && !*force) {
      throw UsageError(*out + ": the partition of " + std::to_string(nodes) + " nodes would take about " +
                       std::to_string(static_cast<long long>(std::llround(estimate / 1e6))) +
                       " MB (estimated from " + std::to_string(probes) + " nodes), more than the 1000 MB that "
                       "partition writes without --force");
    }
    std::fprintf(stderr, "%s: writing about %.1f MB\n", out->c_str(), estimate / 1e6);
    write_atomically(*out, [&](std::ostream& csv) {
      csv << "node,sample\n";
      for (int64_t node = 0; node < sc.population.num_nodes; ++node) {
        const LocalData local = data.provider(static_cast<NodeId>(node));
        for (uint32_t sample : std::any_cast<const ml::DatasetView&>(local.at("train")).indices()) csv << node << ',' << sample << '\n';
      }
    });
    std::fprintf(stderr, "%s: %lld nodes' samples\n", out->c_str(), static_cast<long long>(sc.population.num_nodes));
    exit_code = 0;
  });
}

void add_sweep_command(CLI::App& app, int& exit_code, const Registries& registries) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Run every point of a scenario's sweep x its replicates, several at once, into one HDF5 "
               "file. Rerunning an interrupted sweep with --resume skips the runs already done.");
  cmd->add_option("file", o->file, "Scenario file (YAML)")->required();
  cmd->add_option("-o,--out", o->out, "Results file (default: FILE's name with .h5, here)");
  cmd->add_option("-j,--jobs", o->jobs, "Runs at once (default: one per core)")->check(CLI::Range(1, 1024));
  cmd->add_option("-t,--threads", o->threads, "Threads in all, shared by the runs at once")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--shard", o->shard,
                  "Run only shard I of N (I from 1, as SLURM_ARRAY_TASK_ID): the runs at positions k (from 0, in "
                  "the sweep's order) with k % N == I - 1; `swarm merge` combines the shards' files")
      ->type_name("I/N");
  cmd->add_flag("--resume", o->resume, "Keep the runs already in the results file and run the others");
  cmd->add_flag("-v,--verbose", o->verbose, "Log what tasks do (to stderr)");
  add_shortcut_flags(cmd, o->overrides, registries);
  cmd->callback([o, cmd, &exit_code, &registries] {
    o->shard_given = cmd->count("--shard") > 0;
    exit_code = sweep(*o, registries);
  });
}

void add_merge_command(CLI::App& app, int& exit_code) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "Combine the files of a sweep's shards (swarm sweep --shard I/N) into one file, equal to the whole "
               "sweep's: every run once, in the sweep's order. Refuses files of different sweeps or splits, "
               "overlapping or missing runs, and damaged files; never writes over a file.");
  cmd->add_option("files", *files, "The shards' HDF5 files (part-*.h5)")->required();
  cmd->add_option("-o,--out", *out, "Results file to write (must not exist)")->required();
  cmd->callback([files, out, &exit_code] {
    check_output_path(*out, "--out");
    std::vector<std::filesystem::path> inputs(files->begin(), files->end());
    const results::MergeSummary merged = results::merge_shards(inputs, *out);
    std::fprintf(stderr, "merge: %zu runs of %d shard(s) into %s (swarm report %s)\n", merged.runs, merged.shards,
                 out->c_str(), out->c_str());
    if (merged.stopped > 0) {
      std::fprintf(stderr, "merge: %zu run(s) stopped early (diverged, no nodes): written as they are; swarm report "
                   "lists them\n", merged.stopped);
    }
    exit_code = 0;
  });
}

void add_report_command(CLI::App& app, int& exit_code) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto target = std::make_shared<double>(0);
  auto format = std::make_shared<std::string>("markdown");
  CLI::App* cmd = app.add_subcommand(
      "report", "Compare the runs of results files: per sweep point, final accuracy mean +- std over "
                "replicates, rounds and virtual time to a target accuracy, bytes moved, failures");
  cmd->add_option("files", *files, "HDF5 results files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--target", *target, "Target accuracy for the time-to-accuracy columns")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--format", *format, "markdown (a table), csv (one line per point) or json")
      ->capture_default_str()->check(CLI::IsMember({"markdown", "csv", "json"}));
  cmd->callback([files, target, format, &exit_code] {
    std::vector<results::RunResult> all;
    for (const std::string& f : *files) {
      std::vector<results::RunResult> runs = results::read_results(f);
      all.insert(all.end(), std::make_move_iterator(runs.begin()), std::make_move_iterator(runs.end()));
    }
    const results::ReportFormat as = *format == "csv"    ? results::ReportFormat::Csv
                                     : *format == "json" ? results::ReportFormat::Json
                                                         : results::ReportFormat::Markdown;
    std::fputs(results::report(all, {.target_accuracy = *target, .format = as}).c_str(), stdout);
    exit_code = 0;
  });
}

}  // namespace swarm::cli
