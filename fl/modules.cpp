#include "swarm/fl/modules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>

#include "swarm/fl/attacks.hpp"
#include "swarm/fl/strategy.hpp"
#include "swarm/ml/mlp.hpp"
#include "swarm/sampling.hpp"
#include "swarm/swarm.hpp"

namespace swarm::fl {
namespace {

// Reads a typed entry of a dict global, with a message naming the global and the key.
template <typename T>
T entry(const Dict& dict, const char* global, const char* key) {
  if (!dict.contains(key)) {
    throw TaskError("global '" + std::string(global) + "' has no entry '" + key + "'");
  }
  try {
    return dict.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw TaskError("global '" + std::string(global) + "': entry '" + key +
                    "' has the wrong type (" + dict.at(key).dump() + ")");
  }
}

// The global model's parameters (kept alive by `holder`), checked against the architecture
// `layers` of global "model".
std::span<const float> global_params(TaskContext& ctx, const std::vector<int>& layers, Blob& holder) {
  const int64_t num_params = ml::Mlp::param_count(layers);
  holder = ctx.globals().get("global_model_params");
  std::span<const float> params;
  try {
    params = tensor_values(holder);
  } catch (const FormatError& e) {
    throw TaskError(std::string("global 'global_model_params': ") + e.what());
  }
  if (static_cast<int64_t>(params.size()) != num_params) {
    throw TaskError("global 'global_model_params' has " + std::to_string(params.size()) +
                    " values, the model needs " + std::to_string(num_params));
  }
  return params;
}

constexpr const char* kDivergedHint =
    "the model diverged; lower training.lr, weight_decay, prox_mu, the attack scale, or the strategy's "
    "server_lr or noise";

// Throws Diverged naming `what` unless every value is finite.
void require_finite(std::span<const float> values, const std::string& what) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw Diverged(what + " holds a non-finite value (" + std::to_string(values[i]) + " at index " +
                     std::to_string(i) + " of " + std::to_string(values.size()) +
                     "): " + kDivergedHint);
    }
  }
}

void require_finite(double value, const std::string& what) {
  if (!std::isfinite(value)) {
    throw Diverged(what + " is " + std::to_string(value) + ": " + kDivergedHint);
  }
}

// In a timing-only run (training.mode: timing) a node holds the shape of its dataset `name`
// (ml::DataShape), not its samples: the shape, or null when the node holds real data.
const ml::DataShape* shape_of(const TaskContext& ctx, const std::string& name) {
  auto it = ctx.local().find(name);
  return it == ctx.local().end() ? nullptr : std::any_cast<ml::DataShape>(&it->second);
}

// Whether this node runs timing-only: it holds data shapes, not samples.
bool timing_only(const TaskContext& ctx) {
  for (const auto& [name, value] : ctx.local()) {
    if (value.type() == typeid(ml::DataShape)) return true;
  }
  return false;
}

// What a timing-only worker sends as its update: a tensor of `n` zeros, the size of a real
// one. One blob per model size, shared by every worker of the process (blobs are immutable),
// so that 100,000 updates of a round cost one model's memory, not 100,000.
Blob zero_update(size_t n) {
  static std::mutex mutex;
  static std::map<size_t, Blob> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, tensor_blob(std::vector<float>(n, 0.0f))).first;
  return it->second;
}

// Stands for the loss and accuracy a timing-only run does not compute. A NaN is encoded in
// MessagePack on 9 bytes, as a real (double) loss is, so messages keep their size.
constexpr double kNotComputed = std::numeric_limits<double>::quiet_NaN();

// The layer sizes of global "model" ({"layers": [inputs, hidden..., classes]}).
std::vector<int> model_layers(TaskContext& ctx) {
  Dict model = ctx.globals().get_dict("model");
  return entry<std::vector<int>>(model, "model", "layers");
}

// The GEMM kernel this node computes with: the run's, which the node holds as its local entry
// fl::kGemmKernel (set by the run, or by a real node when the coordinator welcomes it), so that
// every node computes alike; the build's default when the node holds none (swarms that never
// chose one). Not a global: what a task reads counts in its transfers, and a run's bytes must
// not depend on the kernel.
ml::Kernel model_kernel(const TaskContext& ctx) {
  auto it = ctx.local().find(kGemmKernel);
  if (it == ctx.local().end()) return ml::default_kernel();
  const auto* kernel = std::any_cast<ml::Kernel>(&it->second);
  if (kernel == nullptr) throw TaskError(std::string("local entry '") + kGemmKernel + "' is not an ml::Kernel");
  return *kernel;
}

