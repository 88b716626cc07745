#include "scenario/runner.hpp"

#include <algorithm>
#include <set>

#include "swarm/fl/attacks.hpp"
#include "swarm/fl/modules.hpp"
#include "swarm/inprocess_backend.hpp"
#include "swarm/ml/partition.hpp"
#include "swarm/ml/synthetic.hpp"
#include "swarm/seed.hpp"
#include "scenario/backends.hpp"
#include "scenario/checkpoint.hpp"
#include "scenario/kernel_choice.hpp"
#include "scenario/declared_swarm.hpp"

namespace swarm::scenario {
namespace {

std::vector<ml::DatasetView> split(const Scenario& sc, const ml::DatasetView& train) {
  const auto n = static_cast<int>(sc.population.num_nodes);
  const uint64_t seed = derive_seed(sc.seed, {static_cast<uint64_t>(SeedDomain::kPartition)});
  if (n > train.size()) {
    throw ScenarioError(sc.file + ": population.nodes: " + std::to_string(n) + " nodes but only " +
                        std::to_string(train.size()) + " training samples to split; use data.partition: sampled");
  }
  const std::string& p = sc.data.partition;
  if (p == "dirichlet") return ml::partition_dirichlet(train, n, sc.data.alpha, seed);
  if (p == "shards") return ml::partition_shards(train, n, sc.data.shards_per_node, seed);
  if (p == "quantity_skew") return ml::partition_quantity_skew(train, n, sc.data.sigma, seed);
  return ml::partition_iid(train, n, seed);
}

// The training samples each node of a `sampled` partition holds: samples_per_node, or the
// whole training set if it is smaller.
int64_t sampled_per_node(const Scenario& sc, int64_t train_size) {
  return std::min<int64_t>(sc.data.samples_per_node, train_size);
}

// Per-round rows and per-node participation.
class Recorder : public ControllerObserver {
 public:
  // `details`, when the backend has them, gives the real bytes on the wire of each round.
  Recorder(size_t nodes, const RunDetails* details)
      : participated_(nodes, 0), failures_(nodes, 0), details_(details) {
    if (details_) driver_ = details_->driver_times().value_or(results::DriverTimes{});
  }
  void on_instance_end(const Completion& c) override {
    if (c.spec.alias != "worker" || c.spec.node >= participated_.size()) return;
    if (c.status == InstanceStatus::Ok) {
      ++participated_[c.spec.node];
    } else if (c.status == InstanceStatus::Failed ||
               (c.loss != LossCause::Overcommit && c.loss != LossCause::Cancelled)) {
      ++failures_[c.spec.node];
    }
  }
  void on_iteration_end(const IterationReport& r, const SwarmState& state) override {
    results::RoundRow row{};
    std::optional<Blob> m = state.global("metrics");
    Dict d = m ? to_dict(*m) : Dict::object();
    row.round = r.iteration + 1;
    row.t_start_s = r.start_s;
    row.t_end_s = r.end_s;
    row.wall_s = r.wall_s;
    row.accuracy = d.value("accuracy", 0.0);
    row.loss = d.value("loss", 0.0);
    row.participants = d.value("participants", 0);
    row.instances = r.instances;
    row.failed = r.failed;
    row.lost_crash = r.lost_by_cause[LossCause::Crash];
    row.lost_transfer = r.lost_by_cause[LossCause::Transfer];
    row.lost_offline = r.lost_by_cause[LossCause::Offline];
    row.lost_deadline = r.lost_by_cause[LossCause::Deadline];
    row.lost_overcommit = r.lost_by_cause[LossCause::Overcommit];
    row.bytes_up = r.bytes_up;
    row.bytes_down = r.bytes_down;
    row.flops = r.flops;
    row.stale = r.stale;
    row.max_staleness = r.max_staleness;
    row.mean_staleness = d.value("mean_staleness", 0.0);
    row.unplaced = r.unplaced;
    noise_stddev_ = d.value("noise_stddev", noise_stddev_);
    if (std::optional<results::WireTotals> w = details_ ? details_->wire_totals() : std::nullopt) {
      row.wire_bytes_up = w->up - wire_.up;
      row.wire_bytes_down = w->down - wire_.down;
      wire_ = *w;
    }
    if (std::optional<results::DriverTimes> t = details_ ? details_->driver_times() : std::nullopt) {
      // Observers run after the round's wall_s was taken: the previous round's bookkeeping
      // (this very recording, a checkpoint) counts in this round's own work.
      const Nanos own = (t->elapsed - driver_.elapsed) - (t->waiting - driver_.waiting) -
                        (t->server_tasks - driver_.server_tasks);
      row.coordinator_s = to_seconds(std::max<Nanos>(own, 0));
      driver_ = *t;
    }
    rows.push_back(row);
  }
  std::vector<results::RoundRow> rows;
  std::vector<int32_t> participated_, failures_;
  double noise_stddev_ = 0;

