#include "engine/fl/modules.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <spdlog/spdlog.h>

#include "engine/fl/fedavg.hpp"
#include "engine/ml/mlp.hpp"
#include "engine/sampling.hpp"
#include "engine/task_context.hpp"

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

ml::Mlp global_model(TaskContext& ctx) {
  Dict model = ctx.globals().get_dict("model");
  ml::Mlp mlp(entry<std::vector<int>>(model, "model", "layers"));
  std::span<const float> params;
  Blob blob = ctx.globals().get("global_model_params");
  try {
    params = tensor_values(blob);
  } catch (const FormatError& e) {
    throw TaskError(std::string("global 'global_model_params': ") + e.what());
  }
  if (static_cast<int64_t>(params.size()) != mlp.num_params()) {
    throw TaskError("global 'global_model_params' has " + std::to_string(params.size()) +
                    " values, the model needs " + std::to_string(mlp.num_params()));
  }
  mlp.set_params(params);
  return mlp;
}

void worker(TaskContext& ctx) {
  Dict hp = ctx.globals().get_dict("hyperparameters");
  ml::SgdOptions sgd;
  sgd.epochs = entry<int>(hp, "hyperparameters", "epochs");
  sgd.batch_size = entry<int>(hp, "hyperparameters", "batch_size");
  sgd.lr = entry<float>(hp, "hyperparameters", "lr");
  sgd.momentum = hp.value("momentum", 0.0f);
  sgd.weight_decay = hp.value("weight_decay", 0.0f);
  if (sgd.epochs < 1 || sgd.batch_size < 1 || !(sgd.lr > 0)) {
    throw TaskError("hyperparameters: epochs and batch_size must be >= 1 and lr > 0");
  }
  ml::Mlp mlp = global_model(ctx);
  const ml::DatasetView& data = ctx.dataset("train");
  ml::TrainStats stats = mlp.train(data, sgd, ctx.rng());
  ctx.add_flops(stats.flops);
  ctx.results().add("update", tensor_blob(mlp.params()));
  ctx.results().add("stats", Dict{{"samples", data.size()}, {"loss", stats.mean_loss}});
}

void aggregator(TaskContext& ctx) {
  std::map<NodeId, Blob> updates = ctx.results().select("update", Scope::Last);
  std::map<NodeId, Blob> stats = ctx.results().select("stats", Scope::Last);
  if (updates.empty()) {
    ctx.logger().warn("iteration {}: aggregator received no update; the model is unchanged",
                      ctx.iteration());
    return;
  }
  std::vector<std::span<const float>> views;
  std::vector<double> weights;
  for (const auto& [node, blob] : updates) {
    auto s = stats.find(node);
    if (s == stats.end()) throw TaskError("node " + std::to_string(node) + " sent an update without stats");
    views.push_back(tensor_values(blob));
    weights.push_back(to_dict(s->second).at("samples").get<double>());
    if (views.back().size() != views.front().size()) {
      throw TaskError("updates of different sizes (node " + std::to_string(node) + ")");
    }
  }
  std::vector<float> averaged(views.front().size());
  weighted_average(views, weights, averaged);
  ctx.add_flops(2 * static_cast<uint64_t>(averaged.size()) * views.size());
  ctx.globals().set("global_model_params", tensor_blob(averaged));
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

  ml::Mlp mlp = global_model(ctx);
  ml::EvalStats eval = mlp.evaluate(ctx.dataset("test"));
  ctx.add_flops(eval.flops);
  const int round = ctx.iteration() + 1;
  const auto participants = static_cast<int64_t>(ctx.results().select("stats", Scope::All).size());
  ctx.globals().set("metrics", Dict{{"round", round},
                                     {"accuracy", eval.accuracy},
                                     {"loss", eval.loss},
                                     {"participants", participants}});
  if (eval.accuracy >= target || round >= max_rounds) {
    ctx.stop_swarm();
    return;
  }

  // Next round's clients: a uniform sample of the swarm's nodes.
  std::vector<NodeId> nodes(ctx.node_ids().begin(), ctx.node_ids().end());
  const Maximum per_round = clients_per_round(cfg);
  sample_in_place(nodes, static_cast<size_t>(per_round.resolve(static_cast<int64_t>(nodes.size()))),
                  ctx.rng());
  ctx.schedule_next_iter(std::move(nodes), worker_alias);
}

}  // namespace

void register_modules(ModuleRegistry& registry) {
  registry.add(kWorker, worker);
  registry.add(kAggregator, aggregator);
  registry.add(kScheduler, scheduler);
}

}  // namespace swarm::fl
