// The FLSwarm of Manta's "Swarm development" page, in C++ and as close to it line for line as
// C++ allows, with its own worker, aggregator and scheduler modules written against swarmsim's
// public API only. It runs in this process (InProcessBackend), one node per worker, and prints
// a line per round.
//
//   seed_flswarm [--synthetic] [--data DIR] [--workers N] [--rounds N] [--seed N]
//                [--threads N] [--min-accuracy X]
//
// Python (the seed page)                        C++ (here)
//   class FLSwarm(Swarm)                          class FLSwarm : public swarm::Swarm
//   Module(Path("modules/aggregator.py"),         task(Module{"seed.aggregator", image},
//          image, method="any", fixed=False,           opt::method = Method::Any, opt::fixed = false,
//          maximum=1, alias="aggregator")              opt::maximum = 1, opt::alias = "aggregator")
//   self.set_global("hyperparameters", {...})     set_global("hyperparameters", Dict{...})
//   numpy_to_bytes(MLP().get_weights())           tensor_blob(MLP().params())
//   m = self.worker()                             auto m = worker();
//
// A Module's path names the task code; here that is the name the code is registered under
// (register_modules below), since C++ modules are compiled in, not loaded from files.

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <swarm/ml/idx.hpp>
#include <swarm/ml/mlp.hpp>
#include <swarm/ml/partition.hpp>
#include <swarm/ml/synthetic.hpp>
#include <swarm/swarm.hpp>

using namespace swarm;

namespace {

// The model of the page's modules/worker/model.py: an MLP for 28x28 images and 10 classes.
const std::vector<int> kLayers = {784, 200, 10};
ml::Mlp MLP() { return ml::Mlp(kLayers); }

class FLSwarm : public Swarm {
 public:
  explicit FLSwarm(int n_workers = 4) {
    // Define the Aggregator module, which combines updates from all workers
    aggregator = task(Module{"seed.aggregator", "swarmsim-node:latest"},
                      opt::method = Method::Any,  // Execution method
                      opt::fixed = false,
                      opt::maximum = 1,  // Only one aggregator is used
                      opt::alias = "aggregator");

    // Define the Worker module, which handles local model training
    worker = task(Module{"seed.worker", "swarmsim-node:latest", {"train"}},
                  opt::maximum = n_workers,  // Number of worker nodes
                  opt::alias = "worker");

    // Define the Scheduler module, which manages the swarm's iterations
    scheduler = task(Module{"seed.scheduler", "swarmsim-node:latest", {"test"}},
                     opt::maximum = 1,
                     opt::alias = "scheduler");

    // Set global hyperparameters shared by all tasks in the swarm
    set_global("hyperparameters",
               Dict{
                   {"epochs", 1},
                   {"batch_size", 32},
                   {"loss", "CrossEntropyLoss"},
                   {"loss_params", Dict::object()},
                   {"optimizer", "SGD"},
                   {"optimizer_params", {{"lr", 0.01}, {"momentum", 0.9}}},
               });

    // Initialize the global model parameters, as a tensor for transmission
    set_global("global_model_params", tensor_blob(MLP().params()));
  }

  // Worker -> Aggregator -> Scheduler; the Scheduler ends the swarm once it has converged,
  // else the iteration repeats.
  TaskRef execute() override {
    auto m = worker();      // Start with the worker task
    m = aggregator(m);      // Aggregate results from the workers
    return scheduler(m);    // Check for convergence or continue the loop
  }