 private:
  const RunDetails* details_;
  results::WireTotals wire_;      // at the end of the previous round
  results::DriverTimes driver_;  // at the end of the previous round (or the start)
};

// Saves the run after every round the controller can checkpoint (recorder first: its row of
// the round is in the checkpoint).
class Checkpointer : public ControllerObserver {
 public:
  Checkpointer(const Scenario& sc, const Controller& controller, const Recorder& recorder, std::filesystem::path path,
               spdlog::logger& logger)
      : sc_(sc), controller_(controller), recorder_(recorder), path_(std::move(path)), logger_(logger) {}
  void on_iteration_end(const IterationReport& r, const SwarmState&) override {
    std::optional<ControllerCheckpoint> k = controller_.checkpoint();
    if (!k) {
      logger_.debug("round {}: instances in flight, no checkpoint", r.iteration + 1);
      return;
    }
    write_checkpoint(path_, {run_identity(sc_.text), sc_.seed, std::move(*k), recorder_.rows, recorder_.participated_,
                             recorder_.failures_, recorder_.noise_stddev_});
  }

 private:
  const Scenario& sc_;
  const Controller& controller_;
  const Recorder& recorder_;
  std::filesystem::path path_;
  spdlog::logger& logger_;
};

// Puts a checkpoint of this very run back into the controller and the recorder.
void resume_from(const Scenario& sc, const std::filesystem::path& path, Controller& controller, Recorder& recorder) {
  RunCheckpoint c = read_checkpoint(path);
  const std::string where = path.string() + ": ";
  if (c.scenario_text != run_identity(sc.text) || c.seed != sc.seed) {
    throw UsageError(where + "a checkpoint of another run (its scenario or seed differs from " + sc.file +
                     "'s); resume with the scenario that wrote it, or start afresh without --resume");
  }
  if (c.participated.size() != recorder.participated_.size() || c.failures.size() != recorder.failures_.size() ||
      c.rounds.size() != static_cast<size_t>(c.controller.next_iteration)) {
    throw DataError(where + "malformed checkpoint: " + std::to_string(c.rounds.size()) + " rounds for iteration " +
                    std::to_string(c.controller.next_iteration) + ", " + std::to_string(c.participated.size()) +
                    " nodes for " + std::to_string(recorder.participated_.size()));
  }
  try {
    controller.restore(c.controller);
  } catch (const UsageError& e) {
    throw DataError(where + "malformed checkpoint: " + e.what());
  }
  recorder.rows = std::move(c.rounds);
  recorder.participated_ = std::move(c.participated);
  recorder.failures_ = std::move(c.failures);
  recorder.noise_stddev_ = c.noise_stddev;
}

}  // namespace

namespace {

// One sample in six of each class of a synthetic set is held out for testing.
constexpr int kSyntheticHoldOut = 6;

ml::SyntheticOptions synthetic_options(const DataSpec& spec, uint64_t seed) {
  ml::SyntheticOptions s;
  s.num_samples = spec.samples;
  s.num_features = spec.features;
  s.num_classes = spec.classes;
  s.class_separation = static_cast<float>(spec.separation);
  s.seed = derive_seed(seed, {static_cast<uint64_t>(SeedDomain::kData)});
  return s;
}

}  // namespace

ml::TrainTestShape DataCache::shape(const DataSpec& spec, uint64_t seed) {
  if (spec.dataset == "synthetic") return ml::hold_out_shape(synthetic_options(spec, seed), kSyntheticHoldOut);
  return ml::fashion_mnist_shape(spec.path);
}

ml::TrainTest DataCache::get(const DataSpec& spec, uint64_t seed) {
  std::lock_guard lock(mutex_);
  std::string key = spec.dataset + "|" + spec.path;
  if (spec.dataset == "synthetic") {
    key += "|" + std::to_string(spec.samples) + "|" + std::to_string(spec.features) + "|" +
           std::to_string(spec.classes) + "|" + std::to_string(spec.separation) + "|" + std::to_string(seed);
  }
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  ml::TrainTest tt;
  if (spec.dataset == "synthetic") {
    tt = ml::hold_out(*ml::make_synthetic(synthetic_options(spec, seed)), kSyntheticHoldOut);
  } else {
    tt = ml::load_fashion_mnist(spec.path);
  }
  cache_[key] = tt;
  return tt;
}

NodeData node_data(const Scenario& sc, const ml::TrainTest& tt) {
  ml::DatasetView train(tt.train), test(tt.test);
  if (sc.data.partition == "sampled") {
    return {fl::sampled_data(train, test, sampled_per_node(sc, train.size()), sc.seed),
            nullptr};
  }
  auto shards = std::make_shared<const std::vector<ml::DatasetView>>(split(sc, train));
  return {[shards, test](NodeId id) {
            if (id == kServerNode) return LocalData{{"test", test}};
            return LocalData{{"train", (*shards)[id]}, {"test", test}};
          },
          shards};
}

NodeData timing_node_data(const Scenario& sc, const ml::TrainTestShape& shape,
                          std::shared_ptr<const std::vector<ml::DatasetView>> shards) {
  const int64_t sampled = sampled_per_node(sc, shape.train.samples);
  return {[shape, shards, sampled](NodeId id) {
            if (id == kServerNode) return LocalData{{"test", shape.test}};
            ml::DataShape train = shape.train;
            train.samples = shards ? (*shards).at(id).size() : sampled;
            return LocalData{{"train", train}, {"test", shape.test}};
          },
          std::move(shards)};
}

void check_checkpointable(const Scenario& sc) {
  if (sc.clock != ClockKind::Wall) {
    throw UsageError("checkpoints are for wall-clock backends (inprocess, nodes): backend '" + sc.backend +
                     "' keeps a virtual clock, network and node availability that a checkpoint does not hold; "
                     "rerun the simulation instead");
  }
}


results::RunResult run_scenario(const Scenario& sc, const RunContext& ctx, DataCache& cache) {
  return run_scenario(sc, ctx, cache, builtin_registries());
}

results::RunResult run_scenario(const Scenario& sc, const RunContext& ctx, DataCache& cache,
                                const Registries& registries) {
  // A timing-only run reads the datasets' shapes alone, unless its partition needs the labels
  // to size the nodes' parts.
  const bool timing = sc.training_mode == TrainingMode::Timing;
  ml::TrainTestShape shape;
  NodeData node;
  if (timing && sc.data.partition == "sampled") {
    shape = cache.shape(sc.data, sc.seed);
    node = timing_node_data(sc, shape, nullptr);
  } else {
    ml::TrainTest tt = cache.get(sc.data, sc.seed);
    shape.train = {tt.train->size(), tt.train->num_features(), tt.train->num_classes};
    shape.test = {tt.test->size(), tt.test->num_features(), tt.test->num_classes};
    node = node_data(sc, tt);
    if (timing) node = timing_node_data(sc, shape, node.shards);
  }
  const int64_t num_nodes = sc.population.num_nodes;
  auto& [data, shards] = node;

  // Attackers.
  fl::FlConfig cfg = sc.fl;
  std::vector<int> layers = {shape.train.features};
  layers.insert(layers.end(), sc.fl.layers.begin(), sc.fl.layers.end());
  layers.push_back(shape.train.classes);
  cfg.layers = layers;
  cfg.strategy = sc.strategy;
  // A timing-only run multiplies no matrix: no kernel to choose (nor to time).
  std::optional<ml::KernelChoice> kernel;
  if (!timing) {
    kernel = run_kernel(sc, layers);
    // Every node holds the run's kernel (fl::kGemmKernel), as it holds its datasets.
    data = [inner = std::move(data), k = kernel->kernel](NodeId id) {
      LocalData d = inner(id);
      d.emplace(fl::kGemmKernel, k);
      return d;
    };
  }
  if (ctx.on_kernel) ctx.on_kernel(kernel);
  std::vector<uint32_t> byzantine;
  if (sc.attack.kind != "none" && sc.attack.share > 0) {
    byzantine = fl::choose_byzantine(num_nodes, sc.attack.share, derive_seed(sc.seed, {0x6279ULL}));
    cfg.attack = Dict{{"kind", sc.attack.kind}, {"nodes", byzantine}, {"scale", sc.attack.scale},
                      {"noise_std", sc.attack.noise_std}};
  }

  const ModuleRegistry& registry = registries.modules;
  std::unique_ptr<Swarm> swarm_def;
  if (sc.graph == "custom") {
    swarm_def = std::make_unique<DeclaredSwarm>(sc.tasks, sc.edges, fl::fl_globals(cfg, fl::ClientSampling::Scheduler), cfg.image);
  } else {
    swarm_def = std::make_unique<fl::FLSwarm>(cfg);
  }
  SwarmGraph graph;
  try {
    graph = swarm_def->build(registry);
  } catch (const GraphError& e) {
    throw ScenarioError(sc.file + ": swarm: " + e.what());
  }

  ControllerOptions copt{.seed = sc.seed, .max_iterations = sc.fl.max_rounds};
  copt.max_time_s = sc.max_virtual_time_s;
  if (graph.find("worker")) {
    if (sc.deadline_s > 0 && sc.fl.overcommit > 1) {
      copt.stragglers["worker"] = StragglerPolicy::deadline_and_over_commit(sc.deadline_s, sc.fl.overcommit);
    } else if (sc.deadline_s > 0) {
      copt.stragglers["worker"] = StragglerPolicy::deadline(sc.deadline_s);
    } else if (sc.fl.overcommit > 1) {
      copt.stragglers["worker"] = StragglerPolicy::over_commit(sc.fl.overcommit);
    }
  }

  const BackendEntry& entry = registries.backends.get(sc.backend);
  if (!ctx.checkpoint.empty()) check_checkpointable(sc);
  std::unique_ptr<Backend> backend = entry.make(BackendArgs{.modules = registry,
                                                            .num_nodes = num_nodes,
                                                            .threads = ctx.threads,
                                                            .logger = ctx.logger,
                                                            .seed = sc.seed,
                                                            .data = data,
                                                            .options = sc.backend_options,
                                                            .scenario = &sc,
                                                            .kernel = kernel ? std::string(ml::kernel_name(kernel->kernel)) : ""});
  if (!backend) throw UsageError("backend '" + sc.backend + "': its factory returned no backend");
  const auto* details = dynamic_cast<const RunDetails*>(backend.get());

  Controller controller(graph, *backend, copt);
  Recorder recorder(static_cast<size_t>(num_nodes), details);
  controller.add_observer(&recorder);
  std::unique_ptr<Checkpointer> checkpointer;
  if (!ctx.checkpoint.empty()) {
    checkpointer = std::make_unique<Checkpointer>(sc, controller, recorder, ctx.checkpoint, *ctx.logger);
    controller.add_observer(checkpointer.get());
    if (ctx.resume) {
      resume_from(sc, ctx.checkpoint, controller, recorder);
      if (ctx.on_resume) ctx.on_resume(recorder.rows);
    }
  }
  for (ControllerObserver* o : ctx.observers) controller.add_observer(o);
  results::RunResult out;
  try {
    controller.run();
  } catch (const RunDiverged& e) {
    out.outcome = "diverged";
    out.outcome_message = e.what();
  } catch (const NoNodeAvailable& e) {
    out.outcome = "no_nodes";
    out.outcome_message = e.what();
  }

  out.name = sc.run_name();
  out.scenario_text = sc.text;
  out.point = sc.point;
  out.replicate = sc.replicate;
  out.seed = sc.seed;
  out.version = ctx.version;
  if (kernel) out.kernel = std::string(ml::kernel_name(kernel->kernel)) + ": " + ml::kernel_identity(kernel->kernel);
  out.training_mode = to_string(sc.training_mode);
  out.rounds = std::move(recorder.rows);
  if (sc.strategy.value("strategy", std::string()) == "dp_fedavg") {
    out.noise_multiplier = sc.strategy.value("noise_multiplier", 1.0);
  }
  std::vector<ml::DatasetView> parts;
  const bool summarize = shards != nullptr;
  ml::PartitionSummary summary;
  if (summarize) summary = ml::summarize(*shards, shape.train.classes);
  const int64_t sampled_samples = sampled_per_node(sc, shape.train.samples);
  out.nodes.reserve(static_cast<size_t>(num_nodes));  // exact: no doubling at millions of rows
  for (int64_t i = 0; i < num_nodes; ++i) {
    results::NodeRow row{};
    row.id = static_cast<uint32_t>(i);
    row.profile = "local";
    if (details) details->describe_node(static_cast<NodeId>(i), row);
    row.samples = summarize ? summary.samples[static_cast<size_t>(i)] : sampled_samples;
    row.classes = summarize ? summary.classes[static_cast<size_t>(i)] : -1;
    row.rounds_participated = recorder.participated_[static_cast<size_t>(i)];
    row.failures = recorder.failures_[static_cast<size_t>(i)];
    row.byzantine = std::binary_search(byzantine.begin(), byzantine.end(), static_cast<uint32_t>(i));
    out.nodes.push_back(std::move(row));
  }
  if (std::optional<Blob> model = controller.state().global("global_model_params")) {
    std::span<const float> v = tensor_values(*model);
    out.final_model.assign(v.begin(), v.end());
  }
  if (details) details->append_trace(out.trace);
  return out;
}

}  // namespace swarm::scenario