// The attack this node carries out, from global "attack" ({"kind", "nodes", "scale",
// "noise_std"}); kind None when the node is honest or no attack is configured.
AttackConfig attack_of(TaskContext& ctx) {
  AttackConfig attack;
  if (!ctx.globals().contains("attack")) return attack;
  Dict cfg = ctx.globals().get_dict("attack");
  const auto nodes = entry<std::vector<NodeId>>(cfg, "attack", "nodes");
  if (!std::binary_search(nodes.begin(), nodes.end(), ctx.node_id())) return attack;
  try {
    attack.kind = parse_attack(entry<std::string>(cfg, "attack", "kind"));
  } catch (const Error& e) {
    throw TaskError(std::string("global 'attack': ") + e.what());
  }
  attack.scale = cfg.value("scale", 1.0);
  attack.noise_std = cfg.value("noise_std", 1.0);
  return attack;
}

// The optimizer settings of global "hyperparameters", written flat ({"lr", "momentum",
// "weight_decay"} beside "epochs") or as the Manta docs' FLSwarm does ({"optimizer": "SGD",
// "optimizer_params": {"lr", "momentum", "weight_decay"}}). Both give the same numbers; a
// setting given in both places is refused, as are another optimizer, an unknown optimizer
// parameter, and a loss other than "CrossEntropyLoss" (with "loss_params" empty or null).
Dict optimizer_settings(const Dict& hp) {
  auto refuse = [](const std::string& why) { return TaskError("global 'hyperparameters': " + why); };
  if (hp.contains("loss") && hp["loss"] != "CrossEntropyLoss") {
    throw refuse("loss " + hp["loss"].dump() + " is not supported; the MLP trains with \"CrossEntropyLoss\"");
  }
  if (hp.contains("optimizer") && hp["optimizer"] != "SGD") {
    throw refuse("optimizer " + hp["optimizer"].dump() + " is not supported; the workers train with \"SGD\"");
  }
  Dict loss_params, nested;
  try {
    loss_params = object_entry(hp, "loss_params");
    nested = object_entry(hp, "optimizer_params");
  } catch (const FormatError& e) {
    throw refuse(e.what());
  }
  if (!loss_params.empty()) throw refuse("loss_params must be empty (CrossEntropyLoss takes none), got " + loss_params.dump());
  static const std::vector<std::string> kSettings = {"lr", "momentum", "weight_decay"};
  Dict settings = Dict::object();
  for (const auto& [key, value] : nested.items()) {
    if (std::find(kSettings.begin(), kSettings.end(), key) == kSettings.end()) {
      throw refuse("optimizer_params: unknown entry '" + key + "' (SGD takes lr, momentum, weight_decay)");
    }
    if (hp.contains(key)) {
      throw refuse("'" + key + "' is given both in optimizer_params and beside it; give it once");
    }
    settings[key] = value;
  }
  for (const std::string& key : kSettings) {
    if (hp.contains(key)) settings[key] = hp[key];
  }
  return settings;
}

void worker(TaskContext& ctx) {
  Dict hp = ctx.globals().get_dict("hyperparameters");
  const Dict optimizer = optimizer_settings(hp);
  ml::SgdOptions sgd;
  sgd.epochs = entry<int>(hp, "hyperparameters", "epochs");
  sgd.batch_size = entry<int>(hp, "hyperparameters", "batch_size");
  sgd.lr = entry<float>(optimizer, "hyperparameters", "lr");
  sgd.momentum = optimizer.value("momentum", 0.0f);
  sgd.weight_decay = optimizer.value("weight_decay", 0.0f);
  sgd.prox_mu = hp.value("prox_mu", 0.0f);
  if (sgd.epochs < 1 || sgd.batch_size < 1 || !(sgd.lr > 0) || sgd.prox_mu < 0) {
    throw TaskError("hyperparameters: epochs and batch_size must be >= 1, lr > 0, prox_mu >= 0");
  }
  const std::vector<int> layers = model_layers(ctx);
  Blob holder;
  std::span<const float> start = global_params(ctx, layers, holder);
  if (const ml::DataShape* shape = shape_of(ctx, "train")) {
    // Timing only: what train() would report and send, without training. The same reads,
    // FLOPs, and message sizes as the real path below.
    const AttackConfig attack = attack_of(ctx);
    if (sgd.prox_mu > 0) sgd.prox_center = start;
    ctx.add_flops(ml::Mlp::train_total_flops(layers, shape->samples, sgd));
    ctx.results().add("update", zero_update(start.size()));
    ctx.results().add("stats", Dict{{"samples", shape->samples},
                                    {"loss", kNotComputed},
                                    {"iteration", ctx.iteration()},
                                    {"byzantine", attack.kind != AttackKind::None}});
    return;
  }
  ml::Mlp mlp(layers, start);
  mlp.set_kernel(model_kernel(ctx));
  if (sgd.prox_mu > 0) sgd.prox_center = start;  // FedProx: stay near the global model
  const AttackConfig attack = attack_of(ctx);
  const ml::DatasetView& data = ctx.dataset<ml::DatasetView>("train");
  ml::TrainStats stats = attack.kind == AttackKind::LabelFlip
                             ? mlp.train(flip_labels(data), sgd, ctx.rng())
                             : mlp.train(data, sgd, ctx.rng());
  ctx.add_flops(stats.flops);
  // The update is the change the node made to the model it was given.
  std::vector<float> delta(start.size());
  std::span<const float> trained = mlp.params();
  for (size_t i = 0; i < delta.size(); ++i) delta[i] = trained[i] - start[i];
  require_finite(stats.mean_loss, "the training loss");
  apply_update_attack(attack, delta, ctx.rng());
  require_finite(delta, "the update");
  ctx.results().add("update", tensor_blob(delta));
  ctx.results().add("stats", Dict{{"samples", data.size()},
                                  {"loss", stats.mean_loss},
                                  {"iteration", ctx.iteration()},
                                  {"byzantine", attack.kind != AttackKind::None}});
}