 private:
  TaskRef aggregator, worker, scheduler;
};

// --- The modules -------------------------------------------------------------------------

// SGD settings from global "hyperparameters", refusing what this worker cannot do.
ml::SgdOptions sgd_options(const Dict& hp) {
  auto refuse = [](const std::string& why) { return TaskError("global 'hyperparameters': " + why); };
  if (hp.value("loss", "") != "CrossEntropyLoss") throw refuse("loss must be \"CrossEntropyLoss\"");
  if (hp.value("optimizer", "") != "SGD") throw refuse("optimizer must be \"SGD\"");
  const Dict params = object_entry(hp, "optimizer_params");
  ml::SgdOptions sgd;
  sgd.epochs = hp.value("epochs", 0);
  sgd.batch_size = hp.value("batch_size", 0);
  sgd.lr = params.value("lr", 0.0f);
  sgd.momentum = params.value("momentum", 0.0f);
  if (sgd.epochs < 1 || sgd.batch_size < 1 || !(sgd.lr > 0) || sgd.momentum < 0) {
    throw refuse("epochs and batch_size must be >= 1, optimizer_params.lr > 0 and momentum >= 0");
  }
  return sgd;
}

// Trains the global model on the node's "train" data; files the new weights and the sample
// count as results.
void worker(TaskContext& ctx) {
  const ml::SgdOptions sgd = sgd_options(ctx.globals().get_dict("hyperparameters"));
  const Blob weights = ctx.globals().get("global_model_params");
  ml::Mlp model(kLayers, tensor_values(weights));
  const auto& data = ctx.dataset<ml::DatasetView>("train");
  const ml::TrainStats stats = model.train(data, sgd, ctx.rng());
  ctx.add_flops(stats.flops);
  ctx.results().add("weights", tensor_blob(model.params()));
  ctx.results().add("metrics", Dict{{"samples", data.size()}, {"loss", stats.mean_loss}});
}

// FedAvg: the workers' weights averaged, each weighted by its number of samples.
void aggregator(TaskContext& ctx) {
  const std::map<NodeId, Blob> weights = ctx.results().select("weights");
  const std::map<NodeId, Blob> metrics = ctx.results().select("metrics");
  std::vector<double> sum;
  double total = 0;
  for (const auto& [node, blob] : weights) {
    const std::span<const float> w = tensor_values(blob);
    const double n = to_dict(metrics.at(node)).value("samples", 0.0);
    if (sum.empty()) sum.assign(w.size(), 0.0);
    if (w.size() != sum.size()) throw TaskError("node " + std::to_string(node) + " sent weights of another size");
    for (size_t i = 0; i < w.size(); ++i) sum[i] += n * w[i];
    total += n;
  }
  if (!(total > 0)) throw TaskError("no worker sent weights");
  std::vector<float> average(sum.size());
  for (size_t i = 0; i < sum.size(); ++i) average[i] = static_cast<float>(sum[i] / total);
  ctx.globals().set("global_model_params", tensor_blob(average));
}

// Evaluates the global model on the node's "test" data, publishes the figures in global
// "metrics", and stops the swarm once the accuracy gains less than 0.1 point in a round.
void scheduler(TaskContext& ctx) {
  const Blob weights = ctx.globals().get("global_model_params");
  const ml::Mlp model(kLayers, tensor_values(weights));
  const ml::EvalStats eval = model.evaluate(ctx.dataset<ml::DatasetView>("test"), 1000, ctx.threads());
  ctx.add_flops(eval.flops);
  const double previous = ctx.globals().contains("metrics") ? ctx.globals().get_dict("metrics").value("accuracy", 0.0) : 0.0;
  const bool has_converged = ctx.iteration() > 0 && eval.accuracy - previous < 0.001;
  ctx.globals().set("metrics", Dict{{"round", ctx.iteration() + 1}, {"accuracy", eval.accuracy},
                                    {"loss", eval.loss}, {"converged", has_converged}});
  if (has_converged) ctx.stop_swarm();
}

void register_modules(ModuleRegistry& registry) {
  registry.add("seed.worker", worker);
  registry.add("seed.aggregator", aggregator);
  registry.add("seed.scheduler", scheduler);
}

// --- The program -------------------------------------------------------------------------

struct Flags {
  bool synthetic = false;
  std::string data = ml::kFashionMnistDir.string();
  int workers = 4, rounds = 10, threads = 2;
  uint64_t seed = 1;
  std::optional<double> min_accuracy;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "seed_flswarm: %s\nusage: seed_flswarm [--synthetic] [--data DIR] [--workers N] [--rounds N] "
               "[--seed N] [--threads N] [--min-accuracy X]\n",
               message.c_str());
  std::exit(2);
}

