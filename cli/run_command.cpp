#include "cli/run_command.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/controller.hpp"
#include "engine/fl/fl_swarm.hpp"
#include "engine/fl/modules.hpp"
#include "engine/ml/idx.hpp"
#include "engine/ml/synthetic.hpp"
#include "engine/seed.hpp"
#include "sim/population.hpp"
#include "sim/simulated_backend.hpp"

namespace swarm::cli {
namespace {

struct RunOptions {
  std::string backend = "sim";
  int rounds = 20;
  int nodes = 10;
  uint64_t seed = 1;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string data_dir = ml::kFashionMnistDir.string();
  bool synthetic = false;
  std::vector<int> hidden = {200, 200};
  int epochs = 1;
  int batch_size = 32;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;
  double clients_per_round = -1;
  double target_accuracy = 1.1;
  // Simulation.
  std::vector<std::string> profiles;  // NAME=SHARE
  std::string network = "maxmin";
  double deadline_s = 0;
  double overcommit = 1.0;
  double crash_probability = 0;
  double transfer_failure_probability = 0;
  bool async = false;
  int buffer_size = 5;
  int concurrency = 10;
  double server_lr = 1.0;
  int64_t samples_per_node = 0;
  std::string trace_file;
  std::string metrics_file;
  bool verbose = false;
};

// Prints a line per round as the scheduler publishes its metrics.
class RoundPrinter : public ControllerObserver {
 public:
  explicit RoundPrinter(bool simulated) : simulated_(simulated) {}
  void header() const {
    std::printf("%5s  %10s  %8s  %8s  %6s  %6s  %9s  %9s  %7s\n", "round",
                simulated_ ? "virtual_s" : "wall_s", "accuracy", "loss", "used", "lost",
                "MB_up", "MB_down", "wall_s");
  }
  void on_iteration_end(const IterationReport& r, const SwarmState& state) override {
    std::optional<Blob> m = state.global("metrics");
    if (!m) return;
    Dict d = to_dict(*m);
    accuracy_ = d.at("accuracy").get<double>();
    loss_ = d.at("loss").get<double>();
    std::printf("%5d  %10.2f  %8.4f  %8.4f  %6lld  %6d  %9.2f  %9.2f  %7.2f\n", r.iteration + 1,
                r.end_s, accuracy_, loss_, static_cast<long long>(d.at("participants").get<int64_t>()),
                r.lost + r.failed, r.bytes_up / 1e6, r.bytes_down / 1e6, r.wall_s);
    std::fflush(stdout);
  }
  double accuracy_ = 0, loss_ = 0;

 private:
  bool simulated_;
};

// Collects the per-round table written by --metrics.
class MetricsTable : public ControllerObserver {
 public:
  void on_iteration_end(const IterationReport& r, const SwarmState& state) override {
    std::optional<Blob> m = state.global("metrics");
    Dict d = m ? to_dict(*m) : Dict::object();
    auto lost = [&r](const char* cause) {
      auto it = r.lost_by_cause.find(cause);
      return it == r.lost_by_cause.end() ? 0 : it->second;
    };
    std::ostringstream line;
    line << r.iteration + 1 << ',' << r.start_s << ',' << r.end_s << ',' << r.wall_s << ','
         << d.value("accuracy", 0.0) << ',' << d.value("loss", 0.0) << ',' << d.value("participants", 0)
         << ',' << r.instances << ',' << r.failed << ',' << lost(loss::kCrash) << ','
         << lost(loss::kTransfer) << ',' << lost(loss::kOffline) << ',' << lost(loss::kDeadline) << ','
         << lost(loss::kOvercommit) << ',' << r.bytes_up << ',' << r.bytes_down << ',' << r.flops << ','
         << r.stale << ',' << r.max_staleness << '\n';
    rows_ += line.str();
  }
  // Written to a temporary name and renamed, so a reader never sees half a file.
  void write(const std::string& path) const {
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp);
      if (!out) throw UsageError("--metrics: cannot write " + tmp);
      out << "round,t_start_s,t_end_s,wall_s,accuracy,loss,participants,instances,failed,"
             "lost_crash,lost_transfer,lost_offline,lost_deadline,lost_overcommit,bytes_up,"
             "bytes_down,flops,stale,max_staleness\n"
          << rows_;
      if (!out.flush()) throw UsageError("--metrics: error writing " + tmp);
    }
    std::filesystem::rename(tmp, path);
  }