// Moves the global model with the strategy of `strategies` named in global "aggregation" (see
// swarm/fl/strategy.hpp); the strategy's server state lives in global
// "aggregator_state", since the aggregator may run on another node next round.
void aggregator(TaskContext& ctx, const strategies::StrategyRegistry& strategies) {
  Dict cfg = ctx.globals().contains("aggregation") ? ctx.globals().get_dict("aggregation")
                                                   : Dict{{"strategy", "fedavg"}};
  std::unique_ptr<strategies::Strategy> strategy;
  try {
    strategy = strategies::make_strategy(cfg, strategies);
  } catch (const Error& e) {
    throw TaskError(std::string("global 'aggregation': ") + e.what());
  }
  std::map<NodeId, Blob> updates = ctx.results().select("update", Scope::Last);
  std::map<NodeId, Blob> stats = ctx.results().select("stats", Scope::Last);
  Blob holder;
  std::span<const float> current = global_params(ctx, model_layers(ctx), holder);
  std::vector<strategies::ClientUpdate> client_updates;
  double staleness_sum = 0, samples = 0;
  for (const auto& [node, blob] : updates) {
    auto s = stats.find(node);
    if (s == stats.end()) throw TaskError("node " + std::to_string(node) + " sent an update without stats");
    Dict st = to_dict(s->second);
    strategies::ClientUpdate u;
    u.node = node;
    u.delta = tensor_values(blob);
    u.samples = entry<double>(st, "stats", "samples");
    u.staleness = ctx.iteration() - entry<int>(st, "stats", "iteration");
    if (u.delta.size() != current.size()) {
      throw TaskError("node " + std::to_string(node) + " sent " + std::to_string(u.delta.size()) +
                      " values for a model of " + std::to_string(current.size()));
    }
    staleness_sum += u.staleness;
    samples += u.samples;
    client_updates.push_back(u);
  }
  if (client_updates.empty()) {
    ctx.logger().warn("iteration {}: aggregator received no update; the model is unchanged", ctx.iteration());
  }
  std::vector<float> state;
  if (ctx.globals().contains("aggregator_state")) {
    std::span<const float> saved = tensor_values(ctx.globals().get("aggregator_state"));
    state.assign(saved.begin(), saved.end());
  }
  strategies::AggregateReport report;
  const uint64_t flops = 2 * static_cast<uint64_t>(current.size()) * (client_updates.size() + 1);
  if (timing_only(ctx)) {
    // Timing only: the updates are placeholders; the model stays as it is, and is written
    // back (its size is what a real aggregation writes). Only the strategies that use every
    // update and keep no state are accepted in this mode (the scenario loader checks).
    report.used = static_cast<int>(client_updates.size());
    ctx.add_flops(flops);
    ctx.globals().set("global_model_params", holder);
  } else {
    std::vector<float> params(current.begin(), current.end());
    try {
      report = strategy->aggregate(params, client_updates, state, ctx.rng());
    } catch (const Error& e) {
      throw TaskError(e.what());
    }
    ctx.add_flops(flops);
    require_finite(params, "the aggregated model (strategy " + cfg.value("strategy", std::string("fedavg")) + ")");
    ctx.globals().set("global_model_params", tensor_blob(params));
  }
  if (!state.empty()) ctx.globals().set("aggregator_state", tensor_blob(state));
  const double n = client_updates.empty() ? 1.0 : static_cast<double>(client_updates.size());
  ctx.globals().set("aggregate", Dict{{"updates", report.used},
                                      {"received", client_updates.size()},
                                      {"mean_staleness", staleness_sum / n},
                                      {"samples", samples},
                                      {"noise_stddev", report.noise_stddev},
                                      {"clipped_share", report.clipped_share}});
}

