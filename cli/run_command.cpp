#include "cli/run_command.hpp"

#include <cstdio>
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

namespace swarm::cli {
namespace {

struct RunOptions {
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
  bool verbose = false;
};

// Prints a line per round as the scheduler publishes its metrics.
class RoundPrinter : public ControllerObserver {
 public:
  void on_iteration_end(const IterationReport& r, const SwarmState& state) override {
    std::optional<Blob> m = state.global("metrics");
    if (!m) return;
    Dict d = to_dict(*m);
    accuracy_ = d.at("accuracy").get<double>();
    loss_ = d.at("loss").get<double>();
    std::printf("%5d  %8.4f  %8.4f  %12lld  %8.2f\n", r.iteration + 1, accuracy_, loss_,
                static_cast<long long>(d.at("participants").get<int64_t>()), r.wall_s);
    std::fflush(stdout);
  }
  double accuracy_ = 0, loss_ = 0;
};

int run(const RunOptions& o) {
  auto logger = spdlog::stderr_color_mt("swarm");
  logger->set_level(o.verbose ? spdlog::level::info : spdlog::level::warn);

  ml::DatasetView train, test;
  if (o.synthetic) {
    ml::SyntheticOptions s;
    s.num_samples = 12000;
    s.num_features = 64;
    s.num_classes = 10;
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
  cfg.seed = o.seed;

  ModuleRegistry registry;
  fl::register_modules(registry);
  fl::FLSwarm swarm_def(cfg);
  SwarmGraph graph = swarm_def.build(registry);
  InProcessBackend backend(registry, fl::make_iid_nodes(train, test, o.nodes, o.seed), o.threads,
                           logger);
  Controller controller(graph, backend, {.seed = o.seed, .max_iterations = o.rounds});
  RoundPrinter printer;
  controller.add_observer(&printer);

  std::ostringstream layers;
  for (size_t i = 0; i < cfg.layers.size(); ++i) layers << (i ? "-" : "") << cfg.layers[i];
  std::printf("# swarm run: %d nodes, %s data (%lld train / %lld test samples), MLP %s, "
              "%d thread(s), seed %llu\n",
              o.nodes, o.synthetic ? "synthetic" : "Fashion-MNIST", static_cast<long long>(train.size()),
              static_cast<long long>(test.size()), layers.str().c_str(), o.threads,
              static_cast<unsigned long long>(o.seed));
  std::printf("%5s  %8s  %8s  %12s  %8s\n", "round", "accuracy", "loss", "participants", "seconds");
  RunReport report = controller.run();

  double wall = 0;
  uint64_t bytes = 0, flops = 0;
  for (const IterationReport& r : report.iterations) {
    wall += r.wall_s;
    bytes += r.bytes_down + r.bytes_up;
    flops += r.flops;
  }
  const auto rounds = report.iterations.size();
  std::printf("# %zu rounds in %.2f s (%.3f rounds/s, %.1f GFLOP/s); final accuracy %.4f, loss %.4f; "
              "%.1f MB moved between tasks\n",
              rounds, wall, rounds / wall, flops / wall / 1e9, printer.accuracy_, printer.loss_, bytes / 1e6);
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run the federated-learning swarm (worker -> aggregator -> scheduler) and print "
             "test accuracy after every round");
  cmd->add_option("-r,--rounds", o->rounds, "Rounds (iterations) to run at most")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("-n,--nodes", o->nodes, "Nodes, each holding an IID shard of the training set")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
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
  cmd->add_flag("-v,--verbose", o->verbose, "Log what tasks do (to stderr)");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace swarm::cli
