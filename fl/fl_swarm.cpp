#include "swarm/fl/fl_swarm.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "swarm/error.hpp"
#include "swarm/fl/modules.hpp"
#include "swarm/ml/mlp.hpp"
#include "swarm/ml/partition.hpp"
#include "swarm/sampling.hpp"
#include "swarm/seed.hpp"

namespace swarm::fl {

std::map<std::string, Blob> fl_globals(const FlConfig& c, ClientSampling sampling) {
  const bool scheduler_samples = sampling == ClientSampling::Scheduler && !c.async;
  std::map<std::string, Blob> g;
  g["model"] = dict_blob(Dict{{"layers", c.layers}});
  g["hyperparameters"] = dict_blob(Dict{{"epochs", c.epochs},
                                        {"batch_size", c.batch_size},
                                        {"lr", c.lr},
                                        {"momentum", c.momentum},
                                        {"weight_decay", c.weight_decay},
                                        {"prox_mu", c.prox_mu}});
  g["schedule"] = dict_blob(Dict{{"max_rounds", c.max_rounds},
                                 {"target_accuracy", c.target_accuracy},
                                 {"clients_per_round", scheduler_samples ? c.clients_per_round : -1.0},
                                 {"overcommit", c.overcommit},
                                 {"worker_alias", "worker"}});
  Dict strategy = c.strategy;
  if (strategy.is_null() || strategy.empty()) {
    strategy = Dict{{"strategy", c.async ? "fedbuff" : "fedavg"}, {"server_lr", c.server_lr}};
  }
  g["aggregation"] = dict_blob(strategy);
  if (!c.attack.is_null() && !c.attack.empty()) g["attack"] = dict_blob(c.attack);
  // The same draws as init() from std::mt19937_64 of this seed.
  const ml::Mlp model(c.layers, derive_seed(c.seed, {static_cast<uint64_t>(SeedDomain::kInit)}));
  g["global_model_params"] = tensor_blob(model.params());
  return g;
}

FLSwarm::FLSwarm(const FlConfig& c) {
  async_ = c.async;
  buffer_size_ = c.buffer_size;
  if (c.async && (c.buffer_size < 1 || c.concurrency < c.buffer_size)) {
    throw UsageError("async FL needs 1 <= buffer_size <= concurrency (got buffer " +
                     std::to_string(c.buffer_size) + ", concurrency " + std::to_string(c.concurrency) + ")");
  }
  // Sync: every round's placement samples clients_per_round x overcommit workers at random
  // among the nodes on at the round's start (a fraction: of those nodes).
  TaskOptions workers{.alias = "worker"};
  if (c.async) {
    workers.method = Method::Any;
    workers.maximum = c.concurrency;
  } else if (c.clients_per_round >= 1) {
    workers.method = Method::Any;
    workers.maximum = static_cast<int>(std::llround(c.clients_per_round * c.overcommit));
  } else if (c.clients_per_round > 0) {
    workers.method = Method::Any;
    workers.maximum = std::min(1.0, c.clients_per_round * c.overcommit);
  }
  worker_ = task(Module{kWorker, c.image, {"train"}}, workers);
  // Aggregation and evaluation run on the server, or on the fastest node that is on.
  const Method server_side =
      c.server_tasks == FlConfig::ServerTasks::OnServer ? Method::Server : Method::BestResources;
  aggregator_ = task(Module{kAggregator, c.image}, {.method = server_side, .maximum = 1, .alias = "aggregator"});
  scheduler_ = task(Module{kScheduler, c.image, {"test"}}, {.method = server_side, .maximum = 1, .alias = "scheduler"});

  for (auto& [key, value] : fl_globals(c, ClientSampling::Placement)) set_global(key, std::move(value));
}

TaskRef FLSwarm::execute() {
  auto m = async_ ? aggregator_(on_result(worker_(), "update", buffer_size_)) : aggregator_(worker_());
  return scheduler_(m);
}

DataProvider iid_data(const ml::DatasetView& train, const ml::DatasetView& test, int64_t num_nodes,
                      uint64_t seed) {
  if (num_nodes < 1 || num_nodes > train.size()) {
    throw UsageError("cannot split " + std::to_string(train.size()) + " training samples among " +
                     std::to_string(num_nodes) + " nodes");
  }
  auto shards = std::make_shared<const std::vector<ml::DatasetView>>(ml::partition_iid(
      train, static_cast<int>(num_nodes), derive_seed(seed, {static_cast<uint64_t>(SeedDomain::kPartition)})));
  return [shards, test](NodeId id) {
    if (id == kServerNode) return LocalData{{"test", test}};
    if (id >= shards->size()) throw UsageError("node " + std::to_string(id) + " holds no data");
    return LocalData{{"train", (*shards)[id]}, {"test", test}};
  };
}

DataProvider sampled_data(const ml::DatasetView& train, const ml::DatasetView& test,
                          int64_t samples_per_node, uint64_t seed) {
  if (samples_per_node < 1 || samples_per_node > train.size()) {
    throw UsageError("samples per node must be in [1, " + std::to_string(train.size()) + "]");
  }
  return [train, test, samples_per_node, seed](NodeId id) {
    if (id == kServerNode) return LocalData{{"test", test}};
    std::mt19937_64 rng(derive_seed(seed, {static_cast<uint64_t>(SeedDomain::kPartition), id}));
    std::vector<uint32_t> picked;
    picked.reserve(static_cast<size_t>(samples_per_node));
    for (uint64_t t : sample_positions(static_cast<uint64_t>(train.size()), static_cast<uint64_t>(samples_per_node), rng)) {
      picked.push_back(train.indices()[t]);
    }
    return LocalData{{"train", ml::DatasetView(train.storage_ptr(), std::move(picked))}, {"test", test}};
  };
}

std::vector<LocalNode> make_iid_nodes(const ml::DatasetView& train, const ml::DatasetView& test,
                                      int num_nodes, uint64_t seed) {
  DataProvider data = iid_data(train, test, num_nodes, seed);
  std::vector<LocalNode> nodes;
  nodes.reserve(static_cast<size_t>(num_nodes));
  for (int i = 0; i < num_nodes; ++i) nodes.push_back({static_cast<NodeId>(i), 1e9, data(static_cast<NodeId>(i))});
  return nodes;
}

}  // namespace swarm::fl