template <typename T>
T number(std::string_view flag, std::string_view text, T lo, T hi) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    usage_error(std::string(flag) + " expects a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                "], got '" + std::string(text) + "'");
  }
  return value;
}

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--synthetic") {
      f.synthetic = true;
      continue;
    }
    if (flag == "-h" || flag == "--help") usage_error("the seed page's FLSwarm, run in this process");
    if (i + 1 >= argc) usage_error("unknown flag or missing value: '" + std::string(flag) + "'");
    const std::string_view value = argv[++i];
    if (flag == "--data") {
      f.data = value;
    } else if (flag == "--workers") {
      f.workers = number(flag, value, 1, 1000);
    } else if (flag == "--rounds") {
      f.rounds = number(flag, value, 1, 100000);
    } else if (flag == "--threads") {
      f.threads = number(flag, value, 1, 256);
    } else if (flag == "--seed") {
      f.seed = number<uint64_t>(flag, value, 0, UINT64_MAX);
    } else if (flag == "--min-accuracy") {
      f.min_accuracy = number(flag, value, 0.0, 1.0);
    } else {
      usage_error("unknown flag '" + std::string(flag) + "'");
    }
  }
  return f;
}

// Training and test sets: Fashion-MNIST, or a synthetic look-alike (784 features, 10 classes).
ml::TrainTest load(const Flags& f) {
  if (!f.synthetic) return ml::load_fashion_mnist(f.data);
  ml::SyntheticOptions so;
  so.num_samples = 6000;
  so.num_features = kLayers.front();
  so.num_classes = kLayers.back();
  so.class_separation = 0.15f;  // about 0.7 after one round, 0.9 after eight
  so.seed = f.seed;
  return ml::hold_out(*ml::make_synthetic(so), 6);
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = parse(argc, argv);
  try {
    ModuleRegistry registry;
    register_modules(registry);
    FLSwarm swarm(flags.workers);
    const SwarmGraph graph = swarm.build(registry);

    // One node per worker, each with its own IID shard of the training set and a view of the
    // test set (the scheduler evaluates on the node it runs on).
    const ml::TrainTest data = load(flags);
    const std::vector<ml::DatasetView> shards =
        ml::partition_iid(ml::DatasetView(data.train), flags.workers, flags.seed);
    std::vector<LocalNode> nodes;
    for (int i = 0; i < flags.workers; ++i) {
      nodes.push_back({.id = static_cast<NodeId>(i),
                       .data = {{"train", shards[i]}, {"test", ml::DatasetView(data.test)}}});
    }
    auto logger = spdlog::stderr_color_mt("seed_flswarm");
    InProcessBackend backend(registry, std::move(nodes), flags.threads, logger);
    Controller controller(graph, backend, {.seed = flags.seed, .max_iterations = flags.rounds});

    std::printf("# seed FLSwarm: %d workers, %s data, %d round(s) at most, seed %llu\n", flags.workers,
                flags.synthetic ? "synthetic" : "fashion-mnist", flags.rounds,
                static_cast<unsigned long long>(flags.seed));
    double accuracy = 0;
    while (!controller.done()) {
      const IterationReport r = controller.step();
      const std::optional<Blob> published = controller.state().global("metrics");
      const Dict metrics = published ? to_dict(*published) : Dict::object();
      accuracy = metrics.value("accuracy", 0.0);
      std::printf("round %3d  accuracy %.4f  loss %.4f  wall %.2f s%s\n", r.iteration + 1, accuracy,
                  metrics.value("loss", 0.0), r.wall_s,
                  metrics.value("converged", false) ? "  (converged)" : "");
    }
    std::printf("final accuracy %.4f\n", accuracy);
    if (flags.min_accuracy && accuracy < *flags.min_accuracy) {
      std::fprintf(stderr, "seed_flswarm: final accuracy %.4f is below --min-accuracy %.4f\n", accuracy,
                   *flags.min_accuracy);
      return 1;
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "seed_flswarm: %s\n", e.what());
    return 1;
  }
}