// "clients_per_round": a count >= 1, a fraction in (0, 1), or -1 (every node).
Maximum clients_per_round(const Dict& cfg) {
  const double v = cfg.value("clients_per_round", -1.0);
  Maximum m = (v >= 1 && v == std::floor(v)) ? Maximum(static_cast<int>(v))
              : (v == -1)                    ? Maximum::unlimited()
                                             : Maximum(v);
  if (std::string why = m.check(); !why.empty()) {
    throw TaskError("global 'schedule': clients_per_round: " + why);
  }
  return m;
}

void scheduler(TaskContext& ctx) {
  Dict cfg = ctx.globals().get_dict("schedule");
  const int max_rounds = entry<int>(cfg, "schedule", "max_rounds");
  const double target = cfg.value("target_accuracy", 1.1);
  const std::string worker_alias = cfg.value("worker_alias", std::string("worker"));
  const double overcommit = cfg.value("overcommit", 1.0);
  if (!(overcommit >= 1)) throw TaskError("global 'schedule': overcommit must be >= 1");
  const Maximum per_round = clients_per_round(cfg);

  const std::vector<int> layers = model_layers(ctx);
  Blob holder;
  std::span<const float> params = global_params(ctx, layers, holder);
  constexpr int kEvalBatch = 1000;
  ml::EvalStats eval;
  if (const ml::DataShape* shape = shape_of(ctx, "test")) {
    // Timing only: the evaluation's FLOPs, no accuracy or loss (NaN: "not computed").
    eval.flops = ml::Mlp::evaluate_total_flops(layers, shape->samples, kEvalBatch);
    eval.accuracy = eval.loss = kNotComputed;
  } else {
    ml::Mlp mlp(layers, params);
    mlp.set_kernel(model_kernel(ctx));
    eval = mlp.evaluate(ctx.dataset<ml::DatasetView>("test"), kEvalBatch, ctx.threads());
    require_finite(eval.loss, "the test loss");
  }
  ctx.add_flops(eval.flops);
  const int round = ctx.iteration() + 1;
  Dict aggregate = ctx.globals().contains("aggregate") ? ctx.globals().get_dict("aggregate") : Dict::object();
  ctx.globals().set("metrics", Dict{{"round", round},
                                     {"accuracy", eval.accuracy},
                                     {"loss", eval.loss},
                                     {"participants", aggregate.value("updates", 0)},
                                     {"received", aggregate.value("received", 0)},
                                     {"mean_staleness", aggregate.value("mean_staleness", 0.0)},
                                     {"noise_stddev", aggregate.value("noise_stddev", 0.0)}});
  if (eval.accuracy >= target || round >= max_rounds) {
    ctx.stop_swarm();
    return;
  }
  if (per_round.is_unlimited()) return;  // every node stays eligible

  // Next round's clients: a uniform sample of the swarm's nodes, over-committed if asked. Drawn
  // as positions (Floyd), so a round costs O(sample), not O(nodes), in a huge population.
  const std::span<const NodeId> all = ctx.node_ids();
  const int64_t k = per_round.resolve(static_cast<int64_t>(all.size()));
  const auto want = static_cast<uint64_t>(std::llround(static_cast<double>(k) * overcommit));
  std::vector<NodeId> nodes;
  for (uint64_t position : sample_positions(all.size(), want, ctx.rng())) nodes.push_back(all[position]);
  ctx.schedule_next_iter(std::move(nodes), worker_alias);
}

}  // namespace

void register_modules(ModuleRegistry& registry, std::shared_ptr<const strategies::StrategyRegistry> strategies) {
  if (!strategies) throw UsageError("fl::register_modules: no strategy registry given");
  registry.add(kWorker, worker);
  registry.add(kAggregator, [strategies](TaskContext& ctx) { aggregator(ctx, *strategies); });
  registry.add(kScheduler, scheduler);
}

void register_modules(ModuleRegistry& registry) {
  // The built-in registry lives as long as the program: no ownership to share.
  register_modules(registry, std::shared_ptr<const strategies::StrategyRegistry>(
                                 std::shared_ptr<void>(), &strategies::builtin_strategies()));
}

}  // namespace swarm::fl