 private:
  std::string rows_;
};

sim::PopulationSpec population_spec(const RunOptions& o) {
  if (o.profiles.empty()) return sim::default_population(o.nodes, o.seed);
  sim::PopulationSpec spec;
  spec.num_nodes = o.nodes;
  spec.seed = o.seed;
  for (const std::string& p : o.profiles) {
    const auto eq = p.find('=');
    if (eq == std::string::npos) throw UsageError("--profiles: expected NAME=SHARE, got '" + p + "'");
    sim::ProfileShare share{sim::builtin_profile(p.substr(0, eq))};
    try {
      share.share = std::stod(p.substr(eq + 1));
    } catch (const std::exception&) {
      throw UsageError("--profiles: '" + p.substr(eq + 1) + "' is not a number (in '" + p + "')");
    }
    spec.profiles.push_back(share);
  }
  return spec;
}

void write_trace(const std::string& path, const std::vector<sim::TraceEvent>& trace) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw UsageError("--trace: cannot write " + tmp);
    out << "time_s,node,event,task,instance,bytes\n";
    for (const sim::TraceEvent& e : trace) {
      out << e.time_s << ',' << e.node << ',' << e.event << ',' << e.task << ',' << e.instance << ','
          << e.bytes << '\n';
    }
    if (!out.flush()) throw UsageError("--trace: error writing " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

int run(const RunOptions& o) {
  auto logger = spdlog::stderr_color_mt("swarm");
  logger->set_level(o.verbose ? spdlog::level::info : spdlog::level::warn);
  const bool simulated = o.backend == "sim";

  ml::DatasetView train, test;
  if (o.synthetic) {
    ml::SyntheticOptions s;
    s.num_samples = 12000;
    s.num_features = 64;
    s.num_classes = 10;
    s.class_separation = 0.35f;  // overlapping classes: learnable, but not in one round
    s.seed = derive_seed(o.seed, {static_cast<uint64_t>(SeedDomain::kData)});
    auto all = ml::make_synthetic(s);
    std::vector<uint32_t> a, b;
    for (uint32_t i = 0; i < all->size(); ++i) (i % 6 == 0 ? b : a).push_back(i);
    train = ml::DatasetView(all, std::move(a));
    test = ml::DatasetView(all, std::move(b));
  } else {
    ml::TrainTest tt = ml::load_fashion_mnist(o.data_dir);
    train = ml::DatasetView(tt.train);
    test = ml::DatasetView(tt.test);
  }

  fl::FlConfig cfg;
  cfg.layers = {train.num_features()};
  cfg.layers.insert(cfg.layers.end(), o.hidden.begin(), o.hidden.end());
  cfg.layers.push_back(train.num_classes());
  cfg.epochs = o.epochs;
  cfg.batch_size = o.batch_size;
  cfg.lr = o.lr;
  cfg.momentum = o.momentum;
  cfg.weight_decay = o.weight_decay;
  cfg.max_rounds = o.rounds;
  cfg.target_accuracy = o.target_accuracy;
  cfg.clients_per_round = o.clients_per_round;
  cfg.overcommit = o.overcommit;
  cfg.async = o.async;
  cfg.buffer_size = o.buffer_size;
  cfg.concurrency = o.concurrency;
  cfg.server_lr = o.server_lr;
  cfg.seed = o.seed;

  ModuleRegistry registry;
  fl::register_modules(registry);
  fl::FLSwarm swarm_def(cfg);
  SwarmGraph graph = swarm_def.build(registry);

  ControllerOptions copt{.seed = o.seed, .max_iterations = o.rounds};
  if (o.deadline_s > 0) copt.stragglers["worker"] = StragglerPolicy::deadline(o.deadline_s);
  if (o.overcommit > 1) copt.stragglers["worker"] = StragglerPolicy::over_commit(o.overcommit);

  std::unique_ptr<sim::Population> population;
  std::unique_ptr<Backend> backend;
  sim::SimulatedBackend* sim_backend = nullptr;
  if (simulated) {
    population = std::make_unique<sim::Population>(population_spec(o));
    DataProvider data = o.samples_per_node > 0 ? fl::sampled_data(train, test, o.samples_per_node, o.seed)
                                               : fl::iid_data(train, test, o.nodes, o.seed);
    sim::SimOptions sopt;
    sopt.threads = o.threads;
    sopt.network = o.network == "constant" ? sim::NetworkKind::Constant : sim::NetworkKind::MaxMin;
    sopt.crash_probability = o.crash_probability;
    sopt.transfer_failure_probability = o.transfer_failure_probability;
    sopt.fault_tasks = {"worker"};
    sopt.record_trace = !o.trace_file.empty();
    sopt.seed = o.seed;
    auto b = std::make_unique<sim::SimulatedBackend>(registry, *population, std::move(data), sopt, logger);
    sim_backend = b.get();
    backend = std::move(b);
  } else {
    backend = std::make_unique<InProcessBackend>(registry, fl::make_iid_nodes(train, test, o.nodes, o.seed),
                                                 o.threads, logger);
  }
  Controller controller(graph, *backend, copt);
  RoundPrinter printer(simulated);
  controller.add_observer(&printer);
  MetricsTable table;
  controller.add_observer(&table);

  std::ostringstream layers;
  for (size_t i = 0; i < cfg.layers.size(); ++i) layers << (i ? "-" : "") << cfg.layers[i];
  std::printf("# swarm run: %s FL, %d nodes (%s), %s data (%lld train / %lld test samples), MLP %s, "
              "%d thread(s), seed %llu\n",
              o.async ? "asynchronous (FedBuff)" : "synchronous (FedAvg)", o.nodes,
              simulated ? ("simulated, " + o.network + " network").c_str() : "in-process, wall clock",
              o.synthetic ? "synthetic" : "Fashion-MNIST", static_cast<long long>(train.size()),
              static_cast<long long>(test.size()), layers.str().c_str(), o.threads,
              static_cast<unsigned long long>(o.seed));
  if (population) {
    std::printf("# population:");
    for (size_t i = 0; i < population->profiles().size(); ++i) {
      std::printf(" %lld %s", static_cast<long long>(population->counts()[i]),
                  population->profiles()[i].name.c_str());
    }
    std::printf("\n");
  }
  printer.header();
  RunReport report = controller.run();

  double wall = 0;
  uint64_t bytes = 0, flops = 0;
  int lost = 0;
  for (const IterationReport& r : report.iterations) {
    wall += r.wall_s;
    bytes += r.bytes_down + r.bytes_up;
    flops += r.flops;
    lost += r.lost + r.failed;
  }
  const auto rounds = report.iterations.size();
  std::printf("# %zu rounds in %.2f s wall (%.3f rounds/s, %.1f GFLOP/s)", rounds, wall, rounds / wall,
              flops / wall / 1e9);
  if (simulated) std::printf(", %.1f s virtual", report.iterations.back().end_s);
  std::printf("; final accuracy %.4f, loss %.4f; %.1f MB moved; %d instances lost\n", printer.accuracy_,
              printer.loss_, bytes / 1e6, lost);
  if (!o.metrics_file.empty()) table.write(o.metrics_file);
  if (sim_backend && !o.trace_file.empty()) write_trace(o.trace_file, sim_backend->trace());
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run the federated-learning swarm (worker -> aggregator -> scheduler) and print "
             "test accuracy after every round. By default the nodes are virtual (a simulated "
             "population of phones, laptops and servers with their own speed, links and "
             "availability) and time is virtual; --backend inprocess runs them on this machine's "
             "wall clock instead.");
  cmd->add_option("--backend", o->backend, "sim: virtual nodes and time; inprocess: wall clock")
      ->capture_default_str()->check(CLI::IsMember({"sim", "inprocess"}));
  cmd->add_option("-r,--rounds", o->rounds, "Rounds (iterations) to run at most")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("-n,--nodes", o->nodes, "Nodes, each holding an IID shard of the training set")
      ->capture_default_str()->check(CLI::Range(1, 100000000));
  cmd->add_option("-s,--seed", o->seed, "Seed of the whole run: same seed, same numbers")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads training instances in parallel (results do not depend on it)")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--data", o->data_dir, "Folder holding Fashion-MNIST's four IDX files (.gz or not)")
      ->capture_default_str();
  cmd->add_flag("--synthetic", o->synthetic, "Use a small seeded synthetic dataset instead (no files needed)");
  cmd->add_option("--hidden", o->hidden, "Hidden layer sizes, e.g. --hidden 200,200")
      ->delimiter(',')->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--epochs", o->epochs, "Local epochs per round")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--batch-size", o->batch_size, "Mini-batch size")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--lr", o->lr, "SGD learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--momentum", o->momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--weight-decay", o->weight_decay, "L2 weight decay")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--clients-per-round", o->clients_per_round,
                  "Workers sampled per round: a count, a fraction in (0,1), or -1 for all")
      ->capture_default_str();
  cmd->add_option("--target-accuracy", o->target_accuracy, "Stop once test accuracy reaches this")
      ->check(CLI::Range(0.0, 1.0));

  const std::string sim_group = "Simulation (--backend sim)";
  cmd->add_option("--profiles", o->profiles,
                  "Population by built-in profile and share, e.g. phone=0.6,laptop=0.3,server=0.1 "
                  "(the default)")
      ->delimiter(',')->group(sim_group);
  cmd->add_option("--network", o->network, "maxmin: flows share links fairly; constant: latency + size/bandwidth")
      ->capture_default_str()->check(CLI::IsMember({"maxmin", "constant"}))->group(sim_group);
  cmd->add_option("--deadline", o->deadline_s, "Drop workers still running this many virtual seconds into a round")
      ->check(CLI::PositiveNumber)->group(sim_group);
  cmd->add_option("--overcommit", o->overcommit,
                  "Sample clients-per-round x F workers and keep the first clients-per-round (F >= 1)")
      ->capture_default_str()->check(CLI::Range(1.0, 100.0))->group(sim_group);
  cmd->add_option("--crash-prob", o->crash_probability, "Probability that a node crashes during a task")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group(sim_group);
  cmd->add_option("--transfer-fail-prob", o->transfer_failure_probability,
                  "Probability that a node drops during a transfer")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group(sim_group);
  cmd->add_flag("--async", o->async, "Asynchronous FL (FedBuff): aggregate every --buffer updates")->group(sim_group);
  cmd->add_option("--buffer", o->buffer_size, "Async: updates per aggregation")
      ->capture_default_str()->check(CLI::Range(1, 1000000))->group(sim_group);
  cmd->add_option("--concurrency", o->concurrency, "Async: workers training at once")
      ->capture_default_str()->check(CLI::Range(1, 1000000))->group(sim_group);
  cmd->add_option("--server-lr", o->server_lr, "Server learning rate applied to the aggregated update")
      ->capture_default_str()->check(CLI::PositiveNumber)->group(sim_group);
  cmd->add_option("--samples-per-node", o->samples_per_node,
                  "Give each node its own random sample of this many training samples (shards may "
                  "overlap) instead of an IID split; for populations larger than the dataset")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))->group(sim_group);
  cmd->add_option("--trace", o->trace_file, "Write the event trace (CSV: time_s,node,event,task,instance,bytes)")
      ->group(sim_group);
  cmd->add_option("--metrics", o->metrics_file,
                  "Write the per-round table as CSV (virtual start and end, accuracy, loss, "
                  "participants, failures by cause, bytes up and down, FLOPs, staleness)");
  cmd->add_flag("-v,--verbose", o->verbose, "Log what tasks do (to stderr)");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace swarm::cli
